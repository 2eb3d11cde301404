"""The words of the deadline grammar: months, numbers, seasons, the years a plan can mean, and the words
that open a cell ("Ongoing", "Annually", "Completed", "TBC") with what each says.
"""

from __future__ import annotations

import re
from typing import Final

from storage.rules.deadlines.values import Reading, unknown
from storage.rules.deadlines.wording import quote
from storage.rules.recurrence import period_of

# Everything is matched case-insensitively and ASCII-only: \d must not accept Arabic-Indic or other digits
# that int() would happily turn into a year.
F: Final = re.IGNORECASE | re.ASCII

# -- months, numbers, parts of the year -------------------------------------------------------------------

_MONTH_SPELLINGS: Final = (
    ("jan", "january"),
    ("feb", "february"),
    ("mar", "march"),
    ("apr", "april"),
    ("may",),
    ("jun", "june"),
    ("jul", "july"),
    ("aug", "august"),
    ("sep", "sept", "september"),
    ("oct", "october"),
    ("nov", "november"),
    ("dec", "december"),
)
MONTH_NUMBERS: Final[dict[str, int]] = {
    spelling: number for number, spellings in enumerate(_MONTH_SPELLINGS, start=1) for spelling in spellings
}
MONTH: Final = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_COUNTING: Final = (
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
)
NUMBER_WORDS: Final[dict[str, int]] = {
    "a": 1,
    "an": 1,
    **{word: number for number, word in enumerate(_COUNTING, start=1)},
}
NUMBER: Final = rf"(?:\d{{1,4}}|a|an|{'|'.join(_COUNTING)})"
WEEKDAY_NUMBERS: Final[dict[str, int]] = {
    name: number for number, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
}
SEASON_MONTHS: Final[dict[str, int]] = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12}
PART_OF_YEAR_MONTHS: Final[dict[str, int]] = {"early": 1, "mid": 5, "late": 9}

# Years outside this window are far more likely to be typing slips than real plan dates.
EARLIEST_YEAR: Final = 1900
LATEST_YEAR: Final = 2199
# "June 23" is June 2023 in these plans, but "Sept 32" reads as a 32nd of September (or "Sept 23" with its
# digits swapped), so a two-digit number after a month name counts as a year only while it could be a day.
LAST_TWO_DIGIT_YEAR_AFTER_MONTH: Final = 31
# "23/24" is financial year 2023/24, but "11/12" is the 11th of December; two-digit financial years are
# accepted only where the first number cannot be a month.
FIRST_TWO_DIGIT_FINANCIAL_YEAR: Final = 13


def number(text: str) -> int:
    """ "3", "three" or "a" as a number."""
    return NUMBER_WORDS.get(text.lower()) or int(text)


def full_year(digits: str) -> int:
    """A year as written: "24" is 2024 in these plans."""
    value = int(digits)
    return 2000 + value if len(digits) <= 2 else value


# -- words that open a cell -------------------------------------------------------------------------------

_BI_ANNUAL_WARNING: Final = "{q} can mean twice a year or every two years; read as every 6 months"
_TRI_ANNUAL_WARNING: Final = "{q} can mean three times a year or every three years; read as every 4 months"
_TERMLY_WARNING: Final = "{q} depends on the school calendar; read as every 4 months (three terms a year)"
_BI_MONTHLY_WARNING: Final = "{q} can mean twice a month or every two months; read as every 2 months"

# (words, ISO-8601 period, warning or None); ambiguous words come before the plain words they contain.
_RECURRENCES: Final[tuple[tuple[str, str, str | None], ...]] = (
    (r"bi[\s-]?annual(?:ly)?|bi[\s-]?yearly", "P6M", _BI_ANNUAL_WARNING),
    (r"tri[\s-]?annual(?:ly)?", "P4M", _TRI_ANNUAL_WARNING),
    (r"bi[\s-]?monthly", "P2M", _BI_MONTHLY_WARNING),
    (r"termly|(?:each|every|per|once\s+a|once\s+per)\s+term", "P4M", _TERMLY_WARNING),
    (r"biennial(?:ly)?|every\s+other\s+year", "P2Y", None),
    (
        r"semi[\s-]?annual(?:ly)?|half[\s-]?yearly|(?:six|6)[\s-]?monthly"
        r"|twice\s+(?:a|per|each|every)\s+year|twice[\s-](?:yearly|annually)",
        "P6M",
        None,
    ),
    (r"(?:three|3)\s+times\s+(?:a|per|each)\s+year", "P4M", None),
    (r"quarterly|(?:each|every|per|once\s+a|once\s+per)\s+quarter", "P3M", None),
    (r"(?:four|4)\s+times\s+(?:a|per)\s+year", "P3M", None),
    (r"annual(?:ly)?|yearly|(?:each|every|per|once\s+a|once\s+per)\s+year|per\s+annum", "P1Y", None),
    (r"monthly|(?:each|every|per|once\s+a|once\s+per)\s+month", "P1M", None),
    (r"fortnightly|every\s+other\s+week", "P2W", None),
    (r"weekly|(?:each|every|per|once\s+a|once\s+per)\s+week", "P1W", None),
    (r"daily|(?:each|every)\s+day", "P1D", None),
)
_ONGOING_WORDS: Final = (
    r"on[\s-]?going(?:\s+(?:project|work|activity|basis|programme))?|24/7|continuous(?:ly)?|continual(?:ly)?"
    r"|continuing|throughout(?:\s+the)?\s+year|all\s+year(?:\s+round)?|year[\s-]round|rolling(?:\s+programme)?"
    r"|bau|business\s+as\s+usual|as\s+(?:and\s+when\s+)?(?:required|needed|necessary|appropriate)|in\s+progress"
)
# "Complete by March" is an instruction, not a report that the work is done.
_COMPLETE_WORDS: Final = (
    r"complete(?!\s+(?:by|before|in|within|no\s+later|on\s+or)\b)|completed|published|achieved|done"
    r"|delivered|finished|implemented|in\s+place|closed"
)
_TBC_WORDS: Final = (
    r"tbc|tba|tbd|t\.b\.[cad]|to\s+be\s+(?:confirmed|agreed|decided|determined|arranged|set|advised)"
    r"|not\s+(?:yet\s+)?(?:known|set|agreed|confirmed)|unknown|date\s+to\s+be\s+(?:confirmed|agreed|set)"
)
_NO_DEADLINE_WORDS: Final = r"n/?a|none|not\s+applicable|no\s+(?:date|deadline)(?:\s+set)?|nil"
# The other end of "Sept 2022 – ongoing" or "from 2019 to date": the work has begun and carries on.
OPEN_ENDED: Final = re.compile(r"(?:on[\s-]?going|onwards?|present|date|now|continuing|open[\s-]ended)", F)


def _leading(words: str) -> re.Pattern[str]:
    # A vocabulary word opens a cell either alone, before punctuation ("Ongoing – update due…"), or before
    # a phrase that is itself a date ("Annually in March"); "Ongoing project and it is important…" is prose.
    return re.compile(rf"(?:{words})(?![a-z0-9])\s*(?P<sep>[^\w\s]*)\s*(?P<rest>.*)", F | re.DOTALL)


_TBC: Final = _leading(_TBC_WORDS)
_NO_DEADLINE: Final = _leading(_NO_DEADLINE_WORDS)
_COMPLETE: Final = _leading(_COMPLETE_WORDS)
_ONGOING: Final = _leading(_ONGOING_WORDS)
_RECURRING: Final = tuple((_leading(words), period, warning) for words, period, warning in _RECURRENCES)
_EVERY_N: Final = _leading(rf"every\s+(?P<n>{NUMBER})\s+(?P<unit>day|week|month|year)s?")
# Most cells open with a date, not a word; one look rules out all the vocabulary at once.
_VOCABULARY_WORDS: Final = (
    _TBC_WORDS,
    _NO_DEADLINE_WORDS,
    _COMPLETE_WORDS,
    _ONGOING_WORDS,
    rf"every\s+{NUMBER}",
    *(words for words, _, _ in _RECURRENCES),
)
_ANY_WORD: Final = re.compile(f"(?:{'|'.join(_VOCABULARY_WORDS)})(?![a-z0-9])", F)

_COMPLETE_READING: Final = Reading("complete")
_ONGOING_READING: Final = Reading("ongoing")


def opening_word(part: str, written: str) -> tuple[Reading, str, str] | None:
    """The vocabulary word opening `part` as a reading, with the punctuation after it and the rest of the
    text; None when `part` does not open with one."""
    if not _ANY_WORD.match(part):
        return None
    match = _TBC.fullmatch(part)
    if match:
        tbc = unknown(f"{quote(written)}: the date is still to be confirmed; kept as text until one is set")
        return tbc, match["sep"], match["rest"]
    match = _NO_DEADLINE.fullmatch(part)
    if match:
        return unknown(f"{quote(written)} gives no deadline; kept as text"), match["sep"], match["rest"]
    match = _COMPLETE.fullmatch(part)
    if match:
        return _COMPLETE_READING, match["sep"], match["rest"]
    match = _ONGOING.fullmatch(part)
    if match:
        return _ONGOING_READING, match["sep"], match["rest"]
    for pattern, period, warning in _RECURRING:
        match = pattern.fullmatch(part)
        if match:
            warnings = (warning.format(q=quote(part[: match.start("sep")])),) if warning else ()
            return Reading("recurring", recurrence=period, warnings=warnings), match["sep"], match["rest"]
    match = _EVERY_N.fullmatch(part)
    if match:
        every = period_of(number(match["n"]), match["unit"].lower())
        if every is not None:
            return Reading("recurring", recurrence=every), match["sep"], match["rest"]
    return None
