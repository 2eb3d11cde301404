"""The report as an XLSX workbook: the actions sheet first (styled header, RAG fills, filters, a frozen
header, sized columns), then what changed, then a Summary sheet with native Excel charts.

The actions sheet is also a plan file: its headers are ones the importer recognises and its cells the
plan's own text, so an edited copy re-imported into the same plan updates the same actions. Every text cell
that starts like a formula is written with a leading apostrophe (OWASP's advice against formula injection),
which the importer takes off again.
"""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from handlers.reports.cells import CHANGE_HEADERS, action_columns, change_row, neutralised
from storage.digests import BUCKET_NAMES, BUCKETS
from storage.importing.readers.workbook import REPORT_KEYWORDS
from storage.reports import ReportFacts

# Fill and text colours of a RAG cell: a light tint with dark text, as the HTML report's badges.
_FILLS = {
    "red": ("FEE2E2", "7F1D1D"),
    "amber": ("FEF3C7", "78350F"),
    "green": ("DCFCE7", "14532D"),
    "done": ("DBEAFE", "1E3A8A"),
    "unrated": ("F3F4F6", "374151"),
}
# Chart series colours, as the HTML report's charts.
_SERIES = {"red": "C62828", "amber": "B45309", "green": "2E7D32", "done": "1565C0", "unrated": "6B7280"}
_HEADER_FILL = PatternFill("solid", fgColor="1F2937")
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_WRAP = Alignment(wrap_text=True, vertical="top")


def report_xlsx(facts: ReportFacts) -> bytes:
    workbook = Workbook()
    workbook.properties.title = f"{facts.plan_name}: progress report"
    workbook.properties.keywords = REPORT_KEYWORDS  # so the importer reads the Actions sheet alone
    actions = workbook.active
    assert actions is not None
    actions.title = "Actions"
    _actions_sheet(actions, facts)
    _changes_sheet(workbook.create_sheet("Changes"), facts)
    _summary_sheet(workbook.create_sheet("Summary"), facts)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _text(sheet: Worksheet, row: int, column: int, value: str) -> Any:
    """A text cell, never a formula whatever it starts with."""
    cell = sheet.cell(row=row, column=column, value=neutralised(value) if value else None)
    if value:
        cell.data_type = "s"
    return cell


def _header(sheet: Worksheet, headers: list[str] | tuple[str, ...], widths: list[int]) -> None:
    for index, (header, width) in enumerate(zip(headers, widths, strict=True), start=1):
        cell = sheet.cell(row=1, column=index, value=header)
        cell.fill, cell.font, cell.alignment = _HEADER_FILL, _HEADER_FONT, Alignment(vertical="center")
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"


def _actions_sheet(sheet: Worksheet, facts: ReportFacts) -> None:
    columns = action_columns(facts)
    _header(sheet, [c.header for c in columns], [c.width for c in columns])
    rag_column = next(i for i, c in enumerate(columns, start=1) if c.header == "RAG")
    for row, action in enumerate(facts.actions, start=2):
        for index, column in enumerate(columns, start=1):
            cell = _text(sheet, row, index, column.value(action))
            cell.alignment = _WRAP
        fill, ink = _FILLS[action.bucket]
        rag = sheet.cell(row=row, column=rag_column)
        rag.fill, rag.font = PatternFill("solid", fgColor=fill), Font(bold=True, color=ink)
    last = get_column_letter(len(columns))
    sheet.auto_filter.ref = f"A1:{last}{max(1, len(facts.actions)) + 1}"


def _changes_sheet(sheet: Worksheet, facts: ReportFacts) -> None:
    _header(sheet, CHANGE_HEADERS, [12, 10, 50, 36, 20, 50])
    for row, change in enumerate(facts.changes, start=2):
        for index, value in enumerate(change_row(change), start=1):
            _text(sheet, row, index, value).alignment = _WRAP
    sheet.auto_filter.ref = f"A1:F{max(1, len(facts.changes)) + 1}"


def _summary_sheet(sheet: Worksheet, facts: ReportFacts) -> None:
    """The headline, then two small tables (by week, by theme) and a native stacked bar chart of each.

    Its table headers name no column a plan has ("Week", "Theme" with counts): the importer reads every
    visible sheet, and a re-imported export must find its actions on the Actions sheet alone.
    """
    scope = f" · theme: {facts.theme}" if facts.theme else ""
    _text(sheet, 1, 1, f"{facts.plan_name}: progress report")
    sheet.cell(row=1, column=1).font = Font(bold=True, size=14)
    _text(sheet, 2, 1, f"As of {facts.as_of:%-d %B %Y}{scope}")
    total = len(facts.actions)
    _text(sheet, 3, 1, f"{total} actions, {facts.overdue} overdue, {len(facts.changes)} changes")
    sheet.column_dimensions["A"].width = 34
    names = [BUCKET_NAMES[b] for b in BUCKETS]
    row = 5
    weekly = [(f"{day:%d %b %Y}", counts) for day, counts in facts.timeline]
    row = _counts_table(sheet, row, "Week", weekly, names, title="RAG ratings over time", anchor="H5")
    _counts_table(
        sheet, row + 2, "Theme", list(facts.by_theme), names, title="Progress by theme", anchor="H24"
    )


def _counts_table(
    sheet: Worksheet,
    top: int,
    label: str,
    rows: list[tuple[str, dict[str, int]]],
    names: list[str],
    *,
    title: str,
    anchor: str,
) -> int:
    """A table of counts by bucket from row `top`, and its chart; returns the table's last row."""
    for index, header in enumerate([label, *names], start=1):
        cell = sheet.cell(row=top, column=index, value=header)
        cell.fill, cell.font = _HEADER_FILL, _HEADER_FONT
    for offset, (name, counts) in enumerate(rows, start=1):
        _text(sheet, top + offset, 1, name)
        for index, bucket in enumerate(BUCKETS, start=2):
            sheet.cell(row=top + offset, column=index, value=counts.get(bucket, 0))
    bottom = top + len(rows)
    if rows:
        chart = BarChart()
        chart.type = "col" if label == "Week" else "bar"
        chart.grouping = "stacked"
        chart.overlap = 100
        chart.title = title
        chart.y_axis.title = "Actions"
        data = Reference(sheet, min_col=2, max_col=1 + len(BUCKETS), min_row=top, max_row=bottom)
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(Reference(sheet, min_col=1, min_row=top + 1, max_row=bottom))
        for series, bucket in zip(chart.series, BUCKETS, strict=True):
            series.graphicalProperties.solidFill = _SERIES[bucket]
            series.graphicalProperties.line.solidFill = _SERIES[bucket]
        chart.width, chart.height = 18, 9
        sheet.add_chart(chart, anchor)
    return bottom
