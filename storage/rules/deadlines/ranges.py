"""Several periods in one cell: ranges ("Q1 2024 - Q2 2024"), alternatives ("June/July 2024") and lists
("Sept 23 and March 24", "Nov 2022 & Ongoing"), and how their readings combine into one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Final

from dateutil.relativedelta import relativedelta

from storage.rules.deadlines.affixes import read_single, reading_of, strip_affixes
from storage.rules.deadlines.fast import read_fast
from storage.rules.deadlines.periods import read_period
from storage.rules.deadlines.tidy import trim
from storage.rules.deadlines.values import DeadlineKind, Problem, Reading, Span, unknown
from storage.rules.deadlines.vocabulary import OPEN_ENDED, F, opening_word
from storage.rules.deadlines.wording import date_words, quote

_RANGE_SEPARATOR: Final = re.compile(
    r"\s+-\s*|\s*-\s+|\s*\u2013\s*|\s*->\s*|\s+(?:to|until|till|through|thru)\s+", F
)
_BETWEEN: Final = re.compile(
    r"(?:between|from)\s+(.+?)\s+(?:and|to|until|till|-|\u2013)\s+(.+)", F | re.DOTALL
)
_ALTERNATIVE_SEPARATOR: Final = re.compile(r"\s*/\s*|\s+or\s+", F)
_LIST_SEPARATOR: Final = re.compile(r"\s*(?:\n|;|,|\s(?:and|&|then|plus|\+|followed\s+by)\s|&)\s*", F)
_YEAR: Final = re.compile(r"\d{4}", F)


def read_part(part: str, today: date | None) -> Reading | None:
    """One thing: a vocabulary word, a period, a range or a pair of alternatives."""
    # The pieces of a list ("Sept 23 and March 24", "Nov 2022 & Ongoing") mostly take the common shapes too.
    fast = read_fast(part)
    return fast if fast is not None else read_part_in_full(part, today)


def read_part_in_full(part: str, today: date | None) -> Reading | None:
    """`read_part` without the quick readings of the commonest shapes."""
    part = trim(part)
    if not part:
        return None
    word = opening_word(part, part)
    if word is not None and not word[2]:
        return word[0]
    return (
        read_single(part, today, part)
        or _read_range(part, today, part)
        or _read_alternatives(part, today, part)
    )


def read_list(cell: str, today: date | None, written: str | None = None) -> Reading | None:
    """Several deadlines in one cell ("Sept 23 and March 24", one per line, "Nov 2022 & Ongoing")."""
    parts = [part for part in (trim(piece) for piece in _LIST_SEPARATOR.split(cell)) if part]
    if len(parts) < 2:
        return None
    readings: list[Reading] = []
    for part in parts:
        reading = read_part(part, today)
        if reading is None:
            return None
        readings.append(reading)
    return combine(readings, written or cell)


def _read_range(part: str, today: date | None, written: str) -> Reading | None:
    """ "Q1 2024 - Q2 2024", "Jan – Mar 2024", "2023-2025": from the first's start to the last's end."""
    between = _BETWEEN.fullmatch(part)
    if between:
        sides = [between[1], between[2]]
    else:
        sides = _RANGE_SEPARATOR.split(part)
        if len(sides) != 2 and part.count("-") == 1:
            sides = part.split("-")
    if len(sides) != 2:
        return None
    left, _ = strip_affixes(trim(sides[0]))
    right, _ = strip_affixes(trim(sides[1]))
    if not left or not right:
        return None
    if OPEN_ENDED.fullmatch(right):
        # "Sept 2022 – ongoing" says when the work began, unlike "Nov 2022 & Ongoing" (a first deadline).
        began = read_period(left, today, written)
        return None if began is None else reading_of(began, "start")
    pair = _pair(left, right, today, written)
    if pair is None or isinstance(pair, Problem):
        return None if pair is None else unknown(pair.warning, needs_today=pair.needs_today)
    first, last, inherited = pair
    start = first.first
    if last.last < start and inherited:
        # "Nov – Feb 2025" runs over the new year: November is of 2024.
        start -= relativedelta(years=1)
    if last.last < start:
        return unknown(f"{quote(written)} ends before it starts; kept as text")
    warnings: list[str] = [note for note in (first.note, last.note) if note]
    if _YEAR.fullmatch(left) and _YEAR.fullmatch(right) and int(right) == int(left) + 1:
        warnings.append(
            f"{quote(written)} is read as the calendar years {left} to {right}; "
            f"for the financial year write {left}/{right[2:]}"
        )
    return Reading("dated", start=start, due=last.last, warnings=tuple(warnings))


def _read_alternatives(part: str, today: date | None, written: str) -> Reading | None:
    """ "June/July 2024": the later of the two is when it is due."""
    sides = _ALTERNATIVE_SEPARATOR.split(part)
    if len(sides) != 2:
        return None
    left, right = trim(sides[0]), trim(sides[1])
    if not left or not right:
        return None
    pair = _pair(left, right, today, written)
    if pair is None or isinstance(pair, Problem):
        return None if pair is None else unknown(pair.warning, needs_today=pair.needs_today)
    first, last, _ = pair
    return Reading("dated", due=max(first.last, last.last))


def _pair(
    left: str, right: str, today: date | None, written: str
) -> tuple[Span, Span, bool] | Problem | None:
    """Both ends of a range; a left end without a year borrows the right end's ("Jan – Mar 2024")."""
    last = read_period(right, None, written)
    if isinstance(last, Problem) and last.needs_today and today is not None:
        last = read_period(right, today, written)
    if not isinstance(last, Span):
        return last
    first = read_period(left, None, written)
    if isinstance(first, Span):
        return first, last, False
    if first is not None and not first.needs_today:
        return first
    # The right end is a single period, so it has only a few words to lend.
    words = right.split()
    for keep in range(len(words) - 1, 0, -1):
        borrowed = read_period(f"{left} {' '.join(words[-keep:])}", None, written)
        if isinstance(borrowed, Span):
            return borrowed, last, True
    if first is not None and today is not None:
        first = read_period(left, today, written)
        if isinstance(first, Span):
            return first, last, False
    return first


# A cell that says "Completed" anywhere is done; a recurrence or "ongoing" outranks a one-off date.
_KIND_PRECEDENCE: Final[tuple[DeadlineKind, ...]] = ("complete", "recurring", "ongoing", "dated")


def combine(readings: Sequence[Reading], written: str, *, several_warning: bool = True) -> Reading:
    """One reading for several: the strongest kind, the earliest due date with the later ones as
    milestones."""
    known = [reading for reading in readings if reading.kind != "unknown"]
    warnings = [warning for reading in readings for warning in reading.warnings]
    if not known:
        return Reading("unknown", warnings=tuple(warnings))
    kinds = {reading.kind for reading in known}
    kind = next(kind for kind in _KIND_PRECEDENCE if kind in kinds)
    dues = sorted({day for reading in known for day in (reading.due, *reading.milestones) if day is not None})
    due = dues[0] if dues else None
    starts = [reading.start for reading in known if reading.start is not None]
    start = min(starts) if starts else None
    if start is not None and due is not None and start > due:
        warnings.append(f"{quote(written)} starts after its first deadline, so the start date was set aside")
        start = None
    recurrence = next((reading.recurrence for reading in known if reading.recurrence), None)
    if several_warning and len(dues) > 1:
        later = ", ".join(date_words(day) for day in dues[1:])
        warnings.append(
            f"{quote(written)} names several dates; due is the earliest, {date_words(dues[0])}, "
            f"and the later ones ({later}) are kept as milestones"
        )
    return Reading(
        kind,
        start=start,
        due=due,
        recurrence=recurrence,
        milestones=tuple(dues[1:]),
        warnings=tuple(dict.fromkeys(warnings)),
    )
