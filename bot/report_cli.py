"""`edibot report PLAN`: a plan's progress report as of a day, written to a file as HTML (with charts), XLSX,
CSV or Markdown.

Only typer and the formats' names are imported here: `edibot report --help` reads this command's signature,
and the database and the report builders (charts, workbooks) load only when it runs.
"""

from __future__ import annotations

import sys
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from handlers.report_formats import FORMATS

if TYPE_CHECKING:
    from bot.cli import Context


def _fail(message: str) -> typer.Exit:
    print(message, file=sys.stderr)
    return typer.Exit(1)


def _day(option: str, written: str | None) -> date | None:
    if written is None:
        return None
    try:
        return date.fromisoformat(written.strip())
    except ValueError:
        raise _fail(f"{option}: '{written}' is not a date such as 2025-11-03.") from None


def report_command(
    ctx: typer.Context,
    plan: Annotated[str, typer.Argument(help="The plan's name, as `edibot plans` lists it.")],
    form: Annotated[
        str, typer.Option("--format", help=f"One of {', '.join(FORMATS)}.", show_default=True)
    ] = "html",
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="The plan as it stood at the end of this day (YYYY-MM-DD).")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            help="List the changes from this day on (YYYY-MM-DD); default four weeks before --as-of."
        ),
    ] = None,
    theme: Annotated[str | None, typer.Option(help="Only the themes whose name holds this.")] = None,
    out: Annotated[
        Path | None, typer.Option(help="The file to write (default: PLAN-DATE.FORMAT in this folder).")
    ] = None,
) -> None:
    """A plan's progress report for a board or committee: as of any day, rebuilt from its history."""
    from handlers.errors import CommandError  # noqa: PLC0415 — see the module docstring
    from handlers.reports import build_report, report_format  # noqa: PLC0415

    context: Context = ctx.obj
    zone = context.now.tzinfo
    try:
        wanted = report_format(form)
    except CommandError as error:
        raise _fail(f"--format: {error}") from None
    day = _day("--as-of", as_of)
    # The end of the day asked for (a moment before midnight), or now for today.
    moment = context.now if day is None or day == context.today else datetime.combine(day, time.max, zone)
    start = _day("--since", since)
    since_moment = datetime.combine(start, time.min, zone) if start else None
    with context.database.session() as session:
        try:
            facts, made = build_report(
                session,
                plan_name=plan,
                form=wanted,
                as_of=moment,
                now=context.now,
                since=since_moment,
                theme=theme,
            )
        except CommandError as error:
            raise _fail(str(error)) from None
    target = out if out is not None else Path(made.name)
    target.write_bytes(made.content)  # a folder that isn't there or can't be written: one sentence (cli.py)
    print(
        f"Wrote {target} ({len(made.content):,} bytes): {facts.plan_name} as of {facts.as_of:%-d %B %Y}, "
        f"{len(facts.actions)} actions, {facts.overdue} overdue, {len(facts.changes)} changes since "
        f"{facts.since:%-d %B %Y}."
    )
