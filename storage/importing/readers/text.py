"""Reads a TXT plan: the tab-separated plain-text extract of a Word plan, split into table rows and prose
rows.

Two layouts exist in the wild. In the row-per-line layout every line holding a tab is
one table row. In the cell-per-line layout every cell starts on its own line with a
leading tab, a cell may run on over untabbed lines (blank ones included), and rows are
separated by a blank line.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from storage.importing.cleaning import build_row
from storage.importing.limits import Budget, check_rows
from storage.importing.readers.common import read_text
from storage.importing.sources import SourceRow

# Share of tabbed lines that must be a single leading tab for the cell-per-line layout.
_CELL_PER_LINE_SHARE = 0.8
# Rows narrower than this are headings, never the header a table's width is taken from.
_NARROWEST_HEADER = 3


def read_txt(path: Path) -> list[SourceRow]:
    return rows_from_text_extract(read_text(path), name=path.name)


def rows_from_text_extract(text: str, *, name: str) -> list[SourceRow]:
    """All rows of a text extract in reading order; every table row is in table 0. `name` is the
    file's, for saying which file is too large."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    check_rows(name, len(lines))
    budget = Budget(name)
    if is_cell_per_line(lines):
        return _cell_per_line_rows(lines, budget=budget)
    return _row_per_line_rows(lines, budget=budget)


def is_cell_per_line(lines: Sequence[str]) -> bool:
    """Whether nearly every tabbed line is a single tab followed by one cell's text."""
    tabbed = [line for line in lines if "\t" in line]
    if not tabbed:
        return False
    single = sum(1 for line in tabbed if line.startswith("\t") and line.count("\t") == 1)
    return single / len(tabbed) >= _CELL_PER_LINE_SHARE


def _prose_row(line: str, number: int) -> SourceRow | None:
    return build_row([line], line=number, table=None)


def _row_per_line_rows(lines: Sequence[str], *, budget: Budget) -> list[SourceRow]:
    rows: list[SourceRow] = []
    for number, line in enumerate(lines, start=1):
        budget.row(line.count("\t") + 1, where=f"line {number:,}")
        row = build_row(line.split("\t"), line=number, table=0) if "\t" in line else _prose_row(line, number)
        if row is not None:
            rows.append(row)
    return rows


@dataclass
class _Group:
    """Lines from one tabbed line up to the next blank line that is followed by a tabbed line."""

    first_line: int
    cells: list[list[str]]

    @property
    def size(self) -> int:
        return len(self.cells)


def _cell_per_line_rows(lines: Sequence[str], *, budget: Budget) -> list[SourceRow]:
    first_tabbed = next(index for index, line in enumerate(lines) if line.startswith("\t"))
    prose = (_prose_row(line, number) for number, line in enumerate(lines[:first_tabbed], start=1))
    rows = [row for row in prose if row is not None]
    groups = _groups(lines, start=first_tabbed)
    width = _table_width(groups)
    for merged in _merge_split_rows(groups, width=width):
        raw = ["", *(_cell_text(cell) for group in merged for cell in group.cells)]
        budget.row(len(raw), where=f"line {merged[0].first_line:,}")
        row = build_row(raw, line=merged[0].first_line, table=0)
        if row is not None:
            rows.append(row)
    return rows


def _groups(lines: Sequence[str], *, start: int) -> list[_Group]:
    groups: list[_Group] = []
    previous_blank = False
    for number, line in enumerate(lines[start:], start=start + 1):
        if line.startswith("\t"):
            if previous_blank or not groups:
                groups.append(_Group(first_line=number, cells=[]))
            groups[-1].cells.append([line[1:]])
        else:
            groups[-1].cells[-1].append(line)
        # "\t" alone is an empty cell, not a blank line.
        previous_blank = not line.strip() and not line.startswith("\t")
    return groups


def _cell_text(lines: list[str]) -> str:
    """A cell's lines joined, without the blank lines that separate it from the next row."""
    end = len(lines)
    while end > 1 and not lines[end - 1].strip():
        end -= 1
    return "\n".join(lines[:end])


def _table_width(groups: Sequence[_Group]) -> int:
    """The number of cells in a full row: the most common size of the wider groups."""
    sizes = Counter(group.size for group in groups if group.size >= _NARROWEST_HEADER)
    return sizes.most_common(1)[0][0] if sizes else 0


def _merge_split_rows(groups: Sequence[_Group], *, width: int) -> list[list[_Group]]:
    """Rejoin rows that a blank line inside a cell split into consecutive groups.

    Consecutive groups are joined only when their sizes add up to exactly the table
    width, so one-cell heading rows stay on their own.
    """
    merged: list[list[_Group]] = []
    index = 0
    while index < len(groups):
        end, total = index, groups[index].size
        while total < width and end + 1 < len(groups):
            end += 1
            total += groups[end].size
        if end > index and total == width:
            merged.append(list(groups[index : end + 1]))
            index = end + 1
        else:
            merged.append([groups[index]])
            index += 1
    return merged
