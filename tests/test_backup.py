"""Backups an IT team can trust: `edibot backup` writes the whole store to one file, `edibot restore` puts it
into an empty database of either kind and edibot answers as before — and a damaged, cut-short or too-new
file, or a database that already holds data, is refused with nothing changed.

The world is the `transcript` fixture's (the Northbridge sample plan and its people, Monday 3 November 2025
in London) after a week of use: status changes with notes, a weekly digest, a date of the organisation's
own, a hidden observance, a round of reminders planned and queued, and a Slack OAuth install whose tokens
are encrypted at rest.
"""

from __future__ import annotations

import json
import time
import tracemalloc
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from uuid import uuid4

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import create_engine, func, select, text
from typer.testing import CliRunner

from bot.cli import app
from bot.console import ConsoleSender, FakeClock
from bot.slack.installations import Cipher, EncryptedInstallationStore, new_key
from schedules.leader import Leader
from schedules.runner import NudgeRound
from storage.backup import (
    CORE_TABLES,
    FEEDBACK_TABLES,
    NOT_BACKED_UP,
    backed_up_tables,
    restore_backup,
    write_backup,
)
from storage.db import Database, alembic_config
from storage.models import SLACK_BOTS, SLACK_INSTALLATIONS, Base
from tests.conftest import LONDON, POSTGRES_URL, sample_organisation
from tests.transcript import Transcript

KEY = new_key()
# The newest schema revision this edibot knows: a fresh database's, and a backup's of it.
HEAD = ScriptDirectory.from_config(alembic_config(create_engine("sqlite://"))).get_current_head()
TOKEN = "xoxb-northbridge-secret-token"
T = TypeVar("T")


# -- the tables a backup holds ---------------------------------------------------------------------------


def test_every_table_is_backed_up_or_left_out_on_purpose() -> None:
    """A new table fails here until it is placed: in CORE_TABLES, FEEDBACK_TABLES (only with
    --include-feedback) or NOT_BACKED_UP with the reason."""
    placed = [*CORE_TABLES, *FEEDBACK_TABLES, *NOT_BACKED_UP]
    assert len(placed) == len(set(placed)), "a table is placed twice"
    assert set(placed) == set(Base.metadata.tables)
    assert not {table.name for table in backed_up_tables(include_feedback=False)} & set(FEEDBACK_TABLES)


# -- helpers ---------------------------------------------------------------------------------------------


def edibot(url: str, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """`edibot ARGS…` on the database at `url`; (exit code, stdout, stderr)."""
    runner = CliRunner(
        env={"EDIBOT_DATABASE_URL": url, "EDIBOT_TIMEZONE": "Europe/London", "COLUMNS": "160", **(env or {})}
    )
    result = runner.invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def week_of_use(transcript: Transcript, store: Database) -> None:
    transcript.say("@Amina Khan", "/edi amber NO-2 waiting on budget sign-off")
    transcript.say("@Dafydd Evans", "/edi done NO-5 all managers trained")
    transcript.say("@Priya Shah", "/edi digest subscribe #edi-group plan:Northbridge day:Tue")
    transcript.say("@Priya Shah", '/edi calendar add "Northbridge Founders Day" "12 November" heritage')
    transcript.say("@Priya Shah", "/edi calendar hide pride-month")
    NudgeRound(store, clock=transcript.clock, zone=LONDON, send=ConsoleSender(write=lambda _: None))()
    installations(store).save(
        Installation(
            app_id="A0EDIBOT01",
            team_id="T0NORTHBR1",
            team_name="Northbridge",
            bot_token=TOKEN,
            bot_id="B0EDIBOT01",
            bot_user_id="U0EDIBOT01",
            bot_scopes=["chat:write"],
            user_id="U00000001",
            installed_at=time.time(),
        )
    )


def installations(database: Database) -> EncryptedInstallationStore:
    return EncryptedInstallationStore(
        cipher=Cipher([KEY]),
        client_id="1234.5678",
        engine=database.engine,
        bots_table_name=SLACK_BOTS,
        installations_table_name=SLACK_INSTALLATIONS,
    )


def every_row(url: str) -> dict[str, list[dict[str, Any]]]:
    """Each backed-up table's rows in key order, as the head schema reads them."""
    database = Database.open(url, migrate=False)
    with database.engine.connect() as connection:
        rows = {
            table.name: [
                dict(row) for row in connection.execute(select(table).order_by(*table.primary_key)).mappings()
            ]
            for table in backed_up_tables(include_feedback=True)
        }
    database.dispose()
    return rows


def what_people_see(url: str) -> tuple[str, str, str]:
    """`edibot actions --json`, the digest preview and the nudge preview, as read from the database at
    `url`."""
    shown = []
    for args in (
        ("actions", "--json"),
        ("digest", "preview", "--channel", "#edi-group", "--at", "2025-11-10T12:00"),
        ("nudges", "preview", "--json", "--at", "2025-11-10T08:00"),
    ):
        code, out, err = edibot(url, "--now", "2025-11-07T12:00", *args)
        assert code == 0, err
        shown.append(out)
    return shown[0], shown[1], shown[2]


def sqlite_target(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / f'restored-{uuid4().hex[:6]}' / 'edibot.sqlite3'}"


@pytest.fixture
def used(transcript: Transcript, store: Database, database_url: str) -> str:
    week_of_use(transcript, store)
    return database_url


# -- backup and restore ----------------------------------------------------------------------------------


def test_a_restored_database_answers_exactly_as_the_one_backed_up(used: str, tmp_path: Path) -> None:
    backup = tmp_path / "edibot-backup.jsonl"
    code, out, err = edibot(used, "--now", "2025-11-07T18:00", "backup", str(backup))
    assert code == 0, err
    assert (
        out.startswith("Backed up 1 plan, 15 actions, 7 people and ")
        and "anonymous feedback not included" in out
    )
    assert backup.stat().st_mode & 0o777 == 0o600
    header = json.loads(backup.read_text(encoding="utf-8").splitlines()[0])
    assert header["format"] == "edibot-backup" and header["format_version"] == 1
    assert header["schema_revision"] == HEAD and header["created_at"] == "2025-11-07T18:00:00+00:00"
    assert header["feedback"] is False
    # The Slack token is in the file only as the ciphertext it is at rest.
    assert TOKEN not in backup.read_text(encoding="utf-8")

    target = sqlite_target(tmp_path)
    code, out, err = edibot(target, "restore", str(backup))
    assert code == 0, err
    assert out.startswith("Restored 1 plan, 15 actions, 7 people and ")

    assert what_people_see(target) == what_people_see(used)
    assert every_row(target) == every_row(used)
    restored = Database.open(target, migrate=False)
    bot = installations(restored).find_bot(enterprise_id=None, team_id="T0NORTHBR1")
    assert bot is not None and bot.bot_token == TOKEN  # still readable with the same EDIBOT_SECRET_KEY
    restored.dispose()


def test_a_restored_database_gives_new_rows_new_ids(used: str, tmp_path: Path) -> None:
    backup = tmp_path / "edibot.jsonl"
    assert edibot(used, "backup", str(backup))[0] == 0
    target = sqlite_target(tmp_path)
    assert edibot(target, "restore", str(backup))[0] == 0
    code, _, err = edibot(target, "--now", "2025-11-10T09:00", "plan", "rename", "Northbridge EDI Plan", "N2")
    assert code == 0, err
    transcript_after = edibot(target, "--now", "2025-11-10T09:00", "show", "NO-2")
    assert transcript_after[0] == 0 and "waiting on budget sign-off" in transcript_after[1]


@pytest.mark.skipif(not POSTGRES_URL, reason="needs EDIBOT_TEST_DATABASE_URL on PostgreSQL")
def test_postgresql_to_sqlite_and_back_keeps_everything(
    used: str, tmp_path: Path, postgres_schema: Any
) -> None:
    to_sqlite = tmp_path / "from-postgresql.jsonl"
    assert edibot(used, "backup", str(to_sqlite))[0] == 0
    sqlite = sqlite_target(tmp_path)
    assert edibot(sqlite, "restore", str(to_sqlite))[0] == 0
    assert every_row(sqlite) == every_row(used)

    to_postgres = tmp_path / "from-sqlite.jsonl"
    assert edibot(sqlite, "backup", str(to_postgres))[0] == 0
    postgres = postgres_schema()
    code, _, err = edibot(postgres, "restore", str(to_postgres))
    assert code == 0, err
    assert every_row(postgres) == every_row(used)
    assert what_people_see(postgres) == what_people_see(used) == what_people_see(sqlite)
    # The sequences were moved past the restored ids: a new history entry gets a new one.
    assert edibot(postgres, "--now", "2025-11-10T09:00", "plan", "archive", "Northbridge EDI Plan")[0] == 0
    database = Database.open(postgres, migrate=False)
    with database.engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM history WHERE actor = 'edibot plan archive'"))
    database.dispose()


def test_anonymous_feedback_is_in_a_backup_only_when_asked_for(used: str, tmp_path: Path) -> None:
    with_feedback = tmp_path / "with-feedback.jsonl"
    code, out, _ = edibot(used, "backup", "--include-feedback", str(with_feedback))
    assert code == 0 and "anonymous feedback included" in out
    assert json.loads(with_feedback.read_text(encoding="utf-8").splitlines()[0])["feedback"] is True
    tables = {
        json.loads(line).get("table") for line in with_feedback.read_text(encoding="utf-8").splitlines()
    }
    assert set(FEEDBACK_TABLES) <= tables
    without = tmp_path / "without.jsonl"
    assert edibot(used, "backup", str(without))[0] == 0
    tables = {json.loads(line).get("table") for line in without.read_text(encoding="utf-8").splitlines()}
    assert not set(FEEDBACK_TABLES) & tables and not set(NOT_BACKED_UP) & tables


# -- refusals --------------------------------------------------------------------------------------------


@pytest.fixture
def backup_file(used: str, tmp_path: Path) -> Path:
    backup = tmp_path / "edibot.jsonl"
    assert edibot(used, "--now", "2025-11-07T18:00", "backup", str(backup))[0] == 0
    return backup


def rows_in(url: str) -> int:
    database = Database.open(url, migrate=False, create="if-missing")
    with database.engine.connect() as connection:
        total = sum(
            connection.scalar(select(func.count()).select_from(table)) or 0
            for table in backed_up_tables(include_feedback=True)
        )
    database.dispose()
    return total


def test_there_is_nothing_to_back_up_without_a_database(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "edibot.sqlite3"
    code, _, err = edibot(f"sqlite:///{missing}", "backup", str(tmp_path / "edibot.jsonl"))
    assert code == 1 and err.startswith(f"edibot has no database at {missing} yet")
    assert not missing.exists() and not (tmp_path / "edibot.jsonl").exists()
    assert not (tmp_path / "edibot.jsonl.partial").exists()


def test_a_backup_never_overwrites_a_file(used: str, backup_file: Path) -> None:
    before = backup_file.read_bytes()
    code, _, err = edibot(used, "backup", str(backup_file))
    assert code == 1 and "is already there; choose a new file name" in err
    assert backup_file.read_bytes() == before


def test_a_database_that_holds_data_is_refused_unless_forced(used: str, backup_file: Path) -> None:
    before = every_row(used)
    code, _, err = edibot(used, "restore", str(backup_file))
    assert code == 1
    assert err.startswith("This database already holds data (plans: 1, owners: 15, actions: 15 and more)")
    assert "add --force to replace everything in this one" in err
    assert every_row(used) == before

    assert (
        edibot(used, "--now", "2025-11-10T09:00", "plan", "rename", "Northbridge EDI Plan", "Renamed")[0] == 0
    )
    code, _, err = edibot(used, "restore", "--force", str(backup_file))
    assert code == 0, err
    assert every_row(used) == before


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        ("cut-mid-line", "line {last}: the file stops in the middle of a line; it was cut short."),
        ("cut-at-line", "ends at line {last} without the backup's end line: it was cut short"),
        ("not-json", "line 7: not a line of JSON; the file is damaged."),
        ("edited", "are not the ones edibot wrote (their SHA-256 differs)"),
        ("line-missing", "line {last}: the backup says it holds other rows than the file has"),
        ("bad-date", "line 7: 'next Tuesday' is not a datetime; the file is damaged."),
        ("unknown-table", "line 7: 'passwords' is not a table edibot backs up"),
    ],
)
def test_a_damaged_backup_is_refused_naming_the_line_and_nothing_changes(
    backup_file: Path, tmp_path: Path, damage: str, said: str
) -> None:
    lines = backup_file.read_text(encoding="utf-8").splitlines(keepends=True)
    row = json.loads(lines[6])
    assert "row" in row  # line 7 is a row (of the first table)
    if damage == "cut-mid-line":
        lines = [*lines[:-1], lines[-1][:20]]
    elif damage == "cut-at-line":
        lines = lines[: len(lines) // 2]
    elif damage == "not-json":
        lines[6] = lines[6][:-10] + "\n"
    elif damage == "edited":
        lines[6] = lines[6].replace('"', '"', 1).replace(",", ", ", 1)
    elif damage == "line-missing":
        del lines[8]
    elif damage == "bad-date":
        column = next(name for name, value in row["row"].items() if isinstance(value, str) and "T" in value)
        row["row"][column] = "next Tuesday"
        lines[6] = json.dumps(row) + "\n"
    elif damage == "unknown-table":
        lines[6] = json.dumps({"table": "passwords", "row": {}}) + "\n"
    damaged = tmp_path / f"{damage}.jsonl"
    damaged.write_text("".join(lines), encoding="utf-8")
    target = sqlite_target(tmp_path)

    code, _, err = edibot(target, "restore", str(damaged))

    assert code == 1
    assert said.format(last=len(lines)) in err, err
    assert rows_in(target) == 0


def test_a_file_that_is_not_a_backup_is_refused(tmp_path: Path) -> None:
    target = sqlite_target(tmp_path)
    plan = tmp_path / "plan.csv"
    plan.write_text("Action,Lead\nPublish the plan,HR\n", encoding="utf-8")
    assert edibot(target, "restore", str(plan))[2].strip() == (
        f"{plan} is not an edibot backup (its first line is not an edibot backup header)."
    )
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    assert (
        edibot(target, "restore", str(empty))[2].strip() == f"{empty} is empty: it is not an edibot backup."
    )
    binary = tmp_path / "edibot.sqlite3.gz"
    binary.write_bytes(b'{"format": "edibot-backup"\xff\xfe\n')
    assert "not UTF-8 text" in edibot(target, "restore", str(binary))[2]
    missing = tmp_path / "nowhere.jsonl"
    code, _, err = edibot(target, "restore", str(missing))
    assert code == 1 and err.strip() == f"There is no backup file at {missing}: check the path."
    assert rows_in(target) == 0


def test_a_backup_from_a_newer_edibot_is_refused_with_a_sentence(backup_file: Path, tmp_path: Path) -> None:
    lines = backup_file.read_text(encoding="utf-8").splitlines(keepends=True)
    header = json.loads(lines[0])
    newer = tmp_path / "newer.jsonl"
    newer.write_text(
        json.dumps({**header, "schema_revision": "0042", "edibot_version": "9.0.0"})
        + "\n"
        + "".join(lines[1:]),
        encoding="utf-8",
    )
    target = sqlite_target(tmp_path)
    code, _, err = edibot(target, "restore", str(newer))
    assert code == 1
    assert err.strip() == (
        "This backup was made by edibot 9.0.0 with database schema revision 0042, which this edibot does not "
        f"know (it knows revisions up to {HEAD}): it comes from a newer edibot. Upgrade edibot to that "
        "version or later, then restore it."
    )
    newer.write_text(json.dumps({**header, "format_version": 2}) + "\n", encoding="utf-8")
    assert (
        "in backup format 2; this edibot reads format 1. Upgrade edibot"
        in edibot(target, "restore", str(newer))[2]
    )
    assert rows_in(target) == 0


def test_a_backup_before_an_upgrade_is_taken_as_the_database_is_and_restores_into_the_new_schema(
    tmp_path: Path, clock: FakeClock
) -> None:
    """An organisation on revision 0016 backs up with the new edibot installed (the backup does not upgrade
    the database first) and restores into a new database, which the restore brings to the newest."""
    url = f"sqlite:///{tmp_path / 'old' / 'edibot.sqlite3'}"
    old = Database.open(url, create="if-missing")
    sample_organisation(old, now=clock.now())
    week_of_use(Transcript(old, clock), old)
    actions_before = every_row(url)["actions"]
    command.downgrade(alembic_config(old.engine), "0016")
    old.dispose()
    backup = tmp_path / "before-upgrade.jsonl"

    code, out, err = edibot(url, "backup", str(backup))

    assert code == 0, err
    assert out.endswith("at schema revision 0016.\n")
    lines = [json.loads(line) for line in backup.read_text(encoding="utf-8").splitlines()]
    assert lines[0]["schema_revision"] == "0016"
    assert "welcomes" not in {line.get("table") for line in lines}
    assert "adopted_at" not in next(line["columns"] for line in lines if line.get("table") == "plans")
    assert revision_at(url) == "0016"  # the backup did not upgrade it

    target = sqlite_target(tmp_path)
    assert edibot(target, "init")[0] == 0  # an empty database at the newest: taken back to 0016 for it
    code, _, err = edibot(target, "restore", str(backup))
    assert code == 0, err
    assert revision_at(target) == HEAD
    restored = every_row(target)
    assert restored["actions"] == actions_before
    # Migration 0017 ran over the restored rows as it runs over a live store: the plan had reminders, so it
    # is adopted and the people reminded are welcomed.
    assert [plan["adopted_at"] for plan in restored["plans"]] == [
        plan["created_at"] for plan in restored["plans"]
    ]
    assert restored["welcomes"]
    # Over data at another revision, even --force is refused.
    code, _, err = edibot(target, "restore", "--force", str(backup))
    assert code == 1
    assert err.strip() == (
        f"This database holds data at schema revision {HEAD}, and the backup is at revision 0016; --force "
        "replaces data only at the same revision. Restore into an empty database instead (a new SQLite file, "
        "or an empty PostgreSQL database)."
    )
    assert every_row(target) == restored


def revision_at(url: str) -> str | None:
    engine = create_engine(url)
    with engine.connect() as connection:
        revision = connection.scalar(text("SELECT version_num FROM alembic_version"))
    engine.dispose()
    return None if revision is None else str(revision)


def test_a_database_an_edibot_is_running_on_is_refused(used: str, backup_file: Path) -> None:
    database = Database.open(used, migrate=False)
    leader = Leader(database)
    assert leader.acquire(datetime(2025, 11, 7, 18, 0, tzinfo=LONDON))
    database.dispose()
    before = every_row(used)

    code, _, err = edibot(used, "--now", "2025-11-07T18:01", "restore", "--force", str(backup_file))

    assert code == 1
    assert err.strip() == (
        f"An edibot is running on this database (process {leader.holder} leads its scheduler): stop every "
        "edibot that uses it, then restore."
    )
    assert every_row(used) == before
    # Once its lease has run out (it stopped), the restore goes ahead.
    assert edibot(used, "--now", "2025-11-07T18:05", "restore", "--force", str(backup_file))[0] == 0


def test_a_database_a_newer_edibot_upgraded_is_refused(backup_file: Path, tmp_path: Path) -> None:
    target = sqlite_target(tmp_path)
    assert edibot(target, "init")[0] == 0
    engine = create_engine(target)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0042'"))
    engine.dispose()
    code, _, err = edibot(target, "restore", str(backup_file))
    assert code == 1
    assert err.strip() == (
        "This database is at schema revision 0042, which this edibot does not know (it knows revisions up to "
        f"{HEAD}): a newer edibot upgraded it. Restore with that edibot, or into an empty database."
    )


def test_backup_and_restore_stream_a_large_store_in_bounded_memory(
    transcript: Transcript, store: Database, database_url: str, tmp_path: Path
) -> None:
    """5,000 history entries with long notes (a file of ~22 MB): neither direction holds the file in
    memory."""
    history = Base.metadata.tables["history"]
    with store.engine.begin() as connection:
        action = connection.scalar(text("SELECT id FROM actions ORDER BY id LIMIT 1"))
        at = datetime(2025, 11, 3, 9, 30, tzinfo=LONDON)
        for chunk in range(2):
            connection.execute(
                history.insert(),
                [
                    {
                        "action_id": action,
                        "at": at,
                        "actor": "Amina Khan",
                        "surface": "slack",
                        "field": "note",
                        "to_value": f"{chunk}-{n} " + "waiting on budget sign-off " * 160,
                    }
                    for n in range(2500)
                ],
            )
    backup = tmp_path / "large.jsonl"
    size, backup_peak = measured(lambda: write_backup_file(store, backup))
    assert size > 20_000_000
    target = Database.open(sqlite_target(tmp_path), migrate=False, create="if-missing")
    summary, restore_peak = measured(lambda: restore_backup(target, backup, now=at))
    target.dispose()
    assert summary.rows["history"] >= 5_000
    # Holding the file would take more than its size; here a few megabytes are held at most (a batch of
    # rows, the garbage the collector has not yet reclaimed).
    assert max(backup_peak, restore_peak) < size / 2, (backup_peak, restore_peak, size)


def measured(work: Callable[[], T]) -> tuple[T, int]:
    """What `work` returns, and the most memory Python held for it at once (bytes)."""
    tracemalloc.start()
    try:
        result = work()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def write_backup_file(store: Database, path: Path) -> int:
    with path.open("w", encoding="utf-8") as out:
        write_backup(store, out, created_at=datetime(2025, 11, 7, 18, tzinfo=LONDON), edibot_version="test")
    return path.stat().st_size
