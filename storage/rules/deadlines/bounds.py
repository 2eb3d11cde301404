"""Which years a deadline can plausibly mean: a date before 2000 or after 2100 is a typing slip, not a
plan."""

from __future__ import annotations

from storage.rules.deadlines.values import Deadline

PLAUSIBLE_YEARS = range(2000, 2101)


def implausible_year(deadline: Deadline) -> str | None:
    """Why a deadline's dates can't be meant (one before 2000 or after 2100); None when they are plausible."""
    for day in (deadline.start, deadline.due):
        if day is not None and day.year not in PLAUSIBLE_YEARS:
            side = "before 2000" if day.year < PLAUSIBLE_YEARS.start else "after 2100"
            return f"'{deadline.text}' reads as {day:%-d %b} {day.year}, {side}: check the year"
    return None
