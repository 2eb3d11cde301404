"""How the deadline grammar says things back: the cell quoted short, a day, a month span, an ordinal."""

from __future__ import annotations

import calendar
from datetime import date
from typing import Final

QUOTE_LIMIT: Final = 60
# calendar.month_name formats each name through strftime whenever it is indexed; messages need them often.
MONTH_NAMES: Final = tuple(calendar.month_name)


def quote(text: str) -> str:
    """The cell as a warning quotes it: on one line, and cut short when it is long."""
    shown = " / ".join(line.strip() for line in text.splitlines() if line.strip())
    if len(shown) > QUOTE_LIMIT:
        shown = shown[: QUOTE_LIMIT - 1].rstrip() + "\u2026"
    return f"'{shown}'"


def ordinal(number: int) -> str:
    suffix = "th" if 11 <= number % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def day_words(day: date) -> str:
    """ "Friday 7 November 2025"."""
    return f"{day:%A} {day.day} {MONTH_NAMES[day.month]} {day.year}"


def date_words(day: date) -> str:
    """ "7 November 2025"."""
    return f"{day.day} {MONTH_NAMES[day.month]} {day.year}"


def month_span_words(first: date, last: date) -> str:
    """ "March 2024 to May 2024"."""
    return f"{MONTH_NAMES[first.month]} {first.year} to {MONTH_NAMES[last.month]} {last.year}"
