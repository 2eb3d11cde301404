"""`edibot nudges preview` asks the sweep's own planning: what it shows due at a moment is exactly what the
sweep queues at that moment, for the same store and clock — recipients, actions and steps alike."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import or_, select

from bot.console import FakeClock
from schedules.planning import sweep
from schedules.preview import preview
from storage.db import Database
from storage.importing.service import import_plan
from storage.models import Action, Nudge, OutboxMessage, Person, Plan
from storage.people import import_people
from tests.conftest import SAMPLES
from tests.nudging import LONDON, NudgeWorld, at, people_across_zones

PLAN = "Northbridge EDI Plan"

Message = tuple[str, tuple[tuple[str, str], ...]]  # recipient, (ref, step) of each action


@pytest.fixture
def northbridge(store: Database, tmp_path: Path) -> Database:
    """The sample plan imported on Monday 3 November 2025, its people in London and (Grace) New York."""
    import_plan(store, SAMPLES / "northbridge_edi_plan.csv", now=at("2025-11-03T09:00"), plan_name=PLAN)
    people = people_across_zones(tmp_path)
    import_people(store, people, now=at("2025-11-03T09:00"))
    return store


def shown_due(store: Database, moment: datetime) -> list[Message]:
    """The messages the preview from `moment` says go out at `moment`, by their reminder steps (`queued`
    finds messages by those: a welcome's other actions, and a welcome with none due, are left out)."""
    shown = [
        (m.person.name, tuple(sorted((ref, step.name) for ref, _, step in m.actions if step is not None)))
        for m in preview(store, at=moment, days=0, zone=LONDON)
        if m.send_at <= moment
    ]
    return sorted((name, steps) for name, steps in shown if steps)


def queued(store: Database, moment: datetime) -> list[Message]:
    """The reminder messages that go at `moment`: queued then, or queued earlier for then and sent then (a
    welcome waits for the person's working moment); not the admins' notes, which carry no actions."""
    with store.session() as session:
        rows = session.execute(
            select(OutboxMessage.id, Person.name, Plan.escalation_channel_name, Action.ref, Nudge.step)
            .join(Nudge, Nudge.message_id == OutboxMessage.id)
            .join(Action, Action.id == Nudge.action_id)
            .join(Plan, Plan.id == Action.plan_id)
            .outerjoin(Person, Person.id == OutboxMessage.person_id)
            .where(
                or_(OutboxMessage.created_at == moment, OutboxMessage.sent_at == moment),
                OutboxMessage.send_at <= moment,
            )
        ).all()
    messages: dict[int, tuple[str, list[tuple[str, str]]]] = {}
    for message_id, name, channel, ref, step in rows:
        messages.setdefault(message_id, (name or f"#{channel}", []))[1].append((ref, step))
    return sorted((name, tuple(sorted(actions))) for name, actions in messages.values())


@pytest.mark.parametrize(
    "moment",
    [
        "2025-11-10T09:30",  # Monday: London's reminders, an escalation to the plan admin
        "2025-11-10T14:30",  # Grace's 09:30 in New York
        "2025-11-12T07:00",  # before anyone's working moment: nothing is due yet, by either
        "2025-11-17T09:30",  # a week on: the next overdue step, and set-date requests again
    ],
)
def test_what_the_preview_shows_due_is_what_the_sweep_queues_at_that_moment(
    northbridge: Database, moment: str
) -> None:
    now = at(moment)

    shown = shown_due(northbridge, now)
    sweep(northbridge, now=now, zone=LONDON)

    assert shown == queued(northbridge, now)


def test_round_after_round_with_an_escalation_channel_the_preview_shows_what_each_sweep_queues(
    northbridge: Database,
) -> None:
    """Every three hours for four weeks, as a scheduler would run: reminders sent, steps climbing the
    ladder."""
    world = NudgeWorld(northbridge, FakeClock(at("2025-11-03T06:30")))
    world.set_plan(escalation_channel="C0EDILEADS", escalation_channel_name="edi-leads")
    compared: list[Message] = []
    while world.clock.now() <= at("2025-11-28T18:00"):
        now = world.clock.now()
        shown = shown_due(northbridge, now)

        world.round()

        assert shown == queued(northbridge, now), now
        compared.extend(shown)
        world.move(now + timedelta(hours=3))
    # Welcomes on the first Monday, weekly batches, and the escalations once the owners have had two
    # reminders with no reply (3 and 10 November).
    assert len(compared) >= 10 and ("#edi-leads", (("NO-2", "escalate"), ("NO-4", "escalate"))) in compared
