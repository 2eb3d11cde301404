"""What a report says in each cell, written once for every format: a rating, a deadline's standing, owners,
and a spreadsheet cell made safe from formula injection."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from storage.digests import BUCKET_NAMES
from storage.reports import ReportAction, ReportChange, ReportFacts

# A cell a spreadsheet would run as a formula starts with one of these (OWASP's CSV injection list; a tab or
# carriage return before one still counts in some readers). Such a cell is written with a leading quote.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(text: str) -> str:
    """The text as a spreadsheet shows it and never runs it: "=HYPERLINK(…)" → "'=HYPERLINK(…)"."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def rating(action: ReportAction) -> str:
    """Its bucket as a word: Red, Amber, Green, Done, Not rated."""
    return BUCKET_NAMES[action.bucket]


def standing(action: ReportAction) -> str:
    """Overdue by how long, or nothing."""
    days = action.overdue_days
    if days is None:
        return ""
    return f"Overdue {days} day{'s' if days != 1 else ''}"


def owners_text(action: ReportAction) -> str:
    return "; ".join(action.owners)


def due_text(action: ReportAction) -> str:
    return f"{action.due_date:%d %b %Y}" if action.due_date else ""


def change_text(change: ReportChange) -> str:
    """ "rating: amber → red", "added", "owners: HR Manager → EDI Lead"."""
    if change.field == "added":
        return "added"
    if change.field == "archived":
        return "archived" if change.to_value == "yes" else "back in the plan"
    before = change.from_value or "none"
    after = change.to_value or "none"
    if change.field == "status":
        return "marked done" if change.to_value == "done" else "reopened"
    return f"{change.field}: {before} → {after}"


# The RAG cell as the importer reads it back: a done action's blue is written "Complete".
_RAG_CELL = {"red": "Red", "amber": "Amber", "green": "Green", "blue": "Complete"}


def rag_cell(action: ReportAction) -> str:
    return _RAG_CELL.get(action.rag or "", "")


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[ReportAction], str]
    width: int  # characters, for the workbook


def action_columns(facts: ReportFacts) -> list[Column]:
    """The action table of the workbook and the CSV: the plan's own columns first, under headers the importer
    recognises (so an edited export re-imports into the same actions), then whether it is overdue. No other
    column holds a date: the importer would take a date beside a deadline it can't read for the deadline.

    The reference is the plan's own where it has one (as its file wrote it, so re-importing matches by it),
    else edibot's. The grouping columns are the plan's levels (Theme, Objective…); description, how and
    outputs appear when any action has them, since a re-import without the column would empty them.
    """
    columns = [Column("Ref", lambda a: a.source_ref or a.ref, 10)]
    for index, level in enumerate(facts.group_levels):
        columns.append(Column(level.capitalize(), _group_value(index), 28))
    columns.append(Column("Action", lambda a: a.title, 50))
    for header, get in (("Description", _description), ("How", _how), ("Outputs", _outputs)):
        if any(get(action) for action in facts.actions):
            columns.append(Column(header, get, 40))
    columns += [
        Column("Owner", owners_text, 28),
        Column("Deadline", lambda a: a.deadline_text or "", 16),
        Column("RAG", rag_cell, 11),
        Column("Progress", lambda a: a.note or "", 50),
        Column("Standing", standing, 18),
    ]
    return columns


def _group_value(index: int) -> Callable[[ReportAction], str]:
    return lambda action: action.group[index][1] if index < len(action.group) else ""


def _description(action: ReportAction) -> str:
    return action.description or ""


def _how(action: ReportAction) -> str:
    return action.how or ""


def _outputs(action: ReportAction) -> str:
    return action.outputs or ""


CHANGE_HEADERS = ("When", "Ref", "Action", "Change", "By", "Note")


def change_row(change: ReportChange) -> list[str]:
    return [
        change.at.date().isoformat(),
        change.ref,
        change.title,
        change_text(change),
        change.actor,
        change.note or "",
    ]
