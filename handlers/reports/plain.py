"""The report as plain text for committee papers: CSV (the action table, every cell safe from formula
injection) and Markdown (the summary, overdue by owner, what changed, and the action table)."""

from __future__ import annotations

import csv
import io

from handlers.reports.cells import (
    CHANGE_HEADERS,
    action_columns,
    change_row,
    neutralised,
    owners_text,
    rating,
    standing,
)
from storage.digests import BUCKET_NAMES, BUCKETS
from storage.reports import ReportFacts


def report_csv(facts: ReportFacts) -> str:
    """One row per action under the workbook's headers, so the CSV re-imports as the workbook does."""
    columns = action_columns(facts)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([column.header for column in columns])
    for action in facts.actions:
        writer.writerow([neutralised(column.value(action)) for column in columns])
    return buffer.getvalue()


def _md(text: str) -> str:
    """Text safe inside a Markdown table cell: no pipe ends the cell, no line break ends the row, and no
    character starts markup of its own."""
    text = " ".join(text.split())
    for special in "\\`*_[]<>|#":
        text = text.replace(special, "\\" + special)
    return text


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(_md(cell) for cell in row) + " |" for row in rows]
    return lines


def report_markdown(facts: ReportFacts) -> str:
    scope = f" · theme: {facts.theme}" if facts.theme else ""
    lines = [
        f"# {_md(facts.plan_name)}: progress report",
        "",
        f"As of {facts.as_of:%-d %B %Y}{_md(scope)}. Changes listed since {facts.since:%-d %B %Y}.",
        "",
        "## Summary",
        "",
    ]
    total = len(facts.actions)
    if not total:
        lines += [f"No actions on {facts.as_of:%-d %B %Y}.", ""]
    else:
        counts = ", ".join(f"{BUCKET_NAMES[b]} {facts.counts[b]}" for b in BUCKETS if facts.counts[b])
        lines += [f"{total} actions ({counts}); {facts.overdue} overdue.", ""]
        lines += ["## Progress by theme", ""]
        lines += _table(
            ["Theme", *(BUCKET_NAMES[b] for b in BUCKETS), "All"],
            [[name, *(str(c[b]) for b in BUCKETS), str(sum(c.values()))] for name, c in facts.by_theme],
        )
        lines += ["", "## Overdue by owner", ""]
        if facts.overdue_by_owner:
            lines += _table(
                ["Owner", "Overdue", "Actions"],
                [
                    [owner, str(len(found)), ", ".join(f"{a.ref} ({a.overdue_days}d)" for a in found)]
                    for owner, found in facts.overdue_by_owner
                ],
            )
        else:
            lines += ["Nothing overdue."]
        lines.append("")
    lines += [f"## What changed since {facts.since:%-d %B %Y}", ""]
    if facts.changes:
        lines += _table(list(CHANGE_HEADERS), [change_row(change) for change in facts.changes])
    else:
        lines += ["Nothing changed in that time."]
    lines += ["", "## Actions", ""]
    if facts.actions:
        lines += _table(
            ["Ref", "Action", "Owners", "Deadline", "Rating", "Latest note"],
            [
                [
                    a.ref,
                    a.title,
                    owners_text(a),
                    " ".join(filter(None, [a.deadline_text or "No date", standing(a)])),
                    rating(a),
                    a.note or "",
                ]
                for a in facts.actions
            ],
        )
    else:
        lines += ["None."]
    return "\n".join(lines) + "\n"
