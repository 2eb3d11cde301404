"""Reads a PDF plan: the tables pdfplumber finds and the text lines around them, page by page."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pdfplumber
from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
from pdfminer.pdfpage import PDFPage
from pdfplumber.page import Page
from pdfplumber.pdf import PDF
from pdfplumber.table import Table as PdfTable
from pdfplumber.utils.clustering import cluster_objects
from pdfplumber.utils.exceptions import PdfminerException
from pdfplumber.utils.text import DEFAULT_Y_TOLERANCE, extract_words

from storage.importing.cleaning import build_row
from storage.importing.errors import PlanFileError
from storage.importing.limits import MAX_PDF_PAGES, Budget, too_large
from storage.importing.readers.common import unreadable_as
from storage.importing.readers.pdf_streams import check_page_content, check_streams
from storage.importing.sources import SourceRow

_NO_TABLES_ADVICE = (
    "has no tables I can read — it may be a scanned image or laid out as plain text; "
    "export the plan to XLSX or DOCX and import that"
)


@dataclass
class _PdfTable:
    """A table being read, perhaps over several pages."""

    index: int
    columns: int
    page: int
    rows_read: int = 0


def read_pdf(path: Path) -> list[SourceRow]:
    with unreadable_as(path, "a PDF", "export the plan to XLSX or DOCX and import that"):
        check_streams(path.read_bytes(), name=path.name)
        try:
            pdf = pdfplumber.open(path)
        except PdfminerException as exc:
            if exc.args and isinstance(exc.args[0], PDFPasswordIncorrect | PDFEncryptionError):
                raise PlanFileError(
                    f"'{path.name}' is password-protected; remove the password and import again."
                ) from exc
            raise
        with pdf:
            _check_pages(pdf, name=path.name)
            rows, table_count = _pdf_rows(pdf.pages, budget=Budget(path.name))
    if table_count == 0:
        raise PlanFileError(f"'{path.name}' {_NO_TABLES_ADVICE}.")
    return rows


def _check_pages(pdf: PDF, *, name: str) -> None:
    """Refuse a PDF of more than MAX_PDF_PAGES pages, or with a page whose instructions are too many,
    before any page is read."""
    for count, page in enumerate(PDFPage.create_pages(pdf.doc), start=1):
        if count > MAX_PDF_PAGES:
            raise too_large(
                name, found=f"it has more than {MAX_PDF_PAGES:,} pages", limit=f"{MAX_PDF_PAGES:,} pages"
            )
        check_page_content(page, name=name, number=count)


def _pdf_rows(pages: Sequence[Page], *, budget: Budget) -> tuple[list[SourceRow], int]:
    """Every page's text lines and table rows, and how many tables there were."""
    rows: list[SourceRow] = []
    table: _PdfTable | None = None
    table_count = 0
    for page in pages:
        where = f"page {page.page_number}"
        first_on_page = True
        for kind, item in _page_in_reading_order(page, page.find_tables()):
            if kind == "line":
                budget.row(where=where)
                prose = build_row([item["text"]], line=item["number"], table=None, where=where)
                if prose is not None:
                    rows.append(prose)
                continue
            values = _pdf_table_values(item)
            columns = max((len(cells) for cells in values), default=0)
            # The first table on a page with as many columns as the last one on the page before
            # is that table running on; a repeated header row is the consumer's business.
            runs_on = table is not None and first_on_page and table.page == page.page_number - 1
            if table is None or not runs_on or table.columns != columns:
                table = _PdfTable(index=table_count, columns=columns, page=page.page_number)
                table_count += 1
            table.page = page.page_number
            first_on_page = False
            for cells in values:
                budget.row(len(cells), where=where)
                table.rows_read += 1
                row = build_row(cells, line=table.rows_read, table=table.index, where=where)
                if row is not None:
                    rows.append(row)
        page.close()  # drops the page's parsed objects; long plans would otherwise pile them up
    return rows, table_count


def _page_in_reading_order(page: Page, tables: list[PdfTable]) -> list[tuple[str, Any]]:
    """The page's tables and the text lines outside them, top to bottom."""
    boxes = [table.bbox for table in tables]

    def outside_tables(obj: dict[str, Any]) -> bool:
        if obj.get("object_type") != "char":
            return True
        x, y = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
        return not any(x0 <= x <= x1 and top <= y <= bottom for x0, top, x1, bottom in boxes)

    lines = page.filter(outside_tables).extract_text_lines()
    items: list[tuple[float, str, Any]] = [
        (line["top"], "line", {"text": line["text"], "number": number})
        for number, line in enumerate(lines, start=1)
    ]
    items.extend((table.bbox[1], "table", table) for table in tables)
    items.sort(key=lambda item: item[0])
    return [(kind, item) for _, kind, item in items]


def _pdf_table_values(table: PdfTable) -> list[list[str]]:
    """Cell text row by row; a cell covered by a merge above repeats that cell's text, one
    covered by a merge to its left stays ""."""
    cells = _pdf_cells(table)
    justified = _is_justified(cell for row in cells for cell in row if cell is not None)
    values = [["" if cell is None else cell.text(justified=justified) for cell in row] for row in cells]
    boxes = [row.cells for row in table.rows]
    for row_index, row_boxes in enumerate(boxes):
        for column, box in enumerate(row_boxes):
            if box is not None or row_index == 0:
                continue
            origin = _covering_cell_above(boxes, row_index=row_index, column=column)
            if origin is not None:
                values[row_index][column] = values[origin][column]
    return values


# Where a cell's text went onto a new line, the PDF keeps no record of whether its author broke
# the line or the line wrapped at the cell's edge; the geometry of the lines tells them apart.
# A space is taken as wide as Helvetica's and Arial's (0.278 em; Times' and Calibri's are narrower).
_SPACE_EM = 0.278
# A line that would have taken the next line's first word with this much to spare ended by hand (pt).
_FIT_TOLERANCE = 1.0
# A line ending within this of the cell's text edge is flush with it (pt).
_FLUSH = 1.0
# Lines that start with one of these begin a new item of a list, never wrapped text.
_BULLETS = ("•", "·", "▪", "◦", "●", "○", "■", "□", "➢", "►", "✓", "\uf0b7")
# A line starting with one of these, as a word of its own, is a list item when another line of
# the cell starts with it too; one alone may be a wrapped "Q1 - Q2".
_DASHES = frozenset({"-", "–", "—", "*"})


_NAME_WORDS_MAX = 4


def _is_name(line: _PdfLine) -> bool:
    """Whether a line reads as one name or role: a few words, each capitalised ("HR Manager", "Comms
    Lead")."""
    return len(line.words) <= _NAME_WORDS_MAX and all(
        word[:1].isupper() or word == "&" for word in line.words
    )


@dataclass(frozen=True)
class _PdfLine:
    """One line of text in a table cell, with the geometry that tells a wrap from a line break."""

    words: tuple[str, ...]
    end: float  # x of the right end of its last word
    first_width: float  # width of its first word
    space: float  # width of a space in its type

    @staticmethod
    def of(words: Sequence[dict[str, Any]]) -> _PdfLine:
        first = words[0]
        return _PdfLine(
            words=tuple(word["text"] for word in words),
            end=max(word["x1"] for word in words),
            first_width=first["x1"] - first["x0"],
            space=_SPACE_EM * (first["bottom"] - first["top"]),
        )


@dataclass(frozen=True)
class _PdfCell:
    """The lines of one table cell and the x its text may run to: the cell's right edge less the
    padding that its text shows on the left."""

    lines: tuple[_PdfLine, ...]
    text_right: float
    upright: bool = True

    def text(self, *, justified: bool) -> str:
        """The cell's text: words of a line joined by spaces, wrapped lines joined again by a space,
        lines the author broke (and list items) by "\n"."""
        if not self.lines:
            return ""
        parts = [" ".join(self.lines[0].words)]
        for before, after in itertools.pairwise(self.lines):
            parts.append("\n" if self._broken(before, after, justified=justified) else " ")
            parts.append(" ".join(after.words))
        return "".join(parts)

    def _broken(self, before: _PdfLine, after: _PdfLine, *, justified: bool) -> bool:
        """Whether the author broke the line `before`, rather than it wrapping at the cell's edge."""
        if not self.upright:
            return True  # turned text: its lines run down the page, so keep pdfplumber's breaks
        first = after.words[0]
        if first.startswith(_BULLETS):
            return True
        if first in _DASHES and sum(1 for line in self.lines if line.words[0] == first) > 1:
            return True
        room = self.text_right - before.end
        # Text is wrapped word by word: had the next word fitted, it would be on this line.
        if before.space + after.first_width <= room - _FIT_TOLERANCE:
            return True
        # Owners one to a line ("HR Manager" / "Comms Lead"), as a Word cell holds them: within a point either
        # way the fit above cannot tell a wrap from a break, and between two names a break is the better
        # guess.
        if _is_name(before) and _is_name(after) and before.space + after.first_width <= room + _FIT_TOLERANCE:
            return True
        # A justified line is stretched to the edge, unless it ends its paragraph.
        return justified and len(before.words) > 1 and room > _FLUSH

    def flush_lines(self) -> tuple[int, int]:
        """How many lines of several words, other than the last, end flush with the text edge and
        how many end short of it."""
        flush = ragged = 0
        for line in self.lines[:-1]:
            if len(line.words) > 1:
                if self.text_right - line.end <= _FLUSH:
                    flush += 1
                else:
                    ragged += 1
        return flush, ragged


def _is_justified(cells: Iterable[_PdfCell]) -> bool:
    """Whether a table's text is justified: most lines of several words that wrapped end flush with
    the edge (in ragged text one in thirty or so does, by chance)."""
    flush = ragged = 0
    for cell in cells:
        more_flush, more_ragged = cell.flush_lines()
        flush += more_flush
        ragged += more_ragged
    return flush >= 3 and flush * 3 >= ragged


def _pdf_cells(table: PdfTable) -> list[list[_PdfCell | None]]:
    """Every cell of the table as lines of words, chosen as pdfplumber's Table.extract chooses
    their characters (those whose centre is in the cell) and grouped into lines as its
    extract_text groups them."""
    chars = table.page.chars
    cells: list[list[_PdfCell | None]] = []
    for row in table.rows:
        row_chars = [char for char in chars if _centre_in(char, row.bbox)]
        cells.append(
            [
                None if box is None else _pdf_cell(box, [char for char in row_chars if _centre_in(char, box)])
                for box in row.cells
            ]
        )
    return cells


def _centre_in(char: dict[str, Any], box: Sequence[float]) -> bool:
    x = (char["x0"] + char["x1"]) / 2
    y = (char["top"] + char["bottom"]) / 2
    x0, top, x1, bottom = box
    return bool(x0 <= x < x1 and top <= y < bottom)


def _pdf_cell(box: Sequence[float], chars: list[dict[str, Any]]) -> _PdfCell:
    words = extract_words(chars)
    lines = cluster_objects(words, "top", DEFAULT_Y_TOLERANCE)
    if not lines:
        return _PdfCell(lines=(), text_right=box[2])
    padding = max(0.0, min(word["x0"] for word in words) - box[0])
    return _PdfCell(
        lines=tuple(_PdfLine.of(line) for line in lines),
        text_right=box[2] - padding,
        upright=all(word["upright"] for word in words),
    )


def _covering_cell_above(boxes: Sequence[Sequence[Any]], *, row_index: int, column: int) -> int | None:
    """The row of the cell in `column` whose box reaches down over row `row_index`, if any."""
    row_top = next((box[1] for box in boxes[row_index] if box is not None), None)
    for above in range(row_index - 1, -1, -1):
        box = boxes[above][column] if column < len(boxes[above]) else None
        if box is not None:
            return above if row_top is not None and box[3] > row_top + 1 else None
    return None
