"""Adopting a plan is an event: the first sweep after a plan goes in sends each owner one welcome and its
admins one summary, not a reminder per action; escalations wait until owners have really been reminded.

The reproduction from the issue: an EDI lead imports the plan their organisation adopted two years ago
(deadlines from 2022 to 2024), maps the people, and leaves the scheduler running for thirty days. Amina Khan
(HR Manager), Tom Okafor (Chief Executive), Grace Liu (Policy Team) and Priya Shah (EDI lead, plan admin)
work in London, Monday to Friday; nobody answers for the Estates Manager. It is Monday 3 November 2025.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot.console import FakeClock
from bot.slack.blocks import MESSAGE_BLOCKS, blocks_for
from schedules.preview import preview
from storage.db import Database
from storage.models import Nudge, OutboxMessage, Plan
from storage.rules.calendar import goes_on_its_own_day
from storage.rules.ladder import StepKind
from tests.nudging import LONDON, NudgeWorld, Received, Row, Someone, at, refs, say

ADOPTED = [  # the plan as the organisation wrote it in 2023, imported today
    Row("Publish the gender pay gap report", "HR Manager", "March 2023", "R", "Data late from payroll"),
    Row("Review recruitment adverts", "HR Manager", "Nov 2022 & Ongoing", "G"),
    Row("Set EDI objectives for directors", "Chief Executive / HR Manager", "Sept 23", "A"),
    Row("Run the staff survey", "HR Manager", "Next staff survey"),
    Row("Refresh the impact assessment template", "Policy Team", "Q2 2024", "A", "Draft with Legal"),
    Row("Audit step-free access", "Estates Manager", "June 2024"),
    Row("Report progress to the Board", "EDI Lead", "Quarterly", "G"),
    Row("Train every panel chair", "Chief Executive", "14/11/25"),
    Row("Publish the accessibility statement", "Policy Team", "June 2026"),
]
PEOPLE = (
    Someone("Amina Khan", "HR Manager"),
    Someone("Tom Okafor", "Chief Executive"),
    Someone("Grace Liu", "Policy Team"),
    Someone("Priya Shah", "EDI Lead", admin=True),
)
OWNERS = ["Amina Khan", "Grace Liu", "Priya Shah", "Tom Okafor"]
TODAY = "2025-11-03T08:00"


@pytest.fixture
def world(store: Database, clock: FakeClock) -> Iterator[NudgeWorld]:
    made = NudgeWorld(store, clock)
    made.move(TODAY)
    made.plan(ADOPTED, imported=at(TODAY))
    made.people(*PEOPLE)
    yield made
    made.close()


def on(day: str, messages: list[Received]) -> list[Received]:
    return [m for m in messages if m.local().date() == date.fromisoformat(day)]


def is_welcome(message: Received) -> bool:
    return message.text.startswith("*Welcome to edibot, ")


def test_adopting_a_two_year_old_plan_welcomes_each_owner_once_then_at_most_two_messages_a_week(
    world: NudgeWorld,
) -> None:
    world.run_until("2025-12-02T18:00", every=timedelta(hours=3), start="2025-11-03T08:30")

    received = world.platform.received
    # Day one: one welcome per owner, one summary for the admin, and no escalation.
    first_day = on("2025-11-03", received)
    assert sorted(m.to for m in first_day if is_welcome(m)) == OWNERS
    [summary] = [m for m in first_day if not is_welcome(m)]
    assert summary.to == "Priya Shah" and "Escalation" not in "".join(m.text for m in first_day)
    assert summary.text.splitlines()[:4] == [
        "*Northbridge EDI Plan is on edibot*",
        "9 open actions: 4 overdue, 1 due soon, 2 ongoing, 1 no date, 1 later.",
        "1 owner role has no one to remind:",
        "Estates Manager — 1 action",
    ]
    # Exactly once, however many rounds ran that day and after.
    assert Counter(m.to for m in received if is_welcome(m)) == {name: 1 for name in OWNERS}
    # Amina's welcome: what edibot is, her actions grouped, a card with buttons for each.
    [welcome] = [m for m in first_day if m.to == "Amina Khan"]
    lines = welcome.text.splitlines()
    assert lines[1].startswith("I'm edibot: I keep *Northbridge EDI Plan* moving")
    assert [line for line in lines if line.startswith("*") and "(" in line and " · " not in line] == [
        "*Overdue* (2)",
        "*Ongoing: I'll ask how each is going now and then* (1)",
        "*No date yet: set one with `/edi due REF WHEN`* (1)",
    ]
    assert refs(welcome) == ["NO-1", "NO-3", "NO-2", "NO-4"]
    assert {b.label for b in welcome.reply.buttons} >= {"Green", "Amber", "Red", "Done", "Snooze 1 week"}

    # After day one, at most two messages per person in a reminder week (Monday to Sunday), besides the
    # reminders that keep a deadline's own day (14 and 3 days before, and on the day).
    for name in OWNERS:
        weeks = Counter(
            m.local().isocalendar().week
            for m in world.inbox(name)
            if not is_welcome(m) and not all(goes_on_its_own_day(step) for step in steps_of(world, m))
        )
        assert all(count <= 2 for count in weeks.values()), (name, weeks)
    # Tom's panel chairs add Tue 11 and Fri 14 Nov; Priya, the admin, also has Monday's note of the role with
    # no one to remind, and the escalations.
    assert [len(world.inbox(name)) for name in OWNERS] == [5, 5, 8, 7]

    # Escalations only once the owners have had two reminders (3 and 10 November) with no reply, and never
    # for the action nobody is mapped to: there was no one to remind.
    escalations = [m for m in received if "Escalation" in m.text]
    assert [(m.local().strftime("%a %-d %b"), sorted(refs(m))) for m in escalations] == [
        ("Mon 17 Nov", ["NO-1", "NO-3", "NO-5"]),
        ("Mon 1 Dec", ["NO-8"]),  # due 14 November: reminded on 17 and 24 November
    ]
    assert escalations[0].text.count("2 reminders since 3 Nov, no reply") == 3
    assert "2 reminders since 17 Nov, no reply" in escalations[1].text
    assert not any("Audit step-free access" in m.text for m in escalations)


def test_the_preview_of_an_adopted_plan_shows_the_welcomes_then_the_weekly_pattern(world: NudgeWorld) -> None:
    planned = preview(world.store, at=at("2025-11-03T08:30"), days=30, zone=LONDON)

    first = [m for m in planned if m.send_at.date() == date(2025, 11, 3)]
    assert sorted(m.person.name for m in first) == OWNERS and {m.why for m in first} == {"welcome"}
    amina = next(m for m in first if m.person.name == "Amina Khan")
    assert [(ref, step.name if step else None) for ref, _, step in amina.actions] == [
        ("NO-1", "overdue"),
        ("NO-2", None),  # listed, with no reminder step due
        ("NO-3", "overdue"),
        ("NO-4", "set-date"),
    ]
    for name in OWNERS:
        weeks = Counter(
            m.send_at.isocalendar().week
            for m in planned
            if m.person.name == name and not all(goes_on_its_own_day(step.kind) for step in m.steps)
        )
        assert all(count <= 2 for week, count in weeks.items()), (name, weeks)
    escalations = [m for m in planned if m.why == "escalate"]
    assert escalations and min(m.send_at for m in escalations).date() == date(2025, 11, 17)
    # and nothing is planned or sent by looking
    assert world.outbox() == [] and world.nudges() == []


def test_someone_mapped_later_is_welcomed_at_the_next_sweep_and_a_second_role_is_no_second_welcome(
    world: NudgeWorld,
) -> None:
    world.run_until("2025-11-04T18:00", every=timedelta(hours=3), start="2025-11-03T08:30")
    world.move("2025-11-05T08:00")
    world.people(Someone("Dafydd Evans", "Estates Manager"))  # first mapped today
    assert "Amina Khan" in say(world, "Priya Shah", '/edi people map "Policy Team" @Amina Khan')

    world.run_until("2025-11-07T18:00", every=timedelta(hours=3), start="2025-11-05T08:30")

    [welcome] = world.inbox("Dafydd Evans")
    assert is_welcome(welcome) and welcome.local().strftime("%a %-d %b %H:%M") == "Wed 5 Nov 11:30"
    assert refs(welcome) == ["NO-6"]
    # Amina knows edibot: her new role's overdue action comes as a reminder, not a second welcome.
    assert [(is_welcome(m), refs(m)) for m in world.inbox("Amina Khan")][1:] == [(False, ["NO-5"])]
    with world.store.session() as session:
        plan_id = session.scalar(select(Plan.id))
        keys = session.scalars(select(OutboxMessage.key).where(OutboxMessage.key.contains(":welcome:")))
        assert sorted(keys) == sorted(
            f"{world.person_id(n)}:welcome:{plan_id}" for n in [*OWNERS, "Dafydd Evans"]
        )


def test_a_welcome_with_many_actions_fits_one_slack_message_and_says_where_the_rest_are(
    store: Database, clock: FakeClock
) -> None:
    world = NudgeWorld(store, clock)
    try:
        world.people(Someone("Amina Khan", "HR Manager"))
        world.plan(
            [Row(f"Action {n} of the workforce plan", "HR Manager", f"{n}/3/23") for n in range(1, 31)],
            imported=at(TODAY),
        )
        world.round("2025-11-03T09:30")
    finally:
        world.close()

    [welcome] = world.inbox("Amina Khan")
    blocks = blocks_for(welcome.reply)
    assert len(blocks) <= MESSAGE_BLOCKS and len(refs(welcome)) == 12
    assert "…and 18 more (18 overdue): `/edi mine` lists them all" in welcome.text
    assert " more — " not in str(blocks)  # the Slack adapter had nothing to cut


@pytest.mark.parametrize(
    ("cap", "expected"), [(2, ["Mon 3 Nov", "Tue 4 Nov", "Mon 10 Nov"]), (1, ["Mon 3 Nov", "Mon 10 Nov"])]
)
def test_the_weekly_cap_given_to_the_scheduler_is_the_one_it_keeps(
    store: Database, clock: FakeClock, cap: int, expected: list[str]
) -> None:
    """A revision adds an overdue action on Monday after Amina's batch: the next morning's message is within
    a cap of two, and waits for next Monday under a cap of one."""
    world = NudgeWorld(store, clock, settled=True)
    try:
        world.people(Someone("Amina Khan", "HR Manager"))
        first = Row("Publish the pay gap report", "HR Manager", "30/9/25")
        world.plan([first], imported=at("2025-10-01T09:00"))
        scheduler = world.runner(weekly_cap=cap)
        world.move("2025-11-03T09:30")
        scheduler()
        world.move("2025-11-03T10:00")
        world.plan([first, Row("Audit the adverts", "HR Manager", "15/10/25")])
        moment = at("2025-11-03T10:00")
        while moment <= at("2025-11-10T12:00"):
            world.move(moment)
            scheduler()
            moment += timedelta(hours=1)
        assert [m.local().strftime("%a %-d %b") for m in world.inbox("Amina Khan")] == expected
    finally:
        world.close()


def steps_of(world: NudgeWorld, message: Received) -> set[StepKind]:
    """The kinds of reminder step a received message carried."""
    with world.store.session() as session:
        return {
            nudge.ladder_step.kind
            for nudge in session.scalars(
                select(Nudge)
                .join(OutboxMessage, OutboxMessage.id == Nudge.message_id)
                .where(OutboxMessage.platform_message_id == message.platform_id)
            )
        }
