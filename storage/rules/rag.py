"""Reads red/amber/green (and blue for done) ratings, in RAG cells and at the start of progress notes."""

from __future__ import annotations

import re
from typing import Literal

Rag = Literal["red", "amber", "green", "blue"]

_WORDS: dict[str, Rag] = {
    "r": "red",
    "red": "red",
    "a": "amber",
    "amber": "amber",
    "orange": "amber",
    "g": "green",
    "green": "green",
    "b": "blue",
    "blue": "blue",
    "complete": "blue",
    "completed": "blue",
    "done": "blue",
    "achieved": "blue",
}
_CELL = re.compile(r"^\s*([a-z]+)\s*(?:[-–—:.,(]|$)", re.IGNORECASE)
# In a progress note only a leading rating followed by a separator counts: "G – delivered".
_PROGRESS = re.compile(r"^\s*(red|amber|green|blue|r|a|g|b)\s*(?:[-–—:]\s+|\s*$)", re.IGNORECASE)


def parse_rag(cell: str) -> Rag | None:
    """The rating a RAG cell gives, or None when it gives none we recognise ("A", "Green - on track")."""
    match = _CELL.match(cell)
    if not match:
        return None
    return _WORDS.get(match.group(1).casefold())


def rag_in_progress(note: str) -> Rag | None:
    """A rating written at the start of a progress note ("G – delivered", "Amber: waiting on budget")."""
    match = _PROGRESS.match(note)
    return _WORDS.get(match.group(1).casefold()) if match else None
