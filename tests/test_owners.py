"""Owner cells split the way a plan reader means them: on '/', ';' and line breaks, rarely on commas."""

from __future__ import annotations

import pytest

from storage.rules.owners import known_owners, looks_like_role, looks_like_sentence, owner_key, split_owners


@pytest.mark.parametrize(
    ("cell", "owners"),
    [
        ("HR Manager", ["HR Manager"]),
        ("HR Manager/ Director of Delivery", ["HR Manager", "Director of Delivery"]),
        ("Area Support/ Delivery Support", ["Area Support", "Delivery Support"]),
        ("Policy Team / People Services", ["Policy Team", "People Services"]),
        ("Policy Team; Legal Services", ["Policy Team", "Legal Services"]),
        ("CEDIS\nEqualities Team", ["CEDIS", "Equalities Team"]),
        ("Chief Executive/Leader/\nEqualities Team", ["Chief Executive", "Leader", "Equalities Team"]),
        ("Business Insight/ Research and Intel Team", ["Business Insight", "Research and Intel Team"]),
        ("Lead: HR Manager", ["HR Manager"]),
        ("Joint leads - Finance Team", ["Finance Team"]),
        ("  Delivery   Support. ", ["Delivery Support"]),
        ("HR Manager / hr manager", ["HR Manager"]),
    ],
)
def test_owner_cells_split_on_slashes_semicolons_and_line_breaks(cell: str, owners: list[str]) -> None:
    assert list(split_owners(cell).owners) == owners


@pytest.mark.parametrize(
    "cell",
    [
        "Policy, Communities and Engagement",
        "Health & Safety",
        "Directors & Managers of Each Department",
        "Research and Intelligence",
        "HR and/or Finance",
    ],
)
def test_one_team_with_a_comma_ampersand_or_and_stays_one_owner(cell: str) -> None:
    assert split_owners(cell).owners == (cell,)
    assert split_owners(cell).warnings == ()


def test_a_comma_list_of_owners_the_plan_names_elsewhere_is_split() -> None:
    known = known_owners(["Director of Delivery", "Head of Research", "HR Manager"])
    split = split_owners("Director of Delivery, Head of Research", known=known)
    assert split.owners == ("Director of Delivery", "Head of Research")


def test_known_multi_word_teams_are_kept_whole_inside_a_comma_list() -> None:
    known = known_owners(["Housing/ICT/Policy, Communities and Engagement", "Housing"])
    split = split_owners("Housing, Revenues and Benefits, Policy, Communities and Engagement.", known=known)
    assert split.owners == ("Housing", "Revenues and Benefits", "Policy, Communities and Engagement")


def test_a_plain_list_of_three_or_more_is_split_even_without_plan_knowledge() -> None:
    split = split_owners("L&D, Comms and Events, Museums, Civic team")
    assert split.owners == ("L&D", "Comms and Events", "Museums", "Civic team")


def test_an_unclear_comma_pair_is_kept_whole_and_the_reader_is_told_how_to_separate_it() -> None:
    split = split_owners("Finance, Estates")
    assert split.owners == ("Finance, Estates",)
    assert "separate them with '/'" in split.warnings[0]


@pytest.mark.parametrize("cell", ["", "   ", "N/A", "n/a.", "TBC", "-", "–"])
def test_cells_that_name_nobody_give_no_owners(cell: str) -> None:
    assert split_owners(cell).owners == ()


def test_owner_keys_fold_case_spacing_and_edge_punctuation() -> None:
    assert owner_key("  HR   Manager. ") == owner_key("hr manager")


@pytest.mark.parametrize(
    ("cell", "sentence"),
    [
        ("The campaign was launched in May with posters in every library and a series of talks.", True),
        ("Potential training providers have been identified and quotes are being compared this month.", True),
        ("Housing, Revenues and Benefits, Policy, Communities and Engagement.", False),
        ("Head of HR / Director of Estates and Facilities Management", False),
        ("Learning and Development Team, Organisational Development and Engagement Manager", False),
    ],
)
def test_an_owner_cell_that_reads_as_a_sentence_is_told_apart_from_a_list_of_teams(
    cell: str, sentence: bool
) -> None:
    assert looks_like_sentence(cell) is sentence


@pytest.mark.parametrize(
    ("cell", "role"),
    [
        ("Engagement Officer", True),
        ("Head of HR", True),
        ("Chief Executive", True),
        ("Policy Team", True),
        ("Set up a staff disability network", False),
        ("Review recruitment adverts", False),
        ("31/03/2024", False),
        ("Ongoing", False),
    ],
)
def test_a_post_or_a_team_reads_as_one(cell: str, role: bool) -> None:
    assert looks_like_role(cell) is role
