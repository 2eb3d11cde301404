"""Reads a whole deadline cell: refuses one too long to be a date, tidies it, then tries it as one thing, as
a list, as a vocabulary word with more after it, and last as a sentence with dates in it.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Final

from storage.rules.deadlines.fast import read_fast
from storage.rules.deadlines.periods import last_day
from storage.rules.deadlines.prose import read_buried
from storage.rules.deadlines.ranges import combine, read_list, read_part
from storage.rules.deadlines.tidy import lines, visible
from storage.rules.deadlines.values import Deadline, Reading, unknown
from storage.rules.deadlines.vocabulary import opening_word
from storage.rules.deadlines.wording import quote

# The longest phrase, in visible characters, read as a date. The longest deadline cell in the plans we have
# seen is under a hundred characters; anything much longer is prose or a paste, and every path into the
# grammar (due, snooze, away, add, thread replies, forms, plan files) is refused at once past it.
MAX_DEADLINE_CHARS: Final = 300


def interpret_deadline(text: str, *, today: date | None = None) -> Deadline:
    """Interpret one deadline cell; `today` is needed only for relative phrases such as "next Friday"."""
    if isinstance(today, datetime):
        # A datetime would refuse to compare with the plain dates everything here is built from.
        today = today.date()
    if len(text) <= MAX_DEADLINE_CHARS:
        return _interpret_cached(text, today)
    # Long texts are not remembered: a few thousand of them would hold the cache's memory hostage.
    return _deadline(text, _read_long(text, today))


def clear_deadline_cache() -> None:
    """Forget remembered interpretations (benchmarks use this to measure a cold start)."""
    _interpret_cached.cache_clear()
    last_day.cache_clear()


@lru_cache(maxsize=65536)
def _interpret_cached(text: str, today: date | None) -> Deadline:
    return _deadline(text, read_cell(text, today))


def _deadline(text: str, reading: Reading) -> Deadline:
    return Deadline(
        text=text,
        kind=reading.kind,
        start=reading.start,
        due=reading.due,
        recurrence=reading.recurrence,
        milestones=reading.milestones,
        warnings=reading.warnings,
    )


def _read_long(text: str, today: date | None) -> Reading:
    """A text longer than a date can be: markup and spacing do not count, the words do."""
    shown = " ".join(visible(text).split())
    if len(shown) > MAX_DEADLINE_CHARS:
        return unknown(
            f"{quote(shown)} is {len(shown):,} characters long, too long to be a date; kept as text"
        )
    return read_cell(text, today)


def read_cell(text: str, today: date | None) -> Reading:
    """What a cell says, of any length (interpret_deadline bounds it)."""
    fast = read_fast(text)
    return fast if fast is not None else read_cell_in_full(text, today)


def read_cell_in_full(text: str, today: date | None) -> Reading:
    """`read_cell` without the quick readings of the commonest shapes."""
    written = visible(text)
    cell = lines(written)
    if not cell:
        shown = " ".join(written.split())
        if shown:
            return unknown(f"{quote(shown)} is a placeholder, not a date; kept as text")
        return Reading("unknown")
    found = read_part(cell, today) or read_list(cell, today, written)
    if found is not None:
        return found
    found = _read_leading_word(cell, today, written)
    if found is not None:
        return found
    found = read_buried(cell, written)
    if found is not None:
        return found
    return unknown(f"{quote(written)} is not a date I understand; kept as text")


def _read_leading_word(cell: str, today: date | None, written: str) -> Reading | None:
    """ "Ongoing – update in the annual report", "Annually in March", "Completed March 2023"."""
    word = opening_word(cell, written)
    if word is None:
        return None
    reading, separator, rest = word
    said = read_part(rest, today) or read_list(rest, today)
    if said is not None and (said.kind != "unknown" or said.needs_today):
        if said.needs_today:
            return reading
        return combine([reading, said], written, several_warning=False)
    if not separator:
        return None
    buried = read_buried(rest, written)
    if buried is not None:
        return combine([reading, buried], written, several_warning=False)
    return reading
