"""Builds real plan files (DOCX, XLSX, CSV, PDF) from plain Python descriptions, for tests.

Tables are lists of rows. In DOCX, XLSX and PDF tables a cell may say it is merged into
its neighbour: `LEFT` joins the cell to the one on its left, `ABOVE` to the one above, so

    Table([["Theme: Our people", LEFT, LEFT],
           ["Recruitment", "Review the job adverts", "HR"],
           [ABOVE, "Anonymise shortlisting", "HR"]])

has a heading merged across three columns and "Recruitment" merged over two rows.
In DOCX cells, "\\n" starts a new paragraph and `Struck("June 23")` or
`Runs(Struck("June 23"), " Sept 23")` write struck-through runs. In XLSX cells,
`Struck("HR")` is a cell whose font is struck through and `Runs(...)` is rich text with
struck-through runs.
In PDF cells, "\\n" starts a new line; lines too long for their column wrap.
"""

from __future__ import annotations

import csv
import datetime as dt
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, TypeAlias
from xml.etree import ElementTree

import docx
import openpyxl
from fpdf import FPDF
from fpdf.enums import TableSpan
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.styles import Font


class Merged(Enum):
    """A cell that is part of the merged cell to its left or above it."""

    LEFT = "left"
    ABOVE = "above"


LEFT = Merged.LEFT
ABOVE = Merged.ABOVE


@dataclass(frozen=True)
class Heading:
    """A Word heading paragraph (style "Heading <level>")."""

    text: str
    level: int = 1


@dataclass(frozen=True)
class Struck:
    """Text formatted as struck through (double strike with `double=True`)."""

    text: str
    double: bool = False


@dataclass(frozen=True)
class Runs:
    """Text written as several runs, some of them struck through: Runs(Struck("June 23"), " Sept 23")."""

    parts: tuple[str | Struck, ...]

    def __init__(self, *parts: str | Struck) -> None:
        object.__setattr__(self, "parts", parts)


# A DOCX cell: text (\n between paragraphs), struck runs, a merge marker or a nested table.
DocxCell: TypeAlias = "str | Struck | Runs | Merged | Table"


@dataclass(frozen=True)
class Table:
    """A table for write_docx (cells may be Struck, Runs, a nested Table) or write_pdf (text only).

    For write_pdf only: `col_widths` are the columns' shares of the page width (equal if None)
    and `text_align` is fpdf2's alignment of cell text ("JUSTIFY", its default, or "LEFT").
    """

    rows: Sequence[Sequence[DocxCell]]
    col_widths: Sequence[float] | None = None
    text_align: str = "JUSTIFY"


@dataclass(frozen=True)
class PageBreak:
    """Starts a new page in write_pdf."""


XlsxValue: TypeAlias = str | int | float | bool | dt.date | dt.datetime | Struck | Runs | Merged | None


@dataclass(frozen=True)
class Formatted:
    """An XLSX value with an Excel number format, e.g. Formatted(0.25, "0%")."""

    value: float
    number_format: str


@dataclass(frozen=True)
class Sheet:
    """One worksheet: its rows start on `first_row` (the rows above stay empty)."""

    rows: Sequence[Sequence[XlsxValue | Formatted]]
    first_row: int = 1
    hidden: bool = False


# ---------------------------------------------------------------- shared


def merge_regions(rows: Sequence[Sequence[object]]) -> Iterator[tuple[int, int, int, int]]:
    """(first row, first column, last row, last column), 0-based, of every merged area."""
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, Merged):
                continue
            width = 1
            while c + width < len(row) and row[c + width] is LEFT:
                width += 1
            height = 1
            while r + height < len(rows) and c < len(rows[r + height]) and rows[r + height][c] is ABOVE:
                height += 1
            if width > 1 or height > 1:
                yield r, c, r + height - 1, c + width - 1


# ---------------------------------------------------------------- DOCX


def write_docx(path: Path, blocks: Sequence[str | Heading | Runs | Table]) -> Path:
    """A Word document of paragraphs, headings and tables, in the order given."""
    document = docx.Document()
    for block in blocks:
        if isinstance(block, Heading):
            document.add_heading(block.text, level=block.level)
        elif isinstance(block, Table):
            _add_docx_table(document, block)
        else:
            _write_runs(document.add_paragraph(), block, add_paragraph=document.add_paragraph)
    document.save(str(path))
    return path


def _add_docx_table(container: Any, table: Table) -> None:
    width = max((len(row) for row in table.rows), default=1)
    word_table = container.add_table(rows=len(table.rows), cols=width)
    word_table.style = "Table Grid"
    for r, row in enumerate(table.rows):
        for c, value in enumerate(row):
            if isinstance(value, Merged):
                continue
            cell = word_table.cell(r, c)
            if isinstance(value, Table):
                _add_docx_table(cell, value)
            else:
                _write_runs(cell.paragraphs[0], value, add_paragraph=cell.add_paragraph)
    for first_row, first_col, last_row, last_col in merge_regions(table.rows):
        word_table.cell(first_row, first_col).merge(word_table.cell(last_row, last_col))


def _write_runs(paragraph: Any, value: str | Struck | Runs, *, add_paragraph: Any) -> None:
    """Write text into `paragraph`; every "\\n" starts a new paragraph."""
    parts = value.parts if isinstance(value, Runs) else (value,)
    for part in parts:
        text = part.text if isinstance(part, Struck) else part
        for index, piece in enumerate(text.split("\n")):
            if index:
                paragraph = add_paragraph()
            if not piece:
                continue
            run = paragraph.add_run(piece)
            if isinstance(part, Struck):
                if part.double:
                    run.font.double_strike = True
                else:
                    run.font.strike = True


# ---------------------------------------------------------------- XLSX


def write_xlsx(
    path: Path,
    sheets: Mapping[str, Sheet | Sequence[Sequence[XlsxValue | Formatted]]],
    *,
    inline_strings: bool = False,
) -> Path:
    """A workbook with one worksheet per entry, in order, its strings kept as Excel keeps them (in
    the shared string table) or, with `inline_strings`, as openpyxl writes them (in each cell)."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, content in sheets.items():
        sheet = content if isinstance(content, Sheet) else Sheet(content)
        worksheet = workbook.create_sheet(title)
        if sheet.hidden:
            worksheet.sheet_state = "hidden"
        for r, row in enumerate(sheet.rows):
            for c, value in enumerate(row):
                if isinstance(value, Merged) or value is None:
                    continue
                cell = worksheet.cell(row=sheet.first_row + r, column=c + 1)
                if isinstance(value, Formatted):
                    cell.value = value.value
                    cell.number_format = value.number_format
                elif isinstance(value, Struck):
                    cell.value = value.text
                    cell.font = Font(strike=True)  # Excel has no double strike-through
                elif isinstance(value, Runs):
                    cell.value = _rich_text(value)
                else:
                    cell.value = value
        for first_row, first_col, last_row, last_col in merge_regions(sheet.rows):
            worksheet.merge_cells(
                start_row=sheet.first_row + first_row,
                start_column=first_col + 1,
                end_row=sheet.first_row + last_row,
                end_column=last_col + 1,
            )
    workbook.save(path)
    if not inline_strings:
        _share_strings(path)
    return path


def _rich_text(runs: Runs) -> CellRichText:
    struck = InlineFont(strike=True)
    return CellRichText(
        [TextBlock(struck, part.text) if isinstance(part, Struck) else part for part in runs.parts if part]
    )


_SPREADSHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_SHARED_STRINGS_PART = "xl/sharedStrings.xml"
_SHARED_STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
_SHARED_STRINGS_RELATION = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
_CONTENT_TYPES_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
_RELATIONSHIPS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"


def _share_strings(path: Path) -> None:
    """Rewrite a workbook saved by openpyxl, which writes every string into its cell (<is>), as Excel
    saves one: each distinct string, rich text included, once in the shared string table (<si>),
    and the cells pointing at it."""

    def tag(name: str, namespace: str = _SPREADSHEET_NS) -> str:
        return f"{{{namespace}}}{name}"

    with zipfile.ZipFile(path) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    if _SHARED_STRINGS_PART in parts:
        return  # an openpyxl that shares strings itself
    table = ElementTree.Element(tag("sst"))
    index: dict[bytes, int] = {}
    uses = 0
    for name in [name for name in parts if name.startswith("xl/worksheets/sheet")]:
        sheet = ElementTree.fromstring(parts[name])
        for cell in sheet.iter(tag("c")):
            inline = cell.find(tag("is"))
            if cell.get("t") != "inlineStr" or inline is None:
                continue
            cell.remove(inline)
            inline.tag = tag("si")
            key = ElementTree.tostring(inline)
            if key not in index:
                index[key] = len(table)
                table.append(inline)
            uses += 1
            cell.set("t", "s")
            ElementTree.SubElement(cell, tag("v")).text = str(index[key])
        parts[name] = ElementTree.tostring(sheet, encoding="UTF-8", xml_declaration=True)
    table.set("count", str(uses))
    table.set("uniqueCount", str(len(table)))
    parts[_SHARED_STRINGS_PART] = ElementTree.tostring(table, encoding="UTF-8", xml_declaration=True)
    types = ElementTree.fromstring(parts["[Content_Types].xml"])
    override = ElementTree.SubElement(types, tag("Override", _CONTENT_TYPES_NS))
    override.set("PartName", "/" + _SHARED_STRINGS_PART)
    override.set("ContentType", _SHARED_STRINGS_TYPE)
    parts["[Content_Types].xml"] = ElementTree.tostring(types, encoding="UTF-8", xml_declaration=True)
    relations = ElementTree.fromstring(parts["xl/_rels/workbook.xml.rels"])
    relation = ElementTree.SubElement(relations, tag("Relationship", _RELATIONSHIPS_NS))
    relation.set("Id", "rIdSharedStrings")
    relation.set("Type", _SHARED_STRINGS_RELATION)
    relation.set("Target", "sharedStrings.xml")
    parts["xl/_rels/workbook.xml.rels"] = ElementTree.tostring(
        relations, encoding="UTF-8", xml_declaration=True
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


# ---------------------------------------------------------------- CSV


def write_csv(
    path: Path, rows: Sequence[Sequence[str]], *, delimiter: str = ",", encoding: str = "utf-8"
) -> Path:
    """A delimited text file as spreadsheets write them (CRLF line ends, quotes where needed)."""
    with path.open("w", encoding=encoding, newline="") as file:
        csv.writer(file, delimiter=delimiter).writerows(rows)
    return path


# ---------------------------------------------------------------- PDF


@dataclass
class _Pdf:
    document: FPDF = field(default_factory=FPDF)

    def __post_init__(self) -> None:
        # The core fonts are declared WinAnsiEncoding; encoding text to match lets "•", "–" and
        # curly quotes through (fpdf2's default, Latin-1, refuses them).
        self.document.core_fonts_encoding = "windows-1252"
        self.document.add_page()
        self.document.set_font("Helvetica", size=9)

    def paragraph(self, text: str) -> None:
        self.document.multi_cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")
        self.document.ln(2)

    def table(self, table: Table) -> None:
        with self.document.table(col_widths=table.col_widths, text_align=table.text_align) as pdf_table:
            for row in table.rows:
                pdf_row = pdf_table.row()
                for value in row:
                    # fpdf2 takes its span placeholders where the text would go.
                    if value is LEFT:
                        pdf_row.cell(TableSpan.COL)  # type: ignore[arg-type]
                    elif value is ABOVE:
                        pdf_row.cell(TableSpan.ROW)  # type: ignore[arg-type]
                    else:
                        pdf_row.cell(str(value))
        self.document.ln(4)


def write_pdf(
    path: Path,
    rows: Sequence[Sequence[DocxCell]],
    *,
    title: str | None = None,
    password: str | None = None,
    col_widths: Sequence[float] | None = None,
    text_align: str = "JUSTIFY",
) -> Path:
    """A PDF with one ruled table (and a title line above it); long tables run over pages."""
    table = Table(rows, col_widths=col_widths, text_align=text_align)
    return write_pdf_blocks(path, [*([title] if title else []), table], password=password)


def write_pdf_blocks(
    path: Path, blocks: Sequence[str | Table | PageBreak], *, password: str | None = None
) -> Path:
    """A PDF of text paragraphs, ruled tables and page breaks, in the order given."""
    pdf = _Pdf()
    for block in blocks:
        if isinstance(block, Table):
            pdf.table(block)
        elif isinstance(block, PageBreak):
            pdf.document.add_page()
        else:
            pdf.paragraph(block)
    if password is not None:
        pdf.document.set_encryption(owner_password=password + "-owner", user_password=password)
    pdf.document.output(str(path))
    return path


def write_text_pdf(path: Path, paragraphs: Sequence[str]) -> Path:
    """A PDF of text only, laid out like a plan typed as plain paragraphs, with no table."""
    return write_pdf_blocks(path, paragraphs)


# ---------------------------------------------------------------- odd files


def write_sized_file(path: Path, size: int) -> Path:
    """A file of exactly `size` bytes, made instantly (sparse where the file system allows)."""
    with path.open("wb") as file:
        file.seek(size - 1)
        file.write(b"\0")
    return path


def write_password_protected_office_file(path: Path) -> Path:
    """What Word and Excel save when a password is set: an OLE compound file, not a zip package.

    Only the compound-file header is real (signature, version, byte order, sector sizes);
    the rest is padding, which is all a reader needs to see to tell it apart.
    """
    header = bytes.fromhex("D0CF11E0A1B11AE1") + bytes(16) + bytes.fromhex("3E000300FEFF0900")
    path.write_bytes(header + bytes(4096 - len(header)))
    return path
