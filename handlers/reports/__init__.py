"""A plan's progress report as a file: HTML with charts, an XLSX workbook, CSV or Markdown, from one set of
facts (storage.reports.ReportFacts), for the command line and for chat alike."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.errors import CommandError
from handlers.messages import Attachment, Reply, ReportRequest, Text
from handlers.report_formats import FORMATS as FORMATS  # re-exported: known by this package's name too
from handlers.report_formats import ReportFormat as ReportFormat
from handlers.reports.page import report_html
from handlers.reports.plain import report_csv, report_markdown
from storage.models import Plan
from storage.reports import ReportFacts, ReportRefused, report_facts

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
        # openpyxl (and, through the importer's keywords, the DOCX and PDF readers) is imported only when a
        # workbook is made: `edibot run` imports this package for reports sent in chat, and would otherwise
        # hold about 25 MB of them in every process from the start (docs/performance.md, memory).
        from handlers.reports.workbook import report_xlsx  # noqa: PLC0415

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


def build_report_facts(
    session: Session,
    *,
    plan_name: str,
    as_of: datetime,
    now: datetime,
    since: datetime | None = None,
    theme: str | None = None,
    plans: Sequence[Plan] | None = None,
) -> ReportFacts:
    """The facts of the plan called `plan_name` among `plans` (default: every plan), as it stood at `as_of`.

    An unknown plan, a date out of the plan's life or a theme it hasn't is a CommandError whose message names
    what there is instead."""
    known = list(plans) if plans is not None else list(session.scalars(select(Plan).order_by(Plan.name)))
    wanted = plan_name.strip().casefold()
    plan = next((p for p in known if p.name.casefold() == wanted), None)
    if plan is None:
        names = ", ".join(f"'{p.name}'" for p in known)
        if plans is not None:  # someone in chat: a restricted plan they can't see is as good as not there
            raise CommandError(
                f"No plan you can see is called '{plan_name}'. "
                + (f"The plans you can see: {names}." if names else "You can't see any plans yet.")
            )
        raise CommandError(
            f"No plan is called '{plan_name}'. "
            + (f"The plans are {names}." if names else "There are no plans yet.")
        )
    try:
        return report_facts(session, plan, as_of=as_of, now=now, since=since, theme=theme)
    except ReportRefused as error:
        raise CommandError(str(error)) from None


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
    """build_report_facts, and the report made of them in `form`."""
    facts = build_report_facts(
        session, plan_name=plan_name, as_of=as_of, now=now, since=since, theme=theme, plans=plans
    )
    return facts, report_file(facts, form)


# The largest report sent in chat. Slack takes far bigger files, but a report is read in a meeting: a plan
# whose report passes this is better made with `edibot report` and shared as the organisation shares files.
MAX_CHAT_REPORT_BYTES = 5 * 1024 * 1024


def report_request(facts: ReportFacts, form: ReportFormat) -> ReportRequest:
    """The recipe of a report file to send with a message (made at sending time by attach_report)."""
    return ReportRequest(
        plan=facts.plan_name,
        form=form,
        as_of=facts.as_of.isoformat(),
        since=facts.since.isoformat(),
        theme=facts.theme,
    )


def attach_report(session: Session, reply: Reply) -> Reply:
    """The reply with its report file made and attached, when it asks for one.

    A report that can no longer be made (its plan renamed or gone since it was asked for) or that has grown
    past MAX_CHAT_REPORT_BYTES is not sent: the message says so instead, and how to make it."""
    wanted = reply.report
    if wanted is None or reply.files:
        return reply
    as_of = datetime.fromisoformat(wanted.as_of)
    command = f'`edibot report "{wanted.plan}" --format {wanted.form} --as-of {as_of:%Y-%m-%d}`'
    try:
        _, made = build_report(
            session,
            plan_name=wanted.plan,
            form=report_format(wanted.form),
            as_of=as_of,
            now=as_of,
            since=datetime.fromisoformat(wanted.since),
            theme=wanted.theme,
        )
    except CommandError as error:
        return replace(reply, blocks=[*reply.blocks, Text(f"I couldn't make the report after all: {error}")])
    if len(made.content) > MAX_CHAT_REPORT_BYTES:
        too_big = (
            f"The report file would be {_size(len(made.content))}, more than the "
            f"{_size(MAX_CHAT_REPORT_BYTES)} I send in chat; an admin can make it with {command}."
        )
        return replace(reply, blocks=[*reply.blocks, Text(too_big)])
    title = f"{wanted.plan}: progress report, {as_of:%-d %B %Y}"
    return replace(reply, files=[Attachment(made.name, made.media_type, made.content, title)])


def _size(count: int) -> str:
    """ "48 KB", "5.2 MB": a file's size as people say it."""
    if count >= 1024 * 1024:
        return f"{count / 1024 / 1024:.1f} MB".replace(".0 MB", " MB")
    return f"{max(1, round(count / 1024))} KB"
