"""edibot in a Slack workspace: the real Bolt app over real HTTP, every surface a person meets.

Each test signs requests the way Slack does into the app's /slack/events endpoint (tests/slack_workspace.py)
and reads what the app said back, in its HTTP answer or through the Slack Web API stand-in it called.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event, select

from bot.console import FakeClock
from bot.slack.sender import SlackSender
from schedules.delivery import deliver
from schedules.planning import sweep
from storage.db import Database
from storage.importing.service import import_plan
from storage.models import Action, HistoryEntry, Person
from storage.people import import_people
from tests.slack_standin import SlackUser
from tests.slack_workspace import SlackWorkspace, buttons_of, texts_of
from tests.transcript import history, snapshot, store_state

LONDON = ZoneInfo("Europe/London")
PLAN = "Northbridge EDI Plan"


def remind(slack: SlackWorkspace, clock: FakeClock, when: datetime) -> None:
    """The scheduler's round at `when`: sweep the plan into the outbox, deliver it as Slack DMs."""
    clock.set(when)
    sweep(slack.store, now=when, zone=LONDON)
    deliver(slack.store, now=when, zone=LONDON, send=SlackSender(slack.client))


def reminder_for(slack: SlackWorkspace, user: SlackUser) -> tuple[str, dict[str, Any]]:
    channel = slack.api.dm_of(user.id)
    assert channel, f"{user.name} got no direct message"
    messages = slack.api.posted(channel)
    assert messages, f"{user.name}'s DM is empty"
    return channel, messages[0]


def grace_reminded(slack: SlackWorkspace, clock: FakeClock) -> tuple[SlackUser, str, dict[str, Any]]:
    """Grace Liu, known on Slack, and the reminder she gets on the first Monday morning (NO-4 is overdue)."""
    grace = slack.person("Grace Liu")
    slack.command(grace, "mine")
    remind(slack, clock, datetime(2025, 11, 3, 9, 30, tzinfo=LONDON))
    channel, message = reminder_for(slack, grace)
    return grace, channel, message


def slack_id_of(store: Database, name: str) -> str | None:
    with store.session() as session:
        return session.scalar(select(Person.slack_id).where(Person.name == name))


# -- /edi ------------------------------------------------------------------------------------------------


def test_edi_mine_answers_in_the_response_itself_for_the_caller_alone(slack: SlackWorkspace) -> None:
    amina = slack.person("Amina Khan")

    answer = slack.command(amina, "mine")

    assert answer.status == 200
    assert answer.body["response_type"] == "ephemeral"
    assert "Your 3 open actions, 1 overdue" in answer.shown
    assert "NO-2" in answer.shown


def test_asking_for_your_actions_again_writes_nothing(slack: SlackWorkspace) -> None:
    amina = slack.person("Amina Khan")
    slack.command(amina, "mine")  # the first time: her Slack id, and Slack as the platform she last used
    before = _person_row(slack.store, "Amina Khan"), store_state(slack.store)
    writes: list[str] = []

    def count_writes(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            writes.append(statement)

    event.listen(slack.store.engine, "before_cursor_execute", count_writes)
    try:
        answer = slack.command(amina, "mine")
    finally:
        event.remove(slack.store.engine, "before_cursor_execute", count_writes)

    assert "Your 3 open actions, 1 overdue" in answer.shown
    assert (_person_row(slack.store, "Amina Khan"), store_state(slack.store)) == before
    assert writes == []  # a read stays a read: not even a write of what was already there


def _person_row(store: Database, name: str) -> dict[str, Any]:
    with store.session() as session:
        person = session.scalars(select(Person).where(Person.name == name)).one()
        return {column.key: getattr(person, column.key) for column in Person.__table__.columns}


def test_someone_in_the_directory_by_email_only_is_recognised_and_their_slack_id_remembered(
    slack: SlackWorkspace,
) -> None:
    amina = slack.person("Amina Khan")
    assert slack_id_of(slack.store, "Amina Khan") is None

    slack.command(amina, "mine")
    slack.command(amina, "mine")

    assert slack_id_of(slack.store, "Amina Khan") == amina.id
    assert len(slack.api.calls_to("users.info")) == 1  # asked once, then known by Slack id


def test_a_stranger_is_told_how_to_be_added_and_nothing_changes(slack: SlackWorkspace) -> None:
    stranger = slack.api.add_user("Jo Bloggs", email="jo.bloggs@elsewhere.example")
    before = store_state(slack.store)

    answer = slack.command(stranger, "green NO-2")

    assert "I don't know you yet" in answer.shown
    assert store_state(slack.store) == before


def test_a_status_change_by_command_is_news_for_the_channel_and_kept_in_history(
    slack: SlackWorkspace,
) -> None:
    amina = slack.person("Amina Khan")

    answer = slack.command(amina, "red NO-2 waiting on the appraisal cycle")

    assert answer.body["response_type"] == "in_channel"
    assert "NO-2 is now Red" in answer.shown
    rated = next(row for row in history(slack.store, "NO-2") if row.field == "rag")
    assert (rated.surface, rated.actor, rated.to_value, rated.note) == (
        "slack",
        "Amina Khan",
        "red",
        "waiting on the appraisal cycle",
    )


def test_amber_without_a_reason_opens_a_modal_and_an_empty_reason_is_refused_on_the_field(
    slack: SlackWorkspace,
) -> None:
    amina = slack.person("Amina Khan")

    answer = slack.command(amina, "amber NO-9")

    assert answer.status == 200 and answer.text == ""  # nothing in the channel: the modal asks
    modal = slack.last_modal()
    assert modal["callback_id"] == "edi:status"
    before = snapshot(slack.store, "NO-9")

    refused = slack.submit(amina, modal, {"reason": ""})

    assert refused.body["response_action"] == "errors"
    assert "say why" in refused.body["errors"]["reason"]
    assert snapshot(slack.store, "NO-9") == before

    accepted = slack.submit(amina, modal, {"reason": "budget not signed off"})

    assert accepted.status == 200 and accepted.text == ""  # the modal closes
    assert snapshot(slack.store, "NO-9")["rag"] == "amber"
    rated = next(row for row in history(slack.store, "NO-9") if row.field == "rag")
    assert (rated.to_value, rated.note, rated.surface) == ("amber", "budget not signed off", "slack")


def test_a_mention_in_a_command_is_the_person_slack_means(slack: SlackWorkspace) -> None:
    priya = slack.person("Priya Shah")
    grace = slack.person("Grace Liu")
    slack.command(grace, "mine")  # Grace's Slack id is now known

    answer = slack.command(priya, f"admins add <@{grace.id}|grace.liu>")

    assert "Grace Liu" in answer.shown
    with slack.store.session() as session:
        assert session.scalar(select(Person.is_admin).where(Person.name == "Grace Liu")) is True


def test_300_actions_fit_one_slack_answer_with_a_count_of_the_rest(
    slack: SlackWorkspace, clock: FakeClock, tmp_path: Path
) -> None:
    rows = "".join(
        f"Workforce,,Action number {n} for the data team,Data Team,31/3/26,G,\n" for n in range(300)
    )
    plan = tmp_path / "data_plan.csv"
    plan.write_text("Theme,Objective,Action,Lead,Timescale,RAG,Progress update\n" + rows, encoding="utf-8")
    import_plan(slack.store, plan, now=clock.now(), plan_name="Data Plan")
    people = tmp_path / "people.csv"
    people.write_text(
        "owner,name,email\nData Team,Dana Mills,dana.mills@northbridge.example\n", encoding="utf-8"
    )
    import_people(slack.store, people, now=clock.now())
    dana = slack.person("Dana Mills")

    answer = slack.command(dana, "mine")
    slack.open_home(dana)

    assert "Your 300 open actions" in answer.shown
    assert "270 more" in answer.shown  # the rest are counted, not dropped silently
    home = slack.api.home_of(dana.id)
    assert home is not None and len(home["blocks"]) <= 100
    assert re.search(r"…and \d+ more", texts_of(home["blocks"]))


# -- reminders, buttons and modals -------------------------------------------------------------------------


def test_pressing_done_on_a_reminder_updates_it_in_place_so_no_stale_buttons_remain(
    slack: SlackWorkspace, clock: FakeClock
) -> None:
    grace, channel, message = grace_reminded(slack, clock)
    refs = sorted({b["value"].split("|")[0] for b in buttons_of(message["blocks"])})
    ref = refs[0]

    slack.press(grace, message, "Done", channel=channel)

    updated = slack.api.posted(channel)[0]
    assert f"{ref} is now Done" in texts_of(updated["blocks"])
    assert not [b for b in buttons_of(updated["blocks"]) if b["value"].startswith(ref + "|")]
    assert snapshot(slack.store, ref)["status"] == "done"
    assert history(slack.store, ref)[0].surface == "slack"


def test_pressing_amber_asks_why_in_a_modal_then_updates_the_reminder(
    slack: SlackWorkspace, clock: FakeClock
) -> None:
    grace, channel, message = grace_reminded(slack, clock)
    ref = buttons_of(message["blocks"])[0]["value"].split("|")[0]

    slack.press(grace, message, "Amber", channel=channel)
    modal = slack.last_modal()
    slack.submit(grace, modal, {"reason": "Legal are short-staffed"})

    updated = slack.api.posted(channel)[0]
    assert f"{ref} is now Amber" in texts_of(updated["blocks"])
    assert snapshot(slack.store, ref)["progress_note"] == "Legal are short-staffed"


def test_pressing_the_rating_it_already_has_is_answered_to_the_presser_and_the_reminder_stays(
    slack: SlackWorkspace, clock: FakeClock
) -> None:
    grace, channel, message = grace_reminded(slack, clock)

    slack.press(grace, message, "Green", channel=channel)  # NO-4 is Green already

    assert slack.api.posted(channel)[0]["blocks"] == message["blocks"]
    assert slack.api.responses[-1]["text"] == "NO-4 is already Green."


def test_a_form_slack_will_not_open_any_more_is_explained_and_nothing_changes(
    slack: SlackWorkspace, clock: FakeClock
) -> None:
    grace, channel, message = grace_reminded(slack, clock)
    before = store_state(slack.store)
    slack.api.refuse("views.open", "expired_trigger_id")

    slack.press(grace, message, "Amber", channel=channel)

    assert store_state(slack.store) == before
    said = slack.api.responses[-1]["text"]
    assert "press the button again" in said and "please say why" in said


def test_a_press_by_someone_who_does_not_own_it_is_refused_to_them_alone(
    slack: SlackWorkspace, clock: FakeClock
) -> None:
    _grace, channel, message = grace_reminded(slack, clock)
    dafydd = slack.person("Dafydd Evans")
    before = store_state(slack.store)

    slack.press(dafydd, message, "Done", channel=channel)

    assert store_state(slack.store) == before
    assert slack.api.posted(channel)[0]["blocks"] == message["blocks"]
    refusal = slack.api.responses[-1]
    assert refusal["response_type"] == "ephemeral" and "owners" in refusal["text"]


def test_an_unknown_button_is_answered_plainly_and_changes_nothing(
    slack: SlackWorkspace, clock: FakeClock
) -> None:
    grace, channel, message = grace_reminded(slack, clock)
    before = store_state(slack.store)

    slack.press(grace, message, "Green", channel=channel, action_id="edi:frobnicate")
    slack.press(grace, message, "Green", channel=channel, action_id="someone_elses_button")
    slack.press(grace, message, "Green", channel=channel, value="")

    assert store_state(slack.store) == before
    said = [r["text"] for r in slack.api.responses[-3:]]
    assert "don't recognise that button" in said[0]
    assert "don't recognise that button" in said[1]
    assert "no action reference" in said[2]


# -- thread replies
# ---------------------------------------------------------------------------------------------


def test_a_reply_in_the_reminders_thread_updates_the_action_and_is_answered_in_the_thread(
    slack: SlackWorkspace, clock: FakeClock
) -> None:
    grace, channel, message = grace_reminded(slack, clock)
    refs = sorted({b["value"].split("|")[0] for b in buttons_of(message["blocks"])})
    text = "amber - waiting on budget" if len(refs) == 1 else f"{refs[0]} amber - waiting on budget"

    slack.reply_in_thread(grace, message, text, channel=channel, event_id="Ev0THREAD01")

    answer = slack.api.posted(channel)[-1]
    assert answer["thread_ts"] == message["ts"]
    assert f"{refs[0]} is now Amber" in answer["text"]
    assert snapshot(slack.store, refs[0])["progress_note"] == "waiting on budget"
    reminder = slack.api.posted(channel)[0]  # the reminder itself no longer offers that action's buttons
    assert not [b for b in buttons_of(reminder["blocks"]) if b["value"].split("|")[0] == refs[0]]
    assert f"{refs[0]} is now Amber" in texts_of(reminder["blocks"])


def test_a_retried_event_is_acted_on_once(slack: SlackWorkspace, clock: FakeClock) -> None:
    grace, channel, message = grace_reminded(slack, clock)
    ref = buttons_of(message["blocks"])[0]["value"].split("|")[0]
    refs = {b["value"].split("|")[0] for b in buttons_of(message["blocks"])}
    text = "note - room booked" if len(refs) == 1 else f"{ref} green, room booked"

    slack.reply_in_thread(grace, message, text, channel=channel, event_id="Ev0RETRY001")
    answers = len(slack.api.posted(channel))
    rows = len(history(slack.store, ref))
    retried = slack.reply_in_thread(grace, message, text, channel=channel, event_id="Ev0RETRY001", retry=1)

    assert retried.status == 200
    assert len(slack.api.posted(channel)) == answers
    assert len(history(slack.store, ref)) == rows


def test_a_thread_reply_that_is_not_understood_changes_nothing_and_says_what_would(
    slack: SlackWorkspace, clock: FakeClock
) -> None:
    grace, channel, message = grace_reminded(slack, clock)
    before = store_state(slack.store)

    slack.reply_in_thread(grace, message, "what's this about?", channel=channel)

    assert store_state(slack.store) == before
    assert (
        "haven't changed anything" in slack.api.posted(channel)[-1]["text"]
        or "didn't change" in slack.api.posted(channel)[-1]["text"]
    )


# -- App Home and the shortcut
# ----------------------------------------------------------------------------------


def test_the_home_tab_shows_my_actions_by_when_they_are_due_and_admins_see_plan_health(
    slack: SlackWorkspace,
) -> None:
    amina = slack.person("Amina Khan")
    priya = slack.person("Priya Shah")

    slack.open_home(amina)
    slack.open_home(priya)

    mine = texts_of(slack.api.home_of(amina.id)["blocks"])  # type: ignore[index]
    assert "Your 3 open actions" in mine and "Overdue" in mine
    assert "Plan health" not in mine
    theirs = texts_of(slack.api.home_of(priya.id)["blocks"])  # type: ignore[index]
    assert "Plan health" in theirs and PLAN in theirs


def test_a_button_in_the_home_tab_changes_the_action_and_refreshes_the_tab(slack: SlackWorkspace) -> None:
    amina = slack.person("Amina Khan")
    slack.open_home(amina)
    home = slack.api.home_of(amina.id)
    assert home is not None
    ref = buttons_of(home["blocks"])[0]["value"].split("|")[0]

    slack.press_in_home(amina, "Green")

    assert snapshot(slack.store, ref)["rag"] == "green"
    assert f"{ref} is now Green" in texts_of(slack.api.home_of(amina.id)["blocks"])  # type: ignore[index]


def test_an_admin_turns_a_message_into_an_action_with_the_shortcut(slack: SlackWorkspace) -> None:
    priya = slack.person("Priya Shah")
    slack.api.add_channel("C0EDIWG001")
    posted = slack.client.chat_postMessage(
        channel="C0EDIWG001", text="We should add BSL interpretation to all-staff briefings"
    )
    message = {"ts": posted["ts"], "text": "We should add BSL interpretation to all-staff briefings"}

    slack.shortcut(priya, channel="C0EDIWG001", message=message)
    modal = slack.last_modal()
    assert modal["callback_id"] == "edi:new_action"
    title = next(b for b in modal["blocks"] if b.get("block_id") == "title")
    assert title["element"]["initial_value"].startswith("We should add BSL")
    slack.submit(
        priya,
        modal,
        {
            "plan": PLAN,
            "title": "Add BSL interpretation to all-staff briefings",
            "owner": "Internal Comms",
            "due": "March 2026",
        },
    )

    with slack.store.session() as session:
        action = session.scalar(select(Action).where(Action.title.like("Add BSL%")))
        assert action is not None
        assert [o.name for o in action.owners] == ["Internal Comms"]
        assert action.due_date is not None and action.due_date.isoformat() == "2026-03-31"
        created = session.scalar(select(HistoryEntry).where(HistoryEntry.action_id == action.id))
        assert created is not None and "northbridge.slack.com/archives" in (created.note or "")
    assert "Added" in slack.api.posted()[-1]["text"]


def test_the_shortcut_is_for_plan_admins_only(slack: SlackWorkspace) -> None:
    amina = slack.person("Amina Khan")
    before = store_state(slack.store)

    slack.shortcut(amina, channel="C0EDIWG001", message={"ts": "1762162590.000400", "text": "an idea"})

    assert not slack.api.calls_to("views.open")
    assert "Only a plan admin" in slack.api.responses[-1]["text"]
    assert store_state(slack.store) == before


def test_a_new_action_form_with_a_bad_deadline_is_sent_back_with_what_was_typed(
    slack: SlackWorkspace,
) -> None:
    priya = slack.person("Priya Shah")
    slack.shortcut(priya, channel="C0EDIWG001", message={"ts": "1762162590.000400", "text": "an idea"})
    modal = slack.last_modal()
    before = store_state(slack.store)

    answer = slack.submit(priya, modal, {"plan": PLAN, "title": "Try it", "due": "Sept 32"})

    assert answer.body["response_action"] == "errors"
    assert "due" in answer.body["errors"]
    assert store_state(slack.store) == before


# -- safety
# -------------------------------------------------------------------------------------------------------


def test_a_forged_or_stale_request_gets_401_and_changes_nothing(slack: SlackWorkspace) -> None:
    amina = slack.person("Amina Khan")
    before = store_state(slack.store)

    forged = slack.command(amina, "done NO-2", secret="not-the-signing-secret")
    stale = slack.command(amina, "done NO-2", timestamp=int(datetime.now().timestamp()) - 600)

    assert (forged.status, stale.status) == (401, 401)
    assert store_state(slack.store) == before


def test_a_rate_limited_answer_is_retried_after_slacks_retry_after(
    slack: SlackWorkspace, clock: FakeClock
) -> None:
    grace, channel, message = grace_reminded(slack, clock)
    slack.api.rate_limit(1, retry_after=1, method="chat.postMessage")

    slack.reply_in_thread(grace, message, "what's this about?", channel=channel)

    posts = slack.api.calls_to("chat.postMessage")
    assert [c.status for c in posts[-2:]] == [429, 200]
    assert slack.api.posted(channel)[-1]["thread_ts"] == message["ts"]


def test_the_home_tab_leaves_out_what_you_said_is_not_yours(slack: SlackWorkspace) -> None:
    amina = slack.person("Amina Khan")
    slack.command(amina, "notmine NO-2")

    slack.open_home(amina)

    home = texts_of(slack.api.home_of(amina.id)["blocks"])  # type: ignore[index]
    assert "Your 2 open actions" in home and "NO-2 ·" not in home


def test_a_new_action_form_reads_relative_deadlines_as_the_command_does(slack: SlackWorkspace) -> None:
    priya = slack.person("Priya Shah")
    slack.shortcut(priya, channel="C0EDIWG001", message={"ts": "1762162590.000400", "text": "an idea"})

    slack.submit(
        priya, slack.last_modal(), {"plan": PLAN, "title": "Book BSL interpreters", "due": "in 2 weeks"}
    )

    with slack.store.session() as session:
        action = session.scalar(select(Action).where(Action.title == "Book BSL interpreters"))
        assert action is not None and action.due_date is not None
        assert action.due_date.isoformat() == "2025-11-17"  # two weeks from the clock's Monday 3 November
