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
from storage.importing.readers.common import CellText, unreadable_as
from storage.importing.sources import SourceRow


def read_xlsx(path: Path) -> list[SourceRow]:
    rows: list[SourceRow] = []
    advice = "open it in Excel, save it again as .xlsx and import that"
    with unreadable_as(path, "an Excel workbook", advice):
        # openpyxl reads the package (sheets, styles, shared strings with their rich text, the date
        # epoch) in read_only mode, where building a cell object per cell is left to the caller; the
        # cells themselves are streamed from the sheet's XML here, which is several times faster and
        # also gives the merged ranges that read_only mode does not offer.
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True, rich_text=True)
        try:
            styles = _cell_styles(workbook)
            visible = [sheet for sheet in workbook.worksheets if sheet.sheet_state == "visible"]
            for index, sheet in enumerate(visible):
                grid, merged = _sheet_grid(workbook, sheet, styles)
                rows.extend(_sheet_rows(grid, merged, index=index, title=sheet.title))
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


def _sheet_grid(
    workbook: Any, sheet: Any, styles: Sequence[_CellStyle]
) -> tuple[list[list[_SheetCell]], list[_MergedRange]]:
    """The sheet's cells row by row from row 1 and column 1, as the plan owner reads them, and its
    merged ranges."""
    shared: Sequence[Any] = sheet._shared_strings
    epoch = workbook.epoch
    found: dict[int, dict[int, _SheetCell]] = {}
    merged: list[_MergedRange] = []
    last_row = last_column = 0
    row_number = 0
    columns: dict[str, int] = {}
    with workbook._archive.open(sheet._worksheet_path) as source:
        parser = etree.iterparse(
            source,
            events=("end",),
            tag=(_ROW_TAG, _MERGE_TAG),
            resolve_entities=False,
            no_network=True,
        )
        for _, element in parser:
            if element.tag == _MERGE_TAG:
                first_column, first_row, end_column, end_row = range_boundaries(element.get("ref"))
                merged.append((first_row, first_column, end_row, end_column))
                last_row, last_column = max(last_row, end_row), max(last_column, end_column)
                continue
            written_row = element.get("r")
            row_number = _row_number(written_row) if written_row else row_number + 1
            cells = found.setdefault(row_number, {})
            column = 0
            for cell in element.iterchildren(_CELL_TAG):
                coordinate = cell.get("r")
                if coordinate:
                    letters = coordinate.rstrip("0123456789")
                    column = columns.get(letters) or columns.setdefault(
                        letters, column_index_from_string(letters)
                    )
                    number = int(coordinate[len(letters) :])
                else:
                    column += 1
                    number = row_number
                style_id = cell.get("s")
                style = styles[int(style_id)] if style_id and int(style_id) < len(styles) else _PLAIN_STYLE
                # The commonest cell by far, as openpyxl writes strings: plain text in its cell.
                whole = None if style.struck or cell.get("t") != "inlineStr" else cell.findtext(_INLINE_TEXT)
                if whole:
                    value: _SheetCell = whole.replace("x005F_", "") if "x005F_" in whole else whole
                else:
                    value = _xml_cell(cell, style, shared, epoch)
                if number == row_number:
                    cells[column] = value
                else:
                    found.setdefault(number, {})[column] = value
                    last_row = max(last_row, number)
                last_column = max(last_column, column)
            last_row = max(last_row, row_number)
            element.clear(keep_tail=True)
            while element.getprevious() is not None:
                del element.getparent()[0]
    grid: list[list[_SheetCell]] = []
    for number in range(1, last_row + 1):
        values = found.get(number)
        if values is None:
            grid.append([""] * last_column)
        else:
            grid.append([values.get(column, "") for column in range(1, last_column + 1)])
    return grid, merged


def _row_number(written: str) -> int:
    # openpyxl accepts a row number written as a whole float ("3.0"), and so do we.
    try:
        return int(written)
    except ValueError:
        number = float(written)
        if not number.is_integer():
            raise
        return int(number)


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


def _sheet_rows(
    grid: list[list[_SheetCell]], merged: Sequence[_MergedRange], *, index: int, title: str
) -> list[SourceRow]:
    for first_row, first_column, end_row, end_column in merged:
        top_left = grid[first_row - 1][first_column - 1]
        for row_number in range(first_row, end_row + 1):
            for column in range(first_column, end_column + 1):
                grid[row_number - 1][column - 1] = top_left if column == first_column else ""
    width = max((_used_width(values) for values in grid), default=0)
    rows: list[SourceRow] = []
    where = f"sheet '{title}'"
    for number, values in enumerate(grid, start=1):
        used = values[:width]
        if CellText not in map(type, used):
            row = build_row(cast("list[str]", used), line=number, table=index, where=where)
        else:
            texts = [CellText(value, value, "") if isinstance(value, str) else value for value in used]
            row = build_row(
                [text.raw for text in texts],
                kept=[text.kept for text in texts],
                struck_elsewhere=[text.struck for text in texts],
                line=number,
                table=index,
                where=where,
            )
        if row is not None:
            rows.append(row)
    return rows


def _used_width(values: Sequence[_SheetCell]) -> int:
    return next(
        (
            len(values) - offset
            for offset, value in enumerate(reversed(values))
            if (value if isinstance(value, str) else value.raw).strip()
        ),
        0,
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
    """A cell value that is not text as the plan owner sees it: dates in ISO form, whole numbers without ".0"."""
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
