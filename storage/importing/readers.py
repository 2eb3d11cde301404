"""Reads a plan file (DOCX, XLSX, CSV, TSV, TXT or PDF) into the plain stream of rows that importing works on.

Readers only read: they keep every cell as the file had it, clean a copy, and leave
finding headers and interpreting cells to the modules that consume the rows.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import itertools
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, cast

import docx
import openpyxl
import pdfplumber
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from docx.text.run import Run
from lxml import etree  # type: ignore[import-untyped]
from openpyxl.cell.rich_text import TextBlock
from openpyxl.styles.numbers import BUILTIN_FORMATS, BUILTIN_FORMATS_MAX_SIZE
from openpyxl.utils.cell import column_index_from_string, range_boundaries
from openpyxl.utils.datetime import from_excel, from_ISO8601
from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
from pdfplumber.page import Page
from pdfplumber.table import Table as PdfTable
from pdfplumber.utils.clustering import cluster_objects
from pdfplumber.utils.exceptions import PdfminerException
from pdfplumber.utils.text import DEFAULT_Y_TOLERANCE, extract_words

from storage.importing.cleaning import build_row, join_struck
from storage.importing.errors import PlanFileError
from storage.importing.sources import SourceDocument, SourceRow
from storage.importing.text_extract import rows_from_text_extract

DEFAULT_MAX_BYTES = 20 * 1024 * 1024

SUPPORTED_EXTENSIONS = (".docx", ".xlsx", ".csv", ".tsv", ".txt", ".pdf")
_SAVE_AS_ADVICE = {
    ".doc": "is an old-style Word file; open it in Word, save it as .docx and import that",
    ".xls": "is an old-style Excel file; open it in Excel, save it as .xlsx and import that",
    ".odt": "is an OpenDocument text file; open it and save it as .docx, then import that",
    ".ods": "is an OpenDocument spreadsheet; open it and save it as .xlsx, then import that",
}
# Password-protected Office files are not zip packages but OLE compound files with this signature.
_OLE_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")
_SNIFF_DELIMITERS = ",;\t|"
_SNIFF_SAMPLE_CHARS = 32 * 1024


def read_plan_file(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> SourceDocument:
    """Read the file at `path` into rows, or raise PlanFileError saying what the owner should do."""
    name = path.name
    extension = path.suffix.lower()
    if not path.exists():
        raise PlanFileError(
            f"I can't find '{name}' in {path.parent}; check the file name and folder and try again."
        )
    if path.is_dir():
        raise PlanFileError(f"'{name}' is a folder, not a file; choose the plan file inside it.")
    reader = _READERS.get(extension)
    if reader is None:
        raise PlanFileError(_unsupported_message(name, extension))
    size = path.stat().st_size
    if size == 0:
        raise PlanFileError(f"'{name}' is empty (0 bytes); check you chose the right file and import again.")
    if size > max_bytes:
        raise PlanFileError(
            f"'{name}' is {_megabytes(size)}, over the {_megabytes(max_bytes)} limit for plan files; "
            "remove images or split the plan into smaller files and import those."
        )
    try:
        with path.open("rb") as file:
            head = file.read(len(_OLE_SIGNATURE))
    except OSError as exc:
        raise PlanFileError(
            f"I can't open '{name}' ({exc.strerror}); check you are allowed to read it and try again."
        ) from exc
    if extension in (".docx", ".xlsx") and head == _OLE_SIGNATURE:
        raise PlanFileError(f"'{name}' is password-protected; remove the password and import again.")
    rows = reader(path)
    if not rows:
        raise PlanFileError(f"'{name}' has no text I can read; check it is the right file and import again.")
    return SourceDocument(name=name, format=extension.lstrip("."), rows=tuple(rows))


def _unsupported_message(name: str, extension: str) -> str:
    if extension in _SAVE_AS_ADVICE:
        return f"'{name}' {_SAVE_AS_ADVICE[extension]}."
    kind = f"{extension} files" if extension else "files without an extension"
    supported = ", ".join(SUPPORTED_EXTENSIONS[:-1]) + " or " + SUPPORTED_EXTENSIONS[-1]
    return f"I can't read {kind} such as '{name}'; save the plan as {supported} and import that."


def _megabytes(size: int) -> str:
    megabytes = size / (1024 * 1024)
    return f"{megabytes:.0f} MB" if megabytes >= 10 or megabytes.is_integer() else f"{megabytes:.1f} MB"


@contextmanager
def _unreadable_as(path: Path, what: str, advice: str) -> Iterator[None]:
    """Turn whatever a parsing library raises on a damaged file into one sentence for the owner.

    docx, openpyxl and pdfminer raise a zoo of exceptions on malformed input (BadZipFile,
    KeyError, ValueError, XML syntax errors, ...); none of them means anything to a plan owner.
    """
    try:
        yield
    except PlanFileError:
        raise
    except Exception as exc:
        raise PlanFileError(f"'{path.name}' is damaged or is not really {what}; {advice}.") from exc


# ---------------------------------------------------------------- text: CSV, TSV, TXT


def decode_text(data: bytes, *, name: str) -> str:
    """Decode UTF-8 (with or without BOM), UTF-16 with a BOM, or Windows-1252, refusing anything else."""
    text: str | None = None
    if data.startswith(codecs.BOM_UTF8):
        text = _try_decode(data, "utf-8-sig")
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = _try_decode(data, "utf-16")
    elif b"\x00" not in data:
        text = _try_decode(data, "utf-8") or _try_decode(data, "cp1252")
    if text is None or "\x00" in text:
        raise PlanFileError(
            f"'{name}' is not in a text encoding I can read (UTF-8, UTF-16 with a byte-order mark, or "
            "Windows-1252); save it as UTF-8 (in Excel: 'CSV UTF-8') and import again."
        )
    return text


def _try_decode(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


def _read_csv(path: Path) -> list[SourceRow]:
    text = decode_text(path.read_bytes(), name=path.name)
    text, delimiter = _delimiter(text)
    return _delimited_rows(text, delimiter=delimiter, name=path.name)


def _read_tsv(path: Path) -> list[SourceRow]:
    return _delimited_rows(decode_text(path.read_bytes(), name=path.name), delimiter="\t", name=path.name)


def _delimiter(text: str) -> tuple[str, str]:
    """The CSV's delimiter, honouring Excel's "sep=;" first line (which is then dropped)."""
    first_line, _, rest = text.partition("\n")
    directive = first_line.strip()
    if directive.lower().startswith("sep=") and len(directive) == 5:
        return rest, directive[4]
    sample = text[:_SNIFF_SAMPLE_CHARS]
    try:
        return text, csv.Sniffer().sniff(sample, delimiters=_SNIFF_DELIMITERS).delimiter
    except csv.Error:
        # The sniffer gives up when a title line sits above the table; then take the
        # delimiter that splits the most records into the same number (> 1) of cells.
        return text, max(_SNIFF_DELIMITERS, key=lambda delimiter: _steady_records(sample, delimiter))


def _steady_records(sample: str, delimiter: str) -> tuple[int, bool]:
    records = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
    widths = Counter(len(record) for record in records)
    steady = max((count for width, count in widths.items() if width > 1), default=0)
    return steady, delimiter == ","


def _delimited_rows(text: str, *, delimiter: str, name: str) -> list[SourceRow]:
    rows: list[SourceRow] = []
    try:
        records = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        for number, record in enumerate(records, start=1):
            row = build_row(record, line=number, table=0)
            if row is not None:
                rows.append(row)
    except csv.Error as exc:
        raise PlanFileError(
            f"'{name}' could not be read as a table ({exc}); "
            "open it in a spreadsheet, save it as .xlsx and import that."
        ) from exc
    return rows


def _read_txt(path: Path) -> list[SourceRow]:
    return rows_from_text_extract(decode_text(path.read_bytes(), name=path.name))


# ---------------------------------------------------------------- DOCX


@dataclass(frozen=True)
class _CellText:
    """Text of a paragraph or cell: as written, without struck-through runs, and the struck runs."""

    raw: str
    kept: str
    struck: str

    @staticmethod
    def join(parts: Sequence[_CellText], separator: str = "\n") -> _CellText:
        return _CellText(
            raw=separator.join(part.raw for part in parts),
            kept=separator.join(part.kept for part in parts),
            struck=join_struck(part.struck for part in parts),
        )

    @staticmethod
    def from_runs(runs: Iterable[tuple[str, bool]]) -> _CellText:
        """Text written as runs, each struck through or not. Neighbouring struck runs make one struck
        piece ("March " + "2025" is "March 2025", however Word or Excel split the runs); a run of
        spaces between them does not part them."""
        raw: list[str] = []
        kept: list[str] = []
        pieces: list[str] = []
        piece: list[str] = []
        for text, struck in runs:
            raw.append(text)
            if struck:
                piece.append(text)
                continue
            kept.append(text)
            if piece and text.strip():
                pieces.append("".join(piece))
                piece.clear()
            elif piece:
                piece.append(text)
        pieces.append("".join(piece))
        return _CellText("".join(raw), "".join(kept), join_struck(pieces))


_EMPTY = _CellText("", "", "")


def _read_docx(path: Path) -> list[SourceRow]:
    with _unreadable_as(path, "a Word document", "open it in Word, save it again as .docx and import that"):
        document = docx.Document(str(path))
        rows: list[SourceRow] = []
        paragraph_number = table_index = 0
        for block in document.iter_inner_content():
            if isinstance(block, Paragraph):
                paragraph_number += 1
                rows.extend(_docx_paragraph_rows(block, number=paragraph_number))
            else:
                rows.extend(_docx_table_rows(block, index=table_index))
                table_index += 1
    return rows


def _docx_paragraph_rows(paragraph: Paragraph, *, number: int) -> list[SourceRow]:
    """A paragraph between tables as a prose row; none if it is empty."""
    text = _paragraph_text(paragraph)
    row = build_row([text.raw], kept=[text.kept], struck_elsewhere=[text.struck], line=number, table=None)
    return [] if row is None else [row]


def _paragraph_text(paragraph: Paragraph) -> _CellText:
    # Every run, including those inside hyperlinks, content controls and tracked insertions,
    # but not the paragraphs of text boxes anchored in this one.
    runs = (Run(element, paragraph) for element in paragraph._p.xpath(".//w:r[not(ancestor::w:txbxContent)]"))
    return _CellText.from_runs((run.text, bool(run.font.strike or run.font.double_strike)) for run in runs)


def _docx_table_rows(table: Table, *, index: int) -> list[SourceRow]:
    rows: list[SourceRow] = []
    # The text of the cell last started in each grid column, repeated down vertical merges.
    above: dict[int, _CellText] = {}
    for number, row in enumerate(table.rows, start=1):
        texts: list[_CellText] = [_EMPTY] * row.grid_cols_before
        for tc in row._tr.tc_lst:
            column = len(texts)
            if tc.vMerge == "continue":
                text = above.get(column, _EMPTY)
            else:
                text = _cell_text(_Cell(tc, table))
                above[column] = text
            # A horizontally merged cell keeps its text in the first column of the span only.
            texts.extend([text, *[_EMPTY] * (tc.grid_span - 1)])
        texts.extend([_EMPTY] * row.grid_cols_after)
        source = build_row(
            [text.raw for text in texts],
            kept=[text.kept for text in texts],
            struck_elsewhere=[text.struck for text in texts],
            line=number,
            table=index,
            where=f"table {index + 1}",
        )
        if source is not None:
            rows.append(source)
    return rows


def _cell_text(cell: _Cell) -> _CellText:
    parts: list[_CellText] = []
    for block in cell.iter_inner_content():
        if isinstance(block, Paragraph):
            parts.append(_paragraph_text(block))
        else:
            parts.extend(_nested_table_lines(block))
    return _CellText.join(parts)


def _nested_table_lines(table: Table) -> list[_CellText]:
    """A table inside a cell, flattened to one line per row with its cells joined by " | "."""
    lines: list[_CellText] = []
    for row in table.rows:
        cells = [_cell_text(_Cell(tc, table)) for tc in row._tr.tc_lst]
        lines.append(_CellText.join([cell for cell in cells if cell.raw.strip()], separator=" | "))
    return lines


# ---------------------------------------------------------------- XLSX


def _read_xlsx(path: Path) -> list[SourceRow]:
    rows: list[SourceRow] = []
    advice = "open it in Excel, save it again as .xlsx and import that"
    with _unreadable_as(path, "an Excel workbook", advice):
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
_SheetCell = str | _CellText
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
            return _CellText(raw=value, kept="", struck=value) if value and style.struck else value
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
        return _CellText(raw=shown, kept="", struck=shown)
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
        if _CellText not in map(type, used):
            row = build_row(cast("list[str]", used), line=number, table=index, where=where)
        else:
            texts = [_CellText(value, value, "") if isinstance(value, str) else value for value in used]
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
        return _CellText(raw=text, kept="", struck=text) if cell_struck else text
    runs: list[tuple[str, bool]] = []
    for run in inline.iterchildren(_RUN_TAG):
        text = (run.findtext(_TEXT_TAG) or "").replace("x005F_", "")
        font = run.find(_RUN_FONT_TAG)
        runs.append((text, cell_struck if font is None else _struck_run(font)))
    if not any(struck for _, struck in runs):
        return "".join(text for text, _ in runs)
    return _CellText.from_runs(runs)


def _struck_run(font: Any) -> bool:
    strike = font.find(_STRIKE_TAG)
    # openpyxl's reading of a boolean attribute: absent means true, and only these spellings are false.
    return strike is not None and strike.get("val") not in ("false", "f", "0")


def _rich_text_cell(value: Any, *, cell_struck: bool) -> _SheetCell:
    """Rich text (openpyxl's CellRichText): a run is struck when its own font says so; a run without
    a font of its own is struck when the cell's font is."""
    if len(value) == 1 and isinstance(value[0], str):
        text: str = value[0]
        return _CellText(raw=text, kept="", struck=text) if text and cell_struck else text
    runs = [
        (part.text, bool(part.font.strike)) if isinstance(part, TextBlock) else (str(part), cell_struck)
        for part in value
    ]
    if not any(struck for _, struck in runs):
        return "".join(text for text, _ in runs)
    return _CellText.from_runs(runs)


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


# ---------------------------------------------------------------- PDF

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


def _read_pdf(path: Path) -> list[SourceRow]:
    with _unreadable_as(path, "a PDF", "export the plan to XLSX or DOCX and import that"):
        try:
            pdf = pdfplumber.open(path)
        except PdfminerException as exc:
            if exc.args and isinstance(exc.args[0], PDFPasswordIncorrect | PDFEncryptionError):
                raise PlanFileError(
                    f"'{path.name}' is password-protected; remove the password and import again."
                ) from exc
            raise
        with pdf:
            rows, table_count = _pdf_rows(pdf.pages)
    if table_count == 0:
        raise PlanFileError(f"'{path.name}' {_NO_TABLES_ADVICE}.")
    return rows


def _pdf_rows(pages: Sequence[Page]) -> tuple[list[SourceRow], int]:
    """Every page's text lines and table rows, and how many tables there were."""
    rows: list[SourceRow] = []
    table: _PdfTable | None = None
    table_count = 0
    for page in pages:
        where = f"page {page.page_number}"
        first_on_page = True
        for kind, item in _page_in_reading_order(page, page.find_tables()):
            if kind == "line":
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


_READERS: dict[str, Callable[[Path], list[SourceRow]]] = {
    ".docx": _read_docx,
    ".xlsx": _read_xlsx,
    ".csv": _read_csv,
    ".tsv": _read_tsv,
    ".txt": _read_txt,
    ".pdf": _read_pdf,
}

__all__ = ["DEFAULT_MAX_BYTES", "SUPPORTED_EXTENSIONS", "decode_text", "read_plan_file"]
