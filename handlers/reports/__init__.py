"""A plan's progress report as a file: HTML with charts, an XLSX workbook, CSV or Markdown, from one set of
facts (storage.reports.ReportFacts), for the command line and for chat alike."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.errors import CommandError
from handlers.reports.page import report_html
from handlers.reports.plain import report_csv, report_markdown
from handlers.reports.workbook import report_xlsx
from storage.models import Plan
from storage.reports import ReportFacts, ReportRefused, report_facts

ReportFormat = Literal["html", "xlsx", "csv", "md"]
FORMATS: Final[tuple[ReportFormat, ...]] = ("html", "xlsx", "csv", "md")
MEDIA_TYPES: Final[dict[ReportFormat, str]] = {
    "html": "text/html",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
    "md": "text/markdown",
}


@dataclass(frozen=True)
class ReportFile:
    """A report ready to save or send: its file name, its bytes and their media type."""

    name: str
    content: bytes
    media_type: str


def report_format(written: str) -> ReportFormat:
    """ "HTML", "xlsx", ".md" → the format; anything else is refused, naming the formats there are."""
    wanted = written.strip().lstrip(".").lower()
    wanted = {"markdown": "md", "excel": "xlsx", "htm": "html"}.get(wanted, wanted)
    for form in FORMATS:
        if form == wanted:
            return form
    raise CommandError(f"'{written}' is not a report format I make; choose one of {', '.join(FORMATS)}.")


def report_file(facts: ReportFacts, form: ReportFormat) -> ReportFile:
    """The report in this format, named after its plan and day ("northbridge-edi-plan-2025-11-03.html")."""
    if form == "html":
        content = report_html(facts).encode("utf-8")
    elif form == "xlsx":
        content = report_xlsx(facts)
    elif form == "csv":
        content = report_csv(facts).encode("utf-8-sig")  # the BOM: Excel reads it as UTF-8, not Windows-1252
    else:
        content = report_markdown(facts).encode("utf-8")
    return ReportFile(f"{file_stem(facts)}.{form}", content, MEDIA_TYPES[form])


def file_stem(facts: ReportFacts) -> str:
    slug = "".join(ch if ch.isalnum() else "-" for ch in facts.plan_name.casefold())
    slug = "-".join(part for part in slug.split("-") if part)[:60] or "plan"
    return f"{slug}-{facts.as_of:%Y-%m-%d}"


def build_report(
    session: Session,
    *,
    plan_name: str,
    form: ReportFormat,
    as_of: datetime,
    now: datetime,
    since: datetime | None = None,
    theme: str | None = None,
    plans: Sequence[Plan] | None = None,
) -> tuple[ReportFacts, ReportFile]:
    """The report of the plan called `plan_name` among `plans` (default: every plan), as it stood at `as_of`.

    An unknown plan, a date out of the plan's life or a theme it hasn't is a CommandError whose message names
    what there is instead."""
    known = list(plans) if plans is not None else list(session.scalars(select(Plan).order_by(Plan.name)))
    wanted = plan_name.strip().casefold()
    plan = next((p for p in known if p.name.casefold() == wanted), None)
    if plan is None:
        names = ", ".join(f"'{p.name}'" for p in known)
        raise CommandError(
            f"No plan is called '{plan_name}'. "
            + (f"The plans are {names}." if names else "There are no plans yet.")
        )
    try:
        facts = report_facts(session, plan, as_of=as_of, now=now, since=since, theme=theme)
    except ReportRefused as error:
        raise CommandError(str(error)) from None
    return facts, report_file(facts, form)
