"""Opens the database (SQLite by default, PostgreSQL by URL), brings its schema up to date, and hands out
sessions.

A SQLite database is a file someone can delete, move or replace under a running edibot. SQLite would not
notice: its open handles keep writing into the deleted file, and the next start would make a new, empty one
and greet everyone with "I don't know you yet". So the engine remembers which file it opened (device and
inode) and refuses every connection and transaction once the path names another file or none
(`DatabaseGone`), connections are opened read-write only (SQLite never creates the file by itself), and a
new file is made only where the rule says so (`Database.open`'s `create`): a marker beside the database
remembers that the folder has held one, so a lost file is reported instead of silently replaced.
"""

from __future__ import annotations

import os
import re
import select
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, create_engine, event, inspect, make_url, text
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

# Alembic (with Mako and Pygments, about 11 MB in each process) is imported only when a schema has to change
# or a migration's history be read: a database already at the newest migration, as `edibot run` finds it on
# every start after the first, is recognised from the migration files' revision lines (`schema_heads`).
if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
MIGRATION_LOCK = (
    0x0ED1B08  # the advisory lock number migrations run under on PostgreSQL (the scheduler's + 1)
)
MARKER = ".edibot-initialised"  # beside a SQLite database: this folder has held one, so never make a new one

# Whether Database.open may make a new SQLite file where none is: never (`edibot run`); only when its folder
# has never held an edibot database (first run); or whenever it is missing (`edibot init`, the demo, tests).
Create = Literal["never", "first-run", "if-missing"]


class DatabaseGone(Exception):
    """The SQLite file edibot opened was deleted or replaced while it ran; the message is for the operator."""


class DatabaseMissing(Exception):
    """There is no database file where the settings say, and edibot may not make one; the message says what to
    do."""


class DatabaseUnreachable(Exception):
    """The database can't be opened or reached (a folder that is a file or not ours, a server that is down);
    the message names the place and what to do."""


# What a request meets when the database can't answer: a lost SQLite file, or a server that is down or gone
# away mid-request (see database_down). Adapters turn each into one sentence (handlers: an apology; the CLI:
# what to do).
DATABASE_DOWN: tuple[type[Exception], ...] = (DatabaseGone, OperationalError, InterfaceError)


def database_down(error: BaseException) -> bool:
    """True when `error` says the database can't be reached at all — a lost file, a server refusing or
    dropping the connection — rather than that one statement failed (a missing table is a fault to report, not
    an outage)."""
    if isinstance(error, DatabaseGone):
        return True
    if isinstance(error, OperationalError | InterfaceError):
        return error.connection_invalidated or error.statement is None  # no statement ran: the connect failed
    return False


def cannot_write(error: BaseException) -> str | None:
    """Why the database took no change when it can still be read — "is full" (the disk holding it has no room)
    or "is read-only" — from SQLite's error name or PostgreSQL's SQLSTATE; None for any other failure."""
    orig = getattr(error, "orig", None)
    name = str(getattr(orig, "sqlite_errorname", "") or "")
    state = getattr(orig, "sqlstate", None)
    if name == "SQLITE_FULL" or state == "53100":  # PostgreSQL's disk_full
        return "is full"
    if name.startswith("SQLITE_READONLY") or state == "25006":  # read_only_sql_transaction
        return "is read-only"
    return None


def unreachable(url: str, error: Exception) -> DatabaseUnreachable:
    """The operator's sentence for a database server edibot could not talk to, without a password or a
    traceback."""
    where = make_url(url).render_as_string(hide_password=True)
    reason = str(getattr(error, "orig", None) or error).strip().splitlines()
    detail = f" ({reason[0].rstrip('.')})" if reason else ""
    return DatabaseUnreachable(
        f"edibot can't reach its database at {where}{detail}. Check that the database server is running and "
        "that DATABASE_URL names it, its user and its password correctly."
    )


def unusable_folder(path: Path, error: OSError) -> DatabaseUnreachable:
    """The operator's sentence for a data folder edibot can't make or write its database in."""
    return DatabaseUnreachable(
        f"edibot can't keep its database in {path.parent}: {why_unusable(path.parent, error)}. Point "
        "EDIBOT_DATA_DIR at a folder this user can write (or DATABASE_URL at a database)."
    )


def why_unusable(folder: Path, error: OSError) -> str:
    """Why a folder can't be made or written, in words: a file in the way, a permission, or the system's
    reason."""
    blocker = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        return f"{blocker} is a file, not a folder"
    if isinstance(error, PermissionError):
        return f"this user may not write in {Path(error.filename or folder)}"
    return error.strerror or str(error)


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'edibot.sqlite3'}"


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL, made absolute; None for PostgreSQL or an in-memory database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.query.get("uri"):
        return None  # PostgreSQL, or a SQLite URI filename the operator wrote themselves
    if not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database).absolute()


def create_private_file(path: Path) -> None:
    """An empty file only this user can read (0600), and any folders it needs, private too (0700).

    FileExistsError if the file is already there: nothing is ever overwritten.
    """
    missing = [folder for folder in (path.parent, *path.parent.parents) if not folder.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
        folder.chmod(0o700)  # the umask may have taken bits off mkdir's mode
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(handle, 0o600)
    finally:
        os.close(handle)


def make_engine(url: str) -> Engine:
    """An engine for `url`; a SQLite file must exist (Database.open makes one), and gets foreign keys on and a
    guard.

    Statement parameters are hidden from SQLAlchemy's errors: they are what people wrote (notes, reasons),
    and an error's traceback is logged.
    """
    if url.startswith("postgresql://"):
        # psycopg 3 is the driver we ship; the bare scheme would ask for psycopg2.
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        path = sqlite_path(url)
        guard = _FileGuard(path) if path is not None else None
        engine = create_engine(url, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        if guard is not None:
            event.listen(engine, "do_connect", guard.before_connect)
            event.listen(engine, "begin", guard.before_begin)
            _GUARDS[engine] = guard
        return engine
    engine = create_engine(url, hide_parameters=True)
    event.listen(engine, "checkout", _closed_by_server)
    return engine


def _closed_by_server(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Refuses a pooled PostgreSQL connection the server has closed while it sat idle, so the pool opens a new
    one (SQLAlchemy's checkout event: a DisconnectionError there means "discard it, connect again").

    When PostgreSQL restarts (or an administrator ends a session), the server writes a last message and
    closes each connection; an idle client connection has nothing else to read, so a socket with something
    to read, checked without waiting, is one the server has let go. This is the check `pool_pre_ping` made,
    without its round trip to the server (a `SELECT 1` before every request). A connection that fails in use
    (the server gone mid-request) is invalidated by SQLAlchemy with every other pooled connection opened
    before it, as without a ping.
    """
    try:
        readable, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
    except Exception as error:  # closed at this end already: no socket to look at
        raise DisconnectionError(f"the connection is closed: {type(error).__name__}") from error
    if readable:
        raise DisconnectionError("the server closed this connection while it was idle in the pool")


class _FileGuard:
    """The SQLite file an engine opened, known by device and inode rather than by name."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            found = path.stat()
        except FileNotFoundError:
            held_before = (path.parent / MARKER).exists()
            raise DatabaseMissing(_missing_message(path, held_before=held_before)) from None
        self.identity = (found.st_dev, found.st_ino)

    def check(self) -> None:
        """DatabaseGone, naming the path and what to do, unless the path is still the file first opened."""
        try:
            found = self.path.stat()
        except FileNotFoundError:
            raise DatabaseGone(
                f"edibot's database file {self.path} was deleted while edibot was running, so edibot has "
                "stopped using it: nothing is saved until it is back. Put the file back from a backup and "
                "restart edibot; to start afresh with an empty database instead, stop edibot, run "
                "`edibot init`, and start it again."
            ) from None
        except OSError as error:
            raise DatabaseGone(
                f"edibot's database file {self.path} can't be reached ({error.strerror}), so edibot has "
                "stopped using it: nothing is saved until it can. Restart edibot once the file is back."
            ) from None
        if (found.st_dev, found.st_ino) != self.identity:
            raise DatabaseGone(
                f"edibot's database file {self.path} was replaced by another file while edibot was running, "
                "so edibot has stopped using it rather than write to the wrong one. Restart edibot to use "
                "the file that is there now."
            )

    def before_connect(self, _dialect: Any, _record: Any, cargs: list[Any], cparams: dict[str, Any]) -> None:
        self.check()
        # Read-write, never create: a SQLite connection to a missing file would otherwise make an empty one.
        cargs[0] = f"file:{quote(str(self.path))}?mode=rw"
        cparams["uri"] = True

    def before_begin(self, _connection: Any) -> None:
        self.check()


_GUARDS: WeakKeyDictionary[Engine, _FileGuard] = WeakKeyDictionary()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config  # noqa: PLC0415 — see the imports above

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


class SchemaTooNew(Exception):
    """The database was upgraded by a newer edibot, whose schema this one must not guess at; the message says
    what to do."""


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration; an empty database is created from nothing.

    SchemaTooNew when the database is at a revision this edibot does not know (a newer one upgraded it).

    On PostgreSQL, under an advisory lock: replicas started together upgrade one after another, and each one
    after the first finds the schema at head and does nothing (without the lock, two would race to create
    the same tables and one would fail to start). SQLite has one writer at a time already.
    """
    if _at_head(engine):
        return  # every start after an upgrade: nothing to migrate, and Alembic not imported
    if engine.dialect.name != "postgresql":
        _upgrade_to_head(engine)
        return
    with engine.connect() as holder:
        holder.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        holder.commit()  # a session-level lock: it outlives this transaction, until unlocked below
        try:
            _upgrade_to_head(engine)
        finally:
            holder.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
            holder.commit()


def _upgrade_to_head(engine: Engine) -> None:
    from alembic import command  # noqa: PLC0415 — see the imports above
    from alembic.runtime.migration import MigrationContext  # noqa: PLC0415
    from alembic.script import ScriptDirectory  # noqa: PLC0415
    from alembic.util.exc import CommandError  # noqa: PLC0415

    config = alembic_config(engine)
    try:
        command.upgrade(config, "head")
    except CommandError:
        script = ScriptDirectory.from_config(config)
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
        if current is None or current in {step.revision for step in script.walk_revisions()}:
            raise
        raise SchemaTooNew(
            f"edibot's database is at schema revision {current}, which this edibot does not know (it knows "
            f"revisions up to {script.get_current_head()}): a newer edibot upgraded it. Run that newer "
            "edibot; to go back to this one, restore a backup made before the upgrade into an empty database."
        ) from None


def schema_current(engine: Engine) -> bool:
    """Whether the database's schema is at the newest migration this edibot knows (for /readyz)."""
    with engine.connect() as connection:
        current = set(connection.scalars(text("SELECT version_num FROM alembic_version")))
    return current == schema_heads()


_REVISION = re.compile(r"^(down_)?revision\s*(?::[^=]*)?=\s*(.*)$", re.MULTILINE)


@cache
def schema_heads() -> frozenset[str]:
    """The newest migrations this edibot knows (one, unless two branches are yet to be merged): the revisions
    no other names as its `down_revision`, read from the migration files as Alembic would find them."""
    revisions: set[str] = set()
    below: set[str] = set()
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        for down, value in _REVISION.findall(path.read_text(encoding="utf-8")):
            (below if down else revisions).update(re.findall(r"[\"']([^\"']+)[\"']", value))
    heads = frozenset(revisions - below)
    if not heads:  # files this reading doesn't understand: let Alembic read them (tests compare the two)
        from alembic.config import Config  # noqa: PLC0415 — see the imports above
        from alembic.script import ScriptDirectory  # noqa: PLC0415

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        heads = frozenset(ScriptDirectory.from_config(config).get_heads())
    return heads


def _at_head(engine: Engine) -> bool:
    """The schema needs no migration: the database records exactly the newest revisions this edibot knows."""
    with engine.connect() as connection:
        return _recorded(connection) == schema_heads()


def _recorded(connection: Connection) -> set[str]:
    if not inspect(connection).has_table("alembic_version"):
        return set()  # a new, empty database
    return set(connection.scalars(text("SELECT version_num FROM alembic_version")))


def prepare_sqlite_file(path: Path, *, create: Create) -> bool:
    """True if a new, empty database file was made at `path`; DatabaseMissing where `create` forbids one."""
    marker = path.parent / MARKER
    if not path.exists():
        held_before = marker.exists()
        if create == "never" or (create == "first-run" and held_before):
            raise DatabaseMissing(_missing_message(path, held_before=held_before))
        try:
            create_private_file(path)
        except FileExistsError:
            pass  # another edibot made it a moment ago: use that one
        else:
            _mark(marker, path)
            return True
    if not marker.exists():
        _mark(marker, path)  # a database older than the marker: from now on, losing it is noticed too
    return False


def _missing_message(path: Path, *, held_before: bool) -> str:
    if held_before:
        return (
            f"edibot's database {path} is missing, though this folder has held one ({path.parent / MARKER} "
            "says so): it may have been deleted or moved, or the disk holding it isn't mounted. edibot "
            "won't start on an empty database by itself. Put the file back (from a backup), or point "
            "EDIBOT_DATA_DIR or DATABASE_URL at it; to start afresh with an empty database, run "
            "`edibot init`."
        )
    return (
        f"edibot has no database at {path} yet, and won't start on an empty one by itself. Create it with "
        "`edibot init` (or by importing a plan: `edibot import PLAN`), then start edibot again."
    )


def _mark(marker: Path, path: Path) -> None:
    if not marker.exists():
        create_private_file(marker)
    marker.write_text(
        f"edibot keeps its database in this folder ({path.name}). While this file is here, edibot will not\n"
        "make a new, empty database in this folder by itself: if the database goes missing, it stops and\n"
        "says so. `edibot init` makes a new one on purpose.\n",
        encoding="utf-8",
    )


class Database:
    """The one place sessions are opened."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self.created = False  # Database.open made a new, empty database file

    @classmethod
    def open(cls, url: str, *, migrate: bool = True, create: Create = "first-run") -> Database:
        """The database at `url`, its schema brought up to date; a missing SQLite file is made only as
        `create` allows."""
        path = sqlite_path(url)
        try:
            created = path is not None and prepare_sqlite_file(path, create=create)
        except OSError as error:
            raise unusable_folder(path or Path(), error) from None
        engine = make_engine(url)
        try:
            if migrate or created:
                upgrade(engine)  # the first connection: a server that is down is said here, in one sentence
        except (OperationalError, InterfaceError) as error:
            engine.dispose()
            raise unreachable(url, error) from None
        database = cls(engine)
        database.created = created
        return database

    def check(self) -> None:
        """DatabaseGone if the SQLite file this database opened was deleted or replaced (PostgreSQL: nothing
        to check)."""
        guard = _GUARDS.get(self.engine)
        if guard is not None:
            guard.check()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed if the block finishes, rolled back if it raises."""
        with self._sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
