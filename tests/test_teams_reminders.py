"""Reminders in Teams: Adaptive Cards in each person's 1:1 chat, sent through the outbox, pressed, answered.

The Teams SDK, msal and the Teams sender run for real over real HTTP on loopback; only Microsoft's services
are stand-ins (tests/teams_standin.py).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.console import FakeClock
from bot.teams.sender import TeamsSender
from handlers.messages import Reply
from handlers.reminders import ReminderItem, reminder
from schedules.delivery import MAX_ATTEMPTS, deliver
from schedules.planning import sweep
from schedules.sending import Recipient, Undeliverable
from storage.db import Database
from storage.importing.service import import_plan
from storage.models import Action, OutboxMessage, Owner, Plan, TeamsConversation
from storage.people import import_people
from tests.conftest import LONDON, SAMPLES
from tests.nudging import NudgeWorld
from tests.teams_standin import ConnectorRefused, Member, check_activity
from tests.teams_tenant import TeamsTenant, actions_of, card_of, texts_of
from tests.transcript import history, nothing_changes


@pytest.fixture
def teams(store: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TeamsTenant]:
    # The plan went in two weeks ago: its owners had their welcome and a weekly reminder (on another
    # platform) and nobody answered, so this Monday brings the weekly reminders and NO-2's escalation.
    began = clock.now() - timedelta(weeks=2)
    import_plan(store, SAMPLES / "northbridge_edi_plan.csv", now=began, plan_name="Northbridge EDI Plan")
    import_people(store, SAMPLES / "northbridge_people.csv", now=began)
    history = NudgeWorld(store, FakeClock(began))
    history.round()
    history.round(began + timedelta(weeks=1))
    history.close()
    with TeamsTenant(store, clock, tmp_path) as tenant:
        yield tenant


def installed_for(teams: TeamsTenant, member: Member) -> str:
    """The app is installed for `member` (their admin pushed it, or they added it): Teams tells edibot."""
    activity = teams.activity("installation_update_add", member)
    assert teams.post(activity).status_code == 200
    return str(activity["conversation"]["id"])


def outbox(store: Database) -> list[OutboxMessage]:
    """This morning's messages (not the fortnight's before it)."""
    with store.session() as session:
        return list(
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.created_at >= datetime(2025, 11, 3, 9, 30, tzinfo=LONDON))
                .order_by(OutboxMessage.id)
            )
        )


def reminder_for(teams: TeamsTenant, member: Member) -> dict[str, Any]:
    """The morning's reminder, delivered to `member`'s chat: the activity as Teams has it."""
    teams.deliver()
    posted = teams.connector.activities_in(teams.connector.personal_chat(member))
    assert len(posted) == 1, posted
    return posted[0]


# -- where a reminder goes ------------------------------------------------------------------------------


def test_a_reminder_goes_to_the_chat_kept_when_the_app_was_installed_for_her(teams: TeamsTenant) -> None:
    amina = teams.person("Amina Khan", matched=True)
    chat = installed_for(teams, amina)

    teams.deliver()

    [message] = teams.connector.activities_in(chat)
    card = card_of(message)
    assert card["version"] == "1.5"
    assert texts_of(card).startswith("Amina, 2 EDI actions need you")
    assert message["summary"] == "Amina, 2 EDI actions need you"
    assert teams.connector.calls_to("POST", "/v3/conversations") == []  # none had to be made
    assert {a["title"] for a in actions_of(card)} >= {"Green", "Amber", "Red", "Done", "Add note", "Not mine"}
    assert f"{chat}|{message['id']}" in {row.platform_message_id for row in outbox(teams.store)}


def test_the_chat_is_kept_too_when_teams_says_she_was_added_to_it(
    teams: TeamsTenant, store: Database
) -> None:
    amina = teams.person("Amina Khan", matched=True)
    activity = teams.activity("conversation_update_personal", amina)

    assert teams.post(activity).status_code == 200
    teams.deliver()

    assert teams.connector.calls_to("POST", "/v3/conversations") == []
    [message] = teams.connector.activities_in(activity["conversation"]["id"])
    assert texts_of(card_of(message)).startswith("Amina, 2 EDI actions need you")


def test_without_a_chat_one_is_started_from_her_aad_object_id_and_tenant_and_kept(
    teams: TeamsTenant, store: Database
) -> None:
    amina = teams.person("Amina Khan", matched=True)

    teams.deliver()

    [created] = teams.connector.calls_to("POST", "/v3/conversations")
    assert created.body["members"] == [{"id": amina.aad_object_id}]
    assert created.body["channelData"]["tenant"]["id"] == teams.connector.state.members[amina.id].tenant_id
    [message] = teams.connector.activities_in(teams.connector.personal_chat(amina))
    assert texts_of(card_of(message)).startswith("Amina, 2 EDI actions need you")
    with store.session() as session:
        kept = session.get(TeamsConversation, amina.aad_object_id)
        assert kept is not None and kept.conversation_id == teams.connector.personal_chat(amina)


def test_someone_without_a_teams_id_is_undeliverable_without_asking_teams(teams: TeamsTenant) -> None:
    with pytest.raises(Undeliverable, match="no Teams id"):
        teams.sender(Recipient(id=1, name="Jo Bloggs"), Reply.say("hello"))
    assert teams.connector.calls == []


def test_someone_who_removed_the_app_is_undeliverable_and_their_chat_forgotten(
    teams: TeamsTenant, store: Database
) -> None:
    amina = teams.person("Amina Khan", matched=True)
    installed_for(teams, amina)
    teams.connector.state.conversations.pop(teams.connector.personal_chat(amina))  # Teams removed the chat

    with pytest.raises(Undeliverable, match="404"):
        teams.sender(Recipient(id=1, name="Amina Khan", teams_id=amina.aad_object_id), Reply.say("hello"))

    with store.session() as session:
        assert session.get(TeamsConversation, amina.aad_object_id) is None


# -- the card's buttons --------------------------------------------------------------------------------------


def test_pressing_red_asks_why_on_the_card_and_saving_refreshes_it_in_place(
    teams: TeamsTenant, store: Database
) -> None:
    amina = teams.person("Amina Khan", matched=True)
    message = reminder_for(teams, amina)
    card = card_of(message)
    red = next(a for a in actions_of(card) if a["title"] == "Red" and a["data"]["edibot_value"] == "NO-2|red")

    asked = teams.press(
        amina, {"body": [{"type": "ActionSet", "actions": [red]}]}, "Red", reply_to=message["id"]
    )

    assert asked["type"] == "application/vnd.microsoft.card.adaptive"
    form = asked["value"]
    [reason] = [e for e in form["body"] if e.get("type") == "Input.Text"]
    assert reason["id"] == "reason" and reason["isRequired"] is True
    with nothing_changes(store):
        refused = teams.press(amina, form, "Save", typed={"reason": "  "}, reply_to=message["id"])
    assert "Please say why, in a few words." in texts_of(refused["value"])

    saved = teams.press(amina, form, "Save", typed={"reason": "waiting on budget"}, reply_to=message["id"])

    refreshed = saved["value"]
    assert saved["type"] == "application/vnd.microsoft.card.adaptive"
    assert refreshed["body"][0]["text"].startswith("✅ NO-2 is now Red (was Amber)")
    assert "marked by Amina Khan — “waiting on budget”" in refreshed["body"][0]["text"]
    assert "NO-9" in texts_of(refreshed)  # the other action on the card is still there, as it stands
    change = next(row for row in history(store, "NO-2") if row.field == "rag")
    assert (change.actor, change.surface, change.to_value, change.note) == (
        "Amina Khan",
        "teams",
        "red",
        "waiting on budget",
    )


def test_a_press_that_changes_nothing_is_said_to_the_presser_and_leaves_the_card(
    teams: TeamsTenant, store: Database
) -> None:
    grace = teams.person("Grace Liu", matched=True)
    amina = teams.person("Amina Khan", matched=True)
    card = card_of(reminder_for(teams, amina))

    with nothing_changes(store):
        answer = teams.press(grace, card, "Done", value="NO-2|done")

    assert answer["type"] == "application/vnd.microsoft.activity.message"
    assert "Only NO-2's owners" in answer["value"]


# -- a plain reply after a reminder --------------------------------------------------------------------------


def test_a_plain_reply_after_a_reminder_is_understood_as_in_a_slack_thread(
    teams: TeamsTenant, store: Database
) -> None:
    amina = teams.person("Amina Khan", matched=True)
    message = reminder_for(teams, amina)

    unclear = teams.say(amina, "amber - waiting on budget")  # her reminder listed two actions
    answer = teams.say(amina, "NO-2 red - waiting on budget")

    assert "That reminder was about 2 actions (" in unclear.shown
    assert "NO-2" in unclear.shown and "NO-9" in unclear.shown
    assert "NO-2 is now Red" in answer.shown
    change = next(row for row in history(store, "NO-2") if row.field == "rag")
    assert (change.surface, change.note) == ("teams", "waiting on budget")
    # The reminder was refreshed in place: it shows what was done, and each action as it stands now.
    [updated] = teams.connector.calls_to("PUT", f"/activities/{message['id']}")
    assert updated.body["attachments"][0]["content"]["body"][0]["text"].startswith("✅ NO-2 is now Red")


def test_a_plain_message_with_no_reminder_before_it_says_what_to_type(teams: TeamsTenant) -> None:
    amina = teams.person("Amina Khan", matched=True)

    answer = teams.say(amina, "amber - waiting on budget")

    assert "I only understand plain replies in the thread of a reminder" in answer.shown


# -- Teams' limits -------------------------------------------------------------------------------------------

TODAY = date(2025, 11, 3)


def a_reminder(count: int) -> Reply:
    plan = Plan(name="Northbridge EDI Plan", ref_prefix="NO")
    hr = Owner(name="HR Manager", key="hr manager")
    items = []
    for n in range(1, count + 1):
        action = Action(
            plan=plan,
            ref=f"NO-{n}",
            title=f"Run the staff EDI survey, wave {n}",
            theme="Workforce",
            deadline_text="6/11/25",
            deadline_kind="dated",
            due_date=date(2025, 11, 6),
            rag="amber",
            status="open",
            progress_note="Waiting on budget",
        )
        action.owners.append(hr)
        items.append(ReminderItem(action=action, step="before-3", why="due in 3 days", today=TODAY))
    return reminder("Amina Khan", items, today=TODAY)


def test_teams_accepts_the_reminder_of_someone_with_300_actions(teams: TeamsTenant) -> None:
    amina = teams.person("Amina Khan", matched=True)
    chat = installed_for(teams, amina)

    teams.sender(Recipient(id=1, name="Amina Khan", teams_id=amina.aad_object_id), a_reminder(300))

    [message] = teams.connector.activities_in(chat)
    body = card_of(message)["body"]
    assert body[-1]["text"].startswith("…and ") and body[-1]["text"].endswith(
        " more — `edi mine` lists them all"
    )
    shown = sum(1 for element in body if element.get("weight") == "Bolder" and "wave" in element["text"])
    assert 5 <= shown < 300


def test_the_stand_in_refuses_what_teams_refuses() -> None:
    card = {"type": "AdaptiveCard", "version": "1.6", "body": [{"type": "TextBlock", "text": "hi"}]}
    with pytest.raises(ConnectorRefused, match="version"):
        check_activity(
            {
                "type": "message",
                "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}],
            }
        )
    with pytest.raises(ConnectorRefused, match="too big"):
        check_activity({"type": "message", "text": "x" * 30_000})
    seven = [{"type": "Action.Execute", "title": str(n), "verb": "v"} for n in range(7)]
    card = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "ActionSet", "actions": seven}]}
    with pytest.raises(ConnectorRefused, match="6"):
        check_activity(
            {
                "type": "message",
                "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}],
            }
        )


def test_a_429_storm_pauses_delivery_for_what_teams_asked_and_loses_doubles_or_fails_none(
    teams: TeamsTenant, store: Database, clock: FakeClock
) -> None:
    for name in ("Amina Khan", "Tom Okafor", "Grace Liu", "Priya Shah"):
        installed_for(teams, teams.person(name, matched=True))
    sweep(store, now=clock.now(), zone=LONDON)
    storm = MAX_ATTEMPTS + 2  # more 429s in a row than a message may fail
    teams.connector.rate_limit(storm, retry_after=120)
    send: TeamsSender = teams.sender

    first = deliver(store, now=clock.now(), zone=LONDON, send=send)

    assert (first.sent, first.retried, first.paused_until) == (0, 1, clock.now() + timedelta(seconds=120))
    assert len(teams.connector.calls_to("POST", "/activities")) == 1  # the others waited
    for n in range(1, storm):
        again = deliver(store, now=clock.now() + timedelta(seconds=120 * n), zone=LONDON, send=send)
        assert (again.sent, again.paused_until) == (0, clock.now() + timedelta(seconds=120 * (n + 1)))

    later = deliver(store, now=clock.now() + timedelta(seconds=120 * storm), zone=LONDON, send=send)

    assert (later.sent, later.failed) == (5, [])
    assert [(row.status, row.failures) for row in outbox(store)] == [("sent", 0)] * 5
    delivered = [c for c in teams.connector.calls_to("POST", "/activities") if c.status == 201]
    assert len(delivered) == 5


def test_teams_having_trouble_is_retried_after_what_it_asked_and_holds_up_no_one_else(
    teams: TeamsTenant, store: Database, clock: FakeClock
) -> None:
    members = {}
    for name in ("Amina Khan", "Tom Okafor", "Grace Liu", "Priya Shah"):
        members[name] = teams.person(name, matched=True)
        installed_for(teams, members[name])
    sweep(store, now=clock.now(), zone=LONDON)
    teams.connector.fail(1, status=503)  # Priya's reminder, the first queued

    first = deliver(store, now=clock.now(), zone=LONDON, send=teams.sender)

    # The three other people's reminders went on regardless; Priya's note as plan admin, queued after her
    # reminder, waits behind it: her chat gets her messages in the order they were queued.
    assert (first.sent, first.retried, first.failed) == (3, 1, [])
    later = deliver(store, now=clock.now() + timedelta(minutes=5), zone=LONDON, send=teams.sender)
    assert (later.sent, later.failed) == (2, [])
    [priya] = {row.person_id for row in outbox(store) if row.key.startswith("admin-note:")}
    queued = [str(row.platform_message_id) for row in outbox(store) if row.person_id == priya]
    in_her_chat = teams.connector.activities_in(teams.connector.personal_chat(members["Priya Shah"]))
    assert [activity["id"] for activity in in_her_chat] == [posted.split("|")[-1] for posted in queued]
    assert len(queued) == 2


def test_not_mine_on_the_card_tells_the_plan_admin_in_their_chat_straight_away(teams: TeamsTenant) -> None:
    amina = teams.person("Amina Khan", matched=True)
    priya = teams.person("Priya Shah", matched=True)  # the plan admin
    admins_chat = installed_for(teams, priya)
    message = reminder_for(teams, amina)
    already = len(teams.connector.activities_in(admins_chat))  # her own reminders of the morning

    teams.press(amina, card_of(message), "Not mine", value="NO-9", reply_to=message["id"])

    deadline = time.monotonic() + 10  # the notice leaves the outbox just after the answer
    while len(teams.connector.activities_in(admins_chat)) == already and time.monotonic() < deadline:
        time.sleep(0.05)
    told = teams.connector.activities_in(admins_chat)[already:]
    assert told and "NO-9" in texts_of(told[0]) and "Amina Khan" in texts_of(told[0])
