"""The `/edi` commands that read, as staff and plan leads use them in the console: help, mine, list, show and
history.

The world is the `transcript` fixture's (tests/conftest.py): the Northbridge sample plan, who owns what in it,
and the day it is; a test that tries several variations of one thing tells them as one story, in a loop.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.console import FakeClock
from storage.db import Database
from storage.importing.service import import_plan
from storage.people import import_people
from tests.builders import write_csv
from tests.transcript import Transcript, refs_listed

# -- help -----------------------------------------------------------------------------------------------


def test_help_lists_what_staff_can_do_and_shows_admin_commands_only_to_admins(transcript: Transcript) -> None:
    transcript.say("@Amina Khan", "/edi help")
    transcript.expect_reply("What I can do", "`/edi mine`", "`/edi amber REF [note]`", "“not mine”")
    transcript.expect_reply_not("For plan admins", "/edi admins")

    transcript.say("@Priya Shah", "/edi help")
    transcript.expect_reply(
        "For plan admins",
        "`/edi admins add|remove @someone`",
        "`/edi plan pause|resume|restrict|unrestrict NAME | plan escalate NAME @someone|#channel"
        "|after N days | plan reminders NAME 14,3,0 | plan checkins NAME MONTHS`",
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
        "NO-2 · Set EDI objectives for every director · Sept 25 (due 30 Sep 2025) — overdue by 34 days · "
        "Amber",
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


def test_mine_once_every_action_is_done_or_declined_says_there_is_nothing_open(
    transcript: Transcript,
) -> None:
    transcript.say("@Ewan Campbell", "/edi done NO-12")
    transcript.say("@Ewan Campbell", "/edi mine")
    transcript.expect_reply("You have no open actions.")

    transcript.say("@Amina Khan", "/edi notmine NO-2 NO-6 NO-9")
    transcript.say("@Amina Khan", "/edi mine")
    transcript.expect_reply(
        "You have no open actions.",
        "You said NO-2, NO-6 and NO-9 aren't yours; the plan admins have been told.",
    )


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
        "I don't understand 'colour:blue' in a list. Use plan:NAME, theme:TEXT, owner:TEXT, overdue or "
        "due:30d"
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
        "3 Nov 2025 09:30 · the plan file · created: — → Review recruitment adverts for inclusive language"
        " — “from northbridge_edi_plan.csv”",
    ]


def test_history_shows_the_time_of_a_summer_change_in_london_time(transcript: Transcript) -> None:
    transcript.at("2026-04-01T10:00")  # British Summer Time
    transcript.say("@Amina Khan", "/edi note NO-6 agency briefed")
    transcript.say("@Amina Khan", "/edi history NO-6")
    transcript.expect_reply("1 Apr 2026 10:00 · Amina Khan via console · note: — → agency briefed")
