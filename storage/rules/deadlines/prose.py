"""Dates inside a sentence ("to be delivered by 31/3/24 with further projects to be agreed"), found in one
pass over the text.
"""

from __future__ import annotations

import re
from typing import Final

from storage.rules.deadlines.affixes import reading_of
from storage.rules.deadlines.periods import read_period
from storage.rules.deadlines.ranges import combine
from storage.rules.deadlines.tidy import trim
from storage.rules.deadlines.values import Mode, Reading
from storage.rules.deadlines.vocabulary import MONTH, F
from storage.rules.deadlines.wording import date_words, quote

_BURIED: Final = re.compile(
    rf"\b(?:\d{{4}}-\d{{2}}-\d{{2}}"
    rf"|\d{{1,2}}(?P<sep>[/.-])\d{{1,2}}(?P=sep)(?:\d{{4}}|\d{{2}})"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTH}\.?,?\s+(?:\d{{4}}|\d{{2}})"
    rf"|{MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|q[1-4]\s*(?:fy\s*)?\d{{4}}(?:\s*[/-]\s*\d{{2}}(?:\d{{2}})?)?"
    rf"|(?:fy\s*)?\d{{4}}/\d{{2}}(?:\d{{2}})?"
    rf"|{MONTH}\.?[\s-]+\d{{4}}"
    rf"|(?!may\b){MONTH}\.?[\s-]+\d{{2}}"
    rf")(?![\w/])",
    F,
)
# The words just before a date that say what it is: when work starts, the day after it is due, a deadline.
_SAID_BEFORE: Final[tuple[tuple[re.Pattern[str], Mode], ...]] = (
    (
        re.compile(
            r"(?:from|starting(?:\s+from)?|start(?:s|ing)?(?:\s+date)?|commencing|beginning)\s*:?\s*$", F
        ),
        "start",
    ),
    (re.compile(r"(?:before|prior\s+to)\s*$", F), "before"),
    (re.compile(r"(?:by|due|deadline|until|till|end\s+of)\s*:?\s*$", F), "deadline"),
)
# Those words are looked for in this much of the text before each date, not in all of it: the text is tidy
# (one space between words), so they fit with room to spare, and the search stays linear in the text.
_SAID_WITHIN: Final = 40


def read_buried(text: str, written: str) -> Reading | None:
    """The dates a tidy sentence mentions, read together; None when it mentions none."""
    readings: list[Reading] = []
    for match in _BURIED.finditer(text):
        found = read_period(trim(match[0]), None, match[0])
        if found is None:
            continue
        before = text[max(0, match.start() - _SAID_WITHIN) : match.start()]
        mode: Mode = next((said for pattern, said in _SAID_BEFORE if pattern.search(before)), "plain")
        readings.append(reading_of(found, mode))
    if not readings:
        return None
    reading = combine(readings, written)
    if reading.due is not None:
        said = f"read as due {date_words(reading.due)}"
    elif reading.start is not None:
        said = f"read as starting {date_words(reading.start)}"
    else:
        return reading
    warning = f"{quote(written)} says more than a date; {said} and kept the whole cell as text"
    return reading._replace(warnings=(*reading.warnings, warning))
