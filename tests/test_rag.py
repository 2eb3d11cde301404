"""RAG cells (and ratings hidden in progress notes) read as red, amber, green or blue (done)."""

from __future__ import annotations

import pytest

from storage.rules.rag import parse_rag, rag_in_progress


@pytest.mark.parametrize(
    ("cell", "rag"),
    [
        ("R", "red"),
        ("Red", "red"),
        ("RED", "red"),
        ("A", "amber"),
        ("amber", "amber"),
        ("G", "green"),
        ("Green - on track", "green"),
        ("B", "blue"),
        ("Blue", "blue"),
        ("Complete", "blue"),
        ("Completed", "blue"),
        (" g ", "green"),
        ("A.", "amber"),
    ],
)
def test_rag_cells_in_every_common_spelling(cell: str, rag: str) -> None:
    assert parse_rag(cell) == rag


@pytest.mark.parametrize("cell", ["", "Good", "Also", "Rising", "n/a", "5", "Brilliant"])
def test_words_that_merely_start_with_r_a_g_are_not_ratings(cell: str) -> None:
    assert parse_rag(cell) is None


@pytest.mark.parametrize(
    ("note", "rag"),
    [
        ("G – delivered", "green"),
        ("Amber: waiting on budget", "amber"),
        ("R - no budget", "red"),
        ("G", "green"),
    ],
)
def test_a_rating_at_the_start_of_a_progress_note_is_picked_up(note: str, rag: str) -> None:
    assert rag_in_progress(note) == rag


@pytest.mark.parametrize("note", ["Good progress", "A review is under way", "Green space audit done", ""])
def test_ordinary_progress_notes_carry_no_rating(note: str) -> None:
    assert rag_in_progress(note) is None
