"""Finds each table in a plan's rows by its header row, and settles what each of its columns holds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

from storage.importing.errors import ColumnMappingError
from storage.importing.headers import (
    DATE_LIKE_NAMES,
    Column,
    Role,
    looks_like_header,
    map_columns,
    normalise_header,
    unrecognised_message,
)
from storage.importing.sources import SourceDocument, SourceRow
from storage.rules.deadlines import interpret_deadline
from storage.rules.rag import parse_rag


class TableSpan(NamedTuple):
    """One table: the prose and one-cell rows just above its header (its headings), the header, its rows."""

    preamble: Sequence[SourceRow]
    header: SourceRow
    body: Sequence[SourceRow]


def find_tables(document: SourceDocument, *, overrides: Mapping[str, str] | None = None) -> list[TableSpan]:
    """Every table of the document in reading order, or ColumnMappingError when no row looks like a header."""
    rows = document.rows
    header_at = [
        i
        for i, row in enumerate(rows)
        if not row.is_prose and looks_like_header(row.cells, overrides=overrides)
    ]
    if not header_at:
        candidates = [row.cells for row in rows if not row.is_prose and len(row.nonempty()) >= 2]
        raise ColumnMappingError(unrecognised_message(candidates, document.name))
    spans: list[TableSpan] = []
    for number, start in enumerate(header_at):
        end = header_at[number + 1] if number + 1 < len(header_at) else len(rows)
        preamble_start = _preamble_start(rows, start, floor=header_at[number - 1] + 1 if number else 0)
        body_end = _preamble_start(rows, end, floor=start + 1) if end < len(rows) else end
        spans.append(TableSpan(rows[preamble_start:start], rows[start], rows[start + 1 : body_end]))
    return spans


def _is_heading_like(row: SourceRow) -> bool:
    return row.is_prose or len(row.nonempty()) <= 1


def _preamble_start(rows: Sequence[SourceRow], header: int, *, floor: int) -> int:
    """Where the run of prose and one-cell rows just above a header begins (its headings, its intro)."""
    start = header
    while start > floor and _is_heading_like(rows[start - 1]):
        start -= 1
    return start


def table_columns(
    header: SourceRow,
    body: Sequence[SourceRow],
    *,
    previous: Sequence[Column] | None,
    overrides: Mapping[str, str],
) -> list[Column]:
    """The columns of a table with their roles: named by the header, else taken from the table before
    (`previous`) or recognised from the cells of its rows (`body`, prose left out)."""
    columns = map_columns(header.cells, overrides=overrides)
    columns = _fill_blank_headers(columns, body, previous=previous)
    columns = _dated_column_as_deadline(columns, body, overrides=overrides)
    return _demote_sparse_action(columns, body, previous=previous)


def _mostly_dates(values: Sequence[str]) -> bool:
    values = [value for value in values if value]
    dated = sum(1 for value in values if interpret_deadline(value).kind != "unknown")
    return len(values) >= 2 and dated * 10 >= len(values) * 6


def _dated_column_as_deadline(
    columns: list[Column], body: Sequence[SourceRow], *, overrides: Mapping[str, str]
) -> list[Column]:
    """With no deadline column, a "Target", "Completion" or "Review date" column of dates is the deadline."""
    if any(c.role == "deadline" for c in columns):
        return columns
    mapped = {normalise_header(header) for header in overrides.values()}
    for column in columns:
        if column.role not in (None, "outputs", "progress") or normalise_header(column.header) in mapped:
            continue
        if DATE_LIKE_NAMES.search(normalise_header(column.header)) and _mostly_dates(
            [row.cell(column.index) for row in body]
        ):
            return [Column(c.index, c.header, "deadline") if c is column else c for c in columns]
    return columns


def _fill_blank_headers(
    columns: list[Column], body: Sequence[SourceRow], *, previous: Sequence[Column] | None
) -> list[Column]:
    """A column with no header takes its role from the table before, or from what its cells hold."""
    claimed = {c.role for c in columns if c.role}
    filled: list[Column] = []
    for column in columns:
        if column.role is None and column.header.startswith("Column "):
            guess = _guess_role(column, body, claimed, previous=previous)
            if guess is not None:
                role, level = guess
                column = Column(column.index, column.header, role, level)
                claimed.add(role)
        filled.append(column)
    return filled


def _guess_role(
    column: Column, body: Sequence[SourceRow], claimed: set[Role], *, previous: Sequence[Column] | None
) -> tuple[Role, str | None] | None:
    if previous is not None and column.index < len(previous):
        before = previous[column.index]
        if before.role is not None and before.role not in claimed:
            return before.role, before.level
    values = [row.cell(column.index) for row in body]
    values = [value for value in values if value]
    if len(values) < 2:
        return None
    if "deadline" not in claimed and _mostly_dates(values):
        return "deadline", None
    rated = sum(1 for value in values if parse_rag(value))
    if "rag" not in claimed and rated * 10 >= len(values) * 6:
        return "rag", None
    return None


def _demote_sparse_action(
    columns: list[Column], body: Sequence[SourceRow], *, previous: Sequence[Column] | None = None
) -> list[Column]:
    """A "What" column written once per several "How" rows is an objective; the How rows are the actions.

    (Local Trust's plan: What | How | Who | When, with What merged down over its Hows.)
    """
    action = next((c for c in columns if c.role == "action"), None)
    how = next((c for c in columns if c.role in ("how", "description")), None)
    if action is None or how is None or any(c.role == "title" for c in columns):
        return columns
    rows = [row for row in body if row.cell(how.index)]
    if len(rows) < 3:
        # Too few rows to tell: a table under the same header as the one before reads as that one did.
        if not _demoted_before(previous, action, how):
            return columns
        rows = []
    # Blank in a text extract, repeated where a Word or Excel merge copied it down: either way, "same as
    # above".
    repeated = sum(
        1
        for before, row in zip([None, *rows], rows, strict=False)
        if not row.cell(action.index)
        or (before is not None and before.cell(action.index) == row.cell(action.index))
    )
    if rows and repeated * 4 < len(rows):
        return columns
    demoted: list[Column] = []
    for column in columns:
        if column is action:
            column = Column(column.index, column.header, "group", "objective")
        elif column is how:
            column = Column(column.index, column.header, "action")
        demoted.append(column)
    return demoted


def _demoted_before(previous: Sequence[Column] | None, action: Column, how: Column) -> bool:
    """Whether the table before, under the same headers, read its What column as the objective."""
    if previous is None or max(action.index, how.index) >= len(previous):
        return False
    was_action, was_how = previous[action.index], previous[how.index]
    return (was_action.header, was_action.role) == (action.header, "group") and (
        was_how.header,
        was_how.role,
    ) == (how.header, "action")
