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
from tests.slack_workspace import SlackWorkspace
from tests.teams_tenant import TeamsTenant
from tests.transcript import history, nothing_changes

Say = Callable[[str, str], str]  # (who, what they type after "/edi" or "edi") -> what they read


@pytest.fixture(params=["slack", "teams"])
def say(request: pytest.FixtureRequest, store: Database, clock: FakeClock, tmp_path: Path) -> Iterator[Say]:
    import_plan(
        store, SAMPLES / "northbridge_edi_plan.csv", now=clock.now(), plan_name="Northbridge EDI Plan"
    )
    import_people(store, SAMPLES / "northbridge_people.csv", now=clock.now())
    if request.param == "slack":
        with SlackWorkspace(store, clock) as slack:
            yield lambda who, text: slack.command(slack.person(who), text).shown
    else:
        with TeamsTenant(store, clock, tmp_path) as teams:
            yield lambda who, text: teams.say(teams.person(who), f"edi {text}").shown


def test_an_owner_rates_her_action_and_everyone_sees_it(say: Say, store: Database) -> None:
    assert "Your 3 open actions, 1 overdue" in say("Amina Khan", "mine")

    assert "NO-2 is now Red (was Amber), marked by Amina Khan" in say("Amina Khan", "red NO-2 budget frozen")

    assert "Red" in say("Tom Okafor", "show NO-2")
    assert next(row for row in history(store, "NO-2") if row.field == "rag").note == "budget frozen"


def test_someone_who_does_not_own_an_action_cannot_change_it(say: Say, store: Database) -> None:
    with nothing_changes(store):
        answer = say("Grace Liu", "done NO-2")

    assert "Only NO-2's owners" in answer
