"""Plans as councils write them: a title over the whole plan, pillars merged down their own column or one
table per pillar under its heading, and references of their own ("1.1", "WB-1", "A3").

Every plan here is built by the test in the format it tests (DOCX, XLSX, CSV, PDF), and each one says, row by
row, the theme, title, owners, deadline and RAG a plan owner should see.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

import pytest

from bot.console import FakeClock
from storage.db import Database
from storage.importing.readers import read_plan_file
from storage.importing.service import import_plan
from storage.importing.tables import ParsedAction, interpret_document
from tests.builders import ABOVE, LEFT, Heading, Table, write_csv, write_docx, write_pdf_blocks, write_xlsx
from tests.transcript import Transcript

Run = Callable[..., tuple[int, str, str]]

TITLE = "Harrowgate Council EDI Action Plan 2024-28"
HEADER = ["Pillar", "Ref", "Action", "Lead", "By when", "RAG"]
# The pillar is written once and merged down over its actions (ABOVE), as Word and Excel plans do.
PILLARS: list[list[object]] = [
    ["Workforce", "WB-1", "Publish the gender pay gap", "HR Manager", "March 2025", "Green"],
    [ABOVE, "WB-2", "Run the staff survey", "HR Manager\nComms Lead", "Bi-annual", "Amber"],
    ["Leadership", "LD-1", "Train the board in inclusive leadership", "Chief Executive", "Sept 2025", "Red"],
    [ABOVE, "LD-2", "Set EDI objectives for directors", "Chief Executive\nHR Manager", "June 2025", "Amber"],
    [
        "Communities",
        "A3",
        "Translate key service information",
        "Comms Lead",
        "Dec 2025 & March 2026",
        "Green",
    ],
]
# What a plan owner should see of each row: theme, title, owners, (deadline kind, due), RAG.
EXPECTED = [
    ("Workforce", "Publish the gender pay gap", ["HR Manager"], ("dated", date(2025, 3, 31)), "green"),
    ("Workforce", "Run the staff survey", ["HR Manager", "Comms Lead"], ("recurring", None), "amber"),
    (
        "Leadership",
        "Train the board in inclusive leadership",
        ["Chief Executive"],
        ("dated", date(2025, 9, 30)),
        "red",
    ),
    (
        "Leadership",
        "Set EDI objectives for directors",
        ["Chief Executive", "HR Manager"],
        ("dated", date(2025, 6, 30)),
        "amber",
    ),
    (
        "Communities",
        "Translate key service information",
        ["Comms Lead"],
        ("dated", date(2025, 12, 31)),
        "green",
    ),
]


def seen(action: ParsedAction) -> tuple[object, ...]:
    deadline = action.deadline
    return action.theme, action.title, action.owners, (deadline.kind, deadline.due), action.rag


def blanked(rows: Sequence[Sequence[object]]) -> list[list[str]]:
    """The rows as a CSV or a PDF without merges holds them: a merged-down cell is blank below its first
    row."""
    return [["" if cell is ABOVE else str(cell) for cell in row] for row in rows]


def repeated(rows: Sequence[Sequence[object]]) -> list[list[object]]:
    """The rows with the pillar written out again on every row (no merge, no blank)."""
    out: list[list[object]] = []
    for row in rows:
        out.append([out[-1][0] if row[0] is ABOVE else row[0], *row[1:]])
    return out


def pillar_plan(fmt: str, folder: Path) -> Path:
    """The plan with its title over the table and the pillar merged down its own column."""
    if fmt == "xlsx":  # the title in one cell merged across the whole sheet
        return write_xlsx(folder / "plan.xlsx", {"Plan": [[TITLE, *[LEFT] * 5], HEADER, *PILLARS]})
    if fmt == "xlsx repeated":
        return write_xlsx(folder / "plan.xlsx", {"Plan": [[TITLE], HEADER, *repeated(PILLARS)]})
    if fmt == "csv":
        return write_csv(folder / "plan.csv", [[TITLE, "", "", "", "", ""], HEADER, *blanked(PILLARS)])
    if fmt == "docx":
        return write_docx(folder / "plan.docx", [Heading(TITLE, 0), Table([HEADER, *PILLARS])])
    return write_pdf_blocks(folder / "plan.pdf", [TITLE, Table(blanked([HEADER, *PILLARS]))])


FORMATS = ["xlsx", "xlsx repeated", "csv", "docx", "pdf"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_title_over_a_plan_names_it_and_its_own_pillar_column_gives_the_themes(
    tmp_path: Path, fmt: str
) -> None:
    plan = interpret_document(read_plan_file(pillar_plan(fmt, tmp_path)))

    assert plan.title == TITLE
    assert [seen(action) for action in plan.actions] == EXPECTED
    assert [action.group_path[0][0] for action in plan.actions] == [
        "pillar"
    ] * 5  # one level, never the title
    assert [action.source_ref for action in plan.actions] == ["WB-1", "WB-2", "LD-1", "LD-2", "A3"]


# One table per pillar, each under its heading, below the plan's title; the tables have no pillar column.
TABLE_HEADER = ["Ref", "Action", "Lead", "By when", "RAG"]
SECTIONS = {
    "Workforce": [
        ["1.1", "Publish the gender pay gap", "HR Manager", "March 2025", "Green"],
        ["1.2", "Run the staff survey", "HR Manager\nComms Lead", "Bi-annual", "Amber"],
    ],
    "Leadership": [
        ["2.1", "Train the board in inclusive leadership", "Chief Executive", "Sept 2025", "Red"],
        ["2.2", "Set EDI objectives for directors", "Chief Executive\nHR Manager", "June 2025", "Amber"],
    ],
    "Communities": [
        ["3.1", "Translate key service information", "Comms Lead", "Dec 2025 & March 2026", "Green"]
    ],
}


def sectioned_plan(fmt: str, folder: Path) -> Path:
    """The plan as one table per pillar, each under its heading, with no pillar column."""
    sections = list(SECTIONS.items())
    if fmt == "docx":
        blocks: list[str | Heading | Table] = [Heading(TITLE, 0)]
        for heading, rows in sections:
            blocks += [Heading(heading, 1), Table([TABLE_HEADER, *rows])]
        return write_docx(folder / "plan.docx", blocks)
    if fmt == "pdf":
        pdf_blocks: list[str | Table] = [TITLE]
        for heading, rows in sections:
            pdf_blocks += [heading, Table([TABLE_HEADER, *rows])]
        return write_pdf_blocks(folder / "plan.pdf", pdf_blocks)
    lines: list[list[str]] = [[TITLE]]
    for heading, rows in sections:
        lines += [[heading], TABLE_HEADER, *rows, []]
    if fmt == "csv":
        return write_csv(folder / "plan.csv", [line + [""] * (5 - len(line)) for line in lines])
    return write_xlsx(folder / "plan.xlsx", {"Plan": lines})


@pytest.mark.parametrize("fmt", ["xlsx", "csv", "docx", "pdf"])
def test_one_table_per_pillar_takes_its_theme_from_its_heading_and_the_last_one_too(
    tmp_path: Path, fmt: str
) -> None:
    plan = interpret_document(read_plan_file(sectioned_plan(fmt, tmp_path)))

    assert plan.title == TITLE
    assert [seen(action) for action in plan.actions] == EXPECTED
    assert [action.source_ref for action in plan.actions] == ["1.1", "1.2", "2.1", "2.2", "3.1"]


def across_plan(fmt: str, folder: Path) -> Path:
    """The plan as one table: its title in the table's first row and each pillar in a row of its own, both
    merged across the whole table (in a CSV, one cell and blanks after it)."""
    rows: list[list[object]] = [[TITLE, *[LEFT] * 4], TABLE_HEADER]
    for heading, actions in SECTIONS.items():
        rows += [[heading, *[LEFT] * 4], *actions]
    if fmt == "csv":
        return write_csv(folder / "plan.csv", [["" if c is LEFT else str(c) for c in row] for row in rows])
    if fmt == "docx":
        return write_docx(folder / "plan.docx", [Table(rows)])
    if fmt == "pdf":
        return write_pdf_blocks(folder / "plan.pdf", [Table(rows)])
    return write_xlsx(folder / "plan.xlsx", {"Plan": rows})


@pytest.mark.parametrize("fmt", ["xlsx", "csv", "docx", "pdf"])
def test_a_title_and_pillars_merged_across_the_table_are_its_name_and_its_themes(
    tmp_path: Path, fmt: str
) -> None:
    plan = interpret_document(read_plan_file(across_plan(fmt, tmp_path)))

    assert plan.title == TITLE
    assert [seen(action) for action in plan.actions] == EXPECTED
    assert [action.source_ref for action in plan.actions] == ["1.1", "1.2", "2.1", "2.2", "3.1"]
    assert (plan.rows.actions, plan.rows.headings) == (5, 3)


def parted_plan(fmt: str, folder: Path) -> Path:
    """The plan in two parts, each under a part heading, both tables with their own pillar column."""
    parts = {"Part A": [HEADER, *PILLARS[:2]], "Part B": [HEADER, *PILLARS[2:]]}
    if fmt == "docx":
        blocks: list[str | Heading | Table] = [Heading(TITLE, 0)]
        for heading, rows in parts.items():
            blocks += [Heading(heading, 1), Table(rows)]
        return write_docx(folder / "plan.docx", blocks)
    if fmt == "pdf":
        pdf_blocks: list[str | Table] = [TITLE]
        for heading, rows in parts.items():
            pdf_blocks += [heading, Table(blanked(rows))]
        return write_pdf_blocks(folder / "plan.pdf", pdf_blocks)
    if fmt == "csv":
        lines = [[TITLE], *(line for heading, rows in parts.items() for line in ([heading], *blanked(rows)))]
        return write_csv(folder / "plan.csv", [line + [""] * (6 - len(line)) for line in lines])
    sheet = [[TITLE], *(row for heading, rows in parts.items() for row in ([heading], *rows))]
    return write_xlsx(folder / "plan.xlsx", {"Plan": sheet})


@pytest.mark.parametrize("fmt", ["xlsx", "csv", "docx", "pdf"])
def test_a_table_with_its_own_pillar_column_is_not_themed_by_the_heading_above_it(
    tmp_path: Path, fmt: str
) -> None:
    plan = interpret_document(read_plan_file(parted_plan(fmt, tmp_path)))

    assert [seen(action) for action in plan.actions] == EXPECTED


# Each table under its section heading, with a grouping column of its own: a Focus area column is as broad
# as the heading (it is the theme; the heading is not), an Objective column sits inside the heading's theme.
FOCUS_HEADER = ["Focus area", "Action", "Lead", "By when", "RAG"]
OBJECTIVE_HEADER = ["Objective", "Action", "Lead", "By when", "RAG"]
OBJECTIVE_ROWS: list[list[object]] = [
    ["Recruit fairly", "Publish the gender pay gap", "HR Manager", "March 2025", "Green"],
    [ABOVE, "Run the staff survey", "HR Manager\nComms Lead", "Bi-annual", "Amber"],
    ["Lead by example", "Train the board in inclusive leadership", "Chief Executive", "Sept 2025", "Red"],
]
FOCUS_ROWS: list[list[object]] = [
    ["Leadership", "Set EDI objectives for directors", "Chief Executive\nHR Manager", "June 2025", "Amber"],
    ["Communities", "Translate key service information", "Comms Lead", "Dec 2025 & March 2026", "Green"],
]


def grouped_sections_plan(fmt: str, folder: Path, *, objective_heading: str = "Workforce") -> Path:
    """Two tables under their headings: the first with an Objective column (merged down over two rows), the
    second with a Focus area column."""
    parts = [
        (objective_heading, [OBJECTIVE_HEADER, *OBJECTIVE_ROWS]),
        ("Part B", [FOCUS_HEADER, *FOCUS_ROWS]),
    ]
    if fmt == "docx":
        blocks: list[str | Heading | Table] = [Heading(TITLE, 0)]
        for heading, rows in parts:
            blocks += [Heading(heading, 1), Table(rows)]
        return write_docx(folder / "plan.docx", blocks)
    if fmt == "pdf":
        pdf_blocks: list[str | Table] = [TITLE]
        for heading, rows in parts:
            pdf_blocks += [heading, Table(blanked(rows))]
        return write_pdf_blocks(folder / "plan.pdf", pdf_blocks)
    if fmt == "csv":
        lines = [[TITLE], *(line for heading, rows in parts for line in ([heading], *blanked(rows), []))]
        return write_csv(folder / "plan.csv", [line + [""] * (5 - len(line)) for line in lines])
    sheet = [[TITLE, *[LEFT] * 4], *(row for heading, rows in parts for row in ([heading], *rows, []))]
    return write_xlsx(folder / "plan.xlsx", {"Plan": sheet})


GROUPED_PATHS = [
    [("theme", "Workforce"), ("objective", "Recruit fairly")],
    [("theme", "Workforce"), ("objective", "Recruit fairly")],
    [("theme", "Workforce"), ("objective", "Lead by example")],
    [("focus", "Leadership")],
    [("focus", "Communities")],
]


@pytest.mark.parametrize("fmt", ["xlsx", "csv", "docx", "pdf"])
def test_a_heading_is_the_theme_over_an_objective_column_but_not_over_a_focus_area_column(
    tmp_path: Path, fmt: str
) -> None:
    plan = interpret_document(read_plan_file(grouped_sections_plan(fmt, tmp_path)))

    assert plan.title == TITLE
    assert [action.group_path for action in plan.actions] == GROUPED_PATHS
    assert [(a.title, a.owners, (a.deadline.kind, a.deadline.due), a.rag) for a in plan.actions] == [
        expected[1:] for expected in EXPECTED
    ]


@pytest.mark.parametrize("fmt", ["xlsx", "csv", "docx", "pdf"])
def test_an_objective_heading_over_a_table_with_its_own_objective_column_gives_way_to_the_column(
    tmp_path: Path, fmt: str
) -> None:
    path = grouped_sections_plan(fmt, tmp_path, objective_heading="Objective 1: Be a fair employer")
    plan = interpret_document(read_plan_file(path))

    assert [action.group_path for action in plan.actions][:3] == [
        [("objective", "Recruit fairly")],
        [("objective", "Recruit fairly")],
        [("objective", "Lead by example")],
    ]


SUBHEADED: list[list[object]] = [
    ["Workforce", "Publish the gender pay gap", "HR Manager", "March 2025", "Green"],
    [ABOVE, "Recruitment", "", "", ""],
    [ABOVE, "Run the staff survey", "HR Manager\nComms Lead", "Bi-annual", "Amber"],
    ["Leadership", "Train the board in inclusive leadership", "Chief Executive", "Sept 2025", "Red"],
]


@pytest.mark.parametrize("fmt", ["xlsx", "csv", "docx", "pdf"])
def test_a_heading_row_inside_a_pillar_is_a_section_of_that_pillar_not_a_theme_over_the_next(
    tmp_path: Path, fmt: str
) -> None:
    header = ["Pillar", "Action", "Lead", "By when", "RAG"]
    if fmt == "csv":
        path = write_csv(tmp_path / "plan.csv", [header, *blanked(SUBHEADED)])
    elif fmt == "pdf":
        path = write_pdf_blocks(tmp_path / "plan.pdf", [Table(blanked([header, *SUBHEADED]))])
    elif fmt == "docx":
        path = write_docx(tmp_path / "plan.docx", [Table([header, *SUBHEADED])])
    else:
        path = write_xlsx(tmp_path / "plan.xlsx", {"Plan": [header, *SUBHEADED]})
    plan = interpret_document(read_plan_file(path))

    assert [(action.group_path, action.title) for action in plan.actions] == [
        ([("pillar", "Workforce")], "Publish the gender pay gap"),
        ([("pillar", "Workforce"), ("section", "Recruitment")], "Run the staff survey"),
        ([("pillar", "Leadership")], "Train the board in inclusive leadership"),
    ]
    assert plan.rows.headings == 1 and plan.rows.actions == 3


# -- through the command line: the plan's name, its references, the notes ------------------------------


@pytest.fixture
def edibot(cli: Run) -> Run:
    def run(*args: str) -> tuple[int, str, str]:
        return cli("--now", "2024-11-04T09:30", *args)

    return run


def test_a_plan_imported_without_a_name_takes_its_title_and_keeps_its_own_references(
    edibot: Run, tmp_path: Path
) -> None:
    code, out, err = edibot("import", str(pillar_plan("xlsx", tmp_path)), "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["plan"] == TITLE
    assert [(a["ref"], a["theme"]) for a in data["actions"]] == [
        ("WB-1", "Workforce"),
        ("WB-2", "Workforce"),
        ("LD-1", "Leadership"),
        ("LD-2", "Leadership"),
        ("A3", "Communities"),
    ]

    code, out, _ = edibot("show", "wb-1")
    assert code == 0
    assert "WB-1  Publish the gender pay gap" in out and f"Plan: {TITLE}" in out
    assert "Pillar: Workforce" in out and "Theme:" not in out  # the title is not a second theme

    # Re-importing the same plan changes nothing and adds nothing.
    code, out, _ = edibot("import", str(pillar_plan("xlsx", tmp_path)))
    assert code == 0 and "0 added, 0 changed, 5 unchanged, 0 archived" in out


def test_every_note_on_how_a_cell_was_read_is_in_the_list_of_cells_that_need_a_look(
    edibot: Run, tmp_path: Path
) -> None:
    code, out, _ = edibot("import", str(pillar_plan("csv", tmp_path)))

    assert code == 0
    assert "2 cells need a look:" in out
    assert "Words read one of two ways (1):" in out
    assert "WB-2: 'Bi-annual' can mean twice a year or every two years; read as every 6 months" in out
    assert "Several dates in one cell, the earliest taken (1):" in out
    assert "A3: 'Dec 2025 & March 2026' names several dates; due is the earliest" in out


def test_bare_numbers_take_the_plan_s_prefix_and_are_found_as_written_while_only_one_plan_uses_them(
    edibot: Run, tmp_path: Path
) -> None:
    edibot("import", str(sectioned_plan("csv", tmp_path)), "--plan", "Local Trust")
    code, out, _ = edibot("show", "1.2")
    assert code == 0 and "LT-1.2  Run the staff survey" in out

    other = tmp_path / "other"
    other.mkdir()
    edibot("import", str(sectioned_plan("csv", other)), "--plan", "Northbridge")
    code, _, err = edibot("show", "1.2")
    assert code != 0 and "'1.2' could be LT-1.2, NO-1.2 — which one?" in err
    code, out, _ = edibot("show", "no-1.2")
    assert code == 0 and "Plan: Northbridge" in out


def test_numbers_made_up_for_a_plan_never_take_another_plan_s_own_reference(
    edibot: Run, tmp_path: Path
) -> None:
    edibot("import", str(pillar_plan("csv", tmp_path)))  # its own WB-1, WB-2
    plain = write_csv(
        tmp_path / "wellbeing.csv",
        [
            ["Action", "Lead", "By when"],
            ["Open a quiet room", "Facilities", "May 2025"],
            ["Train wellbeing champions", "HR Manager", "July 2025"],
        ],
    )
    code, out, err = edibot("import", str(plain), "--plan", "Wellbeing Board", "--json")
    assert code == 0, err
    assert [a["ref"] for a in json.loads(out)["actions"]] == ["WB-3", "WB-4"]

    # A second plan that writes WB-1 too keeps it under its own prefix: the first plan's WB-1 is taken.
    again = tmp_path / "again"
    again.mkdir()
    code, out, err = edibot("import", str(pillar_plan("csv", again)), "--plan", "Harrowgate Youth", "--json")
    assert code == 0, err
    assert [a["ref"] for a in json.loads(out)["actions"]][:2] == ["HY-WB-1", "HY-WB-2"]


def test_a_title_with_no_table_under_it_is_refused_in_one_sentence_and_changes_nothing(
    edibot: Run, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "title.csv", [[TITLE, ""], ["Contents", "Page 2"]])
    code, out, err = edibot("import", str(path))
    assert code != 0 and out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    code, out, _ = edibot("plans")
    assert TITLE not in out


def test_in_chat_a_plan_s_own_reference_finds_its_action_as_written(
    transcript: Transcript, store: Database, clock: FakeClock, tmp_path: Path
) -> None:
    import_plan(store, pillar_plan("docx", tmp_path), now=clock.now())

    transcript.say("@Priya Shah", "/edi show wb-1")
    transcript.expect_reply("*WB-1 · Publish the gender pay gap*", f"Plan: {TITLE} › Workforce")
    transcript.say("@Priya Shah", "/edi show A3")
    transcript.expect_reply("*A3 · Translate key service information*")


def test_a_plan_imported_before_under_its_file_s_name_is_still_that_plan(edibot: Run, tmp_path: Path) -> None:
    # Before plans took their title, this one was named after its file: re-importing it must not start
    # another.
    edibot("import", str(pillar_plan("xlsx", tmp_path)), "--plan", "plan")

    code, out, _ = edibot("import", str(pillar_plan("xlsx", tmp_path)))

    assert code == 0 and "plan: 5 actions" in out and "0 added, 0 changed, 5 unchanged" in out
    code, out, _ = edibot("plans")
    assert TITLE not in out
