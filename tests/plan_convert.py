"""Writes a plan read from a plain-text extract back out as the Word, Excel and CSV files such plans come in.

The published plans are tab-separated text extracts of Word documents. The extract flattens
what Word showed: a cell merged down over several rows is written once and left blank below,
a heading merged across a table is one cell with blanks after it, and page headers appear as
"## Appendix…" lines wherever a page broke. These writers put that structure back, so the
same plan can be imported from every format and the actions compared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont

from storage.importing.headers import looks_like_header
from storage.importing.readers import read_plan_file
from storage.importing.sources import SourceDocument, SourceRow
from storage.importing.tables import ParsedAction, ParsedPlan, interpret_document
from tests.builders import ABOVE, LEFT, Merged, Runs, Struck, Table, merge_regions, write_csv, write_docx

# The tags that start a new paragraph inside a cell of the extract, and those that strike text through.
_PARAGRAPH_TAGS = frozenset({"p", "br", "li", "div", "ul", "ol"})
_STRIKE_TAGS = frozenset({"del", "s", "strike"})

Cell = str | Struck | Runs | Merged


@dataclass(frozen=True)
class Paragraph:
    """Prose between tables: a title, a section heading, an introduction, a page header."""

    text: str

    @property
    def is_page_header(self) -> bool:
        return self.text.startswith("#")


@dataclass(frozen=True)
class Grid:
    """One table as Word would hold it: cell contents, with LEFT/ABOVE where a cell is merged."""

    rows: list[list[Cell]]


@dataclass(frozen=True)
class Layout:
    """A plan as a sequence of paragraphs and tables, in reading order."""

    blocks: list[Paragraph | Grid]
    width: int

    @property
    def grids(self) -> list[Grid]:
        return [block for block in self.blocks if isinstance(block, Grid)]


def layout_of(document: SourceDocument, *, merged_down: int = 1) -> Layout:
    """The tables and paragraphs of a text-extract plan, with its merges restored.

    - a table starts at every header row (with the headings merged across the rows just above
      it), and again after any prose: a page header between two halves of a table splits it;
    - columns empty in every table row (the leading tab of the cell-per-line layout) are dropped;
    - a row with one non-empty cell is merged across, from that cell to the table's right edge;
    - in the leftmost `merged_down` columns, a blank cell below a filled one is merged into it.
    """
    table_rows = [row for row in document.rows if not row.is_prose]
    used = [
        column
        for column in range(max((len(row.cells) for row in table_rows), default=0))
        if any(_at(row.cells, column) or _at(row.struck, column) for row in table_rows)
    ]
    blocks: list[Paragraph | Grid] = []
    current: list[SourceRow] = []

    def close_table() -> None:
        if current:
            blocks.append(_grid(current, used=used, merged_down=merged_down))
            current.clear()

    for row in document.rows:
        if row.is_prose:
            close_table()
            blocks.append(Paragraph(row.cells[0]))
            continue
        if looks_like_header(row.cells):
            # The headings merged across the top of a table ("As an Employer", "Objective: …") open it.
            titles = len(current)
            while titles and _is_spanning(current[titles - 1].cells):
                titles -= 1
            heading_rows = current[titles:]
            del current[titles:]
            close_table()
            current.extend(heading_rows)
        current.append(row)
    close_table()
    return Layout(blocks=blocks, width=len(used))


def _at(values: Sequence[str], index: int) -> str:
    return values[index] if index < len(values) else ""


def _is_spanning(cells: Sequence[str]) -> bool:
    return len(cells) > 1 and sum(1 for cell in cells if cell) == 1


def _grid(rows: Sequence[SourceRow], *, used: Sequence[int], merged_down: int) -> Grid:
    texts = [[_at(row.cells, column) for column in used] for row in rows]
    grid: list[list[Cell]] = [[_content(row, column) for column in used] for row in rows]
    for r, cells in enumerate(texts):
        if _is_spanning(cells):
            first = next(c for c, cell in enumerate(cells) if cell)
            for c in range(first + 1, len(cells)):
                grid[r][c] = LEFT
    for column in range(min(merged_down, len(used))):
        anchored = False  # whether the cell above can be merged down into
        for r, cells in enumerate(texts):
            header = looks_like_header(rows[r].cells)
            spans_here = _is_spanning(cells) and next(c for c, cell in enumerate(cells) if cell) <= column
            if header or spans_here:
                anchored = False
            elif cells[column]:
                anchored = True
            elif anchored:
                grid[r][column] = ABOVE
    return Grid(rows=grid)


def _content(row: SourceRow, column: int) -> str | Runs:
    """A cell's text, with struck-through phrases kept as struck runs where the extract marked them."""
    if not _at(row.struck, column):
        return _at(row.cells, column)
    parser = _StruckRuns()
    parser.feed(_at(row.raw, column))
    parser.close()
    return Runs(*parser.parts)


class _StruckRuns(HTMLParser):
    """Turns a cell's HTML into runs: text, or Struck text; "\\n" where a paragraph starts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str | Struck] = []
        self._depth = 0

    def _add(self, text: str) -> None:
        if self._depth:
            self.parts.append(Struck(text))
        elif self.parts and isinstance(self.parts[-1], str):
            self.parts[-1] += text
        else:
            self.parts.append(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _STRIKE_TAGS:
            self._depth += 1
        elif tag in _PARAGRAPH_TAGS:
            self._add("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _STRIKE_TAGS:
            self._depth = max(0, self._depth - 1)
        elif tag in _PARAGRAPH_TAGS:
            self._add("\n")

    def handle_data(self, data: str) -> None:
        self._add(data)


def _plain(cell: Cell) -> str:
    """A cell's text without its struck-through runs: CSV has no formatting to mark them with, so
    whoever saves a plan as CSV deletes them (and write_pdf writes plain text only)."""
    if isinstance(cell, Runs):
        return "".join(part for part in cell.parts if isinstance(part, str)).strip()
    return cell if isinstance(cell, str) else ""


def _padded(grid: Grid, width: int) -> list[list[Cell]]:
    return [[*row, *([""] * (width - len(row)))] for row in grid.rows]


# ---------------------------------------------------------------- writers


def write_plan_docx(layout: Layout, path: Path) -> Path:
    """The plan as the council's Word document: paragraphs, and tables with merged cells."""
    blocks: list[str | Table] = [
        block.text if isinstance(block, Paragraph) else Table(_padded(block, layout.width))
        for block in layout.blocks
    ]
    return write_docx(path, blocks)


def write_plan_xlsx(layout: Layout, path: Path) -> Path:
    """The plan on one worksheet: prose in column A above each table, merged ranges as in Word.

    A spreadsheet has no pages, so the page headers that the Word extract repeats ("## Appendix…")
    are left out; a row that a page break split in two stays two rows, as someone pasting the
    document into Excel would get.
    """
    workbook = openpyxl.Workbook()
    sheet: Any = workbook.active
    sheet.title = "Action plan"
    row_number = 1
    for block in layout.blocks:
        if isinstance(block, Paragraph):
            if not block.is_page_header:
                sheet.cell(row=row_number, column=1, value=block.text)
                row_number += 1
            continue
        rows = _padded(block, layout.width)
        for r, row in enumerate(rows):
            for c, cell in enumerate(row):
                value = _xlsx_value(cell)
                if value:
                    sheet.cell(row=row_number + r, column=c + 1, value=value)
        for first_row, first_col, last_row, last_col in merge_regions(rows):
            sheet.merge_cells(
                start_row=row_number + first_row,
                start_column=first_col + 1,
                end_row=row_number + last_row,
                end_column=last_col + 1,
            )
        row_number += len(rows)
    workbook.save(path)
    return path


def _xlsx_value(cell: Cell) -> str | CellRichText:
    """A cell as Excel holds it: struck-through phrases as struck runs of rich text, like Word's."""
    if not isinstance(cell, Runs):
        return cell if isinstance(cell, str) else ""
    struck = InlineFont(strike=True)
    return CellRichText(
        [TextBlock(struck, part.text) if isinstance(part, Struck) else part for part in cell.parts]
    )


def write_plan_csv(layout: Layout, path: Path) -> Path:
    """The plan's table rows as a CSV: no prose, no merges, blank cells left blank."""
    rows: list[list[str]] = []
    for grid in layout.grids:
        rows.extend([_plain(cell) for cell in row] for row in _padded(grid, layout.width))
    return write_csv(path, rows)


# The PDF core fonts cover Latin-1 only; typographic punctuation is written in its plain form.
_LATIN_1 = str.maketrans({"–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "...", "•": "·"})


def pdf_table(layout: Layout, index: int) -> list[list[Cell]]:
    """One table of the plan as rows for `write_pdf`: merges kept, plain Latin-1 text."""
    return [
        [cell if isinstance(cell, Merged) else _plain(cell).translate(_LATIN_1) for cell in row]
        for row in _padded(layout.grids[index], layout.width)
    ]


FORMATS = ("docx", "xlsx", "csv")
_WRITERS = {"docx": write_plan_docx, "xlsx": write_plan_xlsx, "csv": write_plan_csv}


def reimported(document: SourceDocument, *, fmt: str, folder: Path) -> ParsedPlan:
    """The plan of a text extract written out as a `fmt` file, then read and interpreted again."""
    path = _WRITERS[fmt](layout_of(document), folder / f"{Path(document.name).stem}.{fmt}")
    return interpret_document(read_plan_file(path))


# ---------------------------------------------------------------- comparing


def essentials(action: ParsedAction) -> tuple[object, ...]:
    """What a plan owner sees of an action once imported: what, under which headings, who, when, how it's
    going."""
    deadline = action.deadline
    return (
        action.title,
        tuple(action.group_path),
        tuple(action.owners),
        (deadline.kind, deadline.start, deadline.due, deadline.recurrence),
        action.rag,
    )


def essentials_without_prose(action: ParsedAction, document: SourceDocument) -> tuple[object, ...]:
    """The essentials less the headings that came from prose between tables, which a CSV cannot hold."""
    prose = {row.cells[0] for row in document.rows if row.is_prose}
    title, _, *rest = essentials(action)
    return (title, tuple((level, value) for level, value in action.group_path if value not in prose), *rest)
