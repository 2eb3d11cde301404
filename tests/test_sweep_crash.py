"""A sweep cut short: edibot killed (SIGKILL) in the middle of planning the first reminders of a large plan.

The sweep plans a few hundred actions per transaction, so that commands are not kept waiting behind it; these
stories hold it to the promise the one long transaction used to keep: whatever round comes next, each person
hears of each step once, and no reminder is lost. The sweep runs in a child process with small chunks; once
it has committed some, the test takes the database's write lock (so the child is caught mid-chunk), kills it,
and looks at what it left.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select, text

from bot.console import FakeClock
from schedules.planning import sweep
from storage.db import Database, sqlite_path
from storage.models import Action, Nudge, OutboxMessage, Person
from tests.nudging import LONDON, NudgeWorld, Row, Someone, at, duplicates

PEOPLE = (
    Someone("Amina Khan", "HR Manager"),
    Someone("Dev Raman", "Digital Services", timezone="America/New_York"),
    Someone("Priya Shah", "EDI Lead", admin=True),
)
# Overdue, due in three days, in a fortnight, ongoing, no date yet: every kind of first step.
TIMESCALES = ("31/10/25", "6/11/25", "17/11/25", "Ongoing", "")
ROWS = [
    Row(
        f"Staff network review {number}",
        ("HR Manager", "Digital Services")[number % 2],
        TIMESCALES[number % 5],
    )
    for number in range(1, 301)
]
CHUNK = 10  # thirty transactions: the kill lands well before the last


def _sweep_in_a_child(url: str, moment: str) -> None:
    database = Database.open(url, migrate=False, create="never")
    sweep(database, now=datetime.fromisoformat(moment), zone=LONDON, chunk=CHUNK)


def made(database: Database, clock: FakeClock) -> NudgeWorld:
    world = NudgeWorld(database, clock, settled=True)  # in use a while: no welcomes, only reminders
    world.people(*PEOPLE)
    world.plan(ROWS, imported=at("2025-10-01T09:00"))
    return world


Planned = tuple[str, str, str, int, str, str]  # ref, to whom, step, occurrence, step day, when it goes


def planned(database: Database) -> dict[str, list[Planned]]:
    """Each action's planned reminders, by ref (actions with none included), as a person would read them."""
    with database.session() as session:
        found: dict[str, list[Planned]] = {ref: [] for ref in session.scalars(select(Action.ref))}
        rows = session.execute(
            select(Action.ref, Person.name, Nudge.step, Nudge.occurrence, Nudge.step_on, Nudge.send_at)
            .join(Action, Action.id == Nudge.action_id)
            .join(Person, Person.id == Nudge.person_id, isouter=True)
        )
        for ref, name, step, occurrence, step_on, send_at in rows:
            found[ref].append((ref, name or "channel", step, occurrence, str(step_on), send_at.isoformat()))
    return {ref: sorted(nudges) for ref, nudges in found.items()}


def looked_at(database: Database) -> dict[str, bool]:
    """Whether the sweep has looked at each action (it then knows the next day to look again)."""
    with database.session() as session:
        return {
            ref: day is not None for ref, day in session.execute(select(Action.ref, Action.next_nudge_on))
        }


def messages(database: Database) -> list[tuple[str, list[str]]]:
    """Each message queued: to whom, and the refs it gathers."""
    with database.session() as session:
        rows = session.execute(
            select(OutboxMessage.id, Person.name, Action.ref)
            .join(Nudge, Nudge.message_id == OutboxMessage.id)
            .join(Action, Action.id == Nudge.action_id)
            .join(Person, Person.id == OutboxMessage.person_id)
        )
        gathered: dict[int, tuple[str, list[str]]] = {}
        for message_id, name, ref in rows:
            gathered.setdefault(message_id, (name, []))[1].append(ref)
    return sorted((name, sorted(refs)) for name, refs in gathered.values())


def nudges_in(database: Database) -> int:
    with database.session() as session:
        return int(session.scalar(select(func.count()).select_from(Nudge)) or 0)


@contextmanager
def holding_the_write_lock(database: Database) -> Iterator[None]:
    """Nothing else may write nudges while the block runs: the child waits at its next chunk's insert."""
    path = sqlite_path(database.engine.url.render_as_string(hide_password=False))
    if path is not None:
        connection = sqlite3.connect(path, timeout=30, isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            connection.execute("ROLLBACK")
            connection.close()
        return
    with database.engine.connect() as held:
        held.execute(text("LOCK TABLE nudges IN EXCLUSIVE MODE"))
        try:
            yield
        finally:
            held.rollback()


def test_a_sweep_killed_halfway_plans_each_reminder_once_and_loses_none_on_the_next_round(
    store: Database, clock: FakeClock, tmp_path: Path
) -> None:
    world = made(store, clock)
    reference = Database.open(f"sqlite:///{tmp_path / 'reference' / 'edibot.sqlite3'}", create="if-missing")
    never_killed = made(reference, clock)
    try:
        sweep(reference, now=clock.now(), zone=LONDON)
        url = store.engine.url.render_as_string(hide_password=False)
        child = multiprocessing.get_context("spawn").Process(
            target=_sweep_in_a_child, args=(url, clock.now().isoformat())
        )
        child.start()
        deadline = time.monotonic() + 120
        while not nudges_in(store) and child.is_alive() and time.monotonic() < deadline:
            time.sleep(0.005)
        with holding_the_write_lock(store):
            assert child.pid is not None and child.is_alive(), "the sweep ended before it could be killed"
            os.kill(child.pid, signal.SIGKILL)
            child.join()

        # Mid-sweep: some actions planned, some not yet looked at, no message gathered yet.
        seen, partial, whole = looked_at(store), planned(store), planned(reference)
        assert any(seen.values()) and not all(seen.values()), "killed before or after the sweep, not in it"
        assert not messages(store)
        # Nothing half-planned: an action the sweep looked at has all its reminders; one it did not has none.
        for ref, was_seen in seen.items():
            assert partial[ref] == (whole[ref] if was_seen else []), ref

        report = world.sweep()  # the next round

        assert report.nudges_planned == sum(len(whole[ref]) for ref, was_seen in seen.items() if not was_seen)
        assert planned(store) == whole
        assert not duplicates(key for nudge in world.nudges() for key in [nudge.key])
        assert messages(store) == messages(reference)
        assert messages(store)
    finally:
        never_killed.close()
        world.close()
        reference.dispose()
