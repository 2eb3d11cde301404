"""A whole edibot database as a versioned JSON Lines file, and back: `edibot backup` and `edibot restore`.

The file is one JSON object a line, so it is written and read a line at a time (a trust's store of 100,000
actions never sits in memory): a header (format version, the schema revision the rows belong to, the edibot
that wrote it, when), then for each table a line naming its columns and their kinds followed by one line per
row, in an order that satisfies every foreign key, and an end line counting the rows and carrying the SHA-256
of every line before it. A file cut short has no end line; a damaged one fails its JSON, its counts or its
checksum: either way it is refused before the database is touched, naming the line.

Which tables a backup holds is written down here (`CORE_TABLES`, `FEEDBACK_TABLES`, `NOT_BACKED_UP`) rather
than taken from whatever the schema has, so a new table must be placed in one of them on purpose (a test
fails until it is): anonymous feedback leaves the database only when asked for, and the scheduler's lease is
no one's data. Rows are copied as stored: ids are kept (history and outbox keys point at them), PostgreSQL's
sequences are moved past them, and Slack tokens stay the ciphertext they are at rest (the restoring edibot
needs the same EDIBOT_SECRET_KEY to use them).

A backup from an older schema is restored into a schema at its own revision (an empty database is migrated,
or migrated back, to it) and then upgraded with the rest of the migrations, so what an upgrade does to real
data is what happens to restored data too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from alembic import command
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    Date,
    DateTime,
    Engine,
    Integer,
    MetaData,
    Table,
    TypeDecorator,
    delete,
    func,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.types import TypeEngine

from storage.db import Database, alembic_config
from storage.models import Base, Leadership

FORMAT = "edibot-backup"
FORMAT_VERSION = 1

# Every table of the schema is in exactly one of these three (tests/test_backup.py checks it).
CORE_TABLES: tuple[str, ...] = (
    "plans",
    "owners",
    "actions",
    "action_owners",
    "history",
    "imports",
    "people",
    "person_roles",
    "action_declines",
    "welcomes",
    "nudges",  # which reminders were planned and sent: without them a restored edibot would remind again
    "outbox",
    "digest_subscriptions",
    "calendar_subscriptions",
    "calendar_feeds",
    "organisation_observances",
    "observance_settings",
    "observance_holds",
    "teams_conversations",
    "slack_installations",  # tokens as stored: encrypted under EDIBOT_SECRET_KEY
    "slack_bots",
)
# Anonymous staff feedback: in a backup only with --include-feedback.
FEEDBACK_TABLES: tuple[str, ...] = (
    "feedback_settings",
    "feedback_responders",
    "feedback",
    "feedback_messages",
)
NOT_BACKED_UP: Mapping[str, str] = {
    "leadership": "which running process leads the scheduler: a lease, not data",
    "delivery_pause": "a platform's 429 wait, seconds long: over long before a restore is done",
    "processed_deliveries": "deliveries already answered, kept only while Slack or Teams might retry them",
    "slack_oauth_states": "one-time states of Slack installs in progress, which expire within minutes",
}

# Rows inserted per statement on restore: up to 500, or fewer long ones (notes, imports' summaries), so that
# memory stays around a megabyte of rows whatever the file holds; the backup reads 250 rows at a time.
_BATCH = 500
_BATCH_BYTES = 1_000_000
_READ_ROWS = 250


class BackupError(Exception):
    """A backup can't be written or restored; the message says why and what to do."""


@dataclass(frozen=True)
class Header:
    format_version: int
    schema_revision: str
    edibot_version: str
    created_at: str
    feedback: bool


@dataclass
class Summary:
    """What a backup wrote or a restore loaded: rows per table, in the file's order."""

    header: Header
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def backed_up_tables(*, include_feedback: bool) -> list[Table]:
    """The tables a backup holds, parents before children (the order they are written and restored in)."""
    wanted = set(CORE_TABLES) | (set(FEEDBACK_TABLES) if include_feedback else set())
    return [table for table in Base.metadata.sorted_tables if table.name in wanted]


def schema_revision(connection: Connection) -> str | None:
    """The Alembic revision the database is at; None for a database with no edibot schema."""
    return MigrationContext.configure(connection).get_current_revision()


def head_revision(engine: Engine) -> str:
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    assert head is not None  # the migrations ship with edibot
    return head


# -- writing ---------------------------------------------------------------------------------------------


def write_backup(
    database: Database,
    out: IO[str],
    *,
    created_at: datetime,
    edibot_version: str,
    include_feedback: bool = False,
) -> Summary:
    """Every backed-up table of `database` into `out`, as one consistent snapshot.

    The database is read at the revision it is at, not upgraded first (a backup before an upgrade is the one
    to keep): each table and column of the newest schema that it has is read with the newest types, and
    the header names its revision. (Migrations only ever add tables and columns, so nothing is missed.)
    """
    writer = _Writer(out)
    engine = database.engine
    options: dict[str, Any] = {"yield_per": _READ_ROWS}
    if engine.dialect.name == "postgresql":
        options["isolation_level"] = "REPEATABLE READ"  # every table read as of one moment
    with engine.connect().execution_options(**options) as connection, connection.begin():
        revision = schema_revision(connection)
        if revision is None:
            raise BackupError("This database has no edibot schema yet: there is nothing to back up.")
        header = Header(
            format_version=FORMAT_VERSION,
            schema_revision=revision,
            edibot_version=edibot_version,
            created_at=created_at.isoformat(),
            feedback=include_feedback,
        )
        writer.line(
            {
                "format": FORMAT,
                "format_version": header.format_version,
                "schema_revision": header.schema_revision,
                "edibot_version": header.edibot_version,
                "created_at": header.created_at,
                "database": engine.dialect.name,
                "feedback": header.feedback,
            }
        )
        summary = Summary(header)
        inspector = inspect(connection)
        present = set(inspector.get_table_names())
        for table in backed_up_tables(include_feedback=include_feedback):
            if table.name not in present:  # a table newer than the database's revision
                continue
            stored = {column["name"] for column in inspector.get_columns(table.name)}
            columns = [column for column in table.columns if column.name in stored]
            kinds = {column.name: _kind(column.type) for column in columns}
            writer.line({"table": table.name, "columns": kinds})
            count = 0
            query = select(*columns).order_by(*table.primary_key.columns)
            for row in connection.execute(query).mappings():
                values = {name: _encode(row[name], kinds[name]) for name in kinds}
                writer.line({"table": table.name, "row": values})
                count += 1
            summary.rows[table.name] = count
    out.write(json.dumps({"end": True, "rows": summary.rows, "sha256": writer.digest.hexdigest()}) + "\n")
    return summary


class _Writer:
    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.digest = hashlib.sha256()

    def line(self, value: dict[str, Any]) -> None:
        encoded = json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n"
        self.digest.update(encoded.encode("utf-8"))
        self.out.write(encoded)


def _kind(type_: TypeEngine[Any]) -> str:
    if isinstance(type_, TypeDecorator):
        type_ = type_.impl_instance
    for kind, types in (
        ("datetime", DateTime),
        ("date", Date),
        ("json", JSON),
        ("boolean", Boolean),
        ("integer", Integer),
    ):
        if isinstance(type_, types):
            return kind
    return "text"


def _encode(value: Any, kind: str) -> Any:
    if value is None or kind == "json":
        return value
    if kind in ("datetime", "date"):
        return value.isoformat()
    return value


# -- reading ---------------------------------------------------------------------------------------------


@dataclass
class _Line:
    number: int
    table: str
    row: dict[str, Any]
    size: int  # characters in the file


def read_header(path: Path) -> Header:
    """The file's header, or a BackupError saying what the file is instead."""
    lines = _open(path)
    first = next(lines, None)
    lines.close()
    if first is None:
        raise BackupError(f"{path} is empty: it is not an edibot backup.")
    return _header(first, path)


def _open(path: Path) -> Generator[str, None, None]:
    try:
        handle = path.open(encoding="utf-8", newline="\n")
    except FileNotFoundError:
        raise BackupError(f"There is no backup at {path}: check the path.") from None
    except IsADirectoryError:
        raise BackupError(f"{path} is a folder; give the backup file itself.") from None
    except PermissionError:
        raise BackupError(f"edibot may not read {path}: this user lacks permission.") from None
    return _lines(handle, path)


def _lines(handle: IO[str], path: Path) -> Generator[str, None, None]:
    with handle:
        number = 0
        try:
            for number, line in enumerate(handle, start=1):  # noqa: B007 — the number is said on failure
                yield line
        except UnicodeDecodeError:
            raise BackupError(
                f"{path}, line {number + 1}: not UTF-8 text, so not an edibot backup (or a damaged one)."
            ) from None


def _header(line: str, path: Path) -> Header:
    try:
        value = json.loads(line)
    except ValueError:
        value = None
    if not isinstance(value, dict) or value.get("format") != FORMAT:
        raise BackupError(f"{path} is not an edibot backup (its first line is not an edibot backup header).")
    version = value.get("format_version")
    if not isinstance(version, int):
        raise BackupError(f"{path}, line 1: the header has no format version; the file is damaged.")
    if version > FORMAT_VERSION:
        raise BackupError(
            f"{path} was written by a newer edibot ({value.get('edibot_version', 'unknown version')}) in "
            f"backup format {version}; this edibot reads format {FORMAT_VERSION}. Upgrade edibot, then "
            "restore again."
        )
    revision = value.get("schema_revision")
    if not isinstance(revision, str) or not revision:
        raise BackupError(f"{path}, line 1: the header has no schema revision; the file is damaged.")
    return Header(
        format_version=version,
        schema_revision=revision,
        edibot_version=str(value.get("edibot_version", "")),
        created_at=str(value.get("created_at", "")),
        feedback=bool(value.get("feedback", False)),
    )


def _rows(path: Path, header: Header) -> Iterator[_Line]:
    """Every row of the file, decoded; a BackupError naming the line at the first thing wrong, and at the end
    if the file was cut short or its counts or checksum do not match."""
    digest = hashlib.sha256()
    kinds: dict[str, dict[str, str]] = {}
    counts: dict[str, int] = {}
    allowed = set(CORE_TABLES) | set(FEEDBACK_TABLES)
    ended = False
    number = 0
    for number, line in enumerate(_open(path), start=1):
        where = f"{path}, line {number}"
        if ended:
            raise BackupError(f"{where}: there is more after the backup's end line; the file is damaged.")
        if not line.endswith("\n"):
            raise BackupError(f"{where}: the file stops in the middle of a line; it was cut short.")
        if number == 1:
            digest.update(line.encode("utf-8"))
            continue
        try:
            value = json.loads(line)
        except ValueError:
            raise BackupError(f"{where}: not a line of JSON; the file is damaged.") from None
        if not isinstance(value, dict):
            raise BackupError(f"{where}: not a backup line (a JSON object); the file is damaged.")
        if value.get("end") is True:
            _check_end(value, counts=counts, digest=digest.hexdigest(), where=where)
            ended = True
            continue
        digest.update(line.encode("utf-8"))
        table = value.get("table")
        if not isinstance(table, str) or table not in allowed:
            raise BackupError(f"{where}: '{table}' is not a table edibot backs up; the file is damaged.")
        if "columns" in value:
            columns = value["columns"]
            if table in kinds or not isinstance(columns, dict) or not columns:
                raise BackupError(f"{where}: the columns of {table} are given twice or not at all.")
            kinds[table] = {str(name): str(kind) for name, kind in columns.items()}
            counts[table] = 0
            continue
        row = value.get("row")
        if table not in kinds or not isinstance(row, dict):
            raise BackupError(
                f"{where}: a row of {table} before its columns, or no row; the file is damaged."
            )
        unknown = set(row) - set(kinds[table])
        if unknown:
            raise BackupError(f"{where}: {table} has no column {sorted(unknown)[0]}; the file is damaged.")
        counts[table] += 1
        decoded = {name: _decode(row[name], kinds[table][name], where) for name in row}
        yield _Line(number, table, decoded, len(line))
    if not ended:
        raise BackupError(
            f"{path} ends at line {number} without the backup's end line: it was cut short (a full disk, "
            "an interrupted copy?). Use a complete backup."
        )


def _check_end(value: dict[str, Any], *, counts: dict[str, int], digest: str, where: str) -> None:
    if value.get("rows") != counts:
        raise BackupError(
            f"{where}: the backup says it holds other rows than the file has (lines are missing or added); "
            "the file is damaged."
        )
    if value.get("sha256") != digest:
        raise BackupError(
            f"{where}: the lines before this one are not the ones edibot wrote (their SHA-256 differs): the "
            "file was changed or damaged after it was written."
        )


def _decode(value: Any, kind: str, where: str) -> Any:
    if value is None or kind in ("json", "text"):
        return value
    try:
        if kind == "datetime":
            return datetime.fromisoformat(value)
        if kind == "date":
            return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise BackupError(f"{where}: '{value}' is not a {kind}; the file is damaged.") from None
    if kind == "boolean" and not isinstance(value, bool):
        raise BackupError(f"{where}: '{value}' is not true or false; the file is damaged.")
    if kind == "integer" and (isinstance(value, bool) or not isinstance(value, int)):
        raise BackupError(f"{where}: '{value}' is not a whole number; the file is damaged.")
    return value


# -- restoring -------------------------------------------------------------------------------------------


def restore_backup(database: Database, path: Path, *, now: datetime, replace: bool = False) -> Summary:
    """Load the backup at `path` into `database` (opened without migrating), then bring it to the newest
    schema.

    Refused, with nothing changed: a file that is not a whole, undamaged backup; one from a newer schema; a
    database that already holds data, unless `replace` (its rows are then deleted in the same transaction
    that loads the backup's); a database a newer edibot upgraded; one an edibot is running on at `now`.
    """
    header = read_header(path)
    engine = database.engine
    script = ScriptDirectory.from_config(alembic_config(engine))
    head = head_revision(engine)
    if not _known(script, header.schema_revision):
        raise BackupError(_newer_schema(header, head))
    for _ in _rows(path, header):  # the whole file is checked before anything is changed
        pass
    with engine.connect() as connection:
        current = schema_revision(connection)
        if current is not None and not _known(script, current):
            raise BackupError(
                f"This database is at schema revision {current}, which this edibot does not know (it knows "
                f"revisions up to {head}): a newer edibot upgraded it. Restore with that edibot, or into an "
                "empty database."
            )
        held = _rows_held(connection)
        leader = _leader(connection, now=now)
    if leader is not None:
        raise BackupError(
            f"An edibot is running on this database (process {leader} leads its scheduler): stop every "
            "edibot that uses it, then restore."
        )
    if held and not replace:
        raise BackupError(
            f"This database already holds data ({held}), and a restore would mix the backup into it. "
            "Restore into an empty database, or add --force to replace everything in this one with the "
            "backup."
        )
    if held and current != header.schema_revision:
        raise BackupError(
            f"This database holds data at schema revision {current}, and the backup is at revision "
            f"{header.schema_revision}; --force replaces data only at the same revision. Restore into an "
            "empty database instead (a new SQLite file, or an empty PostgreSQL database)."
        )
    config = alembic_config(engine)
    if current != header.schema_revision:  # an empty database: its schema made, or taken back, to the file's
        if current is not None and _is_later(script, current, header.schema_revision):
            command.downgrade(config, header.schema_revision)
        else:
            command.upgrade(config, header.schema_revision)
    summary = Summary(header)
    with engine.begin() as connection:
        target = MetaData()
        target.reflect(connection, only=_edibot_tables(connection))
        if replace:
            for table in reversed(target.sorted_tables):
                if table.name != "alembic_version":
                    connection.execute(delete(table))
        _load(connection, target, path=path, header=header, summary=summary)
        if connection.dialect.name == "postgresql":
            _move_sequences(connection, target, summary)
    if header.schema_revision != head:
        command.upgrade(config, "head")
    return summary


def _newer_schema(header: Header, head: str) -> str:
    made_by = f"edibot {header.edibot_version}" if header.edibot_version else "another edibot"
    return (
        f"This backup was made by {made_by} with database schema revision {header.schema_revision}, which "
        f"this edibot does not know (it knows revisions up to {head}): it comes from a newer edibot. "
        "Upgrade edibot to that version or later, then restore it."
    )


def _known(script: ScriptDirectory, revision: str) -> bool:
    try:
        script.get_revision(revision)
    except CommandError:
        return False
    return True


def _leader(connection: Connection, *, now: datetime) -> str | None:
    """The process holding the scheduler's lease at `now`, if one does."""
    if "leadership" not in inspect(connection).get_table_names():
        return None
    lease = Leadership.__table__
    holder = connection.scalar(
        select(lease.c.holder).where(lease.c.name == "scheduler", lease.c.lease_until > now)
    )
    return None if holder is None else str(holder)


def _is_later(script: ScriptDirectory, revision: str, than: str) -> bool:
    return any(step.revision == than for step in script.iterate_revisions(revision, "base"))


def _edibot_tables(connection: Connection) -> list[str]:
    existing = set(inspect(connection).get_table_names())
    return [name for name in Base.metadata.tables if name in existing]


def _rows_held(connection: Connection) -> str:
    """'plans: 12, owners: 340, actions: 1,204 and more' for the backed-up tables with rows; '' for none."""
    existing = set(inspect(connection).get_table_names())
    held = []
    for name in (*CORE_TABLES, *FEEDBACK_TABLES):
        if name in existing:
            count = connection.scalar(select(func.count()).select_from(text(name))) or 0
            if count:
                held.append(f"{name.replace('_', ' ')}: {count:,}")
    return ", ".join(held[:3]) + (" and more" if len(held) > 3 else "")


def _load(connection: Connection, target: MetaData, *, path: Path, header: Header, summary: Summary) -> None:
    batch: list[dict[str, Any]] = []
    table: Table | None = None
    first = 0
    size = 0

    def flush() -> None:
        if table is None or not batch:
            return
        try:
            connection.execute(insert(table), batch)
        except (DBAPIError, StatementError) as error:
            reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
            raise BackupError(
                f"{path}, lines {first}–{first + len(batch) - 1}: the database refused these rows of "
                f"{table.name} ({reason}), so nothing was restored."
            ) from None
        summary.rows[table.name] = summary.rows.get(table.name, 0) + len(batch)
        batch.clear()

    for line in _rows(path, header):
        if table is None or line.table != table.name or len(batch) >= _BATCH or size >= _BATCH_BYTES:
            flush()
            size = 0
            if line.table not in target.tables:
                raise BackupError(
                    f"{path}, line {line.number}: the database has no table {line.table} at schema revision "
                    f"{header.schema_revision}; the file is damaged."
                )
            table, first = target.tables[line.table], line.number
        batch.append(line.row)
        size += line.size
    flush()


def _move_sequences(connection: Connection, target: MetaData, summary: Summary) -> None:
    """Each restored table's id sequence set past its highest id, so the next row gets a new one."""
    for name in summary.rows:
        table = target.tables[name]
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(keys[0].type, Integer):
            continue
        column = keys[0].name
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence(:table, :column), "
                f'COALESCE((SELECT MAX("{column}") FROM "{name}"), 0) + 1, false)'
            ),
            {"table": name, "column": column},
        )
