"""PostgreSQL restarted in the middle of an import and in the middle of a sweep: the import either completed
or changed nothing, the sweep is done again at the next round, nobody hears anything twice, and edibot
carries on on the new connections without being restarted itself.

The server is the test's own (tests/postgres_server.py). It is restarted from inside the work at a chosen
statement — the first row the import writes, the first message the sweep queues — so the restart always
lands mid-way, never before or after.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from bot.console import FakeClock
from handlers.core import Actor
from handlers.registry import command_layer
from storage.db import Database, DatabaseUnreachable
from storage.importing.service import import_plan
from storage.models import Action, OutboxMessage
from tests.builders import write_csv
from tests.conftest import sample_organisation
from tests.nudging import NudgeWorld
from tests.postgres_server import PostgresServer, private_postgres


@pytest.fixture
def server() -> Iterator[PostgresServer]:
    yield from private_postgres()


@pytest.fixture
def own_store(server: PostgresServer) -> Iterator[Database]:
    """A store on the private server (named apart from conftest's `store`: these run once, in the main
    pass, not again in the PostgreSQL pass)."""
    database = Database.open(server.url)
    yield database
    database.dispose()


def restart_at(database: Database, server: PostgresServer, statement: str) -> list[bool]:
    """Restarts the server the first time `statement` (the start of an SQL statement) is about to run."""
    done: list[bool] = []

    def before(conn: Any, cursor: Any, sql: str, *args: Any) -> None:
        if not done and sql.lstrip().upper().startswith(statement):
            done.append(True)
            server.restart()

    event.listen(database.engine, "before_cursor_execute", before)
    return done


def count(database: Database, model: type[Any]) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_restart_mid_import_leaves_no_half_plan_and_the_import_then_succeeds(
    server: PostgresServer, own_store: Database, clock: FakeClock, tmp_path: Path
) -> None:
    rows = [["Ref", "Action", "Owner", "Deadline"]]
    rows += [[f"W{n}", f"Action number {n}", "HR Manager", "31/3/26"] for n in range(1, 2001)]
    plan = write_csv(tmp_path / "workforce.csv", rows)
    restarted = restart_at(own_store, server, "INSERT INTO ACTIONS")

    with pytest.raises((OperationalError, DatabaseUnreachable)):
        import_plan(own_store, plan, now=clock.now(), plan_name="Workforce")

    assert restarted and count(own_store, Action) == 0  # nothing of the plan was kept
    # The same edibot carries on, on new connections.
    result = import_plan(own_store, plan, now=clock.now(), plan_name="Workforce")
    assert result.summary.added == 2000 and count(own_store, Action) == 2000


def test_a_restart_mid_sweep_is_made_good_at_the_next_round_and_nobody_hears_twice(
    server: PostgresServer, own_store: Database, clock: FakeClock
) -> None:
    began = clock.now() - timedelta(weeks=2)
    sample_organisation(own_store, now=began)
    world = NudgeWorld(own_store, FakeClock(began))
    world.round()  # the welcomes, two weeks ago
    world.move(clock.now())
    welcomed = len(world.platform.received)
    restarted = restart_at(own_store, server, "INSERT INTO OUTBOX")

    with pytest.raises((OperationalError, DatabaseUnreachable)):
        world.round()
    assert restarted and len(world.platform.received) == welcomed  # the sweep's work was rolled back whole

    world.round()  # the next round, on new connections
    world.round()  # and one more: nothing is planned or sent twice
    todays = [(message.to, message.text) for message in world.platform.received[welcomed:]]
    assert todays and len(todays) == len(set(todays))
    with own_store.session() as session:
        keys = list(session.scalars(select(OutboxMessage.key)))
    assert len(keys) == len(set(keys))
    world.close()


def test_after_a_restart_a_command_is_answered_on_a_new_connection(
    server: PostgresServer, own_store: Database, clock: FakeClock
) -> None:
    sample_organisation(own_store, now=clock.now())
    layer = command_layer(own_store, clock)
    amina = Actor(surface="slack", name="Amina Khan")
    assert layer.handle(amina, "/edi mine").reply.plain_text().startswith("Your 3 open actions")

    server.restart()

    assert layer.handle(amina, "/edi mine").reply.plain_text().startswith("Your 3 open actions")
    assert layer.handle(amina, "/edi amber NO-6 waiting").reply.plain_text().startswith("NO-6 is now Amber")
