"""Reads the deadline a person wrote in a UK EDI action plan cell ("Sept 23", "Q1 2024/25", "Ongoing")."""

from __future__ import annotations

import calendar
import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Final, Literal, NamedTuple

from dateutil import parser as dateutil_parser
from dateutil.relativedelta import relativedelta

__all__ = ["Deadline", "DeadlineKind", "clear_deadline_cache", "interpret_deadline"]

DeadlineKind = Literal["dated", "ongoing", "recurring", "unknown", "complete"]


@dataclass(frozen=True)
class Deadline:
    """What a deadline cell means; `text` is always the cell exactly as written."""

    text: str
    kind: DeadlineKind
    start: date | None = None
    due: date | None = None
    recurrence: str | None = None
    milestones: tuple[date, ...] = ()
    warnings: tuple[str, ...] = ()


def interpret_deadline(text: str, *, today: date | None = None) -> Deadline:
    """Interpret one deadline cell; `today` is needed only for relative phrases such as "next Friday"."""
    if isinstance(today, datetime):
        # A datetime would refuse to compare with the plain dates everything here is built from.
        today = today.date()
    return _interpret_cached(text, today)


def clear_deadline_cache() -> None:
    """Forget remembered interpretations (benchmarks use this to measure a cold start)."""
    _interpret_cached.cache_clear()
    _last_day.cache_clear()


# -- vocabulary -------------------------------------------------------------------------------------------

# Everything is matched case-insensitively and ASCII-only: \d must not accept Arabic-Indic or other digits
# that int() would happily turn into a year.
_F: Final = re.IGNORECASE | re.ASCII

_MONTH_NUMBERS: Final[dict[str, int]] = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4,
    "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9,
    "september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}  # fmt: skip
_MONTH: Final = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_NUMBER_WORDS: Final[dict[str, int]] = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip
_NUMBER: Final = r"(?:\d{1,4}|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"

# Years outside this window are far more likely to be typing slips than real plan dates.
_EARLIEST_YEAR: Final = 1900
_LATEST_YEAR: Final = 2199
# "June 23" is June 2023 in these plans, but "Sept 32" reads as a 32nd of September (or "Sept 23" with its
# digits swapped), so a two-digit number after a month name counts as a year only while it could be a day.
_LAST_TWO_DIGIT_YEAR_AFTER_MONTH: Final = 31
# "23/24" is financial year 2023/24, but "11/12" is the 11th of December; two-digit financial years are
# accepted only where the first number cannot be a month.
_FIRST_TWO_DIGIT_FINANCIAL_YEAR: Final = 13

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


def _leading(words: str) -> re.Pattern[str]:
    # A vocabulary word opens a cell either alone, before punctuation ("Ongoing – update due…"), or before
    # a phrase that is itself a date ("Annually in March"); "Ongoing project and it is important…" is prose.
    return re.compile(rf"(?:{words})(?![a-z0-9])\s*(?P<sep>[^\w\s]*)\s*(?P<rest>.*)", _F | re.DOTALL)


_TBC: Final = _leading(_TBC_WORDS)
_NO_DEADLINE: Final = _leading(_NO_DEADLINE_WORDS)
_COMPLETE: Final = _leading(_COMPLETE_WORDS)
_ONGOING: Final = _leading(_ONGOING_WORDS)
_RECURRING: Final = tuple((_leading(words), period, warning) for words, period, warning in _RECURRENCES)
_EVERY_N: Final = _leading(rf"every\s+(?P<n>{_NUMBER})\s+(?P<unit>day|week|month|year)s?")
# Most cells open with a date, not a word; one look rules out all the vocabulary at once.
_VOCABULARY_WORDS: Final = (
    _TBC_WORDS,
    _NO_DEADLINE_WORDS,
    _COMPLETE_WORDS,
    _ONGOING_WORDS,
    rf"every\s+{_NUMBER}",
    *(words for words, _, _ in _RECURRENCES),
)
_ANY_WORD: Final = re.compile(f"(?:{'|'.join(_VOCABULARY_WORDS)})(?![a-z0-9])", _F)

# -- tidying ----------------------------------------------------------------------------------------------

_HTML_BREAK: Final = re.compile(r"<\s*(?:br|/p|/li|/div|/tr|/h[1-6])\b[^<>]*>", _F)
_HTML_TAG: Final = re.compile(r"</?[a-z][^<>]{0,300}>", _F)
_CHARACTERS: Final = str.maketrans(
    {
        **dict.fromkeys("\u00a0\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u3000", " "),
        **dict.fromkeys("\u200b\u200c\u200d\u2060\ufeff\u00ad", ""),
        **dict.fromkeys("\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d", "\u2013"),
        **dict.fromkeys("\u2010\u2011", "-"),
        **dict.fromkeys("\u2018\u2019\u2032", "'"),
        **dict.fromkeys("\u201c\u201d", '"'),
        "\uff0f": "/",
        **dict.fromkeys("\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029", "\n"),
    }
)
# Bullets, quotes, brackets and trailing full stops frame a date without changing it.
_LEADING_PUNCTUATION: Final = re.compile(r"^[\W_]+")
_TRAILING_PUNCTUATION: Final = re.compile(r"[\W_]+$")

# -- single periods ---------------------------------------------------------------------------------------

_ISO_DATE: Final = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ t]00:00(?::00(?:\.0+)?)?)?", _F)
_DAY_MONTH_YEAR: Final = re.compile(r"(\d{1,2})\s*([/.-])\s*(\d{1,2})\s*\2\s*(\d{4}|\d{2})", _F)
_TWO_NUMBERS: Final = re.compile(r"(\d{1,2})\s*[/.]\s*(\d{4}|\d{1,2})", _F)
_MONTH_YEAR: Final = re.compile(rf"({_MONTH})\.?\s*[-/,']?\s*'?(\d{{4}}|\d{{2}})", _F)
_MONTH_ALONE: Final = re.compile(rf"({_MONTH})\.?", _F)
_YEAR: Final = re.compile(r"\d{4}", _F)
_FINANCIAL_YEAR: Final = re.compile(r"(fy\s*)?(\d{4}|\d{2})\s*([/-])\s*(\d{1,4})", _F)
_QUARTER: Final = re.compile(r"(?:q|quarter\s*)([1-4])\s*(?:of\s+|in\s+)?(fy\s*)?(.+)", _F)
_YEAR_QUARTER: Final = re.compile(r"(\d{4})\s*q([1-4])", _F)
_PLAIN_YEAR: Final = re.compile(r"'?(\d{4}|\d{2})", _F)
_HALF: Final = re.compile(r"h([12])\s*(\d{4}|\d{2})", _F)
_SEASON: Final = re.compile(r"(spring|summer|autumn|fall|winter)\s+(?:of\s+)?(\d{4}|\d{2})", _F)
_PART_OF_YEAR: Final = re.compile(r"(early|mid|late)[\s-]*(\d{4})", _F)
_TEXTUAL_SHAPE: Final = re.compile(r"[a-z0-9 ,.'/-]{3,40}", _F)
_MONTH_WORD: Final = re.compile(rf"\b{_MONTH}\b", _F)
_TEXTUAL_DAY_FIRST: Final = re.compile(
    rf"(\d{{1,2}})(?:st|nd|rd|th)?\s*(?:of\s+)?[-/]?\s*({_MONTH})\.?,?\s*[-/]?\s*(\d{{4}}|\d{{2}})?", _F
)
_TEXTUAL_MONTH_FIRST: Final = re.compile(rf"({_MONTH})\.?\s*(\d{{1,2}})(?:st|nd|rd|th)?,?\s*(\d{{4}})?", _F)

# -- relative phrases (need today) ------------------------------------------------------------------------

_DURATION: Final = re.compile(
    rf"(?:in|within)?\s*({_NUMBER})\s+(day|week|fortnight|month|year)s?(?:'?s)?(?:\s+time)?", _F
)
_WEEKDAY: Final = re.compile(
    r"(?:(this|next|coming|the|this\s+coming)\s+)?(mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)"
    r"(?:day|sday|nesday|rsday|urday)?",
    _F,
)
_WEEKDAY_NUMBERS: Final[dict[str, int]] = {
    "mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6,
}  # fmt: skip

# -- prefixes and suffixes --------------------------------------------------------------------------------

_Mode = Literal["plain", "deadline", "before", "start", "window"]
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
    _F,
)
_SUFFIXES: Final[tuple[tuple[re.Pattern[str], _Mode], ...]] = (
    (re.compile(r"\s*(?:and\s+)?(?:onwards?|on\s+wards|and\s+beyond)$", _F), "start"),
    (re.compile(r"\s*(?:at\s+the\s+latest|latest)$", _F), "deadline"),
)
_SUFFIX_WORDS: Final = frozenset({"onwards", "onward", "wards", "beyond", "latest"})
_MODES: Final[dict[str, _Mode]] = {
    "start": "start", "before": "before", "deadline": "deadline", "window": "window", "plain": "plain"
}  # fmt: skip
_MODE_STRENGTH: Final[dict[_Mode, int]] = {"plain": 0, "window": 1, "deadline": 2, "before": 3, "start": 4}

# -- several periods in one cell --------------------------------------------------------------------------

_RANGE_SEPARATOR: Final = re.compile(
    r"\s+-\s*|\s*-\s+|\s*\u2013\s*|\s*->\s*|\s+(?:to|until|till|through|thru)\s+", _F
)
_BETWEEN: Final = re.compile(
    r"(?:between|from)\s+(.+?)\s+(?:and|to|until|till|-|\u2013)\s+(.+)", _F | re.DOTALL
)
_ALTERNATIVE_SEPARATOR: Final = re.compile(r"\s*/\s*|\s+or\s+", _F)
_LIST_SEPARATOR: Final = re.compile(r"\s*(?:\n|;|,|\s(?:and|&|then|plus|\+|followed\s+by)\s|&)\s*", _F)
_OPEN_ENDED: Final = re.compile(r"(?:on[\s-]?going|onwards?|present|date|now|continuing|open[\s-]ended)", _F)
_BURIED: Final = re.compile(
    rf"\b(?:\d{{4}}-\d{{2}}-\d{{2}}"
    rf"|\d{{1,2}}(?P<sep>[/.-])\d{{1,2}}(?P=sep)(?:\d{{4}}|\d{{2}})"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\.?,?\s+(?:\d{{4}}|\d{{2}})"
    rf"|{_MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|q[1-4]\s*(?:fy\s*)?\d{{4}}(?:\s*[/-]\s*\d{{2}}(?:\d{{2}})?)?"
    rf"|(?:fy\s*)?\d{{4}}/\d{{2}}(?:\d{{2}})?"
    rf"|{_MONTH}\.?[\s-]+\d{{4}}"
    rf"|(?!may\b){_MONTH}\.?[\s-]+\d{{2}}"
    rf")(?![\w/])",
    _F,
)
_BURIED_START: Final = re.compile(
    r"(?:from|starting(?:\s+from)?|start(?:s|ing)?(?:\s+date)?|commencing|beginning)\s*:?\s*$", _F
)
_BURIED_BEFORE: Final = re.compile(r"(?:before|prior\s+to)\s*$", _F)
_BURIED_DEADLINE: Final = re.compile(r"(?:by|due|deadline|until|till|end\s+of)\s*:?\s*$", _F)

_QUOTE_LIMIT: Final = 60
# calendar.month_name formats each name through strftime whenever it is indexed; messages need them often.
_MONTH_NAMES: Final = tuple(calendar.month_name)

# -- the shapes most cells take, read without the general machinery ---------------------------------------

# Each alternative is a strict subset of what the general reader sends to one period reader, written so that
# nothing else in the general path could claim it first: a tidy cell (no markup, one space at a time, no
# framing punctuation) that is only a month and year, a numeric or written date, a quarter or a year. A
# prefix is allowed only where it cannot change the reading ("Due", "by (the) end of" before a month or day:
# neither is a window). Anything the fast path cannot settle outright goes the general way, and a property
# test holds the quick readings to the full ones.
_FAST_SHAPE: Final = re.compile(
    rf"(?:(?:due|by|by[ ](?:the[ ])?end[ ]of|end[ ]of)[ ])?"
    rf"(?:(?P<month>{_MONTH})\.?[ ]?[-/,']?[ ]?'?(?P<month_year>\d{{4}}|\d{{2}})"
    rf"|(?P<day>\d{{1,2}})(?P<sep>[/.-])(?P<day_month>\d{{1,2}})(?P=sep)(?P<day_year>\d{{4}}|\d{{2}})"
    rf"|(?P<iso_year>\d{{4}})-(?P<iso_month>\d{{1,2}})-(?P<iso_day>\d{{1,2}}))"
    rf"|(?P<written_day>\d{{1,2}})(?:st|nd|rd|th)?[ ](?P<written_month>{_MONTH})[ ](?P<written_year>\d{{4}})"
    rf"|(?P<quarter>q[1-4][ ](?:\d{{4}}|\d{{2}})(?:[/-]\d{{2,4}})?)"
    rf"|(?P<year>\d{{4}})",
    _F,
)


# -- what a piece of text reads as ------------------------------------------------------------------------


# The working types below are NamedTuples: they are made by the thousand per import and build faster.
class _Span(NamedTuple):
    """A stretch of calendar time a phrase names; `last` is when it is due."""

    first: date
    last: date
    # Quarters, financial years and ranges name a window to work in, so their first day is a start date;
    # "June 2024" only says when the work is due.
    window: bool = False
    note: str | None = None


class _Problem(NamedTuple):
    """A phrase shaped like a date that cannot be turned into one."""

    warning: str
    needs_today: bool = False


class _Reading(NamedTuple):
    kind: DeadlineKind
    start: date | None = None
    due: date | None = None
    recurrence: str | None = None
    milestones: tuple[date, ...] = ()
    warnings: tuple[str, ...] = ()
    needs_today: bool = False


_Found = _Span | _Problem | None


@lru_cache(maxsize=65536)
def _interpret_cached(text: str, today: date | None) -> Deadline:
    reading = _read_cell(text, today)
    return Deadline(
        text=text,
        kind=reading.kind,
        start=reading.start,
        due=reading.due,
        recurrence=reading.recurrence,
        milestones=reading.milestones,
        warnings=reading.warnings,
    )


def _read_cell(text: str, today: date | None) -> _Reading:
    shape = _FAST_SHAPE.fullmatch(text)
    if shape is not None:
        fast = _read_fast(shape)
        if fast is not None:
            return fast
    return _read_cell_in_full(text, today)


def _read_cell_in_full(text: str, today: date | None) -> _Reading:
    visible = _visible(text)
    if "\n" in visible:
        cell = "\n".join(
            line for line in (_trim(" ".join(line.split())) for line in visible.split("\n")) if line
        )
    else:
        cell = _trim(" ".join(visible.split()))
    if not cell:
        shown = " ".join(visible.split())
        if shown:
            return _unknown(f"{_quote(shown)} is a placeholder, not a date; kept as text")
        return _Reading("unknown")
    written = visible
    found = _read_part(cell, today) or _read_list(cell, today, written)
    if found is not None:
        return found
    found = _read_leading_word(cell, today, written)
    if found is not None:
        return found
    found = _read_buried(cell, written)
    if found is not None:
        return found
    return _unknown(f"{_quote(written)} is not a date I understand; kept as text")


def _read_fast(shape: re.Match[str]) -> _Reading | None:
    """The reading of a cell in one of the commonest shapes, exactly as the general path gives it; None
    when the general path must decide (a slip such as "Sept 32" or "31/2/24", with its explanation).

    Only a plain reading is settled here; "Due" and "by end of" say "deadline", which reads the same for a
    month or a day (neither is a window to work in), so both are due on the last day and start nowhere.
    """
    groups = shape.groupdict()
    month_name = groups["month"]
    if month_name is not None:
        digits = groups["month_year"]
        if len(digits) == 2:
            if int(digits) > _LAST_TWO_DIGIT_YEAR_AFTER_MONTH:
                return None
            year = 2000 + int(digits)
        else:
            year = int(digits)
        if not _EARLIEST_YEAR <= year <= _LATEST_YEAR:
            return None
        return _Reading("dated", None, _last_day(year, _MONTH_NUMBERS[month_name.lower()]))
    if groups["day"] is not None:
        due = _real_day(int(groups["day"]), int(groups["day_month"]), _year(groups["day_year"]))
    elif groups["iso_year"] is not None:
        due = _real_day(int(groups["iso_day"]), int(groups["iso_month"]), int(groups["iso_year"]))
    elif groups["written_day"] is not None:
        # What dateutil makes of "30th June 2019" (the general path's reader for it), without its parser.
        month = _MONTH_NUMBERS[groups["written_month"].lower()]
        due = _real_day(int(groups["written_day"]), month, int(groups["written_year"]))
    else:
        written = shape[0]
        found = _quarter(written, None, written) if groups["quarter"] else _year_alone(written, None, written)
        return _reading_of(found, "plain") if isinstance(found, _Span) else None
    return None if due is None else _Reading("dated", None, due)


def _real_day(day: int, month: int, year: int) -> date | None:
    """The day, when it is one `_day` accepts without a word of explanation."""
    if not (_EARLIEST_YEAR <= year <= _LATEST_YEAR and 1 <= month <= 12 and day >= 1):
        return None
    if day > 28 and day > _last_day(year, month).day:
        return None
    return date(year, month, day)


def _visible(text: str) -> str:
    """The cell as a reader sees it: markup gone, paragraphs as lines, every dash and space one of a kind."""
    if "<" in text:
        text = _HTML_TAG.sub(" ", _HTML_BREAK.sub("\n", text))
    if "&" in text:
        text = html.unescape(text)
    return text.translate(_CHARACTERS)


def _trim(text: str) -> str:
    if not text or (text[0].isalnum() and text[-1].isalnum()):
        return text
    text = _LEADING_PUNCTUATION.sub("", text)
    trailing = _TRAILING_PUNCTUATION.search(text)
    if trailing is None:
        return text
    # A closing bracket stays when its opening one does: "March 2024 (tbc)".
    keep = ")" if ")" in trailing[0] and "(" in text[: trailing.start()] else ""
    return text[: trailing.start()] + keep


def _quote(text: str) -> str:
    shown = " / ".join(line.strip() for line in text.splitlines() if line.strip())
    if len(shown) > _QUOTE_LIMIT:
        shown = shown[: _QUOTE_LIMIT - 1].rstrip() + "\u2026"
    return f"'{shown}'"


def _unknown(warning: str, *, needs_today: bool = False) -> _Reading:
    return _Reading("unknown", warnings=(warning,), needs_today=needs_today)


def _read_part(part: str, today: date | None) -> _Reading | None:
    """One thing: a vocabulary word, a period, a range or a pair of alternatives."""
    # The pieces of a list ("Sept 23 and March 24", "Nov 2022 & Ongoing") mostly take the common shapes too.
    shape = _FAST_SHAPE.fullmatch(part)
    if shape is not None:
        fast = _read_fast(shape)
        if fast is not None:
            return fast
    return _read_part_in_full(part, today)


def _read_part_in_full(part: str, today: date | None) -> _Reading | None:
    part = _trim(part)
    if not part:
        return None
    word = _vocabulary(part, part)
    if word is not None and not word[2]:
        return word[0]
    return (
        _read_single(part, today, part)
        or _read_range(part, today, part)
        or _read_alternatives(part, today, part)
    )


_COMPLETE_READING: Final = _Reading("complete")
_ONGOING_READING: Final = _Reading("ongoing")


def _vocabulary(part: str, written: str) -> tuple[_Reading, str, str] | None:
    """The vocabulary word opening `part`, with the punctuation after it and the rest of the text."""
    if not _ANY_WORD.match(part):
        return None
    match = _TBC.fullmatch(part)
    if match:
        tbc = _unknown(f"{_quote(written)}: the date is still to be confirmed; kept as text until one is set")
        return tbc, match["sep"], match["rest"]
    match = _NO_DEADLINE.fullmatch(part)
    if match:
        return _unknown(f"{_quote(written)} gives no deadline; kept as text"), match["sep"], match["rest"]
    match = _COMPLETE.fullmatch(part)
    if match:
        return _COMPLETE_READING, match["sep"], match["rest"]
    match = _ONGOING.fullmatch(part)
    if match:
        return _ONGOING_READING, match["sep"], match["rest"]
    for pattern, period, warning in _RECURRING:
        match = pattern.fullmatch(part)
        if match:
            warnings = (warning.format(q=_quote(part[: match.start("sep")])),) if warning else ()
            return _Reading("recurring", recurrence=period, warnings=warnings), match["sep"], match["rest"]
    match = _EVERY_N.fullmatch(part)
    if match:
        every = _iso_period(_number(match["n"]), match["unit"].lower())
        if every is not None:
            return _Reading("recurring", recurrence=every), match["sep"], match["rest"]
    return None


def _iso_period(amount: int, unit: str) -> str | None:
    if amount <= 0:
        return None
    if unit == "month" and amount % 12 == 0:
        return f"P{amount // 12}Y"
    if unit == "day" and amount % 7 == 0:
        return f"P{amount // 7}W"
    return f"P{amount}{unit[0].upper()}"


def _read_single(part: str, today: date | None, written: str) -> _Reading | None:
    core, mode = _strip_affixes(part)
    if not core:
        return None
    if mode == "start" and _OPEN_ENDED.fullmatch(core):
        return None
    found = _period(core, today, written)
    if found is None:
        return None
    return _reading_of(found, mode)


def _reading_of(found: _Span | _Problem, mode: _Mode) -> _Reading:
    if isinstance(found, _Problem):
        return _unknown(found.warning, needs_today=found.needs_today)
    notes = (found.note,) if found.note else ()
    if mode == "start":
        return _Reading("ongoing", start=found.first, warnings=notes)
    if mode == "before":
        return _Reading("dated", due=found.first - timedelta(days=1), warnings=notes)
    start = found.first if (mode == "window" or (mode == "plain" and found.window)) else None
    return _Reading("dated", start=start, due=found.last, warnings=notes)


def _strip_affixes(part: str) -> tuple[str, _Mode]:
    """Take off "by", "from", "w/c", "onwards" and friends, remembering what they said about the date."""
    mode: _Mode = "plain"
    core = part
    stripped = True
    while stripped and core and not core[0].isdigit():
        stripped = False
        match = _PREFIX.match(core)
        if match and match.end() < len(core):
            core = core[match.end() :]
            meaning = _MODES[match.lastgroup or "plain"]
            mode = meaning if _MODE_STRENGTH[meaning] > _MODE_STRENGTH[mode] else mode
            stripped = True
    if core.rpartition(" ")[2].lower() not in _SUFFIX_WORDS:
        return _trim(core), mode
    for pattern, meaning in _SUFFIXES:
        match = pattern.search(core)
        if match and match.start() > 0:
            core = core[: match.start()]
            mode = meaning if _MODE_STRENGTH[meaning] > _MODE_STRENGTH[mode] else mode
    return _trim(core), mode


def _period(core: str, today: date | None, written: str) -> _Found:
    """The single period `core` names, a reason it cannot be one, or None when it is not date-like."""
    for reader in _NUMBER_READERS if core[0] in "0123456789" else _WORD_READERS:
        found = reader(core, today, written)
        if found is not None:
            return found
    return None


# -- period readers: fast paths for the shapes plans use most, then dateutil for the rest -------------------


def _iso(core: str, today: date | None, written: str) -> _Found:
    match = _ISO_DATE.fullmatch(core)
    if not match:
        return None
    return _day(written, int(match[3]), int(match[2]), int(match[1]))


def _day_month_year(core: str, today: date | None, written: str) -> _Found:
    match = _DAY_MONTH_YEAR.fullmatch(core)
    if not match:
        return None
    return _day(written, int(match[1]), int(match[3]), _year(match[4]))


def _two_numbers(core: str, today: date | None, written: str) -> _Found:
    match = _TWO_NUMBERS.fullmatch(core)
    if not match:
        return None
    first, second = int(match[1]), match[2]
    if len(second) == 4 or int(second) > 12:
        # "03/2024" and "3/24" can only be a month and a year.
        return _month(written, first, _year(second))
    return _day_this_year_or_next(written, first, int(second), today)


def _month_year(core: str, today: date | None, written: str) -> _Found:
    match = _MONTH_YEAR.fullmatch(core)
    if not match or match[1].lower() not in _MONTH_NUMBERS:
        return None
    month = _MONTH_NUMBERS[match[1].lower()]
    digits = match[2]
    if len(digits) == 2 and int(digits) > _LAST_TWO_DIGIT_YEAR_AFTER_MONTH:
        name = _MONTH_NAMES[month]
        return _Problem(
            f"{_quote(written)} is not a real date: {name} has no {_ordinal(int(digits))} day "
            f"(for {name} 20{digits}, write '{name} 20{digits}'); kept as text"
        )
    return _month(written, month, _year(digits))


def _year_alone(core: str, today: date | None, written: str) -> _Found:
    if not _YEAR.fullmatch(core):
        return None
    year = int(core)
    problem = _implausible(written, year)
    return problem or _Span(date(year, 1, 1), date(year, 12, 31))


def _financial_year_alone(core: str, today: date | None, written: str) -> _Found:
    first = _financial_year(core)
    if first is None:
        return None
    problem = _implausible(written, first)
    return problem or _Span(date(first, 4, 1), date(first + 1, 3, 31), window=True)


def _financial_year(text: str) -> int | None:
    """The first calendar year of a UK financial year written "2024/25", "2024-25", "FY24/25" or "23/24"."""
    match = _FINANCIAL_YEAR.fullmatch(text)
    if not match:
        return None
    prefixed, first_digits, separator, second = match[1] is not None, match[2], match[3], match[4]
    first = _year(first_digits)
    if len(first_digits) == 2 and not prefixed and first % 100 < _FIRST_TWO_DIGIT_FINANCIAL_YEAR:
        return None
    if len(second) == 4:
        # "2023-2025" is a range of calendar years, and so, for consistency, is "2023-2024".
        follows = int(second) == first + 1 and (separator == "/" or prefixed)
    elif len(second) in (1, 2):
        follows = int(second) == (first + 1) % 10 ** len(second)
    else:
        follows = False
    return first if follows else None


def _quarter(core: str, today: date | None, written: str) -> _Found:
    match = _QUARTER.fullmatch(core)
    if match:
        number, prefixed, year_text = int(match[1]), match[2] is not None, match[3].strip()
    else:
        match = _YEAR_QUARTER.fullmatch(core)
        if not match:
            return None
        number, prefixed, year_text = int(match[2]), False, match[1]
    financial = _financial_year(("fy" if prefixed else "") + year_text)
    if financial is not None:
        problem = _implausible(written, financial)
        if problem:
            return problem
        # UK financial quarters: Q1 is April to June, Q4 is January to March of the following year.
        first = date(financial, 4, 1) + _MONTHS_ON[3 * (number - 1)]
        return _Span(first, first + _END_OF_MONTHS[3], window=True)
    plain = _PLAIN_YEAR.fullmatch(year_text)
    if not plain or prefixed:
        return None
    year = _year(plain[1])
    problem = _implausible(written, year)
    if problem:
        return problem
    first = date(year, 3 * number - 2, 1)
    return _Span(first, first + _END_OF_MONTHS[3], window=True)


def _half(core: str, today: date | None, written: str) -> _Found:
    match = _HALF.fullmatch(core)
    if not match:
        return None
    year = _year(match[2])
    problem = _implausible(written, year)
    if problem:
        return problem
    first = date(year, 1 if match[1] == "1" else 7, 1)
    return _Span(first, first + _END_OF_MONTHS[6], window=True)


_SEASON_MONTHS: Final[dict[str, int]] = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12}


def _season(core: str, today: date | None, written: str) -> _Found:
    match = _SEASON.fullmatch(core)
    if not match:
        return None
    year = _year(match[2])
    problem = _implausible(written, year)
    if problem:
        return problem
    first = date(year, _SEASON_MONTHS[match[1].lower()], 1)
    last = first + _END_OF_MONTHS[3]
    note = f"{_quote(written)} names a season; read as {_month_span_words(first, last)}"
    return _Span(first, last, window=True, note=note)


_PART_OF_YEAR_MONTHS: Final[dict[str, int]] = {"early": 1, "mid": 5, "late": 9}


def _part_of_year(core: str, today: date | None, written: str) -> _Found:
    match = _PART_OF_YEAR.fullmatch(core)
    if not match:
        return None
    year = int(match[2])
    problem = _implausible(written, year)
    if problem:
        return problem
    first = date(year, _PART_OF_YEAR_MONTHS[match[1].lower()], 1)
    last = first + _END_OF_MONTHS[4]
    note = f"{_quote(written)} is approximate; read as {_month_span_words(first, last)}"
    return _Span(first, last, window=True, note=note)


def _month_alone(core: str, today: date | None, written: str) -> _Found:
    match = _MONTH_ALONE.fullmatch(core)
    if not match or match[1].lower() not in _MONTH_NUMBERS:
        return None
    month = _MONTH_NUMBERS[match[1].lower()]
    if today is None:
        return _needs_today(written)
    year = today.year if _last_day(today.year, month) >= today else today.year + 1
    return _month(written, month, year)


def _named_relative(core: str, today: date | None, written: str) -> _Found:
    name = " ".join(core.lower().split())
    rule = _RELATIVE_NAMES.get(name)
    if rule is None:
        return None
    if today is None:
        return _needs_today(written)
    reference: date = today
    return _guarded(written, lambda: rule(reference))


def _weekday(core: str, today: date | None, written: str) -> _Found:
    match = _WEEKDAY.fullmatch(core)
    if not match:
        return None
    if today is None:
        return _needs_today(written)
    reference: date = today
    weekday = _WEEKDAY_NUMBERS[match[2].lower()[:3]]
    following = " ".join((match[1] or "").lower().split()) == "next"

    def compute() -> _Span:
        if not following:
            return _single_day(reference + timedelta(days=(weekday - reference.weekday()) % 7))
        # "Next Friday" is the first Friday after today; early in a week some people mean the week after.
        day = reference + timedelta(days=1 + (weekday - reference.weekday() - 1) % 7)
        note = None
        if day.isocalendar()[:2] == reference.isocalendar()[:2]:
            note = f"{_quote(written)} read as {_day_words(day)}; if you meant the week after, give the date"
        return _Span(day, day, note=note)

    return _guarded(written, compute)


def _duration(core: str, today: date | None, written: str) -> _Found:
    match = _DURATION.fullmatch(core)
    if not match:
        return None
    if today is None:
        return _needs_today(written)
    reference: date = today
    amount, unit = _number(match[1]), match[2].lower()
    offsets = {
        "day": relativedelta(days=amount),
        "week": relativedelta(weeks=amount),
        "fortnight": relativedelta(weeks=2 * amount),
        "month": relativedelta(months=amount),
        "year": relativedelta(years=amount),
    }
    return _guarded(written, lambda: _single_day(reference + offsets[unit]))


# dateutil reads the full dates people type in every order ("30th June 2019", "June 30th, 2024",
# "Friday 31 May 2024"); two sentinel defaults (leap years, so 29 February survives) show which parts the
# text really gave, because any part it left out comes back from the default and differs between them.
_EARLY_DEFAULT: Final = datetime(4, 1, 1)
_LATE_DEFAULT: Final = datetime(8, 12, 31)


class _TwentyFirstCenturyParserInfo(dateutil_parser.parserinfo):
    # dateutil slides two-digit years within 50 years of the machine's clock; plans mean 20xx, always.
    def convertyear(self, year: int, century_specified: bool = False) -> int:
        if year < 100 and not century_specified:
            return 2000 + year
        return year


_DATEUTIL: Final = dateutil_parser.parser(_TwentyFirstCenturyParserInfo(dayfirst=True))


def _textual_date(core: str, today: date | None, written: str) -> _Found:
    # dateutil reads "June 23" as the 23rd of June and "1 - 3 June 2024" as a time of day, so it only sees
    # short phrases with exactly one month name that the EDI grammar above has not claimed.
    if (
        not _TEXTUAL_SHAPE.fullmatch(core)
        or len(_MONTH_WORD.findall(core)) != 1
        or " - " in core
        or " and " in core.lower()
    ):
        return None
    early = _dateutil(core, _EARLY_DEFAULT)
    if early is None:
        return _explain_textual_failure(core, written)
    if (early.hour, early.minute, early.second, early.microsecond) != (0, 0, 0, 0):
        return None
    late = _dateutil(core, _LATE_DEFAULT) if early.day == 1 or early.month == 1 else early
    if late is None or late.month != early.month:
        return None
    has_year = early.year != _EARLY_DEFAULT.year
    has_day = late.day == early.day
    if has_year and has_day:
        return _day(written, early.day, early.month, early.year)
    if has_year:
        return _month(written, early.month, early.year)
    if has_day:
        return _day_this_year_or_next(written, early.day, early.month, today)
    return None


def _dateutil(core: str, default: datetime) -> datetime | None:
    try:
        return _DATEUTIL.parse(core, default=default, dayfirst=True)
    except (ValueError, OverflowError):
        return None


def _explain_textual_failure(core: str, written: str) -> _Found:
    """Say why "31 February 2024" failed, rather than calling it not a date at all."""
    day: str
    month_text: str
    year_text: str | None
    match = _TEXTUAL_DAY_FIRST.fullmatch(core)
    if match:
        day, month_text, year_text = match[1], match[2], match[3]
    else:
        match = _TEXTUAL_MONTH_FIRST.fullmatch(core)
        if not match:
            return None
        month_text, day, year_text = match[1], match[2], match[3]
    month = _MONTH_NUMBERS.get(month_text.lower())
    if month is None:
        return None
    if year_text is None:
        return _day_this_year_or_next(written, int(day), month, None)
    return _day(written, int(day), month, _year(year_text))


_Reader = Callable[[str, date | None, str], _Found]
# Order matters: "23/24" is a financial year before it is a month numbered 23.
_NUMBER_READERS: Final[tuple[_Reader, ...]] = (
    _iso,
    _day_month_year,
    _financial_year_alone,
    _two_numbers,
    _year_alone,
    _duration,
    _textual_date,
)
_WORD_READERS: Final[tuple[_Reader, ...]] = (
    _month_year,
    _quarter,
    _financial_year_alone,
    _half,
    _season,
    _part_of_year,
    _month_alone,
    _named_relative,
    _weekday,
    _duration,
    _textual_date,
)


# -- calendar arithmetic ----------------------------------------------------------------------------------


def _year(digits: str) -> int:
    year = int(digits)
    return 2000 + year if len(digits) <= 2 else year


def _implausible(written: str, year: int) -> _Problem | None:
    if _EARLIEST_YEAR <= year <= _LATEST_YEAR:
        return None
    return _Problem(
        f"{_quote(written)} is not a real date: {year} is not a year a plan would mean; kept as text"
    )


# Made once: adding a prepared relativedelta costs a fraction of building one for every cell.
_END_OF_MONTH: Final = relativedelta(day=31)
# Added to the first day of a month: the last day of the `n` months that begin there.
_END_OF_MONTHS: Final[dict[int, relativedelta]] = {
    n: relativedelta(months=n - 1, day=31) for n in (1, 3, 4, 6)
}
_MONTHS_ON: Final[dict[int, relativedelta]] = {n: relativedelta(months=n) for n in (0, 3, 6, 9)}


# Month-year cells dominate plans and there are only so many months, so their last days are remembered.
@lru_cache(maxsize=4096)
def _last_day(year: int, month: int) -> date:
    return date(year, month, 1) + _END_OF_MONTH


def _day(written: str, day: int, month: int, year: int) -> _Found:
    problem = _implausible(written, year)
    if problem:
        return problem
    if not 1 <= month <= 12:
        return _Problem(f"{_quote(written)} is not a real date: there is no month {month}; kept as text")
    length = _last_day(year, month).day
    if not 1 <= day <= length:
        name = _MONTH_NAMES[month]
        return _Problem(
            f"{_quote(written)} is not a real date: {name} {year} has only {length} days; kept as text"
        )
    return _single_day(date(year, month, day))


def _month(written: str, month: int, year: int) -> _Found:
    problem = _implausible(written, year)
    if problem:
        return problem
    if not 1 <= month <= 12:
        return _Problem(f"{_quote(written)} is not a real date: there is no month {month}; kept as text")
    return _Span(date(year, month, 1), _last_day(year, month))


def _day_this_year_or_next(written: str, day: int, month: int, today: date | None) -> _Found:
    if not 1 <= month <= 12:
        return _Problem(f"{_quote(written)} is not a real date: there is no month {month}; kept as text")
    if not 1 <= day <= _last_day(2000, month).day:
        name = _MONTH_NAMES[month]
        return _Problem(f"{_quote(written)} is not a real date: {name} never has {day} days; kept as text")
    if today is None:
        return _needs_today(written)
    # The next occurrence on or after today; 29 February may be up to eight years away.
    for year in range(today.year, min(today.year + 9, date.max.year + 1)):
        if day <= _last_day(year, month).day and date(year, month, day) >= today:
            return _single_day(date(year, month, day))
    return _Problem(f"{_quote(written)} is too far in the future to work out; kept as text")


def _single_day(day: date) -> _Span:
    return _Span(day, day)


def _needs_today(written: str) -> _Problem:
    return _Problem(
        f"{_quote(written)} is relative to today, so it needs a reference date to work out; kept as text",
        needs_today=True,
    )


def _guarded(written: str, compute: Callable[[], _Span]) -> _Found:
    try:
        return compute()
    except (OverflowError, ValueError):
        return _Problem(f"{_quote(written)} is too far away to be a real date; kept as text")


def _week_friday(today: date, weeks_ahead: int) -> _Span:
    # Plans work to the working week, so "end of the week" is Friday.
    friday = today - timedelta(days=today.weekday()) + timedelta(days=4, weeks=weeks_ahead)
    if friday < today:
        friday += timedelta(weeks=1)
    return _Span(friday, friday)


def _month_of(day: date, months_ahead: int) -> _Span:
    first = day.replace(day=1) + relativedelta(months=months_ahead)
    return _Span(first, first + _END_OF_MONTH)


def _quarter_of(day: date, quarters_ahead: int) -> _Span:
    first = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1) + relativedelta(months=3 * quarters_ahead)
    return _Span(first, first + _END_OF_MONTHS[3])


def _financial_year_of(day: date, years_ahead: int) -> _Span:
    first_year = day.year if day.month >= 4 else day.year - 1
    first = date(first_year + years_ahead, 4, 1)
    return _Span(first, date(first.year + 1, 3, 31))


_RELATIVE_NAMES: Final[dict[str, Callable[[date], _Span]]] = {
    "today": _single_day,
    "end of day": _single_day,
    "eod": _single_day,
    "cob": _single_day,
    "close of business": _single_day,
    "tomorrow": lambda today: _single_day(today + timedelta(days=1)),
    "week": lambda today: _week_friday(today, 0),
    "the week": lambda today: _week_friday(today, 0),
    "this week": lambda today: _week_friday(today, 0),
    "next week": lambda today: _week_friday(today, 1),
    "month": lambda today: _month_of(today, 0),
    "the month": lambda today: _month_of(today, 0),
    "this month": lambda today: _month_of(today, 0),
    "month end": lambda today: _month_of(today, 0),
    "next month": lambda today: _month_of(today, 1),
    "the next month": lambda today: _month_of(today, 1),
    "quarter": lambda today: _quarter_of(today, 0),
    "the quarter": lambda today: _quarter_of(today, 0),
    "this quarter": lambda today: _quarter_of(today, 0),
    "next quarter": lambda today: _quarter_of(today, 1),
    "year": lambda today: _Span(date(today.year, 1, 1), date(today.year, 12, 31)),
    "the year": lambda today: _Span(date(today.year, 1, 1), date(today.year, 12, 31)),
    "this year": lambda today: _Span(date(today.year, 1, 1), date(today.year, 12, 31)),
    "next year": lambda today: _Span(date(today.year + 1, 1, 1), date(today.year + 1, 12, 31)),
    "financial year": lambda today: _financial_year_of(today, 0),
    "the financial year": lambda today: _financial_year_of(today, 0),
    "this financial year": lambda today: _financial_year_of(today, 0),
    "fy": lambda today: _financial_year_of(today, 0),
    "the fy": lambda today: _financial_year_of(today, 0),
    "next financial year": lambda today: _financial_year_of(today, 1),
}


def _number(text: str) -> int:
    return _NUMBER_WORDS.get(text.lower()) or int(text)


def _ordinal(number: int) -> str:
    suffix = "th" if 11 <= number % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def _day_words(day: date) -> str:
    return f"{day:%A} {day.day} {_MONTH_NAMES[day.month]} {day.year}"


def _date_words(day: date) -> str:
    return f"{day.day} {_MONTH_NAMES[day.month]} {day.year}"


def _month_span_words(first: date, last: date) -> str:
    return f"{_MONTH_NAMES[first.month]} {first.year} to {_MONTH_NAMES[last.month]} {last.year}"


# -- several periods in one cell --------------------------------------------------------------------------


def _read_range(part: str, today: date | None, written: str) -> _Reading | None:
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
    left, _ = _strip_affixes(_trim(sides[0]))
    right, _ = _strip_affixes(_trim(sides[1]))
    if not left or not right:
        return None
    if _OPEN_ENDED.fullmatch(right):
        # "Sept 2022 – ongoing" says when the work began, unlike "Nov 2022 & Ongoing" (a first deadline).
        began = _period(left, today, written)
        return None if began is None else _reading_of(began, "start")
    pair = _pair(left, right, today, written)
    if pair is None or isinstance(pair, _Problem):
        return None if pair is None else _unknown(pair.warning, needs_today=pair.needs_today)
    first, last, inherited = pair
    start = first.first
    if last.last < start and inherited:
        # "Nov – Feb 2025" runs over the new year: November is of 2024.
        start -= relativedelta(years=1)
    if last.last < start:
        return _unknown(f"{_quote(written)} ends before it starts; kept as text")
    warnings: list[str] = [note for note in (first.note, last.note) if note]
    if _YEAR.fullmatch(left) and _YEAR.fullmatch(right) and int(right) == int(left) + 1:
        warnings.append(
            f"{_quote(written)} is read as the calendar years {left} to {right}; "
            f"for the financial year write {left}/{right[2:]}"
        )
    return _Reading("dated", start=start, due=last.last, warnings=tuple(warnings))


def _read_alternatives(part: str, today: date | None, written: str) -> _Reading | None:
    """ "June/July 2024": the later of the two is when it is due."""
    sides = _ALTERNATIVE_SEPARATOR.split(part)
    if len(sides) != 2:
        return None
    left, right = _trim(sides[0]), _trim(sides[1])
    if not left or not right:
        return None
    pair = _pair(left, right, today, written)
    if pair is None or isinstance(pair, _Problem):
        return None if pair is None else _unknown(pair.warning, needs_today=pair.needs_today)
    first, last, _ = pair
    return _Reading("dated", due=max(first.last, last.last))


def _pair(
    left: str, right: str, today: date | None, written: str
) -> tuple[_Span, _Span, bool] | _Problem | None:
    """Both ends of a range; a left end without a year borrows the right end's ("Jan – Mar 2024")."""
    last = _period(right, None, written)
    if isinstance(last, _Problem) and last.needs_today and today is not None:
        last = _period(right, today, written)
    if not isinstance(last, _Span):
        return last
    first = _period(left, None, written)
    if isinstance(first, _Span):
        return first, last, False
    if first is not None and not first.needs_today:
        return first
    words = right.split()
    for keep in range(len(words) - 1, 0, -1):
        borrowed = _period(f"{left} {' '.join(words[-keep:])}", None, written)
        if isinstance(borrowed, _Span):
            return borrowed, last, True
    if first is not None and today is not None:
        first = _period(left, today, written)
        if isinstance(first, _Span):
            return first, last, False
    return first


def _read_list(cell: str, today: date | None, written: str | None = None) -> _Reading | None:
    """Several deadlines in one cell ("Sept 23 and March 24", one per line, "Nov 2022 & Ongoing")."""
    parts = [part for part in (_trim(piece) for piece in _LIST_SEPARATOR.split(cell)) if part]
    if len(parts) < 2:
        return None
    readings: list[_Reading] = []
    for part in parts:
        reading = _read_part(part, today)
        if reading is None:
            return None
        readings.append(reading)
    return _combine(readings, written or cell)


def _read_leading_word(cell: str, today: date | None, written: str) -> _Reading | None:
    """ "Ongoing – update in the annual report", "Annually in March", "Completed March 2023"."""
    word = _vocabulary(cell, written)
    if word is None:
        return None
    reading, separator, rest = word
    said = _read_part(rest, today) or _read_list(rest, today)
    if said is not None and (said.kind != "unknown" or said.needs_today):
        if said.needs_today:
            return reading
        return _combine([reading, said], written, several_warning=False)
    if not separator:
        return None
    buried = _read_buried(rest, written)
    if buried is not None:
        return _combine([reading, buried], written, several_warning=False)
    return reading


def _read_buried(text: str, written: str) -> _Reading | None:
    """Dates inside a sentence ("to be delivered by 31/3/24 with further projects to be agreed")."""
    readings: list[_Reading] = []
    for match in _BURIED.finditer(text):
        found = _period(_trim(match[0]), None, match[0])
        if found is None:
            continue
        before = text[: match.start()]
        mode: _Mode = "plain"
        if _BURIED_START.search(before):
            mode = "start"
        elif _BURIED_BEFORE.search(before):
            mode = "before"
        elif _BURIED_DEADLINE.search(before):
            mode = "deadline"
        readings.append(_reading_of(found, mode))
    if not readings:
        return None
    reading = _combine(readings, written)
    if reading.due is not None:
        said = f"read as due {_date_words(reading.due)}"
    elif reading.start is not None:
        said = f"read as starting {_date_words(reading.start)}"
    else:
        return reading
    return _with_warnings(
        reading, f"{_quote(written)} says more than a date; {said} and kept the whole cell as text"
    )


# A cell that says "Completed" anywhere is done; a recurrence or "ongoing" outranks a one-off date.
_KIND_PRECEDENCE: Final[tuple[DeadlineKind, ...]] = ("complete", "recurring", "ongoing", "dated")


def _combine(readings: Sequence[_Reading], written: str, *, several_warning: bool = True) -> _Reading:
    known = [reading for reading in readings if reading.kind != "unknown"]
    warnings = [warning for reading in readings for warning in reading.warnings]
    if not known:
        return _Reading("unknown", warnings=tuple(warnings))
    kinds = {reading.kind for reading in known}
    kind = next(kind for kind in _KIND_PRECEDENCE if kind in kinds)
    dues = sorted({day for reading in known for day in (reading.due, *reading.milestones) if day is not None})
    due = dues[0] if dues else None
    starts = [reading.start for reading in known if reading.start is not None]
    start = min(starts) if starts else None
    if start is not None and due is not None and start > due:
        warnings.append(f"{_quote(written)} starts after its first deadline, so the start date was set aside")
        start = None
    recurrence = next((reading.recurrence for reading in known if reading.recurrence), None)
    if several_warning and len(dues) > 1:
        later = ", ".join(_date_words(day) for day in dues[1:])
        warnings.append(
            f"{_quote(written)} names several dates; due is the earliest, {_date_words(dues[0])}, "
            f"and the later ones ({later}) are kept as milestones"
        )
    return _Reading(
        kind,
        start=start,
        due=due,
        recurrence=recurrence,
        milestones=tuple(dues[1:]),
        warnings=tuple(dict.fromkeys(warnings)),
    )


def _with_warnings(reading: _Reading, *warnings: str) -> _Reading:
    return reading._replace(warnings=reading.warnings + warnings)
