"""`edibot calendar`: list the diversity calendar by year and category, export it as an .ics file, and import
the organisation's own dates from one.

Only typer, rich and the calendar's category names are imported here: `edibot calendar --help` reads these
commands' signatures, and the calendar, its date rules and iCalendar load only when a command runs.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from storage.rules.observances.categories import CATEGORIES

if TYPE_CHECKING:
    from bot.cli import Context

calendar_app = typer.Typer(
    rich_markup_mode="markdown",
    help="The diversity calendar: list observances, export them as .ics, import your own dates.",
    no_args_is_help=True,
)
out = Console(soft_wrap=False)


def _fail(message: str) -> typer.Exit:
    print(message, file=sys.stderr)
    return typer.Exit(1)


def _category(category: str | None) -> list[str] | None:
    if category is None:
        return None
    if category.lower() not in CATEGORIES:
        raise _fail(
            f"--category: '{category}' is not a calendar category. Categories: {', '.join(CATEGORIES)}."
        )
    return [category.lower()]


@calendar_app.command("list")
def calendar_list(
    ctx: typer.Context,
    year: Annotated[
        int | None, typer.Option(help="The year to list (default: this year).", min=1990, max=2200)
    ] = None,
    category: Annotated[
        str | None, typer.Option(help=f"Only this category: {', '.join(CATEGORIES)}.")
    ] = None,
) -> None:
    """Every observance of a year, soonest first, with its dates as edibot says them."""
    from storage.observances import organisation_calendar  # noqa: PLC0415 — see the module docstring
    from storage.rules.observances.wording import when_text  # noqa: PLC0415

    context: Context = ctx.obj
    wanted = year or context.today.year
    with context.database.session() as session:
        found = organisation_calendar(session).in_year(wanted, categories=_category(category))
    if not found:
        out.print(f"No observances in {wanted}" + (f" in the {category} category." if category else "."))
        return
    table = Table(title=f"{len(found)} observances in {wanted}")
    for header in ("Starts", "Observance", "Category", "Tone", "When"):
        table.add_column(header)
    for dated in found:
        table.add_row(
            f"{dated.occurrence.start:%a %d %b}",
            escape(dated.observance.name),
            dated.observance.category,
            dated.observance.tone,
            escape(when_text(dated.observance, dated.occurrence)),
        )
    out.print(table)


@calendar_app.command("export")
def calendar_export(
    ctx: typer.Context,
    ics: Annotated[Path, typer.Option("--ics", help="The .ics file to write.")],
    year: Annotated[
        int | None, typer.Option(help="Only this year (default: this year and next).", min=1990, max=2200)
    ] = None,
) -> None:
    """Write the calendar as iCalendar: one all-day event per observance, for this year and next."""
    from storage.observance_ics import export_ics  # noqa: PLC0415 — see the module docstring
    from storage.observances import organisation_calendar  # noqa: PLC0415

    context: Context = ctx.obj
    years = [year] if year else [context.today.year, context.today.year + 1]
    with context.database.session() as session:
        calendar = organisation_calendar(session)
        dated = [item for wanted in years for item in calendar.in_year(wanted)]
    ics.write_bytes(export_ics(dated))
    shown = " and ".join(str(wanted) for wanted in years)
    out.print(f"Wrote {len(dated)} observances of {shown} to {escape(str(ics))}.", soft_wrap=True)


@calendar_app.command("import")
def calendar_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="An .ics file of the organisation's own dates.")],
) -> None:
    """Add the organisation's own dates from an .ics file; dates the calendar already has are left alone."""
    from storage.observance_ics import IcsError, import_ics  # noqa: PLC0415 — see the module docstring
    from storage.observances import organisation_calendar  # noqa: PLC0415

    context: Context = ctx.obj
    data = file.read_bytes()
    with context.database.session() as session:
        try:
            report = import_ics(session, data, known=organisation_calendar(session), now=context.now)
        except IcsError as error:
            raise _fail(f"{file}: {error}") from None
    out.print(
        f"{len(report.added)} dates added, {report.already} already in the calendar, "
        f"{len(report.problems)} skipped.",
        soft_wrap=True,
    )
    for added in report.added:
        out.print(f"  + {escape(added)}", soft_wrap=True)
    for problem in report.problems:
        out.print(f"  {escape(problem)}", soft_wrap=True)
