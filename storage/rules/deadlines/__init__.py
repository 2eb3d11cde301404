"""Reads the deadline a person wrote in a UK EDI action plan cell ("Sept 23", "Q1 2024/25", "Ongoing").

The grammar is split by job: vocabulary (the words), tidy (markup and spacing off), periods (one period,
from a table of shapes), affixes ("by", "from", "onwards"), ranges (ranges, alternatives and lists), fast
(the commonest shapes, quickly), prose (dates inside a sentence), wording (how it says things back), values
(what it answers with), reading (a whole cell, bounded in length and read in linear time) and bounds
(the years a deadline can plausibly mean).
"""

from storage.rules.deadlines.bounds import PLAUSIBLE_YEARS, implausible_year
from storage.rules.deadlines.reading import MAX_DEADLINE_CHARS, clear_deadline_cache, interpret_deadline
from storage.rules.deadlines.values import Deadline, DeadlineKind, Scheduled

__all__ = [
    "MAX_DEADLINE_CHARS",
    "PLAUSIBLE_YEARS",
    "Deadline",
    "DeadlineKind",
    "Scheduled",
    "clear_deadline_cache",
    "implausible_year",
    "interpret_deadline",
]
