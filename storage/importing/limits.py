"""How much of a plan file the importer will read: every bound on an input, in one place.

A plan is a few hundred rows, a few dozen columns, a few megabytes. The bounds below leave room for
the biggest real plans several times over, and stop a file built to exhaust memory or time (a cell at
XFD1048576, a zip member that unpacks to gigabytes, a PDF stream that inflates a thousandfold) long
before it does: each is checked before the work it bounds is done.
"""

from __future__ import annotations

from storage.importing.errors import PlanFileError

MB = 1024 * 1024

# The file as uploaded (the CLI's is set by max_import_mb in the settings).
MAX_FILE_BYTES = 20 * MB
# Rows read from one file: records of a CSV, lines of a TXT, paragraphs and table rows of a DOCX,
# table rows and text lines of a PDF, and the highest row of a sheet that holds a value.
MAX_ROWS = 100_000
# Columns of one row, and the rightmost column of a sheet that holds a value.
MAX_COLUMNS = 1_000
# Cells of one file once laid out as a grid (each row as wide as its sheet's used area), merged
# cells included: what the memory and time an import takes grow with.
MAX_CELLS = 1_000_000
# Merged ranges declared by one workbook.
MAX_MERGED_RANGES = 100_000
# Parts of a DOCX or XLSX package (a zip file), each unpacked and all together.
MAX_ZIP_MEMBERS = 10_000
MAX_PART_BYTES = 16 * MB  # an XML part, parsed: its tree takes many times its size
MAX_UNPACKED_BYTES = 64 * MB
# Pages of a PDF, and the bytes of its streams (page text, fonts, images) unpacked, each stream and
# all together.
MAX_PDF_PAGES = 500
MAX_PDF_STREAM_BYTES = 16 * MB
MAX_PDF_UNPACKED_BYTES = 128 * MB
# A page's drawing instructions (its content streams, forms and fonts' character maps), unpacked:
# pdfminer makes objects of every instruction, so this is what a page costs to read. A dense page of
# a plan takes tens of kilobytes.
MAX_PDF_PAGE_CONTENT_BYTES = 256 * 1024


class PlanTooLargeError(PlanFileError):
    """The file is over one of the bounds above; nothing was imported."""


def too_large(name: str, *, found: str, limit: str) -> PlanTooLargeError:
    """The refusal for a file over a bound: what was found, and the limit it is over."""
    return PlanTooLargeError(
        f"'{name}' is too large to import: {found} (the limit is {limit}); "
        "split the plan into smaller files (or remove what makes it so big) and import those."
    )


def megabytes(size: int) -> str:
    """A size as people read it: "50 MB", "1.5 MB", "1.2 GB"."""
    if size >= 1024 * MB:
        return f"{size / (1024 * MB):.1f} GB"
    value = size / MB
    return f"{value:.0f} MB" if value >= 10 or value.is_integer() else f"{value:.1f} MB"


def check_rows(name: str, rows: int) -> None:
    if rows > MAX_ROWS:
        raise too_large(name, found=f"it has more than {MAX_ROWS:,} rows", limit=f"{MAX_ROWS:,} rows")


def check_columns(name: str, columns: int, *, where: str = "") -> None:
    if columns > MAX_COLUMNS:
        place = f" in {where}" if where else ""
        raise too_large(
            name, found=f"a row{place} is {columns:,} columns wide", limit=f"{MAX_COLUMNS:,} columns"
        )


def check_cells(name: str, cells: int) -> None:
    if cells > MAX_CELLS:
        raise too_large(name, found=f"it holds more than {MAX_CELLS:,} cells", limit=f"{MAX_CELLS:,} cells")


class Budget:
    """The rows and cells read from one file so far, refused as soon as either is over its bound."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.rows = 0
        self.cells = 0

    def row(self, width: int = 1, *, where: str = "") -> None:
        """Count one more row of `width` cells (a line, a paragraph, a record, a table row)."""
        check_columns(self.name, width, where=where)
        self.rows += 1
        self.cells += width
        check_rows(self.name, self.rows)
        check_cells(self.name, self.cells)
