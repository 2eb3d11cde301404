"""Every `/edi` command as staff and plan leads use it in the console, and every refusal leaving the store alone.

The world is the Northbridge sample plan (NO-1…NO-15) and its people: Amina Khan (HR Manager, Internal Comms)
owns NO-2, NO-6 and NO-9; Dafydd Evans (Learning & Development) owns NO-5; Ewan Campbell (Digital Services)
owns NO-12; Sam Patel is People Services; Priya Shah (EDI Lead) is the only plan admin.
It is Monday 3 November 2025, 09:30 in London.

Each PostgreSQL test costs a database wipe, so where one person tries several variations of the same thing
(every way of writing a date, every admin command) that is one story told in a loop, not many tests.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.console import FakeClock
from handlers.core import Actor
from storage.db import Database
from storage.importing.service import import_plan
from storage.people import import_people
from storage.queries import plan_named
from tests.builders import write_csv
from tests.conftest import SAMPLES
from tests.transcript import Transcript, history, nothing_changes, snapshot


def refs_listed(reply: str) -> list[str]:
    """The references of the action lines in a listing ("NO-2 · Set EDI objectives… · Amber")."""
    return [line.split(" · ")[0] for line in reply.splitlines() if " · " in line]


# -- help -----------------------------------------------------------------------------------------------


def test_help_lists_what_staff_can_do_and_shows_admin_commands_only_to_admins(transcript: Transcript) -> None:
    transcript.say("@Amina Khan", "/edi help")
    transcript.expect_reply("What I can do", "`/edi mine`", "`/edi amber REF [note]`", "“not mine”")
    transcript.expect_reply_not("For plan admins", "/edi admins")

    transcript.say("@Priya Shah", "/edi help")
    transcript.expect_reply(
        "For plan admins",
        "`/edi admins add|remove @someone`",
        "`/edi plan pause|resume|restrict|unrestrict NAME | plan escalate NAME @someone|#channel|after N days "
        "| plan reminders NAME 14,3,0 | plan checkins NAME MONTHS`",
    )

    transcript.say("@Visiting Consultant", "/edi help")  # not in the directory, but may ask what I do
    transcript.expect_reply("What I can do", "`/edi show REF`")


def test_help_on_one_command_explains_it_and_names_commands_that_do_not_exist(transcript: Transcript) -> None:
    transcript.say("@Amina Khan", "/edi help snooze")
    transcript.expect_reply("/edi snooze REF 1w|3d|until DATE", "no reminders about it until then")

    transcript.say("@Amina Khan", "/edi help not-mine")
    transcript.expect_reply("/edi notmine REF")

    transcript.say("@Amina Khan", "/edi help teleport")
    transcript.expect_reply("There is no command 'teleport'. `/edi help` lists them all.")


# -- mine -----------------------------------------------------------------------------------------------


def test_mine_lists_my_open_actions_soonest_first_with_the_overdue_one_flagged(
    transcript: Transcript,
) -> None:
    transcript.say("@Amina Khan", "/edi mine")
    transcript.expect_reply(
        "Your 3 open actions, 1 overdue",
        "NO-2 · Set EDI objectives for every director · Sept 25 (due 30 Sep 2025) — overdue by 34 days · Amber",
        "NO-9 · Run the staff EDI survey · Next staff survey (no date yet) · not rated",
    )
    assert refs_listed(transcript.reply) == ["NO-2", "NO-6", "NO-9"]

    transcript.say("@Amina Khan", "/edi done NO-2 objectives all set")
    transcript.say("@Amina Khan", "/edi mine")
    transcript.expect_reply("Your 2 open actions")
    assert refs_listed(transcript.reply) == ["NO-6", "NO-9"]


def test_mine_shows_what_i_said_isnt_mine_apart_and_leaves_it_out_of_the_count(
    transcript: Transcript,
) -> None:
    transcript.say("@Amina Khan", "/edi notmine NO-2")
    transcript.say("@Amina Khan", "/edi mine")
    transcript.expect_reply(
        "Your 2 open actions", "You said NO-2 isn't yours; the plan admins have been told."
    )
    assert refs_listed(transcript.reply) == ["NO-6", "NO-9"]

    transcript.say("@Amina Khan", "/edi notmine NO-9")
    transcript.say("@Amina Khan", "/edi mine")
    transcript.expect_reply("Your 1 open action", "You said NO-2 and NO-9 aren't yours")
    assert refs_listed(transcript.reply) == ["NO-6"]

    transcript.say("@Priya Shah", '/edi owner NO-2 add "Internal Comms"')  # new owners: she is asked again
    transcript.say("@Amina Khan", "/edi mine")
    transcript.expect_reply("Your 2 open actions, 1 overdue", "You said NO-9 isn't yours")
    assert refs_listed(transcript.reply) == ["NO-2", "NO-6"]


def test_mine_for_someone_mapped_to_no_role_says_how_to_get_mapped(
    transcript: Transcript, store: Database, tmp_path: Path
) -> None:
    people = write_csv(tmp_path / "people.csv", [["owner", "name"], ["", "Nia Roberts"]])
    import_people(store, people, now=transcript.clock.now())
    transcript.say("@Nia Roberts", "/edi mine")
    transcript.expect_reply("You have no actions: you aren't mapped to any owner role yet.")


@pytest.fixture
def talent_plan(transcript: Transcript, store: Database, clock: FakeClock, tmp_path: Path) -> None:
    """A second plan, "Talent Review" (TR-1…TR-40), all owned by the Talent Team; TR-40 is due first."""
    rows = [["Theme", "Action", "Lead", "Timescale"]]
    for number in range(1, 41):
        due = date(2025, 10, 20) + timedelta(days=3 * (40 - number))
        rows.append(["Talent", f"Talent task {number}", "Talent Team", f"{due:%d/%m/%y}"])
    import_plan(store, write_csv(tmp_path / "talent.csv", rows), now=clock.now(), plan_name="Talent Review")


@pytest.mark.usefixtures("talent_plan")
def test_mine_with_forty_actions_shows_the_soonest_thirty_and_says_how_many_more(
    transcript: Transcript,
) -> None:
    transcript.say("@Priya Shah", '/edi people map "Talent Team" @Tom Okafor')
    transcript.expect_reply("Tom Okafor now gets Talent Team's actions.")

    transcript.say("@Tom Okafor", "/edi mine")
    # NO-2 (30 Sep), then TR-40 (20 Oct), TR-39 (23 Oct)… every three days; today is 3 November.
    transcript.expect_reply(
        "Your 41 open actions, 6 overdue",
        "TR-40 · Talent task 40 · 20/10/25 (due 20 Oct 2025) — overdue by 14 days · not rated",
        "TR-35 · Talent task 35 · 04/11/25 (due 4 Nov 2025) · not rated",
        "…and 11 more. Narrow it with plan:",
    )
    assert refs_listed(transcript.reply) == ["NO-2", *(f"TR-{n}" for n in range(40, 11, -1))]


# -- list -----------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("talent_plan")
def test_list_shows_every_live_action_or_one_plan(transcript: Transcript) -> None:
    transcript.say("@Amina Khan", "/edi list")
    transcript.expect_reply("55 actions (all plans)", "…and 25 more")

    transcript.say("@Amina Khan", '/edi list plan:"Northbridge EDI Plan"')
    transcript.expect_reply("15 actions (plan:Northbridge EDI Plan)")
    assert refs_listed(transcript.reply) == [f"NO-{n}" for n in range(1, 16)]

    transcript.say("@Amina Khan", '/edi list plan:"talent review"')
    transcript.expect_reply("40 actions (plan:talent review)", "…and 10 more")
    transcript.expect_reply_not("NO-")


def test_list_by_theme_and_owner_matches_part_of_the_name(transcript: Transcript) -> None:
    transcript.say("@Amina Khan", "/edi list theme:workforce")
    transcript.expect_reply("5 actions (theme:workforce)")
    assert refs_listed(transcript.reply) == ["NO-6", "NO-7", "NO-8", "NO-9", "NO-10"]

    transcript.say("@Amina Khan", "/edi list owner:people")
    transcript.expect_reply("2 actions (owner:people)")
    assert refs_listed(transcript.reply) == ["NO-7", "NO-10"]

    transcript.say("@Amina Khan", "/edi list theme:leadership owner:legal")
    transcript.expect_reply("1 action (theme:leadership owner:legal)", "NO-4 · Refresh the equality impact")


def test_list_overdue_and_due_soon(transcript: Transcript) -> None:
    transcript.say("@Amina Khan", "/edi list overdue")
    transcript.expect_reply("3 actions (overdue)")
    assert refs_listed(transcript.reply) == ["NO-2", "NO-4", "NO-13"]  # NO-1 is done, so never overdue

    transcript.say("@Amina Khan", "/edi list due:30d")
    transcript.expect_reply("4 actions (due:30d)")
    assert refs_listed(transcript.reply) == ["NO-2", "NO-4", "NO-6", "NO-13"]

    transcript.say("@Amina Khan", "/edi list due:3m")
    transcript.expect_reply("5 actions (due:3m)")
    assert refs_listed(transcript.reply) == ["NO-2", "NO-4", "NO-5", "NO-6", "NO-13"]


def test_list_says_when_nothing_matches_and_explains_a_filter_it_does_not_know(
    transcript: Transcript,
) -> None:
    transcript.say("@Amina Khan", "/edi list owner:astronauts")
    transcript.expect_reply("No actions match owner:astronauts.")

    transcript.say("@Amina Khan", "/edi list colour:blue")
    transcript.expect_reply(
        "I don't understand 'colour:blue' in a list. Use plan:NAME, theme:TEXT, owner:TEXT, overdue or due:30d"
    )


# -- show and history -----------------------------------------------------------------------------------


def test_show_gives_the_action_in_full_with_buttons_only_for_those_who_may_change_it(
    transcript: Transcript,
) -> None:
    transcript.say("@Ewan Campbell", "/edi show NO-12")
    transcript.expect_reply(
        "*NO-12 · Make the website meet WCAG 2.2 AA*",
        "Plan: Northbridge EDI Plan › Communities",
        "Owners: Digital Services",
        "Due: 2026 (due 31 Dec 2026)",
        "Status: Amber",
        "Last note: Audit found 40 issues",
        "[1] Green  [2] Amber  [3] Red  [4] Done  [5] Snooze 1 week  [6] Add note  [7] Not mine",
    )

    transcript.say("@Dafydd Evans", "/edi show NO-12")
    transcript.expect_reply("*NO-12 · Make the website meet WCAG 2.2 AA*", "Status: Amber")
    transcript.expect_reply_not("[1]")


def test_history_lists_every_change_newest_first_with_who_and_where(transcript: Transcript) -> None:
    transcript.say("@Amina Khan", "/edi amber NO-6 waiting on budget")
    transcript.at("2025-11-04T10:00")
    transcript.say("@Priya Shah", "/edi green NO-6 budget agreed")
    transcript.say("@Amina Khan", "/edi history NO-6")
    transcript.expect_reply("History of NO-6 (newest first)")
    assert transcript.reply.splitlines()[1:] == [
        "4 Nov 2025 10:00 · Priya Shah via console · note: waiting on budget → budget agreed",
        "4 Nov 2025 10:00 · Priya Shah via console · rag: amber → green — “budget agreed”",
        "3 Nov 2025 09:30 · Amina Khan via console · note: — → waiting on budget",
        "3 Nov 2025 09:30 · Amina Khan via console · rag: green → amber — “waiting on budget”",
        "3 Nov 2025 09:30 · import via import · created: — → Review recruitment adverts for inclusive language"
        " — “from northbridge_edi_plan.csv”",
    ]


def test_history_shows_the_time_of_a_summer_change_in_london_time(transcript: Transcript) -> None:
    transcript.at("2026-04-01T10:00")  # British Summer Time
    transcript.say("@Amina Khan", "/edi note NO-6 agency briefed")
    transcript.say("@Amina Khan", "/edi history NO-6")
    transcript.expect_reply("1 Apr 2026 10:00 · Amina Khan via console · note: — → agency briefed")


# -- status ---------------------------------------------------------------------------------------------


def test_green_with_or_without_a_note_and_again_when_already_green(
    transcript: Transcript, store: Database
) -> None:
    transcript.say("@Dafydd Evans", "/edi green NO-5")
    transcript.expect_reply("NO-5 is now Green (was Red), marked by Dafydd Evans.")
    assert transcript.outcome is not None and transcript.outcome.reply.private is False  # the team sees it
    assert snapshot(store, "NO-5")["progress_note"] == "Trainer not yet booked"
    assert [
        (r.actor, r.field, r.from_value, r.to_value, r.note, r.surface) for r in history(store, "NO-5")[:1]
    ] == [("Dafydd Evans", "rag", "red", "green", None, "console")]

    with nothing_changes(store):
        transcript.say("@Dafydd Evans", "/edi green NO-5")
    transcript.expect_reply("NO-5 is already Green.")

    transcript.say("@Dafydd Evans", "/edi green NO-5 trainer booked")
    transcript.expect_reply("NO-5 stays Green, noted by Dafydd Evans — “trainer booked”.")
    assert snapshot(store, "NO-5")["progress_note"] == "trainer booked"
    note = history(store, "NO-5")[0]
    assert (note.field, note.from_value, note.to_value) == (
        "note",
        "Trainer not yet booked",
        "trainer booked",
    )


def test_amber_with_a_reason_is_marked_at_once_with_the_reason_in_the_history(
    transcript: Transcript, store: Database
) -> None:
    transcript.say("@Amina Khan", "/edi amber NO-6 waiting on budget")
    transcript.expect_reply("NO-6 is now Amber (was Green), marked by Amina Khan — “waiting on budget”.")
    facts = snapshot(store, "NO-6")
    assert (facts["rag"], facts["progress_note"]) == ("amber", "waiting on budget")
    assert [
        (r.actor, r.field, r.from_value, r.to_value, r.note, r.surface) for r in history(store, "NO-6")[:2]
    ] == [
        ("Amina Khan", "note", None, "waiting on budget", None, "console"),
        ("Amina Khan", "rag", "green", "amber", "waiting on budget", "console"),
    ]


@pytest.mark.parametrize(
    ("status", "question"), [("amber", "What's putting it at risk?"), ("red", "What's blocking it?")]
)
def test_amber_or_red_without_a_reason_asks_why_and_the_answer_completes_it(
    transcript: Transcript, store: Database, status: str, question: str
) -> None:
    with nothing_changes(store):
        transcript.say("@Amina Khan", f"/edi {status} NO-6")
    transcript.expect_reply(f"NO-6 → {status.title()}: please say why", f"? {question}")
    assert transcript.outcome is not None
    form = transcript.outcome.reply.form
    assert form is not None and (form.form_id, form.state) == ("status", f"NO-6|{status}")

    transcript.say("@Amina Khan", "the agency is still rewriting the adverts")
    transcript.expect_reply(f"NO-6 is now {status.title()} (was Green), marked by Amina Khan")
    facts = snapshot(store, "NO-6")
    assert (facts["rag"], facts["progress_note"]) == (status, "the agency is still rewriting the adverts")
    assert history(store, "NO-6")[1].note == "the agency is still rewriting the adverts"


def test_the_reason_form_submitted_from_a_platform_completes_the_change_and_empty_asks_again(
    transcript: Transcript, store: Database
) -> None:
    amina = Actor(surface="slack", name="Amina Khan")
    with nothing_changes(store):
        empty = transcript.layer.submit(amina, "status", "NO-6|amber", {"reason": "   "})
    assert empty.reply.form is not None and empty.reply.form.state == "NO-6|amber"

    outcome = transcript.layer.submit(amina, "status", "NO-6|red", {"reason": "agency went bust"})
    assert (
        "NO-6 is now Red (was Green), marked by Amina Khan — “agency went bust”."
        in outcome.reply.plain_text()
    )
    assert snapshot(store, "NO-6")["rag"] == "red"
    assert (history(store, "NO-6")[1].surface, history(store, "NO-6")[1].note) == (
        "slack",
        "agency went bust",
    )


def test_a_reason_form_submitted_empty_says_on_the_field_that_a_reason_is_needed(
    transcript: Transcript,
) -> None:
    outcome = transcript.layer.submit(Actor(surface="slack", name="Amina Khan"), "status", "NO-6|amber", {})
    assert outcome.reply.form is not None
    assert outcome.reply.form.fields[0].error


def test_done_with_a_note_closes_it_blue_and_records_status_rag_and_note(
    transcript: Transcript, store: Database
) -> None:
    transcript.say("@Amina Khan", "/edi done NO-6 adverts rewritten and live")
    transcript.expect_reply(
        "NO-6 is now Done (was Green), marked by Amina Khan — “adverts rewritten and live”."
    )
    facts = snapshot(store, "NO-6")
    assert (facts["status"], facts["rag"], facts["progress_note"]) == (
        "done",
        "blue",
        "adverts rewritten and live",
    )
    assert [(r.field, r.from_value, r.to_value, r.note) for r in history(store, "NO-6")[:3]] == [
        ("note", None, "adverts rewritten and live", None),
        ("rag", "green", "blue", None),
        ("status", "open", "done", "adverts rewritten and live"),
    ]


def test_done_without_a_note_then_again_says_it_is_already_done(
    transcript: Transcript, store: Database
) -> None:
    transcript.say("@Amina Khan", "/edi done NO-9")
    transcript.expect_reply("NO-9 is now Done (was not rated), marked by Amina Khan.")
    facts = snapshot(store, "NO-9")
    assert (facts["status"], facts["rag"], facts["progress_note"]) == ("done", "blue", None)

    with nothing_changes(store):
        transcript.say("@Amina Khan", "/edi done NO-9")
    transcript.expect_reply("NO-9 is already done.")


def test_reopen_brings_a_done_action_back_and_an_open_one_stays_as_it_is(
    transcript: Transcript, store: Database
) -> None:
    with nothing_changes(store):
        transcript.say("@Amina Khan", "/edi reopen NO-6")
    transcript.expect_reply("NO-6 is already open.")

    transcript.say("@Amina Khan", "/edi done NO-6")
    transcript.say("@Amina Khan", "/edi reopen NO-6")
    transcript.expect_reply("NO-6 is open again.")
    facts = snapshot(store, "NO-6")
    assert (facts["status"], facts["rag"]) == ("open", None)
    assert [(r.field, r.from_value, r.to_value) for r in history(store, "NO-6")[:2]] == [
        ("rag", "blue", None),
        ("status", "done", "open"),
    ]


# -- note, due, snooze ----------------------------------------------------------------------------------


def test_note_records_the_latest_progress_and_asks_for_it_when_left_out(
    transcript: Transcript, store: Database
) -> None:
    transcript.say("@Dafydd Evans", "/edi note NO-5 Trainer booked for 14 January")
    transcript.expect_reply("Noted on NO-5: “Trainer booked for 14 January”.")
    assert snapshot(store, "NO-5")["progress_note"] == "Trainer booked for 14 January"
    latest = history(store, "NO-5")[0]
    assert (latest.actor, latest.field, latest.from_value, latest.to_value) == (
        "Dafydd Evans", "note", "Trainer not yet booked", "Trainer booked for 14 January",
    )  # fmt: skip

    with nothing_changes(store):
        transcript.say("@Dafydd Evans", "/edi note NO-5")
    transcript.expect_reply("What's the latest on NO-5?", "? Progress note")
    transcript.say("@Dafydd Evans", "venue confirmed")
    transcript.expect_reply("Noted on NO-5: “venue confirmed”.")
    assert snapshot(store, "NO-5")["progress_note"] == "venue confirmed"


def test_a_note_is_kept_as_written_apostrophes_and_quotes_included(
    transcript: Transcript, store: Database
) -> None:
    transcript.say("@Amina Khan", """/edi note NO-6 it's the agency's call; they said "next week\"""")
    assert snapshot(store, "NO-6")["progress_note"] == """it's the agency's call; they said "next week\""""


def test_due_accepts_the_ways_people_write_a_date(transcript: Transcript, store: Database) -> None:
    ways = [
        ("31/3/26", date(2026, 3, 31)),
        ("March 2026", date(2026, 3, 31)),
        ("end of March", date(2026, 3, 31)),
        ("next Friday", date(2025, 11, 7)),
        ("in 2 weeks", date(2025, 11, 17)),
        ("31/3", date(2026, 3, 31)),
    ]
    previous = "Next staff survey"
    for written, due in ways:
        transcript.say("@Amina Khan", f"/edi due NO-9 {written}")
        transcript.expect_reply(f"NO-9 is now due {due:%-d %B %Y} (“{written}”).")
        facts = snapshot(store, "NO-9")
        assert (facts["due_date"], facts["deadline_text"], facts["deadline_kind"]) == (due, written, "dated")
        latest = history(store, "NO-9")[0]
        assert (latest.actor, latest.field, latest.from_value, latest.to_value) == (
            "Amina Khan", "deadline", previous, written,
        )  # fmt: skip
        previous = written


def test_snooze_holds_reminders_until_the_day_asked_and_the_card_shows_it(
    transcript: Transcript, store: Database
) -> None:
    previous = None
    for written, until in [
        ("1w", date(2025, 11, 10)),
        ("3d", date(2025, 11, 6)),
        ("until 3 March", date(2026, 3, 3)),
    ]:
        transcript.say("@Amina Khan", f"/edi snooze NO-6 {written}")
        transcript.expect_reply(f"I won't remind you about NO-6 until {until:%A %-d %B}.")
        assert snapshot(store, "NO-6")["snoozed_until"] == until
        latest = history(store, "NO-6")[0]
        assert (latest.field, latest.from_value, latest.to_value) == (
            "snoozed_until",
            previous,
            until.isoformat(),
        )
        previous = until.isoformat()

    transcript.say("@Amina Khan", "/edi show NO-6")
    transcript.expect_reply("Snoozed until: 3 Mar 2026")


# -- not mine -------------------------------------------------------------------------------------------


def test_notmine_tells_the_plan_admins_and_changes_nothing(transcript: Transcript, store: Database) -> None:
    with nothing_changes(store):
        transcript.say("@Sam Patel", "/edi notmine NO-8")
    transcript.expect_reply("Thanks, I've told the plan admins (Priya Shah) that NO-8 isn't yours.")
    transcript.expect_notice(
        to="Priya Shah",
        containing="Sam Patel says NO-8 is not theirs. It is owned by Directors & Managers of Each Department",
    )
    transcript.expect_notice(to="Priya Shah", containing="*NO-8 · Launch a reverse mentoring scheme*")


def test_notmine_from_the_only_admin_says_there_is_nobody_to_tell(
    transcript: Transcript, store: Database
) -> None:
    with nothing_changes(store):
        transcript.say("@Priya Shah", "/edi not-mine NO-8")
    transcript.expect_reply("Thanks — but there is no plan admin to tell yet. NO-8 is owned by Directors")
    transcript.expect_no_notices()


# -- plan admin -----------------------------------------------------------------------------------------


def test_an_admin_adds_and_removes_an_owner_and_both_are_in_the_history(
    transcript: Transcript, store: Database
) -> None:
    transcript.say("@Priya Shah", '/edi owner NO-6 add "Internal Comms"')
    transcript.expect_reply("NO-6 is now owned by HR Manager, Internal Comms.")
    assert snapshot(store, "NO-6")["owners"] == ["HR Manager", "Internal Comms"]

    transcript.say("@Priya Shah", "/edi owner NO-6 remove hr manager")
    transcript.expect_reply("NO-6 is now owned by Internal Comms.")
    assert snapshot(store, "NO-6")["owners"] == ["Internal Comms"]
    assert [(r.actor, r.field, r.from_value, r.to_value) for r in history(store, "NO-6")[:2]] == [
        ("Priya Shah", "owners", "HR Manager, Internal Comms", "Internal Comms"),
        ("Priya Shah", "owners", "HR Manager", "HR Manager, Internal Comms"),
    ]

    with nothing_changes(store):
        transcript.say("@Priya Shah", '/edi owner NO-6 remove "Legal Services"')
    transcript.expect_reply("Legal Services doesn't own NO-6; its owners are Internal Comms.")


def test_people_unmapped_and_map_give_a_role_nobody_answers_for_to_someone(transcript: Transcript) -> None:
    transcript.say("@Priya Shah", "/edi people unmapped")
    transcript.expect_reply(
        "5 owner roles with nobody to remind",
        "Comms & Events — 1 open action",
        "Directors & Managers of Each Department — 1 open action",
        "Health & Safety — 1 open action",
    )

    transcript.say("@Priya Shah", '/edi people map "Directors & Managers of Each Department" @Sam Patel')
    transcript.expect_reply("Sam Patel now gets Directors & Managers of Each Department's actions.")
    transcript.say("@Sam Patel", "/edi mine")
    transcript.expect_reply("NO-8 · Launch a reverse mentoring scheme")
    transcript.say("@Priya Shah", "/edi people unmapped")
    transcript.expect_reply("4 owner roles with nobody to remind")
    transcript.expect_reply_not("Directors & Managers")


def test_admins_add_and_remove_and_the_last_admin_stays(transcript: Transcript, store: Database) -> None:
    with nothing_changes(store):
        transcript.say("@Priya Shah", "/edi admins remove @Priya Shah")
    transcript.expect_reply("Priya Shah is the last plan admin; add another before removing them.")

    transcript.say("@Priya Shah", "/edi admins add @Tom Okafor")
    transcript.expect_reply("Tom Okafor is now a plan admin.")
    transcript.say("@Tom Okafor", "/edi people unmapped")  # Tom may now use admin commands
    transcript.expect_reply("owner roles with nobody to remind")

    transcript.say("@Tom Okafor", "/edi admins remove @priya shah")
    transcript.expect_reply("Priya Shah is no longer a plan admin.")
    transcript.say("@Priya Shah", "/edi people unmapped")
    transcript.expect_reply("Only a plan admin can use `/edi people`.")


def test_pausing_and_resuming_a_plan(transcript: Transcript, store: Database) -> None:
    def paused() -> bool:
        with store.session() as session:
            plan = plan_named(session, "Northbridge EDI Plan")
            assert plan is not None
            return plan.paused

    transcript.say("@Priya Shah", "/edi plan pause Northbridge EDI Plan")
    transcript.expect_reply("Northbridge EDI Plan is paused: no reminders go out for it until you resume it.")
    assert paused()

    transcript.say("@Priya Shah", "/edi plan pause northbridge edi plan")
    transcript.expect_reply("Northbridge EDI Plan is already paused.")

    transcript.say("@Priya Shah", '/edi plan resume "Northbridge EDI Plan"')
    transcript.expect_reply("Northbridge EDI Plan is running again")
    assert not paused()


# -- references -----------------------------------------------------------------------------------------


def test_a_reference_in_any_case_or_a_unique_prefix_finds_the_action(
    transcript: Transcript, store: Database, tmp_path: Path
) -> None:
    transcript.say("@Amina Khan", "/edi green nO-2 objectives agreed")
    transcript.expect_reply("NO-2 is now Green (was Amber)")
    assert snapshot(store, "NO-2")["rag"] == "green"

    plan = write_csv(
        tmp_path / "access.csv",
        [["Action", "Lead", "Timescale"], ["Audit step-free access", "EDI Lead", "Jan 26"]],
    )
    import_plan(store, plan, now=transcript.clock.now(), plan_name="Access Review")
    transcript.say("@Priya Shah", "/edi done ar all entrances audited")
    transcript.expect_reply("AR-1 is now Done")
    assert snapshot(store, "AR-1")["status"] == "done"


def test_an_ambiguous_prefix_lists_the_candidates_and_a_typo_gets_did_you_mean(
    transcript: Transcript, store: Database
) -> None:
    with nothing_changes(store):
        transcript.say("@Amina Khan", "/edi green no-")
        transcript.expect_reply(
            "'no-' could be NO-1, NO-2, NO-3, NO-4, NO-5, NO-6, NO-7, NO-8, … — which one?"
        )

        transcript.say("@Amina Khan", "/edi green NO-66")
        transcript.expect_reply("There is no action NO-66. Did you mean NO-6?")


def test_a_reference_without_its_hyphen_gets_did_you_mean(transcript: Transcript) -> None:
    transcript.say("@Amina Khan", "/edi show NO6")
    transcript.expect_reply("Did you mean NO-6?")


def test_an_archived_action_says_it_is_no_longer_in_the_plan(transcript: Transcript, store: Database) -> None:
    import_plan(
        store, SAMPLES / "northbridge_edi_plan_revised.csv", now=transcript.clock.now(),
        plan_name="Northbridge EDI Plan",
    )  # fmt: skip
    with nothing_changes(store):
        transcript.say("@Priya Shah", "/edi note NO-13 poster printed")
    transcript.expect_reply("NO-13 is archived: it is no longer in the plan Northbridge EDI Plan.")


# -- refusals: each one a clear sentence, and the store as it was --------------------------------------


def test_an_unknown_command_or_reference_is_refused(transcript: Transcript, store: Database) -> None:
    with nothing_changes(store):
        transcript.say("@Amina Khan", "/edi frobnicate NO-6")
        transcript.expect_reply(
            "I don't know the command 'frobnicate'. Try `/edi help` for what I can do. I haven't changed anything."
        )
        transcript.say("@Amina Khan", "/edi done XY-3")
        transcript.expect_reply(
            "There is no action XY-3. `/edi mine` lists yours; `/edi list` lists them all."
        )

        transcript.say("@Amina Khan", "/edi done")
        transcript.expect_reply("Which action? Usage: `/edi done REF [note]`")


def test_a_due_date_that_is_not_a_date_is_refused(transcript: Transcript, store: Database) -> None:
    with nothing_changes(store):
        for written in ("banana", "Sept 32", "31/2/26"):
            transcript.say("@Amina Khan", f"/edi due NO-6 {written}")
            transcript.expect_reply(f"'{written}' is not a", "I haven't changed NO-6.", "`end of March`")
        transcript.say("@Amina Khan", "/edi due NO-6")
        transcript.expect_reply("When is NO-6 due? e.g. `/edi due NO-6 31/3/25` or `end of March`.")


def test_a_refused_due_date_does_not_claim_it_was_kept(transcript: Transcript) -> None:
    transcript.say("@Amina Khan", "/edi due NO-6 banana")
    transcript.expect_reply_not("kept as text")


def test_a_snooze_that_is_not_a_period_or_is_in_the_past_is_refused(
    transcript: Transcript, store: Database
) -> None:
    with nothing_changes(store):
        for written in ("forever", "0d", "until soon", ""):
            transcript.say("@Amina Khan", f"/edi snooze NO-6 {written}")
            transcript.expect_reply("is not a snooze I understand. Use `1w`, `3d`, `2w` or `until 3 March`.")
        transcript.say("@Amina Khan", "/edi snooze NO-6 until 1 November 2025")
        transcript.expect_reply("1 November 2025 has already come; snooze until a later day.")


def test_an_over_long_note_is_capped_at_1000_characters_and_says_so(
    transcript: Transcript, store: Database
) -> None:
    long_note = "The agency sent a long update. " * 50
    transcript.say("@Amina Khan", f"/edi note NO-6 {long_note}")
    transcript.expect_reply("Your note was 1,549 characters; I kept the first 1,000.")
    kept = long_note.strip()[:1000]
    assert snapshot(store, "NO-6")["progress_note"] == kept
    assert history(store, "NO-6")[0].to_value == kept

    transcript.say("@Amina Khan", "/edi red NO-6 " + "x" * 1200)
    transcript.expect_reply("NO-6 is now Red", "Your note was 1,200 characters; I kept the first 1,000.")
    assert history(store, "NO-6")[1].note == "x" * 1000


def test_someone_not_in_the_directory_is_refused_everything_but_help(
    transcript: Transcript, store: Database
) -> None:
    with nothing_changes(store):
        for command in (
            "/edi mine",
            "/edi green NO-6 all fine",
            "/edi show NO-6",
            "/edi list",
            "/edi notmine NO-6",
        ):
            transcript.say("@Visiting Consultant", command)
            transcript.expect_reply(
                "I don't know you yet, Visiting Consultant: ask an EDI lead to add you to the people directory",
                "I haven't changed anything.",
            )
            transcript.expect_no_notices()


def test_someone_who_does_not_own_an_action_cannot_change_it(transcript: Transcript, store: Database) -> None:
    with nothing_changes(store):
        for command in (
            "/edi done NO-6", "/edi amber NO-6 not convinced", "/edi note NO-6 hello", "/edi due NO-6 31/3/26",
            "/edi snooze NO-6 1w", "/edi reopen NO-1",
        ):  # fmt: skip
            transcript.say("@Ewan Campbell", command)
            transcript.expect_reply("or a plan admin can change it, so I haven't.")
        transcript.expect_reply("Only NO-1's owners (Policy, Communities and Engagement) or a plan admin")

        transcript.say("@Amina Khan", "/edi show NO-6")
        transcript.press("@Ewan Campbell", "Done")  # a card someone else was shown
        transcript.expect_reply(
            "Only NO-6's owners (HR Manager) or a plan admin can change it, so I haven't."
        )


def test_a_plan_admin_may_change_an_action_they_do_not_own(transcript: Transcript, store: Database) -> None:
    transcript.say("@Priya Shah", "/edi done NO-6 signed off by the board")
    transcript.expect_reply("NO-6 is now Done (was Green), marked by Priya Shah")
    assert snapshot(store, "NO-6")["status"] == "done"
    assert history(store, "NO-6")[0].actor == "Priya Shah"


def test_someone_who_is_not_an_admin_cannot_use_admin_commands(
    transcript: Transcript, store: Database
) -> None:
    with nothing_changes(store):
        for command in (
            '/edi owner NO-6 add "Policy Team"', "/edi people unmapped", '/edi people map "EDI Lead" @Amina Khan',
            "/edi admins add @Amina Khan", "/edi plan pause Northbridge EDI Plan",
        ):  # fmt: skip
            transcript.say("@Amina Khan", command)
            transcript.expect_reply(
                f"Only a plan admin can use `/edi {command.split()[1]}`. I haven't changed anything."
            )


def test_admin_commands_naming_an_unknown_person_role_or_plan_are_refused(
    transcript: Transcript, store: Database
) -> None:
    with nothing_changes(store):
        for command, answer in [
            ('/edi people map "HR Manager" @Nobody Known', "I don't know @Nobody Known — add them to the people directory"),
            ('/edi people map "HR" @Sam Patel', "No plan has an owner called 'HR'. Similar: HR Manager."),
            ("/edi admins add nobody@northbridge.example", "I don't know nobody@northbridge.example"),
            ("/edi plan pause Southbridge", "There is no plan called 'Southbridge'. Plans: Northbridge EDI Plan."),
            ("/edi people", 'Usage: `/edi people map "HR Manager" @someone` or `/edi people unmapped`.'),
            ("/edi admins promote @Tom Okafor", "Usage: `/edi admins add @someone`"),
            ("/edi owner NO-6 adopt HR", 'Usage: `/edi owner NO-6 add|remove "Owner name"`'),
            ("/edi plan stop", "Usage: `/edi plan pause NAME`, `/edi plan resume NAME`, `/edi plan escalate NAME @someone|#channel`, `/edi plan escalate NAME after 21 days`, `/edi plan reminders NAME 14,3,0`, `/edi plan checkins NAME 3` (months) or `/edi plan restrict|unrestrict NAME`."),
        ]:  # fmt: skip
            transcript.say("@Priya Shah", command)
            transcript.expect_reply(answer)


@pytest.fixture
def restricted(transcript: Transcript, store: Database) -> None:
    """The sample plan marked restricted: only its actions' owners and the plan admins may see them."""
    with store.session() as session:
        plan = plan_named(session, "Northbridge EDI Plan")
        assert plan is not None
        plan.restricted = True


@pytest.mark.usefixtures("restricted")
def test_a_restricted_plan_is_hidden_from_people_who_do_not_own_the_action(
    transcript: Transcript, store: Database
) -> None:
    with nothing_changes(store):
        for command in ("/edi show NO-6", "/edi history NO-6", "/edi notmine NO-6"):
            transcript.say("@Ewan Campbell", command)
            transcript.expect_reply(
                "NO-6 is in a restricted plan; only its owners and plan admins can see it."
            )
            transcript.expect_no_notices()

    transcript.say("@Ewan Campbell", "/edi list")
    transcript.expect_reply("1 action (all plans)")
    assert refs_listed(transcript.reply) == ["NO-12"]
    transcript.say("@Amina Khan", "/edi list")
    assert refs_listed(transcript.reply) == ["NO-2", "NO-6", "NO-9"]
    transcript.say("@Priya Shah", "/edi list")
    transcript.expect_reply("15 actions (all plans)")
    transcript.say("@Amina Khan", "/edi show NO-6")
    transcript.expect_reply("*NO-6 · Review recruitment adverts for inclusive language*")


def test_a_button_that_is_unknown_or_malformed_is_refused(transcript: Transcript, store: Database) -> None:
    amina = Actor(surface="slack", name="Amina Khan")
    with nothing_changes(store):
        for action_id, value, answer in [
            ("explode", "NO-6|green", "I don't recognise that button ('explode' with 'NO-6|green'); it may be from "
                                      "an older version of me. I haven't changed anything."),
            ("status", "NO-6", "I don't recognise that button ('status' with 'NO-6')"),
            ("status", "NO-6|purple", "I don't recognise that button ('status' with 'NO-6|purple')"),
            ("snooze", "NO-6|", "I don't recognise that button ('snooze' with 'NO-6|')"),
            ("status", "|green", "That button carried no action reference; I haven't changed anything."),
            ("status", "ZZ-9|green", "There is no action ZZ-9."),
        ]:  # fmt: skip
            outcome = transcript.layer.press(amina, action_id, value)
            assert answer in outcome.reply.plain_text(), outcome.reply.plain_text()


def test_an_unknown_form_is_refused(transcript: Transcript, store: Database) -> None:
    with nothing_changes(store):
        outcome = transcript.layer.submit(
            Actor(surface="teams", name="Amina Khan"), "budget", "NO-6|amber", {"reason": "money"}
        )
    assert outcome.reply.plain_text() == "I don't recognise that form ('budget'); I haven't changed anything."


def test_a_retried_delivery_of_a_command_or_a_press_is_acted_on_once(
    transcript: Transcript, store: Database
) -> None:
    amina = Actor(surface="slack", slack_id="U0AMINA", name="Amina Khan")
    first = transcript.layer.handle(amina, "/edi amber NO-6 waiting on budget", delivery_id="Ev01")
    assert "NO-6 is now Amber" in first.reply.plain_text() and not first.duplicate
    with nothing_changes(store):
        again = transcript.layer.handle(amina, "/edi amber NO-6 waiting on budget", delivery_id="Ev01")
    assert again.duplicate and again.reply.blocks == [] and again.notices == []

    dafydd = Actor(surface="teams", name="Dafydd Evans")
    pressed = transcript.layer.press(dafydd, "status", "NO-5|green", delivery_id="act-7")
    assert "NO-5 is now Green (was Red)" in pressed.reply.plain_text()
    transcript.say("@Dafydd Evans", "/edi red NO-5 trainer cancelled")  # a later, different change
    with nothing_changes(store):
        repressed = transcript.layer.press(dafydd, "status", "NO-5|green", delivery_id="act-7")
    assert repressed.duplicate
    assert snapshot(store, "NO-5")["rag"] == "red"


def test_a_refused_delivery_retried_is_answered_again_and_other_platforms_ids_are_their_own(
    transcript: Transcript, store: Database
) -> None:
    ewan = Actor(surface="slack", name="Ewan Campbell")
    with nothing_changes(store):
        first = transcript.layer.handle(ewan, "/edi done NO-6", delivery_id="Ev02")
        again = transcript.layer.handle(ewan, "/edi done NO-6", delivery_id="Ev02")
    assert "so I haven't" in first.reply.plain_text()
    assert not again.duplicate and "so I haven't" in again.reply.plain_text()

    transcript.layer.handle(Actor(surface="slack", name="Amina Khan"), "/edi note NO-6 one", delivery_id="42")
    outcome = transcript.layer.handle(
        Actor(surface="teams", name="Amina Khan"), "/edi note NO-6 two", delivery_id="42"
    )
    assert not outcome.duplicate
    assert snapshot(store, "NO-6")["progress_note"] == "two"


def test_a_person_is_recognised_by_their_email_on_a_platform(transcript: Transcript, store: Database) -> None:
    outcome = transcript.layer.handle(
        Actor(surface="teams", email="Amina.Khan@northbridge.example", teams_id="aad-1"),
        "/edi note NO-6 via Teams",
    )
    assert "Noted on NO-6: “via Teams”." in outcome.reply.plain_text()
    latest = history(store, "NO-6")[0]
    assert (latest.actor, latest.surface, latest.to_value) == ("Amina Khan", "teams", "via Teams")


def test_an_admin_sends_a_plans_escalations_to_a_channel_as_typed_or_as_a_platform_mention_and_back_to_a_person(
    transcript: Transcript, store: Database
) -> None:
    def target() -> tuple[str | None, str | None, int | None]:
        with store.session() as session:
            plan = plan_named(session, "Northbridge EDI Plan")
            assert plan is not None
            return plan.escalation_channel, plan.escalation_channel_name, plan.escalation_person_id

    transcript.say("@Priya Shah", '/edi plan escalate "Northbridge EDI Plan" #edi-leads')
    transcript.expect_reply("Overdue actions in Northbridge EDI Plan now escalate to #edi-leads after 14 days.",
                            "Make sure edibot is in #edi-leads")  # fmt: skip
    assert target() == ("edi-leads", "edi-leads", None)

    transcript.say("@Priya Shah", '/edi plan escalate "Northbridge EDI Plan" <#C0EDILEADS|edi-leads>')
    assert target() == ("C0EDILEADS", "edi-leads", None)
    transcript.say("@Priya Shah", '/edi plan escalate "Northbridge EDI Plan" #C0EDILEADS|edi-leads')
    assert target() == ("C0EDILEADS", "edi-leads", None)

    transcript.say("@Priya Shah", '/edi plan escalate "Northbridge EDI Plan" @Tom Okafor')
    transcript.expect_reply("now escalate to Tom Okafor")
    channel, name, person = target()
    assert (channel, name) == (None, None) and person is not None
