"""Reads an XLSX plan: each visible sheet's cells streamed from its XML, as the plan owner sees them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple, cast

import openpyxl
from lxml import etree  # type: ignore[import-untyped]
from openpyxl.cell.rich_text import TextBlock
from openpyxl.styles.numbers import BUILTIN_FORMATS, BUILTIN_FORMATS_MAX_SIZE
from openpyxl.utils.cell import column_index_from_string, range_boundaries
from openpyxl.utils.datetime import from_excel, from_ISO8601

from storage.importing.cleaning import build_row
from storage.importing.errors import PlanFileError
from storage.importing.limits import (
    MAX_CELLS,
    MAX_COLUMNS,
    MAX_MERGED_RANGES,
    MAX_ROWS,
    check_cells,
    check_rows,
    too_large,
)
from storage.importing.readers.common import CellText, check_package, row_of_texts, unreadable_as
from storage.importing.sources import SourceRow

# An edibot report's workbook says so in its keywords; its plan is on its first sheet alone (the others,
# what changed and a summary with charts, are about the plan, not in it), so re-importing an edited report
# updates the plan it came from without reading the other sheets as more actions.
REPORT_KEYWORDS = "edibot report"


def read_xlsx(path: Path) -> list[SourceRow]:
    rows: list[SourceRow] = []
    advice = "open it in Excel, save it again as .xlsx and import that"
    with unreadable_as(path, "an Excel workbook", advice):
        # openpyxl reads the package (sheets, styles, shared strings with their rich text, the date
        # epoch) in read_only mode, where building a cell object per cell is left to the caller; the
        # cells themselves are streamed from the sheet's XML here, which is several times faster and
        # also gives the merged ranges that read_only mode does not offer.
        check_package(path)
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True, rich_text=True)
        try:
            styles = _cell_styles(workbook)
            visible = [sheet for sheet in workbook.worksheets if sheet.sheet_state == "visible"]
            if workbook.properties.keywords == REPORT_KEYWORDS:
                visible = visible[:1]
            budget = _Budget(path.name)
            for index, sheet in enumerate(visible):
                found, merged = _sheet_cells(workbook, sheet, styles, budget)
                _spread_merges(found, merged, budget, title=sheet.title)
                rows.extend(_sheet_rows(found, budget, index=index, title=sheet.title))
        finally:
            workbook.close()
    return rows


class _CellStyle(NamedTuple):
    """What a cell's style (an index into the workbook's cellXfs) says about reading its value."""

    struck: bool = False
    date: bool = False
    timedelta: bool = False
    percent: bool = False


_PLAIN_STYLE = _CellStyle()


def _cell_styles(workbook: Any) -> list[_CellStyle]:
    """Every cell style of the workbook, looked at once rather than for each cell that uses it."""
    fonts = workbook._fonts
    formats = workbook._number_formats
    styles: list[_CellStyle] = []
    for index, style in enumerate(workbook._cell_styles):
        number_format = style.numFmtId
        if number_format < BUILTIN_FORMATS_MAX_SIZE:
            code = BUILTIN_FORMATS.get(number_format, "General")
        else:
            code = formats[number_format - BUILTIN_FORMATS_MAX_SIZE]
        font = fonts[style.fontId] if style.fontId < len(fonts) else None
        styles.append(
            _CellStyle(
                struck=bool(font is not None and font.strike),
                date=index in workbook._date_formats,
                timedelta=index in workbook._timedelta_formats,
                percent="%" in code,
            )
        )
    return styles


_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW_TAG = _MAIN_NS + "row"
_CELL_TAG = _MAIN_NS + "c"
_VALUE_TAG = _MAIN_NS + "v"
_INLINE_TAG = _MAIN_NS + "is"
_MERGE_TAG = _MAIN_NS + "mergeCell"
_INLINE_TEXT = f"{_MAIN_NS}is/{_MAIN_NS}t"

# A sheet cell: its text, or (when any of it is struck through) its text split three ways.
_SheetCell = str | CellText
_MergedRange = tuple[int, int, int, int]  # first row, first column, last row, last column (1-based)


class _Budget:
    """What the sheets read so far have used of the file's bounds: a workbook's size on disk says little
    about its grid (one value at XFD1048576 makes a grid of 17 billion cells), so every sheet counts
    what it reads, and the grid is kept sparse: only cells that hold something are stored."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.rows = 0  # <row> elements read
        self.cells = 0  # <c> elements read
        self.merged = 0  # merged ranges declared
        self.laid_out = 0  # cells of the grid laid out, merged cells included

    def read_row(self) -> None:
        self.rows += 1
        if self.rows > MAX_ROWS:
            check_rows(self.name, self.rows)

    def merge(self) -> None:
        self.merged += 1
        if self.merged > MAX_MERGED_RANGES:
            raise too_large(
                self.name,
                found=f"it declares more than {MAX_MERGED_RANGES:,} merged ranges",
                limit=f"{MAX_MERGED_RANGES:,} merged ranges",
            )

    def lay_out(self, cells: int) -> None:
        self.laid_out += cells
        check_cells(self.name, self.laid_out)

    def place(self, *, row: int, column: int = 1, title: str) -> None:
        """Refuse a value placed beyond the rows or columns a plan may have."""
        if row > MAX_ROWS:
            raise too_large(
                self.name, found=f"sheet '{title}' has a value in row {row:,}", limit=f"{MAX_ROWS:,} rows"
            )
        if column > MAX_COLUMNS:
            raise too_large(
                self.name,
                found=f"sheet '{title}' has a value in column {column:,}",
                limit=f"{MAX_COLUMNS:,} columns",
            )


# The cells of a sheet that hold something, by row and then column (both from 1).
_SparseGrid = dict[int, dict[int, _SheetCell]]


def _sheet_cells(
    workbook: Any, sheet: Any, styles: Sequence[_CellStyle], budget: _Budget
) -> tuple[_SparseGrid, list[_MergedRange]]:
    """The sheet's cells that hold something, as the plan owner reads them, and its merged ranges."""
    shared: Sequence[Any] = sheet._shared_strings
    epoch = workbook.epoch
    title = sheet.title
    found: _SparseGrid = {}
    merged: list[_MergedRange] = []
    row_number = 0
    columns: dict[str, int] = {}
    with workbook._archive.open(sheet._worksheet_path) as source:
        # Cells are taken as they are parsed, not with their row: a row of millions of cells is never
        # held whole.
        parser = etree.iterparse(
            source,
            events=("start", "end"),
            tag=(_ROW_TAG, _CELL_TAG, _MERGE_TAG),
            resolve_entities=False,
            no_network=True,
        )
        cells: dict[int, _SheetCell] | None = None
        column = 0
        for event, element in parser:
            tag = element.tag
            if tag == _CELL_TAG:
                if event == "start":
                    continue
                budget.cells += 1
                if budget.cells > MAX_CELLS:
                    check_cells(budget.name, budget.cells)
                coordinate = element.get("r")
                if coordinate:
                    letters = coordinate.rstrip("0123456789")
                    column = columns.get(letters) or columns.setdefault(
                        letters, column_index_from_string(letters)
                    )
                    number = int(coordinate[len(letters) :])
                else:
                    column += 1
                    number = row_number
                style_id = element.get("s")
                style = styles[int(style_id)] if style_id and int(style_id) < len(styles) else _PLAIN_STYLE
                # The commonest cell by far, as openpyxl writes strings: plain text in its cell.
                whole = (
                    None
                    if style.struck or element.get("t") != "inlineStr"
                    else element.findtext(_INLINE_TEXT)
                )
                if whole:
                    value: _SheetCell = whole.replace("x005F_", "") if "x005F_" in whole else whole
                else:
                    value = _xml_cell(element, style, shared, epoch)
                element.clear(keep_tail=True)
                while element.getprevious() is not None:
                    del element.getparent()[0]
                if not value:
                    # An empty cell stores nothing, but empties one written earlier at its place.
                    if number in found:
                        found[number].pop(column, None)
                    continue
                if number == row_number:
                    # The commonest case: checked once a row, and a column only when it is far out.
                    if cells is None:
                        budget.place(row=row_number, title=title)
                        cells = found.setdefault(row_number, {})
                    if column > MAX_COLUMNS:
                        budget.place(row=row_number, column=column, title=title)
                    cells[column] = value
                else:
                    budget.place(row=number, column=column, title=title)
                    found.setdefault(number, {})[column] = value
            elif tag == _ROW_TAG:
                if event == "start":
                    written_row = element.get("r")
                    row_number = (
                        _row_number(written_row, name=budget.name, title=title)
                        if written_row
                        else row_number + 1
                    )
                    cells = None
                    column = 0
                    continue
                budget.read_row()
                element.clear(keep_tail=True)
                while element.getprevious() is not None:
                    del element.getparent()[0]
            elif event == "end":
                budget.merge()
                first_column, first_row, end_column, end_row = range_boundaries(element.get("ref"))
                merged.append((first_row, first_column, end_row, end_column))
    return found, merged


def _row_number(written: str, *, name: str, title: str) -> int:
    """A row's number as the sheet writes it: digits only (openpyxl also takes "3.0", and "1e12")."""
    if not (written.isascii() and written.isdigit()):
        shown = written[:20].encode("unicode_escape").decode("ascii")
        raise PlanFileError(
            f"'{name}' is damaged: sheet '{title}' numbers a row '{shown}', which is not a row number; "
            "open it in Excel, save it again as .xlsx and import that."
        )
    return int(written)


def _xml_cell(cell: Any, style: _CellStyle, shared: Sequence[Any], epoch: Any) -> _SheetCell:
    """One <c> element's value as openpyxl (data_only, rich_text) would give it, as the owner sees it."""
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        inline = cell.find(_INLINE_TAG)
        return "" if inline is None else _inline_string(inline, cell_struck=style.struck)
    text = cell.findtext(_VALUE_TAG)
    if not text:
        return ""
    if kind == "s":
        value = shared[int(text)]
        if isinstance(value, str):
            return CellText(raw=value, kept="", struck=value) if value and style.struck else value
        return _rich_text_cell(value, cell_struck=style.struck)
    shown: str
    if kind == "n":
        number = float(text) if "." in text or "e" in text or "E" in text else int(text)
        if style.date:
            try:
                shown = _display(from_excel(number, epoch, timedelta=style.timedelta), percent=False)
            except (OverflowError, ValueError):
                shown = "#VALUE!"
        else:
            shown = _display(number, percent=style.percent)
    elif kind == "b":
        shown = "TRUE" if int(text) else "FALSE"
    elif kind == "d":
        shown = _display(from_ISO8601(text), percent=False)
    else:  # "str" (a formula's text), "e" (an error such as #N/A)
        shown = text
    if style.struck:
        return CellText(raw=shown, kept="", struck=shown)
    return shown


def _spread_merges(
    found: _SparseGrid, merged: Sequence[_MergedRange], budget: _Budget, *, title: str
) -> None:
    """Merged cells as every format reads them: a merge's text repeats down its first column; every other
    cell of it is empty. A merge with nothing in it only empties, so it is followed only where cells are."""
    for first_row, first_column, end_row, end_column in merged:
        top_left = found.get(first_row, {}).get(first_column, "")
        if top_left:
            budget.place(row=end_row, column=first_column, title=title)
            rows: Sequence[int] = range(first_row, end_row + 1)
        elif end_row - first_row < len(found):
            rows = [row for row in range(first_row, end_row + 1) if row in found]
        else:
            rows = [row for row in found if first_row <= row <= end_row]
        budget.lay_out(sum(len(found.get(row, ())) + 1 for row in rows))
        for row in rows:
            cells = found.setdefault(row, {}) if top_left else found[row]
            for column in [column for column in cells if first_column < column <= end_column]:
                del cells[column]
            if top_left:
                cells[first_column] = top_left
            else:
                cells.pop(first_column, None)


def _sheet_rows(found: _SparseGrid, budget: _Budget, *, index: int, title: str) -> list[SourceRow]:
    """The sheet's rows that hold something, each as wide as the sheet's used area."""
    numbers = sorted(number for number, cells in found.items() if cells and number >= 1)
    width = max((_used_width(found[number]) for number in numbers), default=0)
    budget.lay_out(len(numbers) * width)
    rows: list[SourceRow] = []
    where = f"sheet '{title}'"
    for number in numbers:
        values = found[number]
        used = [values.get(column, "") for column in range(1, width + 1)]
        if CellText not in map(type, used):
            row = build_row(cast("list[str]", used), line=number, table=index, where=where)
        else:
            texts = [CellText(value, value, "") if isinstance(value, str) else value for value in used]
            row = row_of_texts(texts, line=number, table=index, where=where)
        if row is not None:
            rows.append(row)
    return rows


def _used_width(values: dict[int, _SheetCell]) -> int:
    """The rightmost column of a row whose cell shows some text."""
    return max(
        (
            column
            for column, value in values.items()
            if (value if isinstance(value, str) else value.raw).strip()
        ),
        default=0,
    )


_TEXT_TAG = _MAIN_NS + "t"
_RUN_TAG = _MAIN_NS + "r"
_RUN_FONT_TAG = _MAIN_NS + "rPr"
_STRIKE_TAG = _MAIN_NS + "strike"


def _inline_string(inline: Any, *, cell_struck: bool) -> _SheetCell:
    """A string written in its cell (<is>), read as openpyxl's CellRichText.from_tree reads it, without
    building its objects: one <t> is the whole text, otherwise each run (<r>) is struck when its own
    font (<rPr>) says so, or, having no font of its own, when the cell's font is."""
    whole = inline.findtext(_TEXT_TAG)
    if whole:
        text = whole.replace("x005F_", "")
        return CellText(raw=text, kept="", struck=text) if cell_struck else text
    runs: list[tuple[str, bool]] = []
    for run in inline.iterchildren(_RUN_TAG):
        text = (run.findtext(_TEXT_TAG) or "").replace("x005F_", "")
        font = run.find(_RUN_FONT_TAG)
        runs.append((text, cell_struck if font is None else _struck_run(font)))
    if not any(struck for _, struck in runs):
        return "".join(text for text, _ in runs)
    return CellText.from_runs(runs)


def _struck_run(font: Any) -> bool:
    strike = font.find(_STRIKE_TAG)
    # openpyxl's reading of a boolean attribute: absent means true, and only these spellings are false.
    return strike is not None and strike.get("val") not in ("false", "f", "0")


def _rich_text_cell(value: Any, *, cell_struck: bool) -> _SheetCell:
    """Rich text (openpyxl's CellRichText): a run is struck when its own font says so; a run without
    a font of its own is struck when the cell's font is."""
    if len(value) == 1 and isinstance(value[0], str):
        text: str = value[0]
        return CellText(raw=text, kept="", struck=text) if text and cell_struck else text
    runs = [
        (part.text, bool(part.font.strike)) if isinstance(part, TextBlock) else (str(part), cell_struck)
        for part in value
    ]
    if not any(struck for _, struck in runs):
        return "".join(text for text, _ in runs)
    return CellText.from_runs(runs)


def _display(value: Any, *, percent: bool) -> str:
    """A cell value that is not text as the plan owner sees it: dates in ISO form, whole numbers without
    ".0"."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, int | float):
        if percent:
            return f"{_number(value * 100)}%"
        return _number(value)
    return str(value)


def _number(value: float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return f"{value:.15g}"
