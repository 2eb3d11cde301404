"""The words around a date that change what it says ("by", "from", "before", "w/c", "onwards"), and what a
single period reads as with them.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Final

from storage.rules.deadlines.periods import read_period
from storage.rules.deadlines.tidy import trim
from storage.rules.deadlines.values import Mode, Problem, Reading, Span, unknown
from storage.rules.deadlines.vocabulary import OPEN_ENDED, F
from storage.rules.deadlines.wording import quote

_GAP: Final = r"(?:\s*[:\-\u2013]\s*|\s+)"
_PREFIX: Final = re.compile(
    rf"(?:(?P<start>from|starting(?:\s+(?:from|in|on))?|start(?:s|ed)?(?:\s+date)?(?:\s+(?:from|in|on))?"
    rf"|commenc(?:ing|es)|beginning|begins|with\s+effect\s+from|w\.?e\.?f\.?|effective(?:\s+from)?)"
    rf"|(?P<before>before|prior\s+to|ahead\s+of)"
    rf"|(?P<deadline>(?:to\s+be\s+)?(?:complete[d]?|deliver(?:ed)?|done|achieved|finished)\s+by|due(?:\s+date)?"
    rf"(?:\s+by)?|deadline(?:\s+date)?|target(?:\s+date)?|by\s+(?:the\s+)?end(?:\s+of)?|by"
    rf"|(?:no|not)\s+later\s+than|on\s+or\s+before|(?:the\s+)?end(?:\s+of)?|until|till)"
    rf"|(?P<window>throughout|during|over|across|for)"
    rf"|(?P<plain>in|on|at|approx(?:\.|imately)?|around|circa|c\.|est(?:\.|imated)?|expected|planned"
    rf"|provisional(?:ly)?|w/?c|w\.c\.|w/?b|w/?e|week\s+(?:commencing|beginning|starting|ending)))"
    rf"{_GAP}",
    F,
)
_SUFFIXES: Final[tuple[tuple[re.Pattern[str], Mode], ...]] = (
    (re.compile(r"\s*(?:and\s+)?(?:onwards?|on\s+wards|and\s+beyond)$", F), "start"),
    (re.compile(r"\s*(?:at\s+the\s+latest|latest)$", F), "deadline"),
)
_SUFFIX_WORDS: Final = frozenset({"onwards", "onward", "wards", "beyond", "latest"})
_MODES: Final[dict[str, Mode]] = {mode: mode for mode in ("start", "before", "deadline", "window", "plain")}
_MODE_STRENGTH: Final[dict[Mode, int]] = {"plain": 0, "window": 1, "deadline": 2, "before": 3, "start": 4}


def strip_affixes(part: str) -> tuple[str, Mode]:
    """Take off "by", "from", "w/c", "onwards" and friends, remembering what they said about the date."""
    mode: Mode = "plain"
    # Prefixes are stepped over in place and the text cut once: "by by by … June" stays linear in length.
    at = 0
    stripped = True
    while stripped and at < len(part) and not part[at].isdigit():
        stripped = False
        match = _PREFIX.match(part, at)
        if match and match.end() < len(part):
            at = match.end()
            meaning = _MODES[match.lastgroup or "plain"]
            mode = meaning if _MODE_STRENGTH[meaning] > _MODE_STRENGTH[mode] else mode
            stripped = True
    core = part[at:]
    if core.rpartition(" ")[2].lower() not in _SUFFIX_WORDS:
        return trim(core), mode
    for pattern, meaning in _SUFFIXES:
        match = pattern.search(core)
        if match and match.start() > 0:
            core = core[: match.start()]
            mode = meaning if _MODE_STRENGTH[meaning] > _MODE_STRENGTH[mode] else mode
    return trim(core), mode


def read_single(part: str, today: date | None, written: str) -> Reading | None:
    """One period with the words around it: "by end of March 2025", "from April 2019", "Q3 2024"."""
    core, mode = strip_affixes(part)
    if not core:
        return None
    if mode == "start" and OPEN_ENDED.fullmatch(core):
        return None
    found = read_period(core, today, written)
    if found is None:
        return None
    if mode == "before" and isinstance(found, Span) and found.first == date.min:
        # "Before today" on the first day of the calendar: there is no day before it.
        return unknown(f"{quote(written)} is too far away to be a real date; kept as text")
    return reading_of(found, mode)


def reading_of(found: Span | Problem, mode: Mode) -> Reading:
    """What a period says under the words around it: a start, a deadline, the day before, or a window."""
    if isinstance(found, Problem):
        return unknown(found.warning, needs_today=found.needs_today)
    notes = (found.note,) if found.note else ()
    if mode == "start":
        return Reading("ongoing", start=found.first, warnings=notes)
    if mode == "before":
        return Reading("dated", due=found.first - timedelta(days=1), warnings=notes)
    start = found.first if (mode == "window" or (mode == "plain" and found.window)) else None
    return Reading("dated", start=start, due=found.last, warnings=notes)
