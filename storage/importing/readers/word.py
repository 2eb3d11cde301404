"""Reads a DOCX plan: paragraphs between tables as prose, table rows cell by cell with merges spelled out."""

from __future__ import annotations

from pathlib import Path

import docx
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from storage.importing.cleaning import build_row
from storage.importing.limits import Budget, check_columns
from storage.importing.readers.common import EMPTY, CellText, check_package, row_of_texts, unreadable_as
from storage.importing.sources import SourceRow


def read_docx(path: Path) -> list[SourceRow]:
    with unreadable_as(path, "a Word document", "open it in Word, save it again as .docx and import that"):
        check_package(path)
        document = docx.Document(str(path))
        budget = Budget(path.name)
        rows: list[SourceRow] = []
        paragraph_number = table_index = 0
        for block in document.iter_inner_content():
            if isinstance(block, Paragraph):
                budget.row()
                paragraph_number += 1
                rows.extend(_docx_paragraph_rows(block, number=paragraph_number))
            else:
                rows.extend(_docx_table_rows(block, index=table_index, budget=budget))
                table_index += 1
    return rows


def _docx_paragraph_rows(paragraph: Paragraph, *, number: int) -> list[SourceRow]:
    """A paragraph between tables as a prose row; none if it is empty."""
    text = _paragraph_text(paragraph)
    row = build_row([text.raw], kept=[text.kept], struck_elsewhere=[text.struck], line=number, table=None)
    return [] if row is None else [row]


def _paragraph_text(paragraph: Paragraph) -> CellText:
    # Every run, including those inside hyperlinks, content controls and tracked insertions,
    # but not the paragraphs of text boxes anchored in this one.
    runs = (Run(element, paragraph) for element in paragraph._p.xpath(".//w:r[not(ancestor::w:txbxContent)]"))
    return CellText.from_runs((run.text, bool(run.font.strike or run.font.double_strike)) for run in runs)


def _docx_table_rows(table: Table, *, index: int, budget: Budget) -> list[SourceRow]:
    rows: list[SourceRow] = []
    where = f"table {index + 1}"
    # The text of the cell last started in each grid column, repeated down vertical merges.
    above: dict[int, CellText] = {}
    for number, row in enumerate(table.rows, start=1):
        # Spans are checked before they are spelled out: a gridSpan of a billion is one attribute.
        check_columns(budget.name, row.grid_cols_before, where=where)
        texts: list[CellText] = [EMPTY] * row.grid_cols_before
        for tc in row._tr.tc_lst:
            column = len(texts)
            check_columns(budget.name, column + tc.grid_span, where=where)
            if tc.vMerge == "continue":
                text = above.get(column, EMPTY)
            else:
                text = _cell_text(_Cell(tc, table))
                above[column] = text
            # A horizontally merged cell keeps its text in the first column of the span only.
            texts.extend([text, *[EMPTY] * (tc.grid_span - 1)])
        check_columns(budget.name, len(texts) + row.grid_cols_after, where=where)
        texts.extend([EMPTY] * row.grid_cols_after)
        budget.row(len(texts), where=where)
        source = row_of_texts(texts, line=number, table=index, where=where)
        if source is not None:
            rows.append(source)
    return rows


def _cell_text(cell: _Cell) -> CellText:
    parts: list[CellText] = []
    for block in cell.iter_inner_content():
        if isinstance(block, Paragraph):
            parts.append(_paragraph_text(block))
        else:
            parts.extend(_nested_table_lines(block))
    return CellText.join(parts)


def _nested_table_lines(table: Table) -> list[CellText]:
    """A table inside a cell, flattened to one line per row with its cells joined by " | "."""
    lines: list[CellText] = []
    for row in table.rows:
        cells = [_cell_text(_Cell(tc, table)) for tc in row._tr.tc_lst]
        lines.append(CellText.join([cell for cell in cells if cell.raw.strip()], separator=" | "))
    return lines
