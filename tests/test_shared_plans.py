"""The published plans in ../shared/plans import completely and are read as their authors meant them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from storage.importing.readers import read_plan_file
from storage.importing.tables import ParsedAction, ParsedPlan, interpret_document

LOCAL_TRUST = "000_49adc85312dfb21c.txt"
MAIDSTONE = "002_59fe58fd6413823e.txt"
BANES = "004_212e6a28a5cd78fa.txt"


def parse(folder: Path, name: str) -> ParsedPlan:
    return interpret_document(read_plan_file(folder / name))


def find(plan: ParsedPlan, start: str) -> ParsedAction:
    matches = [a for a in plan.actions if a.title.startswith(start)]
    assert len(matches) == 1, f"{len(matches)} actions start with {start!r}"
    return matches[0]


@pytest.mark.parametrize(("name", "count"), [(LOCAL_TRUST, 34), (MAIDSTONE, 22), (BANES, 84)])
def test_every_published_plan_imports_every_action(shared_plans: Path, name: str, count: int) -> None:
    plan = parse(shared_plans, name)
    assert len(plan.actions) == count
    assert all(action.title for action in plan.actions)


def test_local_trust_reads_how_rows_as_actions_under_their_what_objective(shared_plans: Path) -> None:
    plan = parse(shared_plans, LOCAL_TRUST)
    toolkit = find(plan, "Create an EDI toolkit")
    assert toolkit.theme == "1. Our relationship with Big Local partnerships"
    assert toolkit.group_path[1][0] == "objective"
    assert toolkit.group_path[1][1].startswith("Support Big Local Partnerships to be ambitious")
    assert toolkit.owners == ["Delivery Support"]
    assert (toolkit.deadline.kind, toolkit.deadline.due) == ("dated", date(2023, 9, 30))


@pytest.mark.parametrize(
    ("start", "owners", "kind", "due"),
    [
        ("Launch events series", ["Delivery Support"], "dated", date(2023, 6, 30)),
        ("Review opportunities to proactively", ["Delivery Support"], "ongoing", None),
        (
            "Provide additional support and advice",
            ["Area Support", "Delivery Support"],
            "dated",
            date(2023, 12, 31),
        ),
        ("Positively influence the forward plans", ["Legacy team"], "dated", date(2024, 3, 31)),
        ("Take additional, practical steps", ["Legacy", "Delivery Support"], "dated", date(2023, 10, 31)),
        (
            "Review our approaches to data collection",
            ["Director of Delivery", "Head of Research"],
            "dated",
            date(2023, 9, 30),
        ),
        ("Review the induction process", ["HR Manager", "Director of Delivery"], "dated", date(2023, 6, 30)),
        ("Review commissioning, tendering", ["Head of Finance and Resources"], "dated", date(2023, 9, 30)),
        ("Yearly progress report to Board", ["SMT EDI Champion"], "dated", date(2024, 3, 31)),
    ],
)
def test_local_trust_rows(
    shared_plans: Path, start: str, owners: list[str], kind: str, due: date | None
) -> None:
    action = find(parse(shared_plans, LOCAL_TRUST), start)
    assert (action.owners, action.deadline.kind, action.deadline.due) == (owners, kind, due)


def test_local_trust_themes_follow_the_section_headings(shared_plans: Path) -> None:
    plan = parse(shared_plans, LOCAL_TRUST)
    themes = list(dict.fromkeys(action.theme for action in plan.actions))
    assert themes == [
        "1. Our relationship with Big Local partnerships",
        "2. Our external narrative, advocacy and partnership working",
        "3. The way we work as an organisation and how we might carry this into a future beyond Big Local",
    ]


@pytest.mark.parametrize(
    ("start", "owners", "kind", "due", "start_date"),
    [
        ("Delivery of One View project", ["Housing"], "ongoing", None, None),
        (
            "Implement no wrong door",
            ["Housing", "Revenues and Benefits", "Policy, Communities and Engagement"],
            "ongoing",
            None,
            None,
        ),
        (
            "Develop a greater understanding of our communities",
            ["Data Analytics", "Democratic Services"],
            "dated",
            date(2024, 6, 30),
            None,
        ),
        (
            "Increase engagement from our Seldom Heard",
            ["Policy, Communities and Engagement"],
            "dated",
            date(2024, 3, 31),
            None,
        ),
        (
            "Ensure all new Members have equitable access",
            ["Democratic Services", "Policy, Communities and Engagement"],
            "dated",
            date(2024, 7, 31),
            None,
        ),
        (
            "Understand where relevant who is accessing",
            ["Data Analytics", "Information Governance", "Policy, Communities and Engagement"],
            "ongoing",
            None,
            date(2024, 4, 1),
        ),
        (
            "Adopt Inclusive Language Guide",
            ["Policy, Communities and Engagement"],
            "dated",
            date(2024, 10, 31),
            None,
        ),
    ],
)
def test_maidstone_rows(
    shared_plans: Path, start: str, owners: list[str], kind: str, due: date | None, start_date: date | None
) -> None:
    action = find(parse(shared_plans, MAIDSTONE), start)
    deadline = action.deadline
    assert (action.owners, deadline.kind, deadline.due, deadline.start) == (owners, kind, due, start_date)


def test_maidstone_headings_become_theme_and_objective(shared_plans: Path) -> None:
    plan = parse(shared_plans, MAIDSTONE)
    grants = find(plan, "Delivery of Community Grants")
    assert grants.group_path[0] == ("theme", "As a Community Leader")
    assert grants.group_path[1][0] == "objective"
    assert grants.group_path[1][1].startswith("To lead by example")
    assert [a.theme for a in plan.actions].count("As a Service Provider") == 6


def test_maidstone_row_split_by_a_page_break_is_joined_again(shared_plans: Path) -> None:
    plan = parse(shared_plans, MAIDSTONE)
    dates = find(plan, "Dates of meaning to the organisation")
    assert "Develop a Team talk for Unit Managers" in (dates.description or "")
    assert "Civic team" in dates.owners  # "Civic" + "team" were split by the page break
    assert dates.deadline.due == date(2024, 3, 31)
    support = find(plan, "Support delivery of actions to support Inclusion and Belonging")
    assert "are informed of council news" in (support.description or "")


def test_maidstone_several_dates_in_one_cell_keep_the_later_ones_as_milestones(shared_plans: Path) -> None:
    survey = find(parse(shared_plans, MAIDSTONE), "Maintain understanding of the organisation")
    assert survey.deadline.due == date(2024, 7, 31)
    assert survey.deadline.milestones == (date(2024, 10, 31), date(2025, 7, 31))


def test_maidstone_deadlines_under_a_blank_header_are_still_read(shared_plans: Path) -> None:
    plan = parse(shared_plans, MAIDSTONE)
    provider = [a for a in plan.actions if a.theme == "As a Service Provider"]
    assert all(a.deadline.text for a in provider)
    assert find(plan, "Support delivery of the Financial Inclusion").deadline.due == date(2024, 3, 31)


def test_maidstone_struck_through_text_is_not_read_but_kept_raw(shared_plans: Path) -> None:
    plan = parse(shared_plans, MAIDSTONE)
    language = find(plan, "Adopt Inclusive Language Guide")
    commitment = language.group_path[-1][1]
    assert "including a specific work stream on communities" not in commitment
    document = read_plan_file(shared_plans / MAIDSTONE)
    assert any("<del>including a specific work stream" in cell for row in document.rows for cell in row.raw)


@pytest.mark.parametrize(
    ("start", "owners", "kind", "due", "rag"),
    [
        ("Increase diversity of membership", ["Equalities Team"], "unknown", None, "green"),
        (
            "Consider and address training needs",
            ["CEDIS", "Equalities Team", "CB"],
            "ongoing",
            date(2022, 11, 30),
            "amber",
        ),
        (
            "Review the Council’s main organisational plans",
            ["Business Intelligence", "Equalities Team"],
            "dated",
            date(2023, 12, 31),
            "amber",
        ),
        (
            "Share more celebrating success stories",
            ["Chief Executive", "Leader", "Equalities Team"],
            "ongoing",
            None,
            "amber",
        ),
        (
            "Present the Equality Improvement Plan to the Corporate PDS",
            ["Democratic Services", "Equalities Team"],
            "ongoing",
            date(2022, 9, 30),
            "green",
        ),
        (
            "We have ensured that new Community Engagement Guidance",
            ["Communities Team", "Equalities Team"],
            "complete",
            None,
            "green",
        ),
        (
            "We need to support political groups",
            ["Democratic Services", "Equalities Team"],
            "dated",
            date(2023, 1, 31),
            "red",
        ),
        ("Include H&B incident reporting", ["HR"], "recurring", None, "amber"),
        ("Review Staff Engagement survey results", ["HR"], "complete", None, "green"),
    ],
)
def test_banes_rows(
    shared_plans: Path, start: str, owners: list[str], kind: str, due: date | None, rag: str
) -> None:
    action = find(parse(shared_plans, BANES), start)
    assert (action.owners, action.deadline.kind, action.deadline.due, action.rag) == (owners, kind, due, rag)


def test_banes_bi_annual_is_read_as_six_monthly_with_a_warning(shared_plans: Path) -> None:
    action = find(parse(shared_plans, BANES), "Include H&B incident reporting")
    assert action.deadline.recurrence == "P6M"
    assert any("Bi-annual" in warning for warning in action.warnings)


def test_banes_evidence_carries_down_to_the_actions_it_supports(shared_plans: Path) -> None:
    action = find(parse(shared_plans, BANES), "Consider and address training needs")
    assert (action.description or "").startswith("Structures in place")
    assert action.theme == "1. Leadership and organisational commitment to equality and diversity"


def test_banes_problems_name_the_rows_a_plan_owner_must_fix(shared_plans: Path) -> None:
    plan = parse(shared_plans, BANES)
    messages = {(p.row, p.text): p.message for p in plan.problems}
    assert "not a date I understand" in messages[(208, "Under development")]
    assert "still to be confirmed" in messages[(300, "TBC")]
    assert all(problem.row > 0 and problem.message for problem in plan.problems)
