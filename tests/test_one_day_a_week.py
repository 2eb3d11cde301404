"""One day a week per person: an owner's recurring reminders (overdue, check-ins) come together on their
reminder day, in one message, and a week holds at most a couple of reminder messages.

Amina Khan (HR Manager) and Priya Shah (EDI lead, plan admin) work in London, Monday to Friday. The plan went
in on 1 October 2025; the stories run from Monday 3 November."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from bot.console import FakeClock
from storage.db import Database
from tests.nudging import NudgeWorld, Row, Someone, at, refs, say

IMPORTED = at("2025-10-01T09:00")


@pytest.fixture
def world(store: Database, clock: FakeClock) -> Iterator[NudgeWorld]:
    made = NudgeWorld(store, clock)
    made.people(Someone("Amina Khan", "HR Manager"), Someone("Priya Shah", "EDI Lead", admin=True))
    yield made
    made.close()


def twenty_overdue() -> list[Row]:
    """Twenty actions that fell overdue on twenty different days, so their weekly reminders fall on every
    weekday."""
    first = date(2025, 10, 6)
    return [
        Row(f"Action {n + 1} of the workforce plan", "HR Manager", f"{first + timedelta(days=n):%d/%m/%y}")
        for n in range(20)
    ]


def test_an_owner_with_twenty_overdue_actions_gets_at_most_five_messages_in_thirty_days(
    world: NudgeWorld,
) -> None:
    world.plan(twenty_overdue(), imported=IMPORTED)

    world.run_until("2025-12-02T18:00", every=timedelta(hours=2), start="2025-11-03T07:30")

    inbox = world.inbox("Amina Khan")
    assert 1 <= len(inbox) <= 5, [(m.local().date(), len(refs(m))) for m in inbox]
    assert {m.local().strftime("%a %H:%M") for m in inbox} == {"Mon 09:30"}  # her reminder day
    # The first is her welcome: as many cards as a message holds, and where to see the rest.
    welcome = inbox[0]
    assert welcome.text.startswith("*Welcome to edibot, Amina*") and len(refs(welcome)) == 12
    assert "…and 8 more (8 overdue): `/edi mine` lists them all" in welcome.text
    assert len(refs(inbox[1])) == 20  # the next Monday's batch lists every one of them, once


def test_an_owner_chooses_the_day_their_reminders_come_together(world: NudgeWorld) -> None:
    world.plan(twenty_overdue()[:5], imported=IMPORTED)
    world.move("2025-10-26T12:00")
    assert "Mondays" in say(world, "Amina Khan", "/edi reminders")
    assert "now come together on Wednesdays" in say(world, "Amina Khan", "/edi reminders wednesday")
    assert "isn't one of your working days" in say(world, "Amina Khan", "/edi reminders saturday")
    assert "is not a day of the week" in say(world, "Amina Khan", "/edi reminders someday")

    world.run_until("2025-11-20T18:00", every=timedelta(hours=2), start="2025-10-27T07:30")

    assert [m.local().strftime("%a %-d %b %H:%M") for m in world.inbox("Amina Khan")] == [
        "Mon 27 Oct 09:30",  # the scheduler's first round: what is overdue already, at once
        "Wed 29 Oct 09:30",
        "Wed 5 Nov 09:30",
        "Wed 12 Nov 09:30",
        "Wed 19 Nov 09:30",
    ]


def test_deadline_reminders_keep_their_day_and_the_weekly_cap_holds_recurring_ones_for_the_next_batch(
    world: NudgeWorld,
) -> None:
    world.plan(
        [
            Row("Publish the pay gap report", "HR Manager", "30/10/25"),  # overdue: Mondays
            Row("Train every panel chair", "HR Manager", "7/11/25"),  # 3 days before: Tue 4 Nov; due Fri 7
            Row("Refresh the EDI pages", "HR Manager", "14/11/25"),  # 3 days before: Tue 11 Nov
        ],
        imported=IMPORTED,
    )

    world.run_until("2025-11-14T18:00", every=timedelta(hours=2), start="2025-11-03T07:30")

    assert [(m.local().strftime("%a %-d %b"), sorted(refs(m))) for m in world.inbox("Amina Khan")] == [
        ("Mon 3 Nov", ["NO-1", "NO-2", "NO-3"]),  # the weekly batch, with the early warnings caught up
        ("Tue 4 Nov", ["NO-2"]),  # 3 days before: its own day
        ("Fri 7 Nov", ["NO-2"]),  # due today: its own day, even past the weekly cap of two
        ("Mon 10 Nov", ["NO-1", "NO-2"]),
        ("Tue 11 Nov", ["NO-3"]),
        ("Fri 14 Nov", ["NO-3"]),
    ]
