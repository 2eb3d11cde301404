"""Upgrading edibot upgrades its database: from nothing, and from every earlier schema revision, the
migrations arrive at exactly the schema the models describe — on SQLite, and on PostgreSQL when the suite
runs there (each case in its own new schema, so the shared test database is untouched) — and every
migration can be taken back down to an empty database and up again.

What a database holds is carried through too: a week of use, taken back to each earlier revision, is all
there after the upgrade (on SQLite, batch migrations rebuild tables, which must not cascade to their
children: see storage/migrations/env.py). Where a migration changes data on purpose, its own tests say how:
tests/test_refs.py (0012, plans' own references), tests/test_backup.py (0017 marks plans adopted).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, inspect, select, text
from typer.testing import CliRunner

from bot.cli import app
from bot.console import FakeClock
from storage.db import Database, alembic_config, create_private_file, make_engine, sqlite_path
from storage.models import Base
from tests.conftest import POSTGRES_URL, sample_organisation
from tests.test_backup import week_of_use
from tests.transcript import Transcript

pytestmark = pytest.mark.db


def revisions() -> list[str]:
    """Every revision, oldest first."""
    script = ScriptDirectory.from_config(alembic_config(make_engine("sqlite://")))
    return [step.revision for step in reversed(list(script.walk_revisions()))]


HEAD = revisions()[-1]


@pytest.fixture
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database with nothing in it: a new SQLite file, or a new PostgreSQL schema."""
    if POSTGRES_URL:
        url: str = request.getfixturevalue("postgres_schema")()
        return url
    url = f"sqlite:///{tmp_path / 'edibot.sqlite3'}"
    path = sqlite_path(url)
    assert path is not None
    create_private_file(path)
    return url


@pytest.fixture
def engine(empty_url: str) -> Iterator[Engine]:
    made = make_engine(empty_url)
    yield made
    made.dispose()


def differences(engine: Engine) -> list[object]:
    """What the database's schema lacks or has beyond the models' (tables, columns, types, indexes, keys)."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def revision_of(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def test_the_revisions_are_one_numbered_line() -> None:
    assert revisions() == [f"{number:04d}" for number in range(1, len(revisions()) + 1)]


def test_an_empty_database_is_migrated_to_exactly_the_models_schema(engine: Engine) -> None:
    command.upgrade(alembic_config(engine), "head")
    assert revision_of(engine) == HEAD
    assert differences(engine) == []


@pytest.mark.parametrize("start", revisions()[:-1])
def test_a_database_at_an_earlier_revision_is_upgraded_when_edibot_opens_it(
    empty_url: str, engine: Engine, start: str
) -> None:
    command.upgrade(alembic_config(engine), start)
    assert revision_of(engine) == start

    Database.open(empty_url).dispose()  # what every edibot command does first

    assert revision_of(engine) == HEAD
    assert differences(engine) == []


def test_every_migration_goes_down_to_an_empty_database_and_up_again(engine: Engine) -> None:
    config = alembic_config(engine)
    command.upgrade(config, "head")
    for revision in reversed(revisions()[:-1]):
        command.downgrade(config, revision)
        assert revision_of(engine) == revision
    command.downgrade(config, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    command.upgrade(config, "head")
    assert differences(engine) == []


def test_a_database_a_newer_edibot_upgraded_is_refused_in_a_sentence(empty_url: str, engine: Engine) -> None:
    command.upgrade(alembic_config(engine), "head")
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0042'"))

    result = CliRunner(env={"EDIBOT_DATABASE_URL": empty_url}).invoke(app, ["plans"])

    code, out, err = result.exit_code, result.stdout, result.stderr
    assert code == 1 and out == ""
    assert err.strip() == (
        "edibot's database is at schema revision 0042, which this edibot does not know (it knows revisions "
        f"up to {HEAD}): a newer edibot upgraded it. Run that newer edibot; to go back to this one, restore "
        "a backup made before the upgrade into an empty database."
    )
    assert revision_of(engine) == "0042"


@pytest.mark.parametrize("start", revisions()[:-1])
def test_what_a_database_holds_at_an_earlier_revision_is_all_there_after_the_upgrade(
    empty_url: str, engine: Engine, start: str, clock: FakeClock
) -> None:
    """A week of use (imports, changes, a digest, calendar dates, reminders planned and sent, a Slack
    install), taken back to `start` as a store of that time would hold it, then upgraded: every row and
    every value the database had is still there."""
    database = Database.open(empty_url, create="if-missing")
    sample_organisation(database, now=clock.now())
    week_of_use(Transcript(database, clock), database)
    database.dispose()
    config = alembic_config(engine)
    command.downgrade(config, start)
    before = stored(engine)

    command.upgrade(config, "head")

    after = stored(engine, only=before)
    assert after == before
    assert before["actions"] and before["history"]


def stored(
    engine: Engine, only: dict[str, list[dict[str, Any]]] | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Every table's rows as the database holds them (its own columns, or those of `only`), in key order."""
    schema = MetaData()
    schema.reflect(engine)
    rows = {}
    with engine.connect() as connection:
        for table in schema.sorted_tables:
            if table.name == "alembic_version" or (only is not None and table.name not in only):
                continue
            wanted = only[table.name][0].keys() if only and only[table.name] else None
            columns = [column for column in table.columns if wanted is None or column.name in wanted]
            query = select(*columns).order_by(*table.primary_key.columns)
            rows[table.name] = [dict(row) for row in connection.execute(query).mappings()]
    return rows


def test_a_message_claimed_before_the_upgrade_counts_as_tried_after_it(engine: Engine) -> None:
    """0019: a pending message still under a lease may have been mid-send when the old edibot stopped, so it
    is in doubt (tried) after the upgrade; one sent, or one free, is not."""
    config = alembic_config(engine)
    command.upgrade(config, "0018")
    rows = [
        ("leased", "pending", "2025-11-03 09:32:00+00:00"),
        ("free", "pending", None),
        ("sent", "sent", None),
    ]
    with engine.begin() as connection:
        for key, status, lease in rows:
            connection.execute(
                text(
                    "INSERT INTO outbox (key, channel, send_at, status, attempts, failures, lease_until,"
                    " created_at) VALUES (:key, 'C0EDI', '2025-11-03 09:30:00+00:00', :status, 1, 0, :lease,"
                    " '2025-11-03 09:00:00+00:00')"
                ),
                {"key": key, "status": status, "lease": lease},
            )

    command.upgrade(config, "head")

    with engine.connect() as connection:
        tried = dict(connection.execute(text("SELECT key, tried_at IS NOT NULL FROM outbox")).all())
    assert tried == {"leased": True, "free": False, "sent": False}


def test_a_pause_still_running_is_written_back_into_the_messages_it_holds_on_the_way_down(
    engine: Engine,
) -> None:
    """0022: the older edibot kept a 429's wait in the messages' send times; going back to it keeps the wait:
    a message due before the pause's end waits until then, one due later and one sent are left as they
    were."""
    config = alembic_config(engine)
    command.upgrade(config, "head")
    rows = [
        ("due", "pending", "2025-11-03 09:30:00+00:00"),
        ("later", "pending", "2025-11-03 10:00:00+00:00"),
        ("sent", "sent", "2025-11-03 09:00:00+00:00"),
    ]
    with engine.begin() as connection:
        for key, status, send_at in rows:
            connection.execute(
                text(
                    "INSERT INTO outbox (key, channel, send_at, status, attempts, failures, created_at)"
                    " VALUES (:key, 'C0EDI', :send_at, :status, 0, 0, '2025-11-03 09:00:00+00:00')"
                ),
                {"key": key, "status": status, "send_at": send_at},
            )
        connection.execute(
            text("INSERT INTO delivery_pause (id, until) VALUES (1, '2025-11-03 09:30:30+00:00')")
        )

    command.downgrade(config, "0021")

    with engine.connect() as connection:
        send_at = dict(connection.execute(text("SELECT key, send_at FROM outbox")).all())
    assert {key: str(at)[:19] for key, at in send_at.items()} == {
        "due": "2025-11-03 09:30:30",
        "later": "2025-11-03 10:00:00",
        "sent": "2025-11-03 09:00:00",
    }
