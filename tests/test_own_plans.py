"""Our own invented plans, in the layouts of the published extracts, import as their authors meant them.

They stand in for ../shared/plans where that folder does not exist, so these tests never skip:
- Harbourside Community Trust: row per line, a prose heading above each What | How | Who | When
  table, "What" written once above the Hows it covers.
- Northgate Borough Council: row per line with <p>/<b>/<del> markup, "## Appendix" page headers
  (one splitting a row mid-sentence), theme and "Objective:" rows, a table with a blank header.
- Kestrel Moor Housing Association: cell per line with a leading tab, cells running over several
  lines (blank ones too), section heading rows, RAG and progress columns, a row slid sideways.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from storage.db import Database
from storage.importing.readers import read_plan_file
from storage.importing.service import import_plan
from storage.importing.tables import ParsedAction, ParsedPlan, interpret_document
from storage.queries import action_by_ref
from tests.plan_convert import FORMATS, essentials, essentials_without_prose, reimported

FIXTURES = Path(__file__).parent / "fixtures"
HARBOURSIDE = FIXTURES / "harbourside_trust_edi_plan_2024.txt"
NORTHGATE = FIXTURES / "northgate_council_edi_plan_2024.txt"
KESTREL_MOOR = FIXTURES / "kestrel_moor_equality_improvement_plan.txt"
PLANS = (HARBOURSIDE, NORTHGATE, KESTREL_MOOR)

PCE = "Policy, Communities and Engagement"
NO_DATE = ("unknown", None, None, None)
ONGOING = ("ongoing", None, None, None)
COMPLETE = ("complete", None, None, None)


def parse(path: Path) -> ParsedPlan:
    return interpret_document(read_plan_file(path))


def find(plan: ParsedPlan, start: str) -> ParsedAction:
    matches = [a for a in plan.actions if a.title.startswith(start)]
    assert len(matches) == 1, f"{len(matches)} actions start with {start!r}"
    return matches[0]


def due(day: date) -> tuple[str, None, date, None]:
    return ("dated", None, day, None)


def between(start: date, end: date) -> tuple[str, date, date, None]:
    return ("dated", start, end, None)


def every(period: str) -> tuple[str, None, None, str]:
    return ("recurring", None, None, period)


def reading(action: ParsedAction) -> tuple[object, ...]:
    deadline = action.deadline
    return (
        action.theme,
        action.owners,
        (deadline.kind, deadline.start, deadline.due, deadline.recurrence),
        action.rag,
    )


@pytest.mark.parametrize(("path", "count"), [(HARBOURSIDE, 18), (NORTHGATE, 13), (KESTREL_MOOR, 15)])
def test_every_action_of_our_own_plans_is_imported(path: Path, count: int) -> None:
    plan = parse(path)
    assert len(plan.actions) == count
    assert all(action.title for action in plan.actions)


# ---------------------------------------------------------------- Harbourside: What | How | Who | When

GRANTS = "1. Our grant-making and support for community groups"
VOICE = "2. Our voice, partnerships and influence"
HOW_WE_WORK = "3. The way we work as an organisation"


@pytest.mark.parametrize(
    ("start", "theme", "owners", "deadline"),
    [
        ("Run six outreach sessions", GRANTS, ["Grants Team"], due(date(2024, 6, 30))),
        ("Publish the application form", GRANTS, ["Communications Officer"], due(date(2024, 9, 30))),
        ("Offer a pre-application call", GRANTS, ["Grants Team"], ONGOING),
        ("Let unconstituted groups apply", GRANTS, ["Director of Grants"], due(date(2025, 3, 31))),
        (
            "Collect equality monitoring data",
            GRANTS,
            ["Head of Learning"],
            between(date(2024, 7, 1), date(2024, 9, 30)),
        ),
        (
            "Analyse five years of grants data",
            GRANTS,
            ["Director of Grants", "Head of Learning"],
            due(date(2025, 4, 30)),
        ),
        (
            "Pay community members to sit",
            GRANTS,
            ["Grants Panel Chair"],
            ("ongoing", None, date(2024, 4, 30), None),
        ),
        ("Co-produce a yearly State of the Estuary report", VOICE, ["Head of Learning"], every("P1Y")),
        ("Share our equality data", VOICE, ["Chief Executive"], due(date(2025, 12, 31))),
        ("Audit the office and the community hub", HOW_WE_WORK, ["Health & Safety"], due(date(2025, 6, 30))),
        ('Hold "lunch and learn" sessions', HOW_WE_WORK, ["EDI Working Group"], ONGOING),
        ("Remove degree requirements", HOW_WE_WORK, ["People and Culture Manager"], due(date(2025, 7, 31))),
        (
            "Guarantee an interview to disabled candidates",
            HOW_WE_WORK,
            ["People and Culture Manager", "Director of Grants"],
            due(date(2024, 9, 30)),
        ),
        ("Report progress on this plan to the Board", HOW_WE_WORK, ["Chief Executive"], NO_DATE),
        ("Publish our gender and ethnicity pay gaps", HOW_WE_WORK, [], due(date(2025, 12, 31))),
    ],
)
def test_harbourside_actions_read_with_their_theme_owners_and_deadline(
    start: str, theme: str, owners: list[str], deadline: tuple[object, ...]
) -> None:
    action = find(parse(HARBOURSIDE), start)
    assert reading(action) == (theme, owners, deadline, None)


def test_harbourside_how_rows_are_the_actions_under_the_what_written_once_above_them() -> None:
    plan = parse(HARBOURSIDE)
    call = find(plan, "Offer a pre-application call")
    assert call.group_path == [
        ("theme", GRANTS),
        (
            "objective",
            "Make our grants easier to find and to apply for, especially for groups who have never "
            "applied before.",
        ),
    ]
    assert find(plan, "Publish our gender and ethnicity pay gaps").group_path[-1] == (
        "objective",
        "Hold ourselves to account for delivering this plan.",
    )
    assert list(dict.fromkeys(action.theme for action in plan.actions)) == [GRANTS, VOICE, HOW_WE_WORK]


def test_harbourside_a_team_named_with_an_ampersand_stays_one_owner_and_lead_prefixes_are_dropped() -> None:
    plan = parse(HARBOURSIDE)
    assert find(plan, "Audit the office").owners == ["Health & Safety"]
    assert find(plan, "Pay community members").owners_text == "Lead: Grants Panel Chair"
    assert find(plan, "Pay community members").owners == ["Grants Panel Chair"]


# ---------------------------------------------------------------- Northgate: markup, page breaks, objectives

LEADER = "As a Community Leader"
EMPLOYER = "As an Employer"
PROVIDER = "As a Service Provider"


@pytest.mark.parametrize(
    ("start", "theme", "owners", "deadline"),
    [
        ("Refresh the Community Engagement Strategy", LEADER, [PCE], due(date(2025, 6, 30))),
        (
            "Run a Community Champions programme",
            LEADER,
            ["Housing", PCE],
            between(date(2025, 4, 1), date(2025, 6, 30)),
        ),
        ("Grow the Community Grants fund", LEADER, [PCE], between(date(2025, 1, 1), date(2025, 6, 30))),
        ("Mark dates of meaning", LEADER, [PCE], between(date(2024, 10, 1), date(2025, 12, 31))),
        (
            "Improve access to council buildings",
            LEADER,
            ["Facilities Management", "Housing"],
            due(date(2025, 7, 31)),
        ),
        (
            "Introduce anonymised shortlisting",
            EMPLOYER,
            ["Human Resources"],
            ("ongoing", date(2025, 4, 1), None, None),
        ),
        ("Launch a reverse mentoring scheme", EMPLOYER, ["Human Resources", PCE], due(date(2025, 9, 30))),
        ("Support the staff networks", EMPLOYER, ["Human Resources"], ONGOING),
        (
            "Train Mental Health First Aiders",
            EMPLOYER,
            ["Human Resources", "Health & Safety"],
            due(date(2024, 12, 31)),
        ),
        ("Refresh the Equality Impact Assessment toolkit", PROVIDER, [PCE], due(date(2024, 12, 31))),
        (
            "Translate key service information",
            PROVIDER,
            ["Communications and Events"],
            due(date(2025, 6, 30)),
        ),
        (
            "Improve our equality data",
            PROVIDER,
            ["Data Analytics", "Information Governance"],
            between(date(2025, 4, 1), date(2025, 6, 30)),
        ),
        ("Make the website accessible", PROVIDER, ["Digital Services"], due(date(2025, 7, 31))),
    ],
)
def test_northgate_actions_read_with_their_theme_owners_and_deadline(
    start: str, theme: str, owners: list[str], deadline: tuple[object, ...]
) -> None:
    action = find(parse(NORTHGATE), start)
    assert reading(action) == (theme, owners, deadline, None)


@pytest.mark.parametrize(
    ("start", "objective"),
    [
        (
            "Refresh the Community Engagement Strategy",
            "To bring residents, partners and the council together so that every community in Northgate is "
            "heard",
        ),
        # A long objective is still an objective: its "Objective:" label says so.
        (
            "Introduce anonymised shortlisting",
            "To be an employer whose workforce reflects the borough at every grade, where colleagues feel "
            "safe, confident and supported to be themselves and to challenge discrimination.",
        ),
        ("Refresh the Equality Impact Assessment toolkit", "To deliver fair and accessible services"),
    ],
)
def test_northgate_objective_rows_head_the_actions_of_their_section(start: str, objective: str) -> None:
    action = find(parse(NORTHGATE), start)
    assert ("objective", objective) in action.group_path


def test_northgate_row_split_by_a_page_break_is_joined_again() -> None:
    plan = parse(NORTHGATE)
    dates = find(plan, "Mark dates of meaning")
    assert dates.description == (
        "Agree a calendar of observances with the staff networks and faith partners, and publish it on the "
        "intranet and the council website every quarter."
    )
    assert dates.owners == [PCE]  # "Policy, Communities and" + "Engagement", across the break
    assert any("Continued on the next page" in warning for warning in dates.warnings)
    assert not [a for a in plan.actions if a.title.startswith("publish it")]


def test_northgate_deadlines_under_a_blank_header_are_still_read() -> None:
    plan = parse(NORTHGATE)
    provider = [a for a in plan.actions if a.theme == PROVIDER]
    assert len(provider) == 4
    assert all(a.deadline.kind == "dated" for a in provider)
    assert not [p for p in plan.problems if p.row in {a.line for a in provider}]


def test_northgate_struck_through_deadline_is_not_read_but_is_kept_raw(
    store: Database, now: datetime
) -> None:
    result = import_plan(store, NORTHGATE, now=now, plan_name="Northgate EDI")
    ref = next(a["ref"] for a in result.actions if a["title"] == "Launch a reverse mentoring scheme")
    with store.session() as session:
        action = action_by_ref(session, ref)
        assert action is not None
        assert action.deadline_text == "September 2025"
        assert action.due_date == date(2025, 9, 30)
        assert "March 2025" not in (action.deadline_text or "")
        assert action.raw_cells["Timescale for delivery"] == "<p><del>March 2025</del> September 2025</p>"


# ---------------------------------------------------------------- Kestrel Moor: cell per line, RAG, progress

GOVERNANCE = "1. Leadership and governance"
RESIDENTS = "2. Our residents and communities"
WORKFORCE = "3. A diverse and engaged workforce"


@pytest.mark.parametrize(
    ("start", "theme", "owners", "deadline", "rag"),
    [
        (
            "Review the EDI Committee's terms",
            GOVERNANCE,
            ["Company Secretary"],
            ("ongoing", None, date(2024, 11, 30), None),
            "green",
        ),
        (
            "Recruit two co-opted resident members",
            GOVERNANCE,
            ["Company Secretary", "Resident Involvement Team"],
            due(date(2024, 9, 30)),
            "amber",
        ),
        (
            "Extend EIAs to every service change",
            GOVERNANCE,
            ["Head of Policy"],
            due(date(2024, 12, 31)),
            "red",
        ),
        (
            "Report progress on this plan to the Board",
            GOVERNANCE,
            ["Director of Resources"],
            every("P3M"),
            "green",
        ),
        ("Publish our annual equality report", GOVERNANCE, ["Head of Policy"], COMPLETE, "blue"),
        (
            "Refresh the tenant profile",
            RESIDENTS,
            ["Income and Data Team"],
            between(date(2025, 7, 1), date(2025, 9, 30)),
            "amber",
        ),
        (
            "Translate the tenancy agreement",
            RESIDENTS,
            ["Communications Team"],
            due(date(2025, 3, 31)),
            "green",
        ),
        ("Offer every resident a choice", RESIDENTS, ["Customer Services"], every("P6M"), "amber"),
        (
            "Review the reasonable adjustments register",
            RESIDENTS,
            ["Customer Services", "Occupational Therapy"],
            NO_DATE,
            "amber",
        ),
        ("Train neighbourhood officers", RESIDENTS, ["Neighbourhood Services"], COMPLETE, "blue"),
        ('Run a "count me in" campaign', WORKFORCE, ["People Team"], NO_DATE, "amber"),
        (
            "Publish our ethnicity and disability pay gaps",
            WORKFORCE,
            ["People Team", "Income and Data Team"],
            ONGOING,
            "green",
        ),
        ("Guarantee an interview to disabled applicants", WORKFORCE, [], ONGOING, "amber"),
        (
            "Review the staff networks' terms",
            WORKFORCE,
            ["People Team", "Staff network chairs"],
            every("P4M"),
            "green",
        ),
        ("Introduce a menopause policy", WORKFORCE, ["People Team"], due(date(2024, 9, 30)), "green"),
    ],
)
def test_kestrel_moor_actions_read_with_their_theme_owners_deadline_and_rating(
    start: str, theme: str, owners: list[str], deadline: tuple[object, ...], rag: str
) -> None:
    action = find(parse(KESTREL_MOOR), start)
    assert reading(action) == (theme, owners, deadline, rag)


def test_kestrel_moor_rating_written_in_the_progress_note_counts_when_the_rag_cell_is_blank() -> None:
    plan = parse(KESTREL_MOOR)
    board = find(plan, "Report progress on this plan to the Board")
    assert "RAG" not in board.cells
    assert board.progress == "Green – reports went to the June and September Boards."
    assert board.rag == "green"


def test_kestrel_moor_row_slid_one_column_right_is_put_back_and_reported() -> None:
    plan = parse(KESTREL_MOOR)
    profile = find(plan, "Refresh the tenant profile")
    assert (profile.description or "").startswith("Resident profile:\nWe hold ethnicity data")
    assert profile.cells["RAG"] == "A"
    assert "Progress update" not in profile.cells
    slid = [p for p in plan.problems if p.row == profile.line]
    assert [p.message for p in slid] == [
        "The cells of this row had slid one column to the right; they were moved back."
    ]
    # The evidence of the repaired row carries down to the action below it, as any other row's does.
    assert (find(plan, "Translate the tenancy agreement").description or "").startswith("Resident profile:")


def test_kestrel_moor_evidence_over_several_lines_and_a_blank_line_stays_one_cell() -> None:
    action = find(parse(KESTREL_MOOR), 'Run a "count me in" campaign')
    assert action.description == (
        "Workforce data:\nOur workforce profile is published every year.\n"
        "We still have gaps in disability and sexual orientation data."
    )


def test_kestrel_moor_ambiguous_recurrences_are_read_with_a_warning() -> None:
    plan = parse(KESTREL_MOOR)
    assert any("Bi-annual" in w for w in find(plan, "Offer every resident a choice").warnings)
    assert any("Tri-annually" in w for w in find(plan, "Review the staff networks' terms").warnings)


# ---------------------------------------------------------------- problems, for every plan


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (HARBOURSIDE, [(46, "When", "No deadline is given"), (47, "Who", "No owner is named")]),
        (
            NORTHGATE,
            [
                (34, "Action Title", "read as a heading for the rows below it"),
                # The last row of the table: a line under Commitments with no action after it.
                (35, "Commitments", "'Corporate Strategy 2024-28' is alone in its row and heads no action"),
            ],
        ),
        (
            KESTREL_MOOR,
            [
                (93, "", "slid one column to the right"),
                (117, "By when", "No deadline is given"),
                (153, "By when", "'Next staff survey' is not a date I understand"),
                (171, "Lead officer", "No owner is named"),
            ],
        ),
    ],
)
def test_problems_name_the_rows_a_plan_owner_must_fix(
    path: Path, expected: list[tuple[int, str, str]]
) -> None:
    problems = parse(path).problems
    assert [(p.row, p.column) for p in problems] == [(row, column) for row, column, _ in expected]
    for problem, (_, _, message) in zip(problems, expected, strict=True):
        assert message in problem.message


# ---------------------------------------------------------------- the same plans in other formats


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("path", PLANS, ids=lambda path: path.stem)
def test_our_plans_saved_as_word_excel_or_csv_import_the_same_actions(
    tmp_path: Path, path: Path, fmt: str
) -> None:
    document = read_plan_file(path)
    # A CSV has no room for prose between tables (Harbourside's section headings); all else must match.
    same = essentials_without_prose if fmt == "csv" else lambda action, _: essentials(action)
    expected = [same(action, document) for action in interpret_document(document).actions]

    plan = reimported(document, fmt=fmt, folder=tmp_path)

    assert [same(action, document) for action in plan.actions] == expected
