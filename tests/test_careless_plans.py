"""Plans nobody laid out for us: columns we don't know by name, and exports whose cells slid sideways.

Whatever the file, every row it holds is an action, a heading or a problem the plan owner is told
about, and every column with text in it is read or named in the summary as not used.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from storage.importing.readers import read_plan_file
from storage.importing.tables import ParsedAction, ParsedPlan, interpret_document
from tests.builders import Table, write_csv, write_docx, write_pdf_blocks, write_xlsx
from tests.conftest import CliRun

NO_DATE = ("unknown", None)


def imported(tmp_path: Path, rows: list[list[str]], name: str = "plan.csv") -> ParsedPlan:
    return interpret_document(read_plan_file(write_csv(tmp_path / name, rows)), today=date(2024, 1, 15))


def reading(action: ParsedAction) -> tuple[object, ...]:
    return (
        action.theme,
        action.title,
        action.owners,
        (action.deadline.kind, action.deadline.due),
        action.rag,
    )


def problem_rows(plan: ParsedPlan) -> set[int]:
    return {problem.row for problem in plan.problems}


def assert_every_row_accounted_for(plan: ParsedPlan, rows_in_file: int) -> None:
    tally = plan.rows
    assert tally.rows == rows_in_file
    assert tally.actions + tally.headings + tally.reported == tally.rows


# ---------------------------------------------------------------- columns we don't know by name


def imported_as(fmt: str, tmp_path: Path, rows: list[list[str]]) -> ParsedPlan:
    """The rows as the table of a plan saved in `fmt` (CSV, XLSX, DOCX or PDF)."""
    if fmt == "csv":
        return imported(tmp_path, rows)
    if fmt == "xlsx":
        path = write_xlsx(tmp_path / "plan.xlsx", {"Plan": rows})
    elif fmt == "docx":
        path = write_docx(tmp_path / "plan.docx", [Table(rows)])
    else:
        path = write_pdf_blocks(tmp_path / "plan.pdf", [Table(rows)])
    return interpret_document(read_plan_file(path), today=date(2024, 1, 15))


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "docx", "pdf"])
def test_a_directorate_and_a_target_of_dates_are_the_owner_and_the_deadline(tmp_path: Path, fmt: str) -> None:
    plan = imported_as(
        fmt,
        tmp_path,
        [
            ["Action", "Directorate", "Target"],
            ["Run a staff survey", "People and Culture", "31/03/2025"],
            ["Publish the pay gap report", "Finance", "Q2 2025"],
            ["Train every manager in inclusive recruitment", "People and Culture", "June 2025"],
        ],
    )
    assert [reading(a) for a in plan.actions] == [
        (None, "Run a staff survey", ["People and Culture"], ("dated", date(2025, 3, 31)), None),
        (None, "Publish the pay gap report", ["Finance"], ("dated", date(2025, 6, 30)), None),
        (
            None,
            "Train every manager in inclusive recruitment",
            ["People and Culture"],
            ("dated", date(2025, 6, 30)),
            None,
        ),
    ]
    assert plan.unused_columns == [] and plan.problems == []
    assert_every_row_accounted_for(plan, 3)


# Not PDF: eight columns across a page wrap "Chief Executive" where a line break would fall (0.9 pt short),
# and the PDF reader, by design, reads two names one to a line.
@pytest.mark.parametrize("fmt", ["csv", "xlsx", "docx"])
def test_columns_nobody_claims_are_named_in_the_summary_with_their_cell_counts(
    tmp_path: Path, fmt: str
) -> None:
    plan = imported_as(
        fmt,
        tmp_path,
        [
            [
                "Theme",
                "Action",
                "Accountable officer",
                "Service area",
                "Completion date",
                "Review date",
                "Measure of success",
                "Milestones",
            ],
            [
                "Workforce",
                "Review recruitment adverts",
                "Head of HR",
                "People",
                "31/03/2025",
                "01/01/2025",
                "Adverts reviewed",
                "Draft by Jan",
            ],
            [
                "",
                "Offer reverse mentoring",
                "Chief Executive",
                "People",
                "Sept 2025",
                "01/06/2025",
                "Ten pairs",
                "",
            ],
        ],
    )
    assert [reading(a) for a in plan.actions] == [
        ("Workforce", "Review recruitment adverts", ["Head of HR"], ("dated", date(2025, 3, 31)), None),
        ("Workforce", "Offer reverse mentoring", ["Chief Executive"], ("dated", date(2025, 9, 30)), None),
    ]
    assert [(c.header, c.cells) for c in plan.unused_columns] == [
        ("Service area", 2),
        ("Review date", 2),
        ("Milestones", 1),
    ]


def test_a_review_date_column_of_dates_is_the_deadline_when_there_is_no_other(tmp_path: Path) -> None:
    plan = imported(
        tmp_path,
        [
            ["Action", "Officer", "Review date", "Completion"],
            ["Refresh the equality impact assessment template", "Policy Officer", "01/09/2024", "Not yet"],
            ["Publish the annual equality report", "Policy Officer", "31/01/2025", ""],
        ],
    )
    assert [(a.owners, a.deadline.due) for a in plan.actions] == [
        (["Policy Officer"], date(2024, 9, 1)),
        (["Policy Officer"], date(2025, 1, 31)),
    ]
    assert [(c.header, c.cells) for c in plan.unused_columns] == [("Completion", 1)]


# ---------------------------------------------------------------- careless exports

CARELESS = [
    ["Ref", "Theme", "Action", "Lead", "Deadline", "Progress", "RAG"],
    ["1", "Workforce", "Review recruitment adverts", "HR Manager", "31/03/2024", "Adverts drafted", "G"],
    # A status word under Action; the action text slid into Progress.
    ["2", "", "Ongoing", "HR Manager", "", "Offer reverse mentoring to senior leaders", "A"],
    # The owner cell holds a sentence about a campaign launch.
    [
        "3",
        "Communities",
        "Launch a hate crime reporting campaign",
        "The campaign was launched in May with posters in every library and a series of talks by partners.",
        "30/06/2024",
        "",
        "G",
    ],
    # A sentence under Deadline, the row's real date under Progress.
    [
        "4",
        "",
        "Publish the accessibility statement",
        "Digital Team",
        "Waiting on the new website to go live.",
        "30/09/2024",
        "A",
    ],
    # The action text under Theme, the date under Action.
    ["5", "Set up a staff disability network", "31/12/2024", "Chief Executive", "", "", "R"],
    # Only a date.
    ["6", "", "", "", "31/01/2025", "", ""],
    # Slid one column right (a blank cell crept in before the reference).
    ["", "7", "", "Run unconscious bias training", "Learning Team", "31/10/2024", "", "G"],
    # A progress note under Action, the action itself under Progress: no column slid, the two cells swapped.
    [
        "8",
        "",
        "Potential training providers have been identified",
        "Learning Team",
        "31/03/2025",
        "Identify BSL training providers for front-line staff",
        "A",
    ],
    # A progress note under Action and no action anywhere in the row: kept as written, and reported.
    ["9", "", "Two possible venues were visited in March", "Estates Team", "30/04/2025", "", "A"],
]


def test_a_careless_export_is_put_back_and_every_row_is_accounted_for(tmp_path: Path) -> None:
    plan = imported(tmp_path, CARELESS)
    by_ref = {a.source_ref: a for a in plan.actions}
    assert [reading(by_ref[ref]) for ref in ("1", "2", "3", "4", "5", "7", "8", "9")] == [
        ("Workforce", "Review recruitment adverts", ["HR Manager"], ("dated", date(2024, 3, 31)), "green"),
        (
            "Workforce",
            "Offer reverse mentoring to senior leaders",
            ["HR Manager"],
            ("ongoing", None),
            "amber",
        ),
        ("Communities", "Launch a hate crime reporting campaign", [], ("dated", date(2024, 6, 30)), "green"),
        (
            "Communities",
            "Publish the accessibility statement",
            ["Digital Team"],
            ("dated", date(2024, 9, 30)),
            "amber",
        ),
        (
            "Communities",
            "Set up a staff disability network",
            ["Chief Executive"],
            ("dated", date(2024, 12, 31)),
            "red",
        ),
        (
            "Communities",
            "Run unconscious bias training",
            ["Learning Team"],
            ("dated", date(2024, 10, 31)),
            "green",
        ),
        (
            "Communities",
            "Identify BSL training providers for front-line staff",
            ["Learning Team"],
            ("dated", date(2025, 3, 31)),
            "amber",
        ),
        (
            "Communities",
            "Two possible venues were visited in March",
            ["Estates Team"],
            ("dated", date(2025, 4, 30)),
            "amber",
        ),
    ]
    assert by_ref["8"].progress == "Potential training providers have been identified"
    assert by_ref["3"].progress is not None and "campaign was launched" in by_ref["3"].progress
    assert by_ref["4"].progress == "Waiting on the new website to go live."
    messages = {problem.row: problem.message for problem in plan.problems if problem.message}
    assert "reads as a sentence, not an owner" in " ".join(p.message for p in plan.problems if p.row == 4)
    assert messages[7] == "This row has a date but no action text, so it was skipped."
    assert messages[9].startswith("'Potential training providers have been identified' reads as a progress")
    assert "the action text was under Progress, so the cells were swapped" in messages[9]
    assert messages[10] == (
        "'Two possible venues were visited in March' reads as a progress note, not an action; "
        "check this row says what is to be done."
    )
    assert {3, 4, 5, 6, 7, 8, 9, 10} <= problem_rows(plan)
    assert_every_row_accounted_for(plan, len(CARELESS) - 1)
    assert len(plan.actions) + plan.rows.reported == len(CARELESS) - 1


# Not PDF: across a page, its seven columns wrap "Chief Executive" where a line break would fall (0.9 pt
# short), and the PDF reader, by design, reads two names one to a line.
@pytest.mark.parametrize("fmt", ["docx", "xlsx"])
def test_the_same_careless_plan_as_a_document_or_a_workbook_reads_the_same(tmp_path: Path, fmt: str) -> None:
    """A Word table or a sheet is square: the row that slid right pushed its RAG under a blank header."""
    width = max(len(row) for row in CARELESS)
    square = [[*row, *[""] * (width - len(row))] for row in CARELESS]
    plan = imported_as(fmt, tmp_path, square)
    from_csv = imported(tmp_path, CARELESS)
    assert [reading(a) for a in plan.actions] == [reading(a) for a in from_csv.actions]
    assert (plan.rows.actions, plan.rows.reported) == (from_csv.rows.actions, from_csv.rows.reported)
    assert problem_rows(plan) == problem_rows(from_csv)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "docx", "pdf"])
def test_action_text_under_outcome_with_a_date_or_a_status_under_actions_is_put_back(
    tmp_path: Path, fmt: str
) -> None:
    plan = imported_as(
        fmt,
        tmp_path,
        [
            ["Ref", "Actions", "Outcome", "Lead", "Deadline"],
            ["1", "Review recruitment adverts", "More diverse shortlists", "HR Manager", "31/03/2025"],
            ["2", "31/12/2024", "Set up a staff disability network", "Chief Executive", ""],
            ["3", "Ongoing", "Offer reverse mentoring to senior leaders", "HR Manager", "30/06/2025"],
        ],
    )
    assert [reading(a) for a in plan.actions] == [
        (None, "Review recruitment adverts", ["HR Manager"], ("dated", date(2025, 3, 31)), None),
        (None, "Set up a staff disability network", ["Chief Executive"], ("dated", date(2024, 12, 31)), None),
        (
            None,
            "Offer reverse mentoring to senior leaders",
            ["HR Manager"],
            ("dated", date(2025, 6, 30)),
            None,
        ),
    ]
    assert [a.outputs for a in plan.actions] == ["More diverse shortlists", None, "Ongoing"]
    assert [(p.row, p.column) for p in plan.problems] == [(3, "Actions"), (4, "Actions")]
    assert_every_row_accounted_for(plan, 3)


def test_a_title_is_never_a_bare_date_status_or_rating(tmp_path: Path) -> None:
    plan = imported(
        tmp_path,
        [
            ["Action", "Owner", "Deadline"],
            ["Complete", "HR Manager", "31/03/2024"],
            ["Green", "HR Manager", "31/03/2024"],
            ["Hold listening sessions", "HR Manager", "31/03/2024"],
        ],
    )
    assert [a.title for a in plan.actions] == ["Hold listening sessions"]
    assert problem_rows(plan) == {2, 3}
    assert_every_row_accounted_for(plan, 3)


# Slid rows at random, over every plan of the corpus: tests/test_slid_rows.py.


# ---------------------------------------------------------------- the summary a plan owner reads


@pytest.mark.db
def test_the_import_summary_counts_every_row_and_names_the_columns_not_used(
    cli: CliRun, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "careless.csv",
        [
            ["Action", "Lead", "Directorate", "Review date", "Deadline"],
            ["Review recruitment adverts", "HR Manager", "People", "01/01/2025", "31/03/2025"],
            ["Offer reverse mentoring", "Chief Executive", "Office of the CEO", "01/06/2025", "Sept 2025"],
            ["", "", "", "", "31/12/2025"],
        ],
    )
    code, out, err = cli("--now", "2024-01-15T09:30", "import", str(path), "--plan", "Careless")
    assert code == 0, err
    assert "Read 3 rows: 2 as actions, 0 as headings, 1 reported below." in out
    assert (
        "Not used: Directorate (2 cells), Review date (2 cells) — map it with --map owner=Directorate." in out
    )
    assert "Row 4, Deadline: This row has a date but no action text, so it was skipped." in out
    code, out, err = cli(
        "--now",
        "2024-01-15T09:30",
        "import",
        str(path),
        "--plan",
        "Careless",
        "--map",
        "owner=Directorate",
        "--json",
    )
    assert code == 0, err
    data = json.loads(out)
    assert [a["owners"] for a in data["actions"]] == [["People"], ["Office of the CEO"]]
    assert data["summary"]["not_used"] == [
        {"header": "Lead", "cells": 2},
        {"header": "Review date", "cells": 2},
    ]
