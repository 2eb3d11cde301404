"""The plain shape every reader turns a file into: one stream of rows, table rows and prose alike."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One row of a table, or one paragraph of prose between tables.

    `cells` hold cleaned text: HTML tags removed, struck-through text dropped,
    paragraphs inside a cell joined with "\\n", runs of spaces collapsed, each cell
    trimmed. `raw` holds each cell exactly as the file had it (tags and struck
    text included), so nothing the author wrote is lost. `struck` holds, per cell,
    the struck-through text that was dropped ("" where none).

    Merged cells: a vertically merged cell repeats its text in every row it spans;
    a horizontally merged cell puts its text in the first column of the span and ""
    in the others (so a heading spanning a table is a row with one non-empty cell).
    """

    cells: tuple[str, ...]
    raw: tuple[str, ...]
    line: int  # 1-based: line in a text/CSV file, sheet row in XLSX, row within its table in DOCX/PDF
    table: int | None  # 0-based index of the table/sheet this row belongs to; None for prose
    where: str = ""  # "" for single-table files; "sheet 'Actions'", "table 2", "page 3"
    struck: tuple[str, ...] = field(default=())

    @property
    def is_prose(self) -> bool:
        return self.table is None

    def nonempty(self) -> list[str]:
        return [cell for cell in self.cells if cell]

    def cell(self, index: int) -> str:
        """The cleaned text of column `index`; "" past the row's end."""
        return self.cells[index] if index < len(self.cells) else ""

    def raw_cell(self, index: int) -> str:
        """Column `index` as the file had it; "" past the row's end."""
        return self.raw[index] if index < len(self.raw) else ""


@dataclass(frozen=True, slots=True)
class SourceDocument:
    """Everything a reader found in a file, in reading order."""

    name: str  # the file's name, for messages
    format: str  # "docx", "xlsx", "csv", "tsv", "txt", "pdf"
    rows: tuple[SourceRow, ...]
