"""Reads one period ("June 2024", "Q1 2024/25", "31/3/24", "Spring 2024", "next Friday") as a span of days.

One table lists every shape a single period takes, in the order they are tried; each shape is a pattern
and the builder that turns its match into days. Most shapes share a builder: a day, a run of whole months
("H1 2024", "Spring 2024", "2024"), or a day or month worked out from today.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Final, Literal, NamedTuple

from dateutil import parser as dateutil_parser
from dateutil.relativedelta import relativedelta

from storage.rules.deadlines.values import Found, Problem, Span
from storage.rules.deadlines.vocabulary import (
    EARLIEST_YEAR,
    FIRST_TWO_DIGIT_FINANCIAL_YEAR,
    LAST_TWO_DIGIT_YEAR_AFTER_MONTH,
    LATEST_YEAR,
    MONTH,
    MONTH_NUMBERS,
    NUMBER,
    PART_OF_YEAR_MONTHS,
    SEASON_MONTHS,
    WEEKDAY_NUMBERS,
    F,
    full_year,
    number,
)
from storage.rules.deadlines.wording import MONTH_NAMES, day_words, month_span_words, ordinal, quote

# -- calendar arithmetic ----------------------------------------------------------------------------------

# Made once: adding a prepared relativedelta costs a fraction of building one for every cell.
_END_OF_MONTH: Final = relativedelta(day=31)
# Added to the first day of a month: the last day of the `n` months that begin there.
_END_OF_MONTHS: Final[dict[int, relativedelta]] = {
    n: relativedelta(months=n - 1, day=31) for n in (1, 3, 4, 6, 12)
}
_MONTHS_ON: Final[dict[int, relativedelta]] = {n: relativedelta(months=n) for n in (0, 3, 6, 9)}


# Month-year cells dominate plans and there are only so many months, so their last days are remembered.
@lru_cache(maxsize=4096)
def last_day(year: int, month: int) -> date:
    return date(year, month, 1) + _END_OF_MONTH


def implausible(written: str, year: int) -> Problem | None:
    if EARLIEST_YEAR <= year <= LATEST_YEAR:
        return None
    return Problem(
        f"{quote(written)} is not a real date: {year} is not a year a plan would mean; kept as text"
    )


def day_of(written: str, day: int, month: int, year: int) -> Found:
    """That day, or why it is not one ("31/2/24": February has only 29 days)."""
    problem = implausible(written, year)
    if problem:
        return problem
    if not 1 <= month <= 12:
        return Problem(f"{quote(written)} is not a real date: there is no month {month}; kept as text")
    length = last_day(year, month).day
    if not 1 <= day <= length:
        name = MONTH_NAMES[month]
        return Problem(
            f"{quote(written)} is not a real date: {name} {year} has only {length} days; kept as text"
        )
    return _single_day(date(year, month, day))


def _month(written: str, month: int, year: int) -> Found:
    problem = implausible(written, year)
    if problem:
        return problem
    if not 1 <= month <= 12:
        return Problem(f"{quote(written)} is not a real date: there is no month {month}; kept as text")
    return Span(date(year, month, 1), last_day(year, month))


def _day_this_year_or_next(written: str, day: int, month: int, today: date | None) -> Found:
    if not 1 <= month <= 12:
        return Problem(f"{quote(written)} is not a real date: there is no month {month}; kept as text")
    if not 1 <= day <= last_day(2000, month).day:
        name = MONTH_NAMES[month]
        return Problem(f"{quote(written)} is not a real date: {name} never has {day} days; kept as text")
    if today is None:
        return _needs_today(written)
    # The next occurrence on or after today; 29 February may be up to eight years away.
    for candidate in range(today.year, min(today.year + 9, date.max.year + 1)):
        if day <= last_day(candidate, month).day and date(candidate, month, day) >= today:
            return _single_day(date(candidate, month, day))
    return Problem(f"{quote(written)} is too far in the future to work out; kept as text")


def _single_day(day: date) -> Span:
    return Span(day, day)


def _needs_today(written: str) -> Problem:
    return Problem(
        f"{quote(written)} is relative to today, so it needs a reference date to work out; kept as text",
        needs_today=True,
    )


def _guarded(written: str, compute: Callable[[], Span]) -> Found:
    try:
        return compute()
    except (OverflowError, ValueError):
        return Problem(f"{quote(written)} is too far away to be a real date; kept as text")


def _week_friday(today: date, weeks_ahead: int) -> Span:
    # Plans work to the working week, so "end of the week" is Friday.
    friday = today - timedelta(days=today.weekday()) + timedelta(days=4, weeks=weeks_ahead)
    if friday < today:
        friday += timedelta(weeks=1)
    return Span(friday, friday)


def _month_of(day: date, months_ahead: int) -> Span:
    first = day.replace(day=1) + relativedelta(months=months_ahead)
    return Span(first, first + _END_OF_MONTH)


def _quarter_of(day: date, quarters_ahead: int) -> Span:
    first = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1) + relativedelta(months=3 * quarters_ahead)
    return Span(first, first + _END_OF_MONTHS[3])


def _financial_year_of(day: date, years_ahead: int) -> Span:
    first_year = day.year if day.month >= 4 else day.year - 1
    first = date(first_year + years_ahead, 4, 1)
    return Span(first, date(first.year + 1, 3, 31))


def _calendar_year_of(day: date, years_ahead: int) -> Span:
    return Span(date(day.year + years_ahead, 1, 1), date(day.year + years_ahead, 12, 31))


_RELATIVE_NAMES: Final[dict[str, Callable[[date], Span]]] = {
    **dict.fromkeys(("today", "end of day", "eod", "cob", "close of business"), _single_day),
    "tomorrow": lambda today: _single_day(today + timedelta(days=1)),
    **dict.fromkeys(("week", "the week", "this week"), lambda today: _week_friday(today, 0)),
    "next week": lambda today: _week_friday(today, 1),
    **dict.fromkeys(("month", "the month", "this month", "month end"), lambda today: _month_of(today, 0)),
    **dict.fromkeys(("next month", "the next month"), lambda today: _month_of(today, 1)),
    **dict.fromkeys(("quarter", "the quarter", "this quarter"), lambda today: _quarter_of(today, 0)),
    "next quarter": lambda today: _quarter_of(today, 1),
    **dict.fromkeys(("year", "the year", "this year"), lambda today: _calendar_year_of(today, 0)),
    "next year": lambda today: _calendar_year_of(today, 1),
    **dict.fromkeys(
        ("financial year", "the financial year", "this financial year", "fy", "the fy"),
        lambda today: _financial_year_of(today, 0),
    ),
    "next financial year": lambda today: _financial_year_of(today, 1),
}

# -- builders: a match of one shape in the table, as days -------------------------------------------------

Builder = Callable[[re.Match[str], date | None, str], Found]


def _on_day(match: re.Match[str], today: date | None, written: str) -> Found:
    """ "2024-03-31", "31/3/24": that day."""
    return day_of(written, int(match["day"]), int(match["month"]), full_year(match["year"]))


def _months(
    count: int, *, starts: Mapping[str, int] | None = None, window: bool = True, note: str | None = None
) -> Builder:
    """A builder for a run of `count` whole months in the matched year, beginning at the month `starts`
    gives for the matched word (January when there is no word), with `note` saying how it was read."""

    def build(match: re.Match[str], today: date | None, written: str) -> Found:
        in_year = full_year(match["year"])
        problem = implausible(written, in_year)
        if problem:
            return problem
        first = date(in_year, 1 if starts is None else starts[match["word"].lower()], 1)
        last = first + _END_OF_MONTHS[count]
        said = None if note is None else f"{quote(written)} {note}; read as {month_span_words(first, last)}"
        return Span(first, last, window=window, note=said)

    return build


def _month_of_year(match: re.Match[str], today: date | None, written: str) -> Found:
    """ "June 2024", "Sept 23", "Apr-20": that month; "Sept 32" is a slip, not the year 2032."""
    month = MONTH_NUMBERS.get(match["month"].lower())
    if month is None:
        return None
    digits = match["year"]
    if len(digits) == 2 and int(digits) > LAST_TWO_DIGIT_YEAR_AFTER_MONTH:
        name = MONTH_NAMES[month]
        return Problem(
            f"{quote(written)} is not a real date: {name} has no {ordinal(int(digits))} day "
            f"(for {name} 20{digits}, write '{name} 20{digits}'); kept as text"
        )
    return _month(written, month, full_year(digits))


def _two_numbers(match: re.Match[str], today: date | None, written: str) -> Found:
    """ "03/2024" and "3/24" are a month and year; "31/3" is a day, this year or next."""
    first, second = int(match["first"]), match["second"]
    if len(second) == 4 or int(second) > 12:
        return _month(written, first, full_year(second))
    return _day_this_year_or_next(written, first, int(second), today)


_FINANCIAL_YEAR: Final = re.compile(r"(fy\s*)?(\d{4}|\d{2})\s*([/-])\s*(\d{1,4})", F)
_PLAIN_YEAR: Final = re.compile(r"'?(\d{4}|\d{2})", F)


def financial_year(text: str) -> int | None:
    """The first calendar year of a UK financial year written "2024/25", "2024-25", "FY24/25" or "23/24"."""
    match = _FINANCIAL_YEAR.fullmatch(text)
    if not match:
        return None
    prefixed, first_digits, separator, second = match[1] is not None, match[2], match[3], match[4]
    first = full_year(first_digits)
    if len(first_digits) == 2 and not prefixed and first % 100 < FIRST_TWO_DIGIT_FINANCIAL_YEAR:
        return None
    if len(second) == 4:
        # "2023-2025" is a range of calendar years, and so, for consistency, is "2023-2024".
        follows = int(second) == first + 1 and (separator == "/" or prefixed)
    elif len(second) in (1, 2):
        follows = int(second) == (first + 1) % 10 ** len(second)
    else:
        follows = False
    return first if follows else None


def _financial_year_span(match: re.Match[str], today: date | None, written: str) -> Found:
    """ "2024/25": April 2024 to March 2025, a window to work in."""
    first = financial_year(match[0])
    if first is None:
        return None
    problem = implausible(written, first)
    return problem or Span(date(first, 4, 1), date(first + 1, 3, 31), window=True)


def _quarter(match: re.Match[str], today: date | None, written: str) -> Found:
    """ "Q3 2024" is July to September; "Q1 2024/25" is the UK financial quarter April to June 2024."""
    number_of, prefixed, year_text = int(match["quarter"]), match["fy"] is not None, match["year"].strip()
    financial = financial_year(("fy" if prefixed else "") + year_text)
    if financial is not None:
        problem = implausible(written, financial)
        if problem:
            return problem
        # UK financial quarters: Q1 is April to June, Q4 is January to March of the following year.
        first = date(financial, 4, 1) + _MONTHS_ON[3 * (number_of - 1)]
        return Span(first, first + _END_OF_MONTHS[3], window=True)
    plain = _PLAIN_YEAR.fullmatch(year_text)
    if not plain or prefixed:
        return None
    in_year = full_year(plain[1])
    problem = implausible(written, in_year)
    if problem:
        return problem
    first = date(in_year, 3 * number_of - 2, 1)
    return Span(first, first + _END_OF_MONTHS[3], window=True)


def _month_ahead(match: re.Match[str], today: date | None, written: str) -> Found:
    """ "March": the next March that has not ended."""
    month = MONTH_NUMBERS.get(match["month"].lower())
    if month is None:
        return None
    if today is None:
        return _needs_today(written)
    in_year = today.year if last_day(today.year, month) >= today else today.year + 1
    return _month(written, month, in_year)


def _named_relative(match: re.Match[str], today: date | None, written: str) -> Found:
    """ "end of the month", "next quarter", "this financial year"."""
    rule = _RELATIVE_NAMES.get(" ".join(match[0].lower().split()))
    if rule is None:
        return None
    if today is None:
        return _needs_today(written)
    reference: date = today
    return _guarded(written, lambda: rule(reference))


def _weekday(match: re.Match[str], today: date | None, written: str) -> Found:
    """ "Friday", "next Friday": the next such day."""
    if today is None:
        return _needs_today(written)
    reference: date = today
    weekday = WEEKDAY_NUMBERS[match["weekday"].lower()[:3]]
    following = " ".join((match["which"] or "").lower().split()) == "next"

    def compute() -> Span:
        if not following:
            return _single_day(reference + timedelta(days=(weekday - reference.weekday()) % 7))
        # "Next Friday" is the first Friday after today; early in a week some people mean the week after.
        day = reference + timedelta(days=1 + (weekday - reference.weekday() - 1) % 7)
        note = None
        if day.isocalendar()[:2] == reference.isocalendar()[:2]:
            note = f"{quote(written)} read as {day_words(day)}; if you meant the week after, give the date"
        return Span(day, day, note=note)

    return _guarded(written, compute)


_OFFSETS: Final[dict[str, Callable[[int], relativedelta]]] = {
    "day": lambda amount: relativedelta(days=amount),
    "week": lambda amount: relativedelta(weeks=amount),
    "fortnight": lambda amount: relativedelta(weeks=2 * amount),
    "month": lambda amount: relativedelta(months=amount),
    "year": lambda amount: relativedelta(years=amount),
}


def _in_time(match: re.Match[str], today: date | None, written: str) -> Found:
    """ "in 2 weeks", "within three months": that day."""
    if today is None:
        return _needs_today(written)
    reference: date = today
    amount, unit = number(match["amount"]), match["unit"].lower()
    return _guarded(written, lambda: _single_day(reference + _OFFSETS[unit](amount)))


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
_MONTH_WORD: Final = re.compile(rf"\b{MONTH}\b", F)
_TEXTUAL_DAY_FIRST: Final = re.compile(
    rf"(\d{{1,2}})(?:st|nd|rd|th)?\s*(?:of\s+)?[-/]?\s*({MONTH})\.?,?\s*[-/]?\s*(\d{{4}}|\d{{2}})?", F
)
_TEXTUAL_MONTH_FIRST: Final = re.compile(rf"({MONTH})\.?\s*(\d{{1,2}})(?:st|nd|rd|th)?,?\s*(\d{{4}})?", F)


def _textual_date(match: re.Match[str], today: date | None, written: str) -> Found:
    """ "30th June 2019", "June 30th, 2024", "Friday 31 May 2024", read by dateutil."""
    core = match[0]
    # dateutil reads "June 23" as the 23rd of June and "1 - 3 June 2024" as a time of day, so it only sees
    # short phrases with exactly one month name that the EDI grammar above has not claimed.
    if len(_MONTH_WORD.findall(core)) != 1 or " - " in core or " and " in core.lower():
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
        return day_of(written, early.day, early.month, early.year)
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


def _explain_textual_failure(core: str, written: str) -> Found:
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
    month = MONTH_NUMBERS.get(month_text.lower())
    if month is None:
        return None
    if year_text is None:
        return _day_this_year_or_next(written, int(day), month, None)
    return day_of(written, int(day), month, full_year(year_text))


# -- the table --------------------------------------------------------------------------------------------

# Which texts a shape can match: those opening with a digit, with anything else, or either.
_Opens = Literal["digit", "word", "either"]


class Shape(NamedTuple):
    """One shape a single period takes: a pattern the whole text must match, and its builder."""

    opens: _Opens
    pattern: re.Pattern[str]
    build: Builder

    def read(self, core: str, today: date | None, written: str) -> Found:
        match = self.pattern.fullmatch(core)
        return None if match is None else self.build(match, today, written)


def _shape(opens: _Opens, pattern: str, build: Builder) -> Shape:
    return Shape(opens, re.compile(pattern, F), build)


QUARTER: Final = _shape(
    "word", r"(?:q|quarter\s*)(?P<quarter>[1-4])\s*(?:of\s+|in\s+)?(?P<fy>fy\s*)?(?P<year>.+)", _quarter
)
YEAR: Final = _shape("digit", r"(?P<year>\d{4})", _months(12, window=False))

# Tried in this order; a builder that answers None lets the next shape try. Order matters: "23/24" is a
# financial year before it is a month numbered 23.
_SHAPES: Final[tuple[Shape, ...]] = (
    _shape(
        "digit",
        r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})(?:[ t]00:00(?::00(?:\.0+)?)?)?",
        _on_day,
    ),
    _shape(
        "digit",
        r"(?P<day>\d{1,2})\s*(?P<sep>[/.-])\s*(?P<month>\d{1,2})\s*(?P=sep)\s*(?P<year>\d{4}|\d{2})",
        _on_day,
    ),
    _shape("word", rf"(?P<month>{MONTH})\.?\s*[-/,']?\s*'?(?P<year>\d{{4}}|\d{{2}})", _month_of_year),
    QUARTER,
    Shape("either", _FINANCIAL_YEAR, _financial_year_span),
    _shape("digit", r"(?P<first>\d{1,2})\s*[/.]\s*(?P<second>\d{4}|\d{1,2})", _two_numbers),
    YEAR,
    _shape("word", r"h(?P<word>[12])\s*(?P<year>\d{4}|\d{2})", _months(6, starts={"1": 1, "2": 7})),
    _shape(
        "word",
        r"(?P<word>spring|summer|autumn|fall|winter)\s+(?:of\s+)?(?P<year>\d{4}|\d{2})",
        _months(3, starts=SEASON_MONTHS, note="names a season"),
    ),
    _shape(
        "word",
        r"(?P<word>early|mid|late)[\s-]*(?P<year>\d{4})",
        _months(4, starts=PART_OF_YEAR_MONTHS, note="is approximate"),
    ),
    _shape("word", rf"(?P<month>{MONTH})\.?", _month_ahead),
    # Any words at all: the builder looks them up among the names ("next month", "end of the quarter").
    Shape("word", re.compile(r".+", re.DOTALL), _named_relative),
    _shape(
        "word",
        r"(?:(?P<which>this|next|coming|the|this\s+coming)\s+)?"
        r"(?P<weekday>mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|sday|nesday|rsday|urday)?",
        _weekday,
    ),
    _shape(
        "either",
        rf"(?:in|within)?\s*(?P<amount>{NUMBER})\s+(?P<unit>day|week|fortnight|month|year)s?"
        r"(?:'?s)?(?:\s+time)?",
        _in_time,
    ),
    _shape("either", r"[a-z0-9 ,.'/-]{3,40}", _textual_date),
)
# Each as the pattern's fullmatch and the builder, ready to call: this loop runs for nearly every cell.
_OPENING_WITH_A_DIGIT: Final = tuple((s.pattern.fullmatch, s.build) for s in _SHAPES if s.opens != "word")
_OPENING_WITH_A_WORD: Final = tuple((s.pattern.fullmatch, s.build) for s in _SHAPES if s.opens != "digit")


def read_period(core: str, today: date | None, written: str) -> Found:
    """The single period `core` names, a reason it cannot be one, or None when it is not date-like."""
    for fullmatch, build in _OPENING_WITH_A_DIGIT if core[0] in "0123456789" else _OPENING_WITH_A_WORD:
        match = fullmatch(core)
        if match is not None:
            found = build(match, today, written)
            if found is not None:
                return found
    return None
