"""Reading plan files into rows: every format, the awkward layouts real plans use, and every bad file."""

from __future__ import annotations

import datetime as dt
import zipfile
from collections import Counter
from pathlib import Path

import openpyxl
import pdfplumber
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.styles import Font

from storage.importing.cleaning import clean_cell
from storage.importing.errors import PlanFileError
from storage.importing.readers import read_plan_file
from storage.importing.sources import SourceDocument, SourceRow
from tests.builders import (
    ABOVE,
    LEFT,
    Formatted,
    Heading,
    PageBreak,
    Runs,
    Sheet,
    Struck,
    Table,
    write_csv,
    write_docx,
    write_password_protected_office_file,
    write_pdf,
    write_pdf_blocks,
    write_sized_file,
    write_text_pdf,
    write_xlsx,
)


def table_rows(document: SourceDocument) -> list[SourceRow]:
    return [row for row in document.rows if not row.is_prose]


def prose(document: SourceDocument) -> list[str]:
    return [row.cells[0] for row in document.rows if row.is_prose]


def cells(document: SourceDocument) -> list[tuple[str, ...]]:
    return [row.cells for row in table_rows(document)]


def row_starting(document: SourceDocument, text: str) -> SourceRow:
    """The one table row with a cell starting with `text`."""
    matches = [row for row in table_rows(document) if any(cell.startswith(text) for cell in row.cells)]
    assert len(matches) == 1, f"{len(matches)} rows start with {text!r}"
    return matches[0]


def refusal(path: Path, **kwargs: int) -> str:
    with pytest.raises(PlanFileError) as caught:
        read_plan_file(path, **kwargs)
    message = str(caught.value)
    assert path.name in message
    assert message.endswith(".") and "\n" not in message
    return message


# ---------------------------------------------------------------- DOCX


def test_word_paragraphs_and_tables_come_through_in_reading_order(tmp_path: Path) -> None:
    path = write_docx(
        tmp_path / "plan.docx",
        [
            Heading("EDI Action Plan 2024"),
            "Our commitments for the year.",
            "",
            Table([["Action", "Owner", "Due"], ["Review adverts", "HR", "June 23"]]),
            "Section 2: Our communities",
            Table([["Action", "Owner", "Due"], ["Run listening events", "Comms", "Sept 23"]]),
        ],
    )

    document = read_plan_file(path)

    assert (document.name, document.format) == ("plan.docx", "docx")
    assert [(row.cells, row.table, row.where, row.line) for row in document.rows] == [
        (("EDI Action Plan 2024",), None, "", 1),
        (("Our commitments for the year.",), None, "", 2),
        (("Action", "Owner", "Due"), 0, "table 1", 1),
        (("Review adverts", "HR", "June 23"), 0, "table 1", 2),
        (("Section 2: Our communities",), None, "", 4),
        (("Action", "Owner", "Due"), 1, "table 2", 1),
        (("Run listening events", "Comms", "Sept 23"), 1, "table 2", 2),
    ]


def test_a_heading_merged_across_a_word_table_comes_through_as_a_single_cell(tmp_path: Path) -> None:
    path = write_docx(
        tmp_path / "plan.docx",
        [
            Table(
                [
                    ["Theme 1: Our people", LEFT, LEFT],
                    ["Action", "Owner", "Due"],
                ]
            )
        ],
    )

    assert cells(read_plan_file(path)) == [("Theme 1: Our people", "", ""), ("Action", "Owner", "Due")]


def test_a_theme_merged_down_a_word_table_repeats_on_every_row_it_spans(tmp_path: Path) -> None:
    path = write_docx(
        tmp_path / "plan.docx",
        [
            Table(
                [
                    ["Theme", "Action", "Owner"],
                    ["Recruitment", "Review job adverts", "HR"],
                    [ABOVE, "Anonymise shortlisting", "HR"],
                    [ABOVE, "Diverse interview panels", "HR"],
                    ["Culture", "Staff survey", "Comms"],
                ]
            )
        ],
    )

    assert [row[0] for row in cells(read_plan_file(path))] == [
        "Theme",
        "Recruitment",
        "Recruitment",
        "Recruitment",
        "Culture",
    ]


def test_a_block_merged_both_ways_keeps_its_text_in_its_first_column_on_each_row(tmp_path: Path) -> None:
    path = write_docx(
        tmp_path / "plan.docx",
        [
            Table(
                [
                    ["Objective", "Detail", "Owner"],
                    ["Be a fair employer", LEFT, "HR"],
                    [ABOVE, LEFT, "Comms"],
                ]
            )
        ],
    )

    assert cells(read_plan_file(path))[1:] == [
        ("Be a fair employer", "", "HR"),
        ("Be a fair employer", "", "Comms"),
    ]


def test_paragraphs_inside_a_word_cell_become_lines_of_one_cell(tmp_path: Path) -> None:
    path = write_docx(
        tmp_path / "plan.docx",
        [
            Table(
                [
                    ["Action", "Owner"],
                    ["Review policy\n\nPublish   the results", "HR\nEqualities Team"],
                ]
            )
        ],
    )

    row = table_rows(read_plan_file(path))[1]

    assert row.cells == ("Review policy\nPublish the results", "HR\nEqualities Team")
    assert row.raw == ("Review policy\n\nPublish   the results", "HR\nEqualities Team")


def test_struck_through_words_in_a_word_cell_are_set_aside_but_kept_in_the_raw_text(tmp_path: Path) -> None:
    path = write_docx(
        tmp_path / "plan.docx",
        [
            Table(
                [
                    ["Action", "Owner", "Due"],
                    ["Train managers", Struck("HR", double=True), Runs("Due ", Struck("June 23"), "Sept 23")],
                ]
            )
        ],
    )

    row = table_rows(read_plan_file(path))[1]

    assert row.cells == ("Train managers", "", "Due Sept 23")
    assert row.struck == ("", "HR", "June 23")
    assert row.raw == ("Train managers", "HR", "Due June 23Sept 23")


def test_struck_through_runs_next_to_each_other_are_one_piece_of_struck_text(tmp_path: Path) -> None:
    # Word splits a phrase into runs wherever its editing history says, so "June 23" struck
    # through may be two runs; they are one deleted date, not two lines.
    path = write_docx(
        tmp_path / "plan.docx",
        [
            Table(
                [
                    ["Due"],
                    [
                        Runs(
                            "Due ",
                            Struck("June "),
                            Struck("23"),
                            " Sept 23 ",
                            Struck("Oct"),
                            " ",
                            Struck("24"),
                        )
                    ],
                ]
            )
        ],
    )

    row = table_rows(read_plan_file(path))[1]

    assert row.cells == ("Due Sept 23",)
    assert row.struck == ("June 23\nOct 24",)


def test_a_struck_through_paragraph_between_tables_is_kept_only_as_history(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "plan.docx", [Runs("Section 3: ", Struck("Withdrawn"), "Services")])

    (row,) = read_plan_file(path).rows

    assert row.cells == ("Section 3: Services",)
    assert row.struck == ("Withdrawn",)
    assert row.raw == ("Section 3: WithdrawnServices",)


def test_a_table_nested_in_a_word_cell_is_flattened_into_that_cell(tmp_path: Path) -> None:
    nested = Table([["Q1", "Pilot"], ["Q2", "Roll out"]])
    path = write_docx(tmp_path / "plan.docx", [Table([["Action", "Milestones"], ["New intranet", nested]])])

    document = read_plan_file(path)

    assert cells(document) == [("Action", "Milestones"), ("New intranet", "Q1 | Pilot\nQ2 | Roll out")]
    assert {row.table for row in table_rows(document)} == {0}


def test_a_password_protected_word_document_is_refused_with_advice(tmp_path: Path) -> None:
    message = refusal(write_password_protected_office_file(tmp_path / "plan.docx"))

    assert "password-protected; remove the password and import again" in message


@pytest.mark.parametrize("damage", ["not a zip", "zip without Word parts", "truncated", "workbook renamed"])
def test_a_damaged_word_document_is_refused_with_advice(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "plan.docx"
    good = write_docx(tmp_path / "good.docx", ["Intro", Table([["Action"], ["Do it"]])]).read_bytes()
    if damage == "not a zip":
        path.write_text("Action,Owner\n")
    elif damage == "zip without Word parts":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("notes.txt", "hello")
    elif damage == "truncated":
        path.write_bytes(good[: len(good) // 2])
    else:
        path.write_bytes(write_xlsx(tmp_path / "book.xlsx", {"Plan": [["Action"]]}).read_bytes())

    message = refusal(path)

    assert "is damaged or is not really a Word document; open it in Word, save it again as .docx" in message


# ---------------------------------------------------------------- XLSX


def test_every_visible_sheet_is_a_table_and_hidden_sheets_are_skipped(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "plan.xlsx",
        {
            "Our people": [["Action", "Owner"], ["Review adverts", "HR"]],
            "Lookups": Sheet([["Red"], ["Amber"]], hidden=True),
            "Our communities": [["Action", "Owner"], ["Listening events", "Comms"]],
        },
    )

    document = read_plan_file(path)

    assert document.format == "xlsx"
    assert [(row.table, row.where, row.line, row.cells) for row in document.rows] == [
        (0, "sheet 'Our people'", 1, ("Action", "Owner")),
        (0, "sheet 'Our people'", 2, ("Review adverts", "HR")),
        (1, "sheet 'Our communities'", 1, ("Action", "Owner")),
        (1, "sheet 'Our communities'", 2, ("Listening events", "Comms")),
    ]


def test_a_header_below_a_title_block_keeps_its_sheet_row_numbers(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "plan.xlsx",
        {
            "Plan": Sheet(
                [
                    ["EDI Action Plan 2024/25"],
                    [],
                    ["Action", "Owner", "Due"],
                    ["Review adverts", "HR", "June 23"],
                ],
                first_row=3,
            )
        },
    )

    assert [(row.line, row.cells) for row in read_plan_file(path).rows] == [
        (3, ("EDI Action Plan 2024/25", "", "")),
        (5, ("Action", "Owner", "Due")),
        (6, ("Review adverts", "HR", "June 23")),
    ]


def test_merged_cells_in_a_sheet_span_across_as_one_cell_and_repeat_down(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "plan.xlsx",
        {
            "Plan": [
                ["Theme 1: Our people", LEFT, LEFT],
                ["Recruitment", "Review adverts", "HR"],
                [ABOVE, "Anonymise shortlisting", "HR"],
            ]
        },
    )

    assert cells(read_plan_file(path)) == [
        ("Theme 1: Our people", "", ""),
        ("Recruitment", "Review adverts", "HR"),
        ("Recruitment", "Anonymise shortlisting", "HR"),
    ]


def test_dates_and_numbers_in_a_sheet_read_as_the_owner_sees_them(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "plan.xlsx",
        {
            "Plan": [
                ["Due", "Reviewed", "Actions", "Budget", "Progress", "Done"],
                [
                    dt.date(2024, 3, 31),
                    dt.datetime(2024, 6, 30, 17, 30),
                    3.0,
                    2.5,
                    Formatted(0.25, "0%"),
                    True,
                ],
            ]
        },
    )

    assert cells(read_plan_file(path))[1] == ("2024-03-31", "2024-06-30", "3", "2.5", "25%", "TRUE")


@pytest.mark.parametrize("inline_strings", [False, True], ids=["shared strings as Excel saves", "inline"])
def test_struck_through_runs_in_a_sheet_cell_are_set_aside_but_kept_in_the_raw_text(
    tmp_path: Path, inline_strings: bool
) -> None:
    path = write_xlsx(
        tmp_path / "plan.xlsx",
        {
            "Plan": [
                ["Action", "Owner", "Timescale for delivery"],
                ["Launch a reverse mentoring scheme", "HR", Runs(Struck("March 2025"), " September 2025")],
                [
                    "Train managers",
                    Runs("HR / ", Struck("Comms")),
                    Runs("Due ", Struck("June "), Struck("23"), " Sept 23"),
                ],
                ["Run listening events", Runs("Comms", " Team"), "Q3 2024"],
            ]
        },
        inline_strings=inline_strings,
    )

    rows = table_rows(read_plan_file(path))[1:]

    assert [row.cells for row in rows] == [
        ("Launch a reverse mentoring scheme", "HR", "September 2025"),
        ("Train managers", "HR /", "Due Sept 23"),
        ("Run listening events", "Comms Team", "Q3 2024"),  # rich text with nothing struck
    ]
    assert [row.struck for row in rows] == [("", "", "March 2025"), ("", "Comms", "June 23"), ("", "", "")]
    assert [row.raw[1:] for row in rows] == [
        ("HR", "March 2025 September 2025"),
        ("HR / Comms", "Due June 23 Sept 23"),
        ("Comms Team", "Q3 2024"),
    ]


@pytest.mark.parametrize("inline_strings", [False, True], ids=["shared strings as Excel saves", "inline"])
def test_a_sheet_cell_struck_through_as_a_whole_is_deleted_but_kept_in_the_raw_text(
    tmp_path: Path, inline_strings: bool
) -> None:
    path = write_xlsx(
        tmp_path / "plan.xlsx",
        {
            "Plan": [
                ["Theme", "Action", "Owner"],
                [Struck("Recruitment"), "Review adverts", Struck("HR")],
                [ABOVE, "Anonymise shortlisting", Struck("HR", double=True)],
                ["Culture", Struck("Staff survey"), "Comms"],
            ]
        },
        inline_strings=inline_strings,
    )

    rows = table_rows(read_plan_file(path))[1:]

    assert [row.cells for row in rows] == [
        ("", "Review adverts", ""),
        ("", "Anonymise shortlisting", ""),  # a struck cell merged down is struck on every row
        ("Culture", "", "Comms"),
    ]
    assert [row.struck for row in rows] == [
        ("Recruitment", "", "HR"),
        ("Recruitment", "", "HR"),
        ("", "Staff survey", ""),
    ]
    assert rows[0].raw == ("Recruitment", "Review adverts", "HR")


def test_a_struck_through_date_or_rich_text_cell_is_struck_as_a_whole(tmp_path: Path) -> None:
    # A run of rich text without a font of its own takes the cell's font, struck or not.
    path = write_xlsx(
        tmp_path / "plan.xlsx",
        {
            "Plan": [
                ["Action", "Due", "Status"],
                ["Review adverts", dt.date(2024, 3, 31), Runs("On ", "track")],
            ]
        },
    )
    workbook = openpyxl.load_workbook(path, rich_text=True)
    for cell in workbook.active["B2":"C2"][0]:
        cell.font = Font(strike=True)
    workbook.save(path)

    row = table_rows(read_plan_file(path))[1]

    assert (row.cells, row.struck, row.raw) == (
        ("Review adverts", "", ""),
        ("", "2024-03-31", "On track"),
        ("Review adverts", "2024-03-31", "On track"),
    )


def test_empty_columns_and_rows_around_a_sheet_table_are_trimmed(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "plan.xlsx",
        {
            "Plan": [
                ["Action", "Owner", "", "", "  "],
                ["Review adverts", "HR"],
                [],
                ["Train managers", "L&D", ""],
                ["", "", "", "", ""],
            ]
        },
    )

    assert [(row.line, row.cells) for row in read_plan_file(path).rows] == [
        (1, ("Action", "Owner")),
        (2, ("Review adverts", "HR")),
        (4, ("Train managers", "L&D")),
    ]


def test_a_workbook_with_nothing_on_its_visible_sheets_is_refused(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "plan.xlsx", {"Sheet1": [], "Old": Sheet([["Action"]], hidden=True)})

    assert "has no text I can read" in refusal(path)


def test_a_password_protected_workbook_is_refused_with_advice(tmp_path: Path) -> None:
    message = refusal(write_password_protected_office_file(tmp_path / "plan.xlsx"))

    assert "password-protected; remove the password and import again" in message


@pytest.mark.parametrize("damage", ["not a zip", "zip without workbook parts", "truncated", "doc renamed"])
def test_a_damaged_workbook_is_refused_with_advice(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "plan.xlsx"
    good = write_xlsx(tmp_path / "good.xlsx", {"Plan": [["Action"], ["Do it"]]}).read_bytes()
    if damage == "not a zip":
        path.write_bytes(b"PK\x03\x04 this is not really a zip")
    elif damage == "zip without workbook parts":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("notes.txt", "hello")
    elif damage == "truncated":
        path.write_bytes(good[: len(good) // 2])
    else:
        path.write_bytes(write_docx(tmp_path / "doc.docx", ["Action"]).read_bytes())

    message = refusal(path)

    assert "is damaged or is not really an Excel workbook; open it in Excel, save it again as .xlsx" in (
        message
    )


# ---------------------------------------------------------------- CSV and TSV

PLAN_ROWS = [["Action", "Owner", "Due"], ["Café sessions – run 4", "HR; Comms", "£500 by June 23"]]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-be", "cp1252"])
def test_a_csv_reads_the_same_in_every_supported_encoding(tmp_path: Path, encoding: str) -> None:
    if encoding == "utf-16-be":  # a UTF-16 file saved big-endian, with its byte-order mark
        path = tmp_path / "plan.csv"
        text = "\ufeffAction,Owner,Due\r\nCafé sessions – run 4,HR; Comms,£500 by June 23\r\n"
        path.write_bytes(text.encode(encoding))
    else:
        path = write_csv(tmp_path / "plan.csv", PLAN_ROWS, encoding=encoding)

    document = read_plan_file(path)

    assert document.format == "csv"
    assert cells(document) == [tuple(row) for row in PLAN_ROWS]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_delimiter_of_a_csv_is_worked_out_from_the_file(tmp_path: Path, delimiter: str) -> None:
    rows = [
        ["Action", "Owner", "Due"],
        ["Review policy, then publish", "HR", "June 23"],
        ["Train staff; managers first", "L&D", "Q1 2024 - Q2 2024"],
        ["Update site | intranet", "Comms", "Ongoing"],
    ]
    path = write_csv(tmp_path / "plan.csv", rows, delimiter=delimiter)

    assert cells(read_plan_file(path)) == [tuple(row) for row in rows]


def test_a_title_line_above_a_semicolon_table_does_not_fool_the_delimiter_guess(tmp_path: Path) -> None:
    path = tmp_path / "plan.csv"
    path.write_text(
        "EDI Action Plan 2024\n\nAction;Owner;Due\nReview, then publish;HR;June 23\nTrain;L&D;Sept 23\n"
    )

    assert cells(read_plan_file(path)) == [
        ("EDI Action Plan 2024",),
        ("Action", "Owner", "Due"),
        ("Review, then publish", "HR", "June 23"),
        ("Train", "L&D", "Sept 23"),
    ]


def test_excel_sep_line_sets_the_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "plan.csv"
    path.write_text("sep=;\nAction;Owner\nReview, then publish;HR\n")

    assert cells(read_plan_file(path)) == [("Action", "Owner"), ("Review, then publish", "HR")]


def test_a_quoted_csv_cell_over_several_lines_stays_one_cell_and_rows_count_records(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "plan.csv",
        [
            ["Action", "Owner"],
            ["Review policy\nPublish results\n\nReport to board", "HR\nComms"],
            ["Train staff", "L&D"],
        ],
    )

    rows = read_plan_file(path).rows

    assert [(row.line, row.cells) for row in rows] == [
        (1, ("Action", "Owner")),
        (2, ("Review policy\nPublish results\nReport to board", "HR\nComms")),
        (3, ("Train staff", "L&D")),
    ]
    assert rows[1].raw[0] == "Review policy\nPublish results\n\nReport to board"


def test_a_tsv_is_split_on_tabs_even_when_cells_hold_commas(tmp_path: Path) -> None:
    rows = [["Action", "Owner"], ["Review, then publish", "HR, Comms"]]
    path = write_csv(tmp_path / "plan.tsv", rows, delimiter="\t")

    document = read_plan_file(path)

    assert document.format == "tsv"
    assert cells(document) == [("Action", "Owner"), ("Review, then publish", "HR, Comms")]


def test_html_in_a_csv_cell_is_cleaned_and_the_original_kept(tmp_path: Path) -> None:
    original = "<p>Due July 2025</p> <p><del>June 2025</del></p>"
    path = write_csv(tmp_path / "plan.csv", [["Action", "Due"], ["Survey", original]])

    row = table_rows(read_plan_file(path))[1]

    assert (row.cells[1], row.struck[1], row.raw[1]) == ("Due July 2025", "June 2025", original)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param("Action,Owner\r\n".encode("utf-16-le"), id="utf-16 without a byte-order mark"),
        pytest.param(b"Action,Owner\r\nCaf\x81\xe9,HR\r\n", id="neither UTF-8 nor Windows-1252"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", id="a picture renamed"),
    ],
)
def test_a_text_file_in_an_unknown_encoding_is_refused_naming_the_ones_that_work(
    tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "plan.csv"
    path.write_bytes(content)

    message = refusal(path)

    assert "UTF-8, UTF-16 with a byte-order mark, or Windows-1252" in message
    assert "save it as UTF-8" in message


# ---------------------------------------------------------------- TXT extracts


def test_a_row_per_line_text_extract_has_table_rows_and_prose(tmp_path: Path) -> None:
    path = tmp_path / "plan.txt"
    path.write_text(
        "EDI plan\n\nWhat\tHow\tWho\n<b>Be fair</b>\tReview pay\tHR\n\n\tAudit roles\tHR\n## Page 2\n"
    )

    assert [(row.line, row.table, row.cells) for row in read_plan_file(path).rows] == [
        (1, None, ("EDI plan",)),
        (3, 0, ("What", "How", "Who")),
        (4, 0, ("Be fair", "Review pay", "HR")),
        (6, 0, ("", "Audit roles", "HR")),
        (7, None, ("## Page 2",)),
    ]


def test_a_cell_per_line_text_extract_rejoins_a_cell_that_holds_a_blank_line(tmp_path: Path) -> None:
    path = tmp_path / "plan.txt"
    path.write_text(
        "Improvement plan\n\n"
        "\t1. Leadership\n\n"
        "\tEvidence\n\tGap\n\tWhen\n\tWho\n\n"
        "\tWe have a panel\n\nIt meets monthly\n\n\tRecruit members\n\tNov 22\n\tHR/\nComms\n\n"
        "\t\n\tTrain the panel\n\tOngoing\n\tHR\n"
    )

    assert [(row.line, row.table, row.cells) for row in read_plan_file(path).rows] == [
        (1, None, ("Improvement plan",)),
        (3, 0, ("", "1. Leadership")),
        (5, 0, ("", "Evidence", "Gap", "When", "Who")),
        (10, 0, ("", "We have a panel\nIt meets monthly", "Recruit members", "Nov 22", "HR/\nComms")),
        (19, 0, ("", "", "Train the panel", "Ongoing", "HR")),
    ]


# ---------------------------------------------------------------- the published plans


def read_shared_plan(plans: Path, prefix: str) -> SourceDocument:
    (path,) = plans.glob(f"{prefix}_*.txt")
    return read_plan_file(path)


@pytest.mark.shared_plans
def test_local_trust_plan_reads_as_three_four_column_tables_with_prose_between(shared_plans: Path) -> None:
    document = read_shared_plan(shared_plans, "000")

    assert (len(document.rows), len(prose(document))) == (48, 11)
    assert {len(row.cells) for row in table_rows(document)} == {4}
    assert cells(document).count(("What", "How", "Who", "When")) == 3
    toolkit = row_starting(document, "Create an EDI toolkit")
    assert (toolkit.line, toolkit.table) == (21, 0)
    assert toolkit.cells == (
        "",
        "Create an EDI toolkit to support the work of BLs and legacy organisations.",
        "Delivery Support",
        "Sept 23",
    )
    assert prose(document).count("1. Our relationship with Big Local partnerships") == 2
    embed = row_starting(document, "Embed EDI commitments")
    assert embed.cells[1] == "Embed EDI commitments in forward plan for Make it Happen ."
    assert "<i>Make it Happen</i>" in embed.raw[1]
    assert (
        row_starting(document, "Provide additional support")
        .cells[1]
        .startswith("Provide additional support and advice – and capture learning from –up to 10")
    )
    report = row_starting(document, "Yearly progress report to Board")
    assert report.cells == ("", "Yearly progress report to Board", "SMT EDI Champion", "March 24")


@pytest.mark.shared_plans
def test_maidstone_plan_loses_its_html_but_keeps_struck_text_aside(shared_plans: Path) -> None:
    document = read_shared_plan(shared_plans, "002")

    assert (len(document.rows), len(prose(document))) == (44, 5)
    assert prose(document) == ["## Appendix 2 – EDI Action Plan 2023-24."] * 5
    headers = [row for row in table_rows(document) if row.cells[0] == "Commitments"]
    assert [row.cells for row in headers] == [
        ("Commitments", "Action Title", "Actions", "Responsible Service", "Timescale for delivery"),
    ] * 2 + [("Commitments", "Action Title", "Actions", "Responsible Service", "")]
    assert headers[0].raw[0] == "<b>Commitments</b>"
    language = row_starting(document, "We will use specific and meaningful language")
    assert language.struck[0] == "including a specific work stream on communities."
    assert "work stream" not in language.cells[0]
    assert "<del>including a specific work stream on communities.</del>" in language.raw[0]
    assert language.cells[0].split("\n")[:3] == [
        "We will use specific and meaningful language when referring to diverse communities.",
        "We will support access to services and support through ICT process, communication and join up "
        "with partners.",
        "We will take an evidence-based approach to leading recovery supporting financial inclusion and "
        "social well-being in Maidstone.",
    ]
    survey = row_starting(document, "Maintain understanding of the organisation's diversity")
    assert survey.cells[4] == "Due July 2025\nJuly 2024\nOctober 2024"
    connections = row_starting(document, "Connections to other plans and Strategies")
    assert connections.nonempty() == [
        "Connections to other plans and Strategies\n• Strategic Plan\n• Communications Plan\n"
        "• Financial Inclusion Strategy\n• Homelessness and Rough Sleepers Strategy"
    ]
    assert row_starting(document, "As a Community Leader").nonempty() == ["As a Community Leader"]


@pytest.mark.shared_plans
def test_bath_plan_in_cell_per_line_layout_rejoins_its_rows(shared_plans: Path) -> None:
    document = read_shared_plan(shared_plans, "004")

    assert (len(document.rows), len(prose(document))) == (108, 11)
    assert Counter(len(row.cells) for row in table_rows(document)) == {6: 89, 2: 8}
    assert prose(document)[:2] == ["B&NES Council Equality Improvement Plan", "September 2022"]
    training = row_starting(document, "Consider and address training needs of the group")
    assert training.line == 40
    assert training.cells == (
        "",
        "",
        "Consider and address training needs of the group -Inclusive Leadership Training has been arranged "
        "to be delivered by The Diversity Trust for CEDIS members.\nReview potential ongoing training needs",
        "Nov 2022 & Ongoing",
        "CEDIS\nEqualities Team/CB",  # sic: the published plan has "/CB" here
        "A",
    )
    engagement = row_starting(document, "We have engagement mechanisms and structures in place")
    assert len(engagement.cells) == 6
    assert "\nGiving people a bigger say" in engagement.cells[1]
    assert engagement.cells[3:] == ("complete", "Communities Team/\nEqualities Team", "G")
    heading = row_starting(document, "2. Understanding and working with our communities")
    assert (heading.line, heading.table, heading.cells) == (
        136,
        0,
        ("", "2. Understanding and working with our communities"),
    )
    evidence = "What can the Council already evidence?"
    headers = [row for row in table_rows(document) if row.cells[1] == evidence]
    assert [row.cells[2:] for row in headers] == [
        ("What are the gaps/what needs to be done?", "By when", "Responsible officer", "RAG"),
    ] + [("What are the gaps/what needs to be done?", "By when", "By whom", "RAG")] * 3
    assert headers[0].raw[1].startswith("[bookmark: _Hlk78985188][bookmark: _Hlk66959576]What can")
    aspirations = row_starting(document, "Our aspirations:\n· Information about the local communities")
    assert aspirations.cells[1].split("\n")[-1] == (
        "Lead Officer for the section: Christopher Wilford, Director of Education and Safeguarding"
    )
    assert row_starting(document, "H & B Incidents").cells[3:] == ("Bi-annual", "HR", "A")


# ---------------------------------------------------------------- PDF


def test_a_pdf_table_comes_through_with_the_title_above_it_as_prose(tmp_path: Path) -> None:
    path = write_pdf(
        tmp_path / "plan.pdf",
        [
            ["Action", "Owner", "Due"],
            ["Review adverts\nand job descriptions", "HR", "June 23"],
            ["Staff survey", "Comms", ""],
        ],
        title="EDI Action Plan 2024",
    )

    document = read_plan_file(path)

    assert document.format == "pdf"
    assert [(row.table, row.where, row.line, row.cells) for row in document.rows] == [
        (None, "page 1", 1, ("EDI Action Plan 2024",)),
        (0, "page 1", 1, ("Action", "Owner", "Due")),
        (0, "page 1", 2, ("Review adverts\nand job descriptions", "HR", "June 23")),
        (0, "page 1", 3, ("Staff survey", "Comms", "")),
    ]


# Narrow Owner and Due columns: long owners and titles wrap onto several lines.
NARROW_OWNERS = (3, 1, 1, 1)


def pdfplumber_cells(path: Path) -> list[list[str | None]]:
    """The cells of the PDF's first table as pdfplumber reads them, every line on a line of its own."""
    with pdfplumber.open(path) as pdf:
        return pdf.pages[0].find_tables()[0].extract()


def wrapped(source: list[list[str]], read: list[list[str | None]]) -> list[list[bool]]:
    """Which cells pdfplumber read on more lines than they were written on."""
    return [
        [(cell or "").count("\n") > text.count("\n") for text, cell in zip(row, read_row, strict=True)]
        for row, read_row in zip(source, read, strict=True)
    ]


@pytest.mark.parametrize("text_align", ["JUSTIFY", "LEFT"])
def test_lines_wrapped_in_a_narrow_pdf_column_are_joined_again(tmp_path: Path, text_align: str) -> None:
    rows = [
        ["Action", "Owner", "Due", "RAG"],
        [
            "Recruit two co-opted resident members to the EDI Committee, advertising in every newsletter",
            "Company Secretary / Resident Involvement Team",
            "September 2024",
            "A",
        ],
        [
            "Report progress on this plan to the Board every quarter, with the risks and the money spent",
            "Director of Resources",
            "Quarterly",
            "G",
        ],
    ]
    path = write_pdf(tmp_path / "plan.pdf", rows, col_widths=NARROW_OWNERS, text_align=text_align)
    assert [row[:2] for row in wrapped(rows, pdfplumber_cells(path))[1:]] == [[True, True]] * 2

    assert cells(read_plan_file(path))[1:] == [tuple(row) for row in rows[1:]]


@pytest.mark.parametrize("text_align", ["JUSTIFY", "LEFT"])
def test_lines_broken_by_hand_and_list_items_in_a_pdf_cell_keep_their_breaks(
    tmp_path: Path, text_align: str
) -> None:
    rows = [
        ["Action", "Owner", "Due", "RAG"],
        [
            "Review the terms of reference and the membership of the EDI Committee every two years\n"
            "Agree them with the Board",
            "CEDIS\nEqualities Team",
            "Nov 2022 & Ongoing",
            "A",
        ],
        [
            "Actions:\n• Review adverts and job descriptions for biased or exclusive language\n"
            "• Anonymise shortlisting",
            "- Head of HR\n- Recruitment Team Leader",
            "2025",
            "",
        ],
    ]
    path = write_pdf(tmp_path / "plan.pdf", rows, col_widths=NARROW_OWNERS, text_align=text_align)
    # fpdf2 starts a new line at "\n"; pdfplumber gives those lines and the wrapped ones alike.
    assert [row[:2] for row in wrapped(rows, pdfplumber_cells(path))[1:]] == [[True, False], [True, True]]

    assert cells(read_plan_file(path))[1:] == [tuple(row) for row in rows[1:]]


def test_a_pdf_table_running_over_two_pages_stays_one_table(tmp_path: Path) -> None:
    rows = [["Action", "Owner"], *([f"Action {n}", "HR"] for n in range(1, 61))]
    path = write_pdf(tmp_path / "plan.pdf", rows)

    body = table_rows(read_plan_file(path))

    assert {row.table for row in body} == {0}
    assert {row.where for row in body} == {"page 1", "page 2"}
    assert [row.cells[0] for row in body if row.cells[0] != "Action"] == [f"Action {n}" for n in range(1, 61)]
    assert [row.line for row in body] == list(range(1, len(body) + 1))


def test_text_between_pdf_tables_is_prose_and_the_tables_are_told_apart(tmp_path: Path) -> None:
    path = write_pdf_blocks(
        tmp_path / "plan.pdf",
        [
            Table([["Action", "Owner"], ["Review adverts", "HR"]]),
            "Section 2: Our communities",
            Table([["Action", "Owner", "Due"], ["Listening events", "Comms", "Q3 2024"]]),
            PageBreak(),
            Table([["Action", "Owner"], ["Audit", "HR"]]),
        ],
    )

    document = read_plan_file(path)

    assert [(row.table, row.cells) for row in document.rows] == [
        (0, ("Action", "Owner")),
        (0, ("Review adverts", "HR")),
        (None, ("Section 2: Our communities",)),
        (1, ("Action", "Owner", "Due")),
        (1, ("Listening events", "Comms", "Q3 2024")),
        (2, ("Action", "Owner")),  # three columns before the break, two after: a new table
        (2, ("Audit", "HR")),
    ]


def test_merged_cells_in_a_pdf_table_follow_the_same_rules_as_word(tmp_path: Path) -> None:
    path = write_pdf(
        tmp_path / "plan.pdf",
        [
            ["Theme", "Action", "Owner"],
            ["Theme 1: Our people", LEFT, LEFT],
            ["Recruitment", "Review adverts", "HR"],
            [ABOVE, "Anonymise shortlisting", "HR"],
        ],
    )

    assert cells(read_plan_file(path))[1:] == [
        ("Theme 1: Our people", "", ""),
        ("Recruitment", "Review adverts", "HR"),
        ("Recruitment", "Anonymise shortlisting", "HR"),
    ]


def test_a_pdf_with_no_table_is_refused_with_advice_to_export(tmp_path: Path) -> None:
    path = write_text_pdf(tmp_path / "plan.pdf", ["EDI Action Plan", "1. Review adverts - HR - June 23"])

    message = refusal(path)

    assert "has no tables I can read — it may be a scanned image or laid out as plain text" in message
    assert "export the plan to XLSX or DOCX and import that" in message


def test_a_password_protected_pdf_is_refused_with_advice(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "plan.pdf", [["Action", "Owner"], ["Review", "HR"]], password="s3cret")

    assert "password-protected; remove the password and import again" in refusal(path)


@pytest.mark.parametrize(
    "content", [b"%PDF-1.7\nnothing else", b"Action,Owner\nReview,HR\n"], ids=["broken", "not a pdf"]
)
def test_a_damaged_pdf_is_refused_with_advice(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "plan.pdf"
    path.write_bytes(content)

    assert "is damaged or is not really a PDF" in refusal(path)


# ---------------------------------------------------------------- any file


def test_a_missing_file_is_refused_naming_it(tmp_path: Path) -> None:
    assert "I can't find 'plan.xlsx'" in refusal(tmp_path / "plan.xlsx")


def test_a_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "plans.xlsx"
    folder.mkdir()

    assert "is a folder, not a file" in refusal(folder)


@pytest.mark.parametrize("name", ["plan.docx", "plan.xlsx", "plan.csv", "plan.tsv", "plan.txt", "plan.pdf"])
def test_an_empty_file_is_refused(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.touch()

    assert "is empty (0 bytes)" in refusal(path)


@pytest.mark.parametrize(("name", "content"), [("plan.csv", "\n \n,,\n\n"), ("plan.txt", "\n \n\t\t\n\n")])
def test_a_file_of_blank_lines_is_refused(tmp_path: Path, name: str, content: str) -> None:
    path = tmp_path / name
    path.write_text(content)

    assert "has no text I can read" in refusal(path)


@pytest.mark.parametrize(
    ("extension", "advice"),
    [
        (".doc", "save it as .docx"),
        (".xls", "save it as .xlsx"),
        (".odt", "save it as .docx"),
        (".ods", "save it as .xlsx"),
    ],
)
def test_an_old_or_open_office_format_gets_save_as_advice(
    tmp_path: Path, extension: str, advice: str
) -> None:
    path = tmp_path / f"plan{extension}"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")

    assert advice in refusal(path)


@pytest.mark.parametrize("name", ["plan.pages", "plan.json", "plan"])
def test_an_unknown_kind_of_file_is_refused_listing_the_kinds_that_work(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("Action,Owner\n")

    assert "save the plan as .docx, .xlsx, .csv, .tsv, .txt or .pdf" in refusal(path)


def test_a_50_mb_file_is_refused_saying_its_size_and_the_limit(tmp_path: Path) -> None:
    path = write_sized_file(tmp_path / "plan.xlsx", 50 * 1024 * 1024)

    assert "is 50 MB, over the 20 MB limit" in refusal(path)


def test_the_extension_is_recognised_whatever_its_case(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "PLAN.CSV", [["Action", "Owner"], ["Review", "HR"]])

    assert read_plan_file(path).format == "csv"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    content=st.binary(min_size=1, max_size=400),
    extension=st.sampled_from([".docx", ".xlsx", ".pdf", ".csv", ".txt"]),
)
def test_no_bytes_whatsoever_make_a_library_error_escape(
    tmp_path: Path, content: bytes, extension: str
) -> None:
    path = tmp_path / f"plan{extension}"
    path.write_bytes(content)
    try:
        document = read_plan_file(path)
    except PlanFileError as error:
        assert path.name in str(error)
    else:
        assert document.rows


# ---------------------------------------------------------------- cleaning cells


@pytest.mark.parametrize(
    ("raw", "text", "struck"),
    [
        ("<b>Commitments</b>", "Commitments", ""),
        ("<p>Due July 2025</p> <p>July 2024</p>", "Due July 2025\nJuly 2024", ""),
        ("one<br>two<br/>three", "one\ntwo\nthree", ""),
        ('<ul style="x"> <li>• Plan A</li> <li>• Plan B</li> </ul>', "• Plan A\n• Plan B", ""),
        ("<div>a</div><div>b</div>", "a\nb", ""),
        ("<p>Keep <del>this old bit</del> going</p><s>dropped</s>", "Keep going", "this old bit\ndropped"),
        ("<strike>June 23</strike> Sept 23", "Sept 23", "June 23"),
        ("Health &amp; Safety &#8211; <i>HR</i>", "Health & Safety – HR", ""),
        ("B&NES &notes", "B&NES &notes", ""),
        ("<b>B&NES &notes</b>", "B&NES &notes", ""),
        ("[bookmark: _Hlk78985188][bookmark: _Hlk66959576]Evidence?", "Evidence?", ""),
        ("  • item   one \n\n\n  - item\t two  ", "• item one\n- item two", ""),
        ("· Our leaders\r\n· Our vision", "· Our leaders\n· Our vision", ""),
        ("Fewer than <5 staff and a < b", "Fewer than <5 staff and a < b", ""),
        ("", "", ""),
    ],
)
def test_a_cell_is_cleaned_of_markup_and_stray_space(raw: str, text: str, struck: str) -> None:
    cleaned = clean_cell(raw)

    assert (cleaned.text, cleaned.struck) == (text, struck)
