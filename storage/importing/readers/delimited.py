"""Reads CSV and TSV plans: one row a record, the CSV's delimiter found as Excel and the sniffer would."""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

from storage.importing.cleaning import build_row
from storage.importing.errors import PlanFileError
from storage.importing.limits import Budget
from storage.importing.readers.common import read_text
from storage.importing.sources import SourceRow

_SNIFF_DELIMITERS = ",;\t|"
_SNIFF_SAMPLE_CHARS = 32 * 1024


def read_csv(path: Path) -> list[SourceRow]:
    text = read_text(path)
    text, delimiter = _delimiter(text)
    return _delimited_rows(text, delimiter=delimiter, name=path.name)


def read_tsv(path: Path) -> list[SourceRow]:
    return _delimited_rows(read_text(path), delimiter="\t", name=path.name)


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
        budget = Budget(name)
        records = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        for number, record in enumerate(records, start=1):
            budget.row(len(record), where=f"line {number:,}")
            row = build_row(record, line=number, table=0)
            if row is not None:
                rows.append(row)
    except csv.Error as exc:
        raise PlanFileError(
            f"'{name}' could not be read as a table ({exc}); "
            "open it in a spreadsheet, save it as .xlsx and import that."
        ) from exc
    return rows
