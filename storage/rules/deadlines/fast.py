"""Quick readings of the shapes most cells take ("Sept 23", "31/3/24", "Q1 2024/25", "2025"), without the
general machinery; a property test holds them to the full readings.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Final

from storage.rules.deadlines.affixes import reading_of
from storage.rules.deadlines.periods import QUARTER, YEAR, last_day
from storage.rules.deadlines.values import Reading, Span
from storage.rules.deadlines.vocabulary import (
    EARLIEST_YEAR,
    LAST_TWO_DIGIT_YEAR_AFTER_MONTH,
    LATEST_YEAR,
    MONTH,
    MONTH_NUMBERS,
    F,
    full_year,
)

# Each alternative is a strict subset of what the general reader sends to one period reader, written so that
# nothing else in the general path could claim it first: a tidy cell (no markup, one space at a time, no
# framing punctuation) that is only a month and year, a numeric or written date, a quarter or a year. A
# prefix is allowed only where it cannot change the reading ("Due", "by (the) end of" before a month or day:
# neither is a window). Anything the fast path cannot settle outright goes the general way.
FAST_SHAPE: Final = re.compile(
    rf"(?:(?:due|by|by[ ](?:the[ ])?end[ ]of|end[ ]of)[ ])?"
    rf"(?:(?P<month>{MONTH})\.?[ ]?[-/,']?[ ]?'?(?P<month_year>\d{{4}}|\d{{2}})"
    rf"|(?P<day>\d{{1,2}})(?P<sep>[/.-])(?P<day_month>\d{{1,2}})(?P=sep)(?P<day_year>\d{{4}}|\d{{2}})"
    rf"|(?P<iso_year>\d{{4}})-(?P<iso_month>\d{{1,2}})-(?P<iso_day>\d{{1,2}}))"
    rf"|(?P<written_day>\d{{1,2}})(?:st|nd|rd|th)?[ ](?P<written_month>{MONTH})[ ](?P<written_year>\d{{4}})"
    rf"|(?P<quarter>q[1-4][ ](?:\d{{4}}|\d{{2}})(?:[/-]\d{{2,4}})?)"
    rf"|(?P<year>\d{{4}})",
    F,
)


def read_fast(text: str) -> Reading | None:
    """The reading of `text` when it takes one of the commonest shapes, exactly as the general path gives
    it; None when the general path must decide (any other shape, or a slip such as "Sept 32" or "31/2/24",
    which needs its explanation).

    Only a plain reading is settled here; "Due" and "by end of" say "deadline", which reads the same for a
    month or a day (neither is a window to work in), so both are due on the last day and start nowhere.
    """
    shape = FAST_SHAPE.fullmatch(text)
    if shape is None:
        return None
    groups = shape.groupdict()
    month_name = groups["month"]
    if month_name is not None:
        digits = groups["month_year"]
        if len(digits) == 2:
            if int(digits) > LAST_TWO_DIGIT_YEAR_AFTER_MONTH:
                return None
            in_year = 2000 + int(digits)
        else:
            in_year = int(digits)
        if not EARLIEST_YEAR <= in_year <= LATEST_YEAR:
            return None
        return Reading("dated", None, last_day(in_year, MONTH_NUMBERS[month_name.lower()]))
    if groups["day"] is not None:
        due = _real_day(int(groups["day"]), int(groups["day_month"]), full_year(groups["day_year"]))
    elif groups["iso_year"] is not None:
        due = _real_day(int(groups["iso_day"]), int(groups["iso_month"]), int(groups["iso_year"]))
    elif groups["written_day"] is not None:
        # What dateutil makes of "30th June 2019" (the general path's reader for it), without its parser.
        month = MONTH_NUMBERS[groups["written_month"].lower()]
        due = _real_day(int(groups["written_day"]), month, int(groups["written_year"]))
    else:
        written = shape[0]
        found = (QUARTER if groups["quarter"] else YEAR).read(written, None, written)
        return reading_of(found, "plain") if isinstance(found, Span) else None
    return None if due is None else Reading("dated", None, due)


def _real_day(day: int, month: int, year: int) -> date | None:
    """The day, when it is one the general path accepts without a word of explanation."""
    if not (EARLIEST_YEAR <= year <= LATEST_YEAR and 1 <= month <= 12 and day >= 1):
        return None
    if day > 28 and day > last_day(year, month).day:
        return None
    return date(year, month, day)
