"""The same conversation on Slack and on Teams: one command layer, two translations, the same answers.

Each platform is the real app over real HTTP against its stand-in (tests/slack_workspace.py,
tests/teams_tenant.py); what a person types is the same, less the platform's way in (`/edi …` on Slack,
`edi …` in the Teams chat).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.console import FakeClock
from storage.db import Database
from storage.importing.service import import_plan
from storage.people import import_people
from tests.conftest import SAMPLES
from tests.slack_workspace import SlackUser, SlackWorkspace, texts_of
from tests.teams_standin import Member
from tests.teams_tenant import TeamsTenant
from tests.transcript import history, nothing_changes, snapshot

Say = Callable[[str, str], str]  # (who, what they type after "/edi" or "edi") -> what they read


class Chat:
    """One person after another typing to edibot on one platform: `chat(who, text)` is what they read.

    `surface` is the platform's name as history records it. Each person is the same platform user all along
    (their Slack user, their Teams member), as they would be.
    """

    def __init__(self, surface: str, say: Callable[[str, str], str]) -> None:
        self.surface = surface
        self._say = say

    def __call__(self, who: str, text: str) -> str:
        return self._say(who, text)


@pytest.fixture(params=["slack", "teams"])
def say(request: pytest.FixtureRequest, store: Database, clock: FakeClock, tmp_path: Path) -> Iterator[Chat]:
    import_plan(
        store, SAMPLES / "northbridge_edi_plan.csv", now=clock.now(), plan_name="Northbridge EDI Plan"
    )
    import_people(store, SAMPLES / "northbridge_people.csv", now=clock.now())
    if request.param == "slack":
        with SlackWorkspace(store, clock) as slack:
            slack_users: dict[str, SlackUser] = {}

            def on_slack(who: str, text: str) -> str:
                user = slack_users.setdefault(who, slack.person(who))
                answer = slack.command(user, text)
                # What the person reads: the blocks (the fallback text only shows in a notification).
                return texts_of(answer.body.get("blocks") or []) or answer.body.get("text", "")

            yield Chat("slack", on_slack)
    else:
        with TeamsTenant(store, clock, tmp_path) as teams:
            members: dict[str, Member] = {}

            def on_teams(who: str, text: str) -> str:
                member = members.get(who) or members.setdefault(who, teams.person(who))
                return teams.say(member, f"edi {text}").shown

            yield Chat("teams", on_teams)


def test_an_owner_rates_her_action_and_everyone_sees_it(say: Chat, store: Database) -> None:
    assert "Your 3 open actions, 1 overdue" in say("Amina Khan", "mine")

    assert "NO-2 is now Red (was Amber), marked by Amina Khan" in say("Amina Khan", "red NO-2 budget frozen")

    assert "Red" in say("Tom Okafor", "show NO-2")
    assert next(row for row in history(store, "NO-2") if row.field == "rag").note == "budget frozen"


def test_someone_who_does_not_own_an_action_cannot_change_it(say: Chat, store: Database) -> None:
    with nothing_changes(store):
        answer = say("Grace Liu", "done NO-2")

    assert "Only NO-2's owners" in answer


def test_help_lists_the_commands_in_the_same_words(say: Chat) -> None:
    answer = say("Amina Khan", "help")

    assert answer.startswith("What I can do")
    for usage in ("mine", "show REF", "amber REF [note]", "snooze REF 1w|3d|until DATE", "notmine REF"):
        assert usage in answer


def test_an_owner_notes_moves_and_snoozes_an_action_and_history_says_where(
    say: Chat, store: Database
) -> None:
    assert say("Amina Khan", "note NO-6 room booked") == "Noted on NO-6: “room booked”."
    assert say("Amina Khan", "due NO-6 31/1/26") == "NO-6 is now due 31 January 2026 (“31/1/26”)."
    assert (
        say("Amina Khan", "snooze NO-6 2 weeks") == "I won't remind you about NO-6 until Monday 17 November."
    )

    facts = snapshot(store, "NO-6")
    assert facts["progress_note"] == "room booked" and facts["deadline_text"] == "31/1/26"
    assert {row.surface for row in history(store, "NO-6") if row.actor == "Amina Khan"} == {say.surface}
    shown = say("Amina Khan", "history NO-6")
    assert shown.startswith("History of NO-6 (newest first)")
    assert f"Amina Khan via {say.surface} · snoozed_until: — → 2025-11-17" in shown


def test_done_and_away_are_answered_as_in_the_console(say: Chat, store: Database) -> None:
    assert say("Amina Khan", "done NO-9") == "NO-9 is now Done (was not rated), marked by Amina Khan."
    assert snapshot(store, "NO-9")["status"] == "done"

    assert say("Dafydd Evans", "away until 10/11/25").startswith(
        "Enjoy the break. No reminders until after Monday 10 November"
    )


def test_a_malformed_command_is_explained_and_changes_nothing(say: Chat, store: Database) -> None:
    with nothing_changes(store):
        unknown = say("Amina Khan", "frobnicate")
        no_ref = say("Amina Khan", "amber")
        wrong_ref = say("Amina Khan", "amber NO-99 waiting")
        bad_date = say("Amina Khan", "due NO-6 the thirty-second of never")

    assert unknown.startswith("I don't know the command 'frobnicate'. Try `/edi help`")
    assert no_ref == "Which action? Usage: `/edi amber REF [note]`"
    assert wrong_ref == "There is no action NO-99. Did you mean NO-9?"
    assert bad_date.startswith(
        "'the thirty-second of never' is not a date I understand. I haven't changed NO-6."
    )
