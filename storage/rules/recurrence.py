"""How often an action recurs: the one place an ISO 8601 period ("P1Y", "P6M", "P2W") is written, read as a
step in time, and said in words.

The deadline grammar writes the period when it reads "Annually" or "every 18 months", the database keeps it
as that short text, the reminder ladder steps by it, and cards say it back to people ("every 6 months").
"""

from __future__ import annotations

import re
from typing import Final

from dateutil.relativedelta import relativedelta

_PERIOD: Final = re.compile(r"^P(\d+)([YMWD])$")

# The units a period is written in, with how each is said: one of them, and several.
_UNIT_WORDS: Final[dict[str, tuple[str, str]]] = {
    "Y": ("year", "years"),
    "M": ("month", "months"),
    "W": ("week", "weeks"),
    "D": ("day", "days"),
}


def period_of(amount: int, unit: str) -> str | None:
    """The period for "every `amount` `unit`s" (unit: day, week, month or year), or None for a zero amount.

    Whole years of months and whole weeks of days are written as years and weeks: "every 12 months" is P1Y.
    """
    if amount <= 0:
        return None
    if unit == "month" and amount % 12 == 0:
        return f"P{amount // 12}Y"
    if unit == "day" and amount % 7 == 0:
        return f"P{amount // 7}W"
    return f"P{amount}{unit[0].upper()}"


def step_of(period: str | None) -> relativedelta | None:
    """The period as a step in time ("P6M" → six months), or None when it is not one we can step by."""
    parts = _parts(period)
    if parts is None:
        return None
    amount, unit = parts
    if unit == "Y":
        return relativedelta(years=amount)
    if unit == "M":
        return relativedelta(months=amount)
    return relativedelta(weeks=amount) if unit == "W" else relativedelta(days=amount)


def say_recurrence(period: str | None) -> str:
    """The period in words: "every year", "every 6 months", "every quarter", "every 2 weeks"."""
    parts = _parts(period)
    if parts is None:
        return f"recurring ({period})"
    amount, unit = parts
    if (amount, unit) == (3, "M"):
        return "every quarter"
    one, several = _UNIT_WORDS[unit]
    return f"every {one}" if amount == 1 else f"every {amount} {several}"


def _parts(period: str | None) -> tuple[int, str] | None:
    match = _PERIOD.match(period or "")
    if not match or int(match.group(1)) == 0:
        return None
    return int(match.group(1)), match.group(2)
