"""PostgreSQL restarted in the middle of an import and in the middle of a sweep: the import either completed
or changed nothing, the sweep is done again at the next round, nobody hears anything twice, and edibot
carries on on the new connections without being restarted itself; and a connection the server ended while
it sat idle in the pool is never handed to a command.

The server is the test's own (tests/postgres_server.py). It is restarted from inside the work at a chosen
statement — the first row the import writes, the first message the sweep queues — so the restart always
lands mid-way, never before or after.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

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


def test_a_connection_the_server_ended_while_idle_is_replaced_before_a_command_uses_it(
    server: PostgresServer, own_store: Database, clock: FakeClock
) -> None:
    """An administrator (or an idle-session timeout) ends edibot's pooled connections while nobody is asking
    anything: the next command is answered on a new connection, without an apology — and without the ping
    (a `SELECT 1` before every request) that used to find such a connection out."""
    sample_organisation(own_store, now=clock.now())
    layer = command_layer(own_store, clock)
    amina = Actor(surface="slack", name="Amina Khan")
    assert layer.handle(amina, "/edi mine").reply.plain_text().startswith("Your 3 open actions")
    admin = create_engine(server.url, poolclass=NullPool)
    others = (
        "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
        "AND backend_type = 'client backend'"
    )
    ours = text(f"SELECT count(*) {others}")
    with admin.connect() as connection:
        assert connection.scalar(ours)  # the pool holds edibot's connection
        connection.execute(text(f"SELECT pg_terminate_backend(pid) {others}"))
        deadline = time.monotonic() + 10
        while connection.scalar(ours) and time.monotonic() < deadline:
            time.sleep(0.05)
    admin.dispose()

    assert layer.handle(amina, "/edi mine").reply.plain_text().startswith("Your 3 open actions")
    assert layer.handle(amina, "/edi amber NO-6 waiting").reply.plain_text().startswith("NO-6 is now Amber")
