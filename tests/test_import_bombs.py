"""Files built to exhaust memory or time are refused in seconds, saying which limit they are over.

Each hostile file is built here, small on disk, and imported by `edibot import` in a child process
held to 1 GB of address space and 30 seconds, so that a regression fails the test instead of
eating the machine. The store is checked to be as it was.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage.db import Database
from storage.importing.errors import PlanFileError
from storage.importing.limits import MAX_COLUMNS, MAX_ROWS
from storage.importing.readers import read_plan_file
from storage.models import Action, ImportRun, Plan
from tests.bombs import (
    DOCUMENT_HEAD,
    DOCUMENT_TAIL,
    GIGABYTE,
    SHEET_HEAD,
    SHEET_TAIL,
    Filler,
    docx_with_body,
    pdf_with_content,
    write_zip,
    xlsx_with_sheet,
)

ROOT = Path(__file__).resolve().parents[1]
MEMORY = GIGABYTE
SECONDS = 30
# The child: held to MEMORY bytes of address space, it runs the command line and says its peak.
_CHILD = """
import atexit, resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({memory}, {memory}))
atexit.register(
    lambda: print(f"peak_kb={{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}}", file=sys.stderr)
)
sys.argv = ["edibot", *sys.argv[1:]]
from bot.cli import main
main()
"""


def store_counts(url: str) -> tuple[int, int, int]:
    database = Database.open(url, migrate=False)
    with database.session() as session:
        counts = tuple(
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Plan, Action, ImportRun)
        )
    database.dispose()
    return counts  # type: ignore[return-value]


def import_bounded(database_url: str, path: Path) -> str:
    """Run `edibot import PATH` held to MEMORY and SECONDS; the refusal it printed, once checked to be
    a plain refusal that changed nothing."""
    before = store_counts(database_url)
    env = {
        **os.environ,
        "EDIBOT_DATABASE_URL": database_url,
        "EDIBOT_TIMEZONE": "Europe/London",
        "PYTHONPATH": str(ROOT),
    }
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", _CHILD.format(memory=MEMORY), "import", str(path)],
        capture_output=True,
        text=True,
        timeout=SECONDS,
        cwd=path.parent,
        env=env,
        check=False,
    )
    took = time.monotonic() - started
    lines = result.stderr.strip().splitlines()
    assert lines and lines[-1].startswith("peak_kb="), result.stderr
    peak = int(lines[-1].removeprefix("peak_kb=")) * 1024
    message = "\n".join(lines[:-1])
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert took <= SECONDS and peak <= MEMORY, (took, peak)
    assert store_counts(database_url) == before
    return message


def assert_too_large(message: str, path: Path, *limit: str) -> None:
    assert message.startswith(f"'{path.name}' is too large to import: "), message
    assert "\n" not in message
    for words in limit:
        assert f"(the limit is {words})" in message, message


# ---------------------------------------------------------------- the bombs of the report


def test_a_workbook_with_one_value_at_the_last_cell_of_excel_is_refused_by_its_row(
    database_url: str, tmp_path: Path
) -> None:
    path = xlsx_with_sheet(
        tmp_path / "corner.xlsx",
        SHEET_HEAD
        + b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
        + SHEET_TAIL,
    )
    assert path.stat().st_size < 10_000

    message = import_bounded(database_url, path)

    assert_too_large(message, path, f"{MAX_ROWS:,} rows")
    assert "has a value in row 1,048,576" in message


def test_a_merge_from_a3_to_the_last_cell_of_excel_is_refused_when_its_text_would_fill_it(
    database_url: str, tmp_path: Path
) -> None:
    merge = b'<mergeCells count="1"><mergeCell ref="A3:XFD1048576"/></mergeCells>'
    heading = b'<row r="3"><c r="A3" t="inlineStr"><is><t>Theme: Our people</t></is></c></row>'
    path = xlsx_with_sheet(
        tmp_path / "merged.xlsx", SHEET_HEAD + heading + b"</sheetData>" + merge + b"</worksheet>"
    )

    message = import_bounded(database_url, path)

    assert_too_large(message, path, f"{MAX_ROWS:,} rows")


def test_a_row_numbered_1e12_is_refused_as_no_row_number(database_url: str, tmp_path: Path) -> None:
    row = b'<row r="1e12"><c t="inlineStr"><is><t>Train the panel</t></is></c></row>'
    path = xlsx_with_sheet(tmp_path / "float_row.xlsx", SHEET_HEAD + row + SHEET_TAIL)

    message = import_bounded(database_url, path)

    assert message == (
        "'float_row.xlsx' is damaged: sheet 'Sheet' numbers a row '1e12', which is not a row number; "
        "open it in Excel, save it again as .xlsx and import that."
    )


def test_a_row_numbered_a_trillion_holding_a_value_is_refused_by_its_row(
    database_url: str, tmp_path: Path
) -> None:
    row = b'<row r="1000000000000"><c t="inlineStr"><is><t>Train the panel</t></is></c></row>'
    path = xlsx_with_sheet(tmp_path / "far_row.xlsx", SHEET_HEAD + row + SHEET_TAIL)

    assert_too_large(import_bounded(database_url, path), path, f"{MAX_ROWS:,} rows")


def test_a_workbook_whose_sheet_inflates_to_a_gigabyte_is_refused_before_it_is_inflated(
    database_url: str, tmp_path: Path
) -> None:
    path = xlsx_with_sheet(tmp_path / "inflating.xlsx", (SHEET_HEAD, Filler(int(1.2 * GIGABYTE)), SHEET_TAIL))
    assert path.stat().st_size < 4 * 1024 * 1024

    message = import_bounded(database_url, path)

    assert_too_large(message, path, "16 MB for one part")
    assert "one of its parts unpacks to 1.2 GB" in message


def test_a_zip_bomb_word_document_is_refused_before_it_is_inflated(database_url: str, tmp_path: Path) -> None:
    path = docx_with_body(tmp_path / "bomb.docx", (DOCUMENT_HEAD, Filler(int(1.2 * GIGABYTE)), DOCUMENT_TAIL))
    assert path.stat().st_size < 2 * 1024 * 1024

    assert_too_large(import_bounded(database_url, path), path, "16 MB for one part")


def test_a_pdf_with_a_stream_of_a_gigabyte_is_refused_without_inflating_it(
    database_url: str, tmp_path: Path
) -> None:
    path = pdf_with_content(tmp_path / "stream.pdf", (b"BT ", Filler(int(1.3 * GIGABYTE)), b" ET"))
    assert path.stat().st_size < 3 * 1024 * 1024

    assert_too_large(import_bounded(database_url, path), path, "16 MB for one stream")


# ---------------------------------------------------------------- the other bounds


def refusal(path: Path) -> str:
    with pytest.raises(PlanFileError) as refused:
        read_plan_file(path)
    message = str(refused.value)
    assert "\n" not in message
    return message


def test_a_merge_over_the_whole_sheet_with_nothing_in_it_costs_nothing(tmp_path: Path) -> None:
    merge = b'<mergeCells count="1"><mergeCell ref="D5:XFD1048576"/></mergeCells>'
    path = xlsx_with_sheet(
        tmp_path / "empty_merge.xlsx", SHEET_HEAD + b"</sheetData>" + merge + b"</worksheet>"
    )

    started = time.monotonic()
    document = read_plan_file(path)

    assert time.monotonic() - started < 5
    assert [row.cells for row in document.rows] == [
        ("Action", "Owner", "Deadline"),
        ("Review the adverts", "HR", "June 2024"),
    ]


def test_a_workbook_of_more_rows_than_the_limit_is_refused_saying_so(tmp_path: Path) -> None:
    rows = b"".join(
        b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>Step %d</t></is></c></row>' % (n, n, n)
        for n in range(3, MAX_ROWS + 2)
    )
    path = xlsx_with_sheet(tmp_path / "long.xlsx", SHEET_HEAD + rows + SHEET_TAIL)

    assert "(the limit is 100,000 rows)" in refusal(path)


def test_a_csv_of_more_lines_than_the_limit_is_refused_saying_so(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text("Action,Owner\n" + "Review,HR\n" * MAX_ROWS)

    assert refusal(path) == (
        "'long.csv' is too large to import: it has more than 100,000 rows (the limit is 100,000 rows); "
        "split the plan into smaller files (or remove what makes it so big) and import those."
    )


def test_a_csv_row_wider_than_the_limit_is_refused_saying_so(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text("Action,Owner\n" + "," * MAX_COLUMNS + "\n")

    assert "a row in line 2 is 1,001 columns wide (the limit is 1,000 columns)" in refusal(path)


def test_a_text_extract_row_wider_than_the_limit_is_refused_saying_so(tmp_path: Path) -> None:
    path = tmp_path / "wide.txt"
    path.write_text("Action\tOwner\n" + "\t" * 5000 + "\n")

    assert "(the limit is 1,000 columns)" in refusal(path)


def test_a_word_table_cell_spanning_a_billion_columns_is_refused_before_it_is_spelled_out(
    tmp_path: Path,
) -> None:
    table = (
        b"<w:tbl><w:tr><w:tc><w:p><w:r><w:t>Action</w:t></w:r></w:p></w:tc>"
        b'<w:tc><w:tcPr><w:gridSpan w:val="1000000000"/></w:tcPr><w:p/></w:tc></w:tr></w:tbl>'
    )
    path = docx_with_body(tmp_path / "span.docx", DOCUMENT_HEAD + table + DOCUMENT_TAIL)

    assert "(the limit is 1,000 columns)" in refusal(path)


def test_a_package_of_too_many_parts_is_refused_saying_so(tmp_path: Path) -> None:
    parts: dict[str, bytes | tuple[bytes, Filler, bytes]] = {
        f"customXml/item{n}.xml": b"<a/>" for n in range(10_001)
    }
    path = write_zip(tmp_path / "parts.xlsx", parts)

    assert "(the limit is 10,000 parts)" in refusal(path)


def test_a_pdf_of_more_pages_than_the_limit_is_refused_before_they_are_read(tmp_path: Path) -> None:
    pages = 501
    kids = b" ".join(b"%d 0 R" % (n + 3) for n in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
    ]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"] * pages
    body = b"%PDF-1.4\n"
    offsets = []
    for number, text in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n%s\nendobj\n" % (number, text)
    xref = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    body += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    body += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path = tmp_path / "pages.pdf"
    path.write_bytes(body)

    assert "(the limit is 500 pages)" in refusal(path)


def test_a_pdf_page_of_more_drawing_instructions_than_a_plan_needs_is_refused_before_it_is_read(
    tmp_path: Path,
) -> None:
    path = pdf_with_content(tmp_path / "busy.pdf", b"q Q\n" * 100_000)

    assert refusal(path) == (
        "'busy.pdf' is too large to import: the drawing instructions of page 1 unpack to more than 256 KB "
        "(the limit is 256 KB for a page); split the plan into smaller files "
        "(or remove what makes it so big) and import those."
    )
