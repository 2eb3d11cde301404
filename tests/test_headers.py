"""Columns are recognised by what their header means, in the many ways plans write them."""

from __future__ import annotations

import pytest

from storage.importing.headers import looks_like_header, map_columns, role_of


@pytest.mark.parametrize(
    ("header", "role"),
    [
        ("What", "action"),
        ("Action", "action"),
        ("Actions", "action"),
        ("Actions to be done", "action"),
        ("What are the gaps/what needs to be done?", "action"),
        ("Who", "owner"),
        ("Owner", "owner"),
        ("Lead", "owner"),
        ("Responsible", "owner"),
        ("Department", "owner"),
        ("Person Responsible", "owner"),
        ("Responsible Service", "owner"),
        ("By whom", "owner"),
        ("Responsible officer", "owner"),
        ("When", "deadline"),
        ("Deadline", "deadline"),
        ("Timescale", "deadline"),
        ("Timescales", "deadline"),
        ("Timelines", "deadline"),
        ("By when", "deadline"),
        ("Target date", "deadline"),
        ("Timescale for delivery", "deadline"),
        ("RAG", "rag"),
        ("Status", "rag"),
        ("RAG status", "rag"),
        ("Progress", "progress"),
        ("Update", "progress"),
        ("Comments", "progress"),
        ("How", "how"),
        ("Output", "outputs"),
        ("Success measure", "outputs"),
        ("KPI", "outputs"),
        ("Action Title", "title"),
        ("Ref", "ref"),
        ("No.", "ref"),
        ("What can the Council already evidence?", "context"),
        ("Directorate", "owner"),
        ("Service area", "owner"),
        ("Accountable officer", "owner"),
        ("Officer", "owner"),
        ("Target date", "deadline"),
        ("Completion date", "deadline"),
        ("Milestones", "deadline"),
        ("Measure of success", "outputs"),
    ],
)
def test_headers_are_recognised_by_meaning(header: str, role: str) -> None:
    assert role_of(header)[0] == role


@pytest.mark.parametrize(
    ("header", "level"),
    [
        ("Theme", "theme"),
        ("Pillar", "pillar"),
        ("Objective", "objective"),
        ("Focus", "focus"),
        ("Priority", "priority"),
        ("Commitments", "commitment"),
        ("Outcome", "outcome"),
    ],
)
def test_grouping_headers_name_their_level(header: str, level: str) -> None:
    assert role_of(header) == ("group", level)


def test_an_outcome_column_right_of_the_action_is_a_success_measure() -> None:
    columns = map_columns(["Outcome", "Action", "Who", "When", "Outcome"])
    assert [c.role for c in columns] == ["group", "action", "owner", "deadline", "outputs"]


def test_with_an_action_title_column_the_actions_column_describes_it() -> None:
    columns = map_columns(["Commitments", "Action Title", "Actions", "Responsible Service", "Timescale"])
    assert [c.role for c in columns] == ["group", "title", "description", "owner", "deadline"]


def test_a_map_override_wins_over_recognition() -> None:
    columns = map_columns(
        ["Activity", "Officer", "Target"],
        overrides={"action": "Activity", "owner": "Officer", "deadline": "Target"},
    )
    assert [c.role for c in columns] == ["action", "owner", "deadline"]


def test_each_role_is_claimed_once_by_its_leftmost_column() -> None:
    columns = map_columns(["Action", "Lead", "Deadline", "Owner"])
    assert [c.role for c in columns] == ["action", "owner", "deadline", None]


@pytest.mark.parametrize(
    "row",
    [
        ["What", "How", "Who", "When"],
        [
            "",
            "What can the Council already evidence?",
            "What are the gaps",
            "By when",
            "Responsible officer",
            "RAG",
        ],
        ["Action", "Owner"],
    ],
)
def test_header_rows_are_found(row: list[str]) -> None:
    assert looks_like_header(row)


@pytest.mark.parametrize(
    "row",
    [
        ["Launch events series focused on engaging diverse young people.", "Delivery Support", "June 23"],
        ["As a Community Leader", "", ""],
        ["Name", "Email"],
    ],
)
def test_data_rows_and_headings_are_not_headers(row: list[str]) -> None:
    assert not looks_like_header(row)


def test_a_header_row_may_name_its_dates_target_completion_or_review() -> None:
    assert looks_like_header(["Action", "Officer", "Review date", "Completion"])
