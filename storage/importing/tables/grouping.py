"""Keeps what groups a plan's actions: the headings above a table and the grouping cells carried down its
rows."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from storage.importing.headers import Column
from storage.importing.sources import SourceRow
from storage.rules.deadlines import interpret_deadline

HEADING_MAX = 150
LABELLED_HEADING_MAX = 400
# A title alone in a row, no longer than this and not a sentence, heads the rows below it.
_ROW_HEADING_MAX = 100
_LABEL = re.compile(
    r"^(theme|objective|priority|pillar|outcome|aim|goal|focus|section)\s*\d*\s*[:\-–]\s*", re.IGNORECASE
)

# How broad a grouping is, by the name its column or heading gives it: a theme or pillar holds objectives, an
# objective holds commitments. "area" is a column named Area, Strand, Workstream, Domain, Aim or Goal.
_BREADTH = {
    "theme": 0,
    "pillar": 0,
    "focus": 0,
    "priority": 0,
    "area": 0,
    "objective": 1,
    "outcome": 1,
    "aim": 1,
    "goal": 1,
    "commitment": 2,
}

Headings = list[tuple[str, str]]  # (level, value), outermost first


# What a plan's title says of itself: "<Council> EDI Action Plan 2024-28", "Equality Strategy", "… 2027".
_TITLE_WORDS = re.compile(
    r"\b(?:plan|strategy|framework|programme|scheme|edi|equality|diversity|inclusion)\b|\b(?:19|20)\d\d\b",
    re.IGNORECASE,
)


_NUMBERED = re.compile(r"^(?:\d+[.)]?|[IVX]+[.)]|[A-Z][.)])\s")


def plan_title(preamble: Sequence[SourceRow]) -> SourceRow | None:
    """The heading over the whole plan, when the rows above its first table open with one: the plan's name,
    never a theme. It is the first of those rows, short, unlabelled and unnumbered (not "1. Leadership"),
    and says what it is ("<Council> EDI Action Plan 2024-28", "Equality Strategy 2027")."""
    rows = [row for row in preamble if row.nonempty()]
    if not rows:
        return None
    first = rows[0]
    text = " ".join(first.nonempty()).lstrip("# ").strip()
    if (
        len(text) > HEADING_MAX
        or "\n" in text
        or text.endswith((":", "."))
        or _LABEL.match(text)
        or _NUMBERED.match(text)
        or not _TITLE_WORDS.search(text)
    ):
        return None
    return first


def title_text(row: SourceRow) -> str:
    return " ".join(row.nonempty()).lstrip("# ").strip()


def breadth(level: str | None) -> int:
    """How broad a grouping level is: 0 for a theme or pillar, more for the levels that sit inside one."""
    return _BREADTH.get(level or "", 1)


def headings_over(headings: Headings, columns: Sequence[Column]) -> Headings:
    """The headings above a table that group its rows: only those broader than every grouping column of its
    own.

    A heading between tables is a theme only for a table with no grouping column at that level: a table's own
    Theme or Pillar column is its theme, so "Part A" above it groups nothing; an Objective or Commitments
    column sits under the theme heading above it (Local Trust's sections over their What objectives,
    Maidstone's "As an Employer" over its commitments) and takes the place of an "Objective:" heading.
    """
    own = [breadth(column.level) for column in columns if column.role == "group"]
    if not own:
        return headings
    return [(level, value) for level, value in headings if breadth(level) < min(own)]


def headings_above(preamble: Sequence[SourceRow]) -> Headings | None:
    """The headings the rows above a table give it (theme, objective, …); None when they give none, so
    a table under a repeated header keeps the headings of the table before."""
    found: dict[str, str] = {}
    for row in preamble:
        text = " ".join(row.nonempty())
        labelled = bool(_LABEL.match(text))
        # An "Objective: …" row may run long; an unlabelled heading is short and one line.
        too_long = len(text) > (LABELLED_HEADING_MAX if labelled else HEADING_MAX)
        if not text or text.startswith("#") or too_long or ("\n" in text and not labelled):
            continue
        if text.endswith(":") and not labelled:
            continue
        level, value = heading_level(text)
        if level == "theme":
            found = {"theme": value}  # the nearest unlabelled heading wins; deeper ones restart
        else:
            found[level] = value
    return list(found.items()) if found else None


def heading_level(text: str) -> tuple[str, str]:
    """A heading's level and text: "Objective 2: Fair pay" is ("objective", "Fair pay"); unlabelled is a
    theme."""
    match = _LABEL.match(text)
    if match:
        level = match.group(1).casefold()
        return ("theme" if level == "section" else level), text[match.end() :].strip()
    return "theme", text


def with_heading(headings: Headings, text: str, *, unlabelled: str = "theme") -> Headings:
    """The headings after a heading row inside a table: a theme starts afresh, a deeper level replaces its
    own. Under a grouping column of the table's own, an unlabelled heading row is a `unlabelled` ("section")
    inside the column's group, not a theme over it."""
    level, value = heading_level(text)
    if level == "theme":
        level = unlabelled
    if level == unlabelled or not headings:
        return [(level, value)]
    return [*[h for h in headings if h[0] != level], (level, value)]


def is_row_heading(
    cells: Sequence[str],
    *,
    columns: Sequence[Column],
    title_column: Column,
    data_cells: Sequence[tuple[Column, str]],
    carried: dict[int, str],
) -> bool:
    """Whether a row holding only a short title, with no new grouping cell, heads the rows below it."""
    title_text = cells[title_column.index]
    return (
        len(data_cells) == 1
        and data_cells[0][0] is title_column
        and not any(
            cells[c.index] and cells[c.index] != carried.get(c.index)
            for c in columns
            if c.role in ("group", "context")
        )
        and len(title_text) <= _ROW_HEADING_MAX
        and not title_text.endswith(".")
    )


def carry(cells: Sequence[str], columns: Sequence[Column], carried: dict[int, str]) -> None:
    """Grouping cells left blank mean "same as above", as merged cells do; a new value resets those right of
    it."""
    for column in columns:
        if column.role not in ("group", "context"):
            continue
        value = cells[column.index]
        if value and carried.get(column.index) != value:
            carried[column.index] = value
            for deeper in columns:
                later = deeper.index > column.index and deeper.role in ("group", "context")
                if later and not cells[deeper.index]:
                    carried.pop(deeper.index, None)


def group_path(
    headings: Headings,
    columns: Sequence[Column],
    carried: dict[int, str],
    *,
    inner: Sequence[tuple[str, str]] = (),
) -> Headings:
    """Where a row sits: the headings above its table, the grouping cells carried down to it, then the
    heading rows written inside its group (`inner`)."""
    path = list(headings)
    for column in columns:
        if column.role == "group" and carried.get(column.index):
            path.append((column.level or "group", carried[column.index]))
    return [*path, *inner]


def groups_of(columns: Sequence[Column], carried: Mapping[int, str]) -> list[str]:
    """The grouping cells a row sits under, one a grouping column."""
    return [carried.get(column.index, "") for column in columns if column.role == "group"]


def with_context(cells: Sequence[str], columns: Sequence[Column], carried: dict[int, str]) -> list[str]:
    """A row's cells with its blank context cells ("current position") filled from the rows above."""
    filled = list(cells)
    for column in columns:
        if column.role == "context" and not filled[column.index]:
            filled[column.index] = carried.get(column.index, "")
    return filled


# A reference on its own ("7", "WB-1") is a row that lost its cells, not a heading.
_REF_ALONE = re.compile(r"^[A-Za-z]{0,4}[-.]?\d+(?:[.-]\d+)*[a-z]?$")


def spanning_heading(cells: Sequence[str], *, columns: Sequence[Column], title_column: Column) -> str | None:
    """The text of a row written across the whole table from a Ref column left of its action column
    ("Workforce" merged over Ref | Action | Lead …, or one cell and blanks in a CSV): a heading for the rows
    below it. None for any other row: a name alone under Who, a date alone, a reference alone."""
    if not cells or not cells[0] or title_column.index == 0 or any(cells[1:]):
        return None
    if columns[0].role not in ("ref", None):
        return None
    text = cells[0]
    if (
        len(text) > HEADING_MAX
        or "\n" in text
        or text.endswith(".")
        or _REF_ALONE.match(text)
        or interpret_deadline(text).kind != "unknown"
    ):
        return None
    return text
