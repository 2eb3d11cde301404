"""The operator's commands: `edibot doctor` (is everything edibot needs working?), and `edibot backup FILE` /
`edibot restore FILE` (the whole database to one JSON Lines file and back, into an empty SQLite or PostgreSQL
database).

Only typer is imported here: `edibot --help` reads these commands' signatures, and the database, Alembic and
the platforms' SDKs load only when one of them runs.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from bot.cli import Context
    from storage.backup import Summary


def _fail(message: str) -> typer.Exit:
    print(message, file=sys.stderr)
    return typer.Exit(1)


def edibot_version() -> str:
    """The installed edibot's version (its package metadata)."""
    try:
        return metadata.version("edibot")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "(not installed)"


def backup(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The backup file to write (a new one), e.g. edibot.jsonl.")],
    include_feedback: Annotated[
        bool,
        typer.Option(
            "--include-feedback", help="Include anonymous staff feedback (left out unless asked for)."
        ),
    ] = False,
) -> None:
    """Write the whole database to one new file: plans, actions, people, history, subscriptions, settings.

    The file is JSON Lines, readable only by you; edibot may keep running meanwhile (the file is one
    consistent snapshot). The database is read as it is, never upgraded first. Slack tokens stay encrypted:
    keep EDIBOT_SECRET_KEY to restore them.
    """
    from storage.backup import BackupError, write_backup  # noqa: PLC0415 — see the module docstring
    from storage.db import Database, create_private_file  # noqa: PLC0415

    context: Context = ctx.obj
    if file.exists() or file.is_symlink():
        raise _fail(f"{file} is already there; choose a new file name (a backup never overwrites one).")
    # Read as it is, never upgraded first: the backup before an upgrade is the one worth having.
    database = Database.open(context.settings.effective_database_url, migrate=False, create="never")
    partial = file.with_name(file.name + ".partial")
    try:
        partial.unlink(missing_ok=True)
        create_private_file(partial)  # personal data: this user only, from the first byte
        with partial.open("w", encoding="utf-8", newline="\n") as out:
            summary = write_backup(
                database,
                out,
                created_at=context.now,
                edibot_version=edibot_version(),
                include_feedback=include_feedback,
            )
            out.flush()
            os.fsync(out.fileno())
        partial.rename(file)  # a backup is either whole under its name or not there at all
    except BackupError as error:
        partial.unlink(missing_ok=True)
        raise _fail(str(error)) from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        database.dispose()
    feedback = "included" if include_feedback else "not included"
    print(
        f"Backed up {_counts(summary)} to {file} (anonymous feedback {feedback}), at schema revision "
        f"{summary.header.schema_revision}."
    )


def restore(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A file `edibot backup` wrote.")],
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Restore into a database that holds data: everything in it is replaced by the backup's.",
        ),
    ] = False,
) -> None:
    """Load a backup into an empty database: DATABASE_URL's, or the SQLite file in EDIBOT_DATA_DIR.

    Stop edibot first. The whole file is checked before anything changes, and it is loaded in one
    transaction: a damaged file changes nothing. A backup from an older edibot is brought up to date after.
    """
    from storage.backup import BackupError, restore_backup  # noqa: PLC0415 — see the module docstring
    from storage.db import Database  # noqa: PLC0415

    context: Context = ctx.obj
    if not file.is_file():
        raise _fail(f"There is no backup file at {file}: check the path.")
    database = Database.open(context.settings.effective_database_url, migrate=False, create="if-missing")
    try:
        summary = restore_backup(database, file, now=context.now, replace=force)
    except BackupError as error:
        raise _fail(str(error)) from None
    finally:
        database.dispose()
    print(
        f"Restored {_counts(summary)} from {file} (made by edibot {summary.header.edibot_version} at "
        f"{summary.header.created_at})."
    )


def _counts(summary: Summary) -> str:
    from bot.render import plural  # noqa: PLC0415

    rows = summary.rows
    people = rows.get("people", 0)
    return (
        f"{plural(rows.get('plans', 0), 'plan')}, {plural(rows.get('actions', 0), 'action')}, "
        f"{people} {'person' if people == 1 else 'people'} and "
        f"{plural(rows.get('history', 0), 'history entry').replace('entrys', 'entries')} "
        f"({plural(summary.total, 'row')} in {plural(len(rows), 'table')})"
    )


def doctor(ctx: typer.Context) -> None:
    """Check everything edibot needs, and say what is wrong and how to fix it.

    Settings, data folder, database, schema revision, Slack and Teams credentials (when configured), the
    scheduler lock, clock and time zone data. Nothing is changed. Exit status 0 when everything configured
    works, 1 otherwise.
    """
    from bot.config import SettingsError  # noqa: PLC0415 — see the module docstring
    from bot.doctor import report_lines, run_checks  # noqa: PLC0415

    context = ctx.obj
    if isinstance(context, SettingsError):
        findings = run_checks(None, settings_error=str(context), now=datetime.now().astimezone())
    else:
        findings = run_checks(
            context.settings,
            settings_error=None,
            now=context.now,
            clock_fixed=context.fixed_now is not None,
        )
    for line in report_lines(findings):
        print(line)
    if not findings.healthy:
        raise typer.Exit(1)
