"""How an observance's dates are found each year: fixed days and spans, RRULEs, Easter, and the Islamic,
Hebrew and Indian/Chinese lunisolar calendars, computed offline."""

from __future__ import annotations

import re
from calendar import monthrange
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from dateutil.easter import easter
from dateutil.rrule import rrule, rrulestr
from hijridate import Gregorian, Hijri
from holidays.calendars.buddhist import _BuddhistLunisolar
from holidays.calendars.chinese import _ChineseLunisolar
from holidays.calendars.hindu import _HinduLunisolar
from pyluach.dates import HebrewDate


class DateRuleError(ValueError):
    """A date rule that can't be read, in words for whoever wrote it."""


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One year's dates of an observance: its first and last day (the same for a one-day observance)."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


# -- the kinds of rule ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fixed:
    """The same day every year (27 January), lasting `days`."""

    month: int
    day: int
    days: int = 1


@dataclass(frozen=True, slots=True)
class Span:
    """From one day to another every year (18 July to 17 August); a whole month is a span too."""

    start_month: int
    start_day: int
    end_month: int
    end_day: int  # 31 in a 30-day month means its last day, and 29 February means 28 in a common year


@dataclass(frozen=True, slots=True)
class Recurring:
    """An RRULE, for "the second Sunday of November" and the like (its first date in the year), lasting
    `days`."""

    rule: str
    days: int = 1


@dataclass(frozen=True, slots=True)
class EasterBased:
    """Days from Western Easter Sunday (Good Friday is -2), lasting `days`."""

    offset: int
    days: int = 1


@dataclass(frozen=True, slots=True)
class IslamicDate:
    """A day of the Islamic (Hijri) year by the Umm al-Qura calendar; it can fall twice in one Gregorian
    year."""

    month: int
    day: int
    days: int = 1


@dataclass(frozen=True, slots=True)
class IslamicMonth:
    """A whole month of the Islamic year (Ramadan is the ninth): from its first day to the day before the
    next month's."""

    month: int


@dataclass(frozen=True, slots=True)
class HebrewDay:
    """A day of the Hebrew year (months numbered from Nisan = 1; Tishrei is 7, Kislev 9)."""

    month: int
    day: int
    days: int = 1


@dataclass(frozen=True, slots=True)
class LunisolarTable:
    """A Hindu, Sikh, Buddhist or Chinese festival from the `holidays` package's published tables."""

    festival: str
    days: int = 1


@dataclass(frozen=True, slots=True)
class OneOff:
    """One dated occurrence (an organisation's own event), not repeated."""

    start: date
    days: int = 1


Rule = (
    Fixed | Span | Recurring | EasterBased | IslamicDate | IslamicMonth | HebrewDay | LunisolarTable | OneOff
)


@dataclass(frozen=True, slots=True)
class FromYear:
    """A rule that holds from `year` on, until a later one takes over (South Asian Heritage Month moved in
    2026)."""

    year: int
    rule: Rule


# -- the lunisolar tables: a name each, what `holidays` calls it --------------------------------------------

_HINDU = _HinduLunisolar()
_CHINESE = _ChineseLunisolar()
_BUDDHIST = _BuddhistLunisolar()
# Diwali as India and the UK's Hindu communities keep it (Lakshmi Puja), not the Tamil Deepavali of
# Malaysia and Singapore that `holidays` also tables.
TABLES = {
    "diwali": lambda year: _HINDU._get_holiday("DIWALI_INDIA", year)[0],
    "holi": lambda year: _HINDU.holi_date(year)[0],
    "vaisakhi": lambda year: _HINDU.vaisakhi_date(year)[0],
    "guru-nanak-gurpurab": lambda year: _HINDU.guru_nanak_jayanti_date(year)[0],
    "vesak": lambda year: _BUDDHIST.vesak_may_date(year)[0],
    "lunar-new-year": lambda year: _CHINESE.lunar_new_year_date(year)[0],
}


# -- one year's dates ----------------------------------------------------------------------------------------


def rule_for(rules: Sequence[FromYear], year: int) -> Rule | None:
    """The rule in force in `year`: the latest whose year has come; None before the first."""
    found = None
    for change in rules:
        if change.year <= year:
            found = change.rule
    return found


def occurrences(rules: Sequence[FromYear], year: int) -> list[Occurrence]:
    """Every occurrence that starts in `year` under the rule then in force (none where no date is known:
    before a rule begins, or past the end of a published table)."""
    rule = rule_for(rules, year)
    return [] if rule is None else occurrences_of(rule, year)


def occurrences_of(rule: Rule, year: int) -> list[Occurrence]:
    if isinstance(rule, Fixed):
        return [_lasting(_day_in(year, rule.month, rule.day), rule.days)]
    if isinstance(rule, Span):
        start = _day_in(year, rule.start_month, rule.start_day)
        end_year = year if (rule.end_month, rule.end_day) >= (rule.start_month, rule.start_day) else year + 1
        return [Occurrence(start, _day_in(end_year, rule.end_month, rule.end_day))]
    if isinstance(rule, Recurring):
        first = _first_in(rule.rule, year)
        return [] if first is None else [_lasting(first, rule.days)]
    if isinstance(rule, EasterBased):
        return [_lasting(easter(year) + timedelta(days=rule.offset), rule.days)]
    if isinstance(rule, IslamicDate):
        return [_lasting(day, rule.days) for day in _islamic_days(rule.month, rule.day, year)]
    if isinstance(rule, IslamicMonth):
        following = (rule.month % 12 + 1, 1)
        return [
            Occurrence(start, _islamic_month_end(rule.month, start, following))
            for start in _islamic_days(rule.month, 1, year)
        ]
    if isinstance(rule, HebrewDay):
        return [_lasting(day, rule.days) for day in _hebrew_days(rule.month, rule.day, year)]
    if isinstance(rule, LunisolarTable):
        day = TABLES[rule.festival](year)
        return [] if day is None else [_lasting(day, rule.days)]
    return [_lasting(rule.start, rule.days)] if rule.start.year == year else []


def _lasting(start: date, days: int) -> Occurrence:
    return Occurrence(start, start + timedelta(days=max(days, 1) - 1))


def _day_in(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, monthrange(year, month)[1]))


@lru_cache(maxsize=4096)
def _islamic_days(month: int, day: int, year: int) -> tuple[date, ...]:
    # A Hijri year is about 11 days shorter than a Gregorian one, so a Hijri date falls twice in some
    # Gregorian years (Eid al-Fitr in January and December 2033): try the Hijri years either side.
    middle = Gregorian(year, 7, 1).to_hijri().year
    found = []
    for hijri_year in (middle - 1, middle, middle + 1):
        try:
            day_of = date(*Hijri(hijri_year, month, day).to_gregorian().datetuple())
        except (ValueError, OverflowError):  # outside the Umm al-Qura table (1343–1500 AH)
            continue
        if day_of.year == year:
            found.append(day_of)
    return tuple(found)


def _islamic_month_end(month: int, start: date, following: tuple[int, int]) -> date:
    hijri = Gregorian(start.year, start.month, start.day).to_hijri()
    next_year = hijri.year + (1 if month == 12 else 0)
    try:
        return date(*Hijri(next_year, *following).to_gregorian().datetuple()) - timedelta(days=1)
    except (ValueError, OverflowError):
        return start + timedelta(days=28)


@lru_cache(maxsize=4096)
def _hebrew_days(month: int, day: int, year: int) -> tuple[date, ...]:
    # Tishrei to Adar of Hebrew year Y+3761 fall from autumn of Y; Nisan to Elul of Y+3760 in spring and
    # summer of Y.
    found = []
    for hebrew_year in (year + 3760, year + 3761):
        day_of = HebrewDate(hebrew_year, month, day).to_pydate()
        if day_of.year == year:
            found.append(day_of)
    return tuple(found)


@lru_cache(maxsize=256)
def _parsed(rule: str) -> tuple[rrule, int]:
    """The rule ready to walk, and the first month it can fall in.

    A yearly rule that names its months is walked month by month from the first of them: the same dates (RFC
    5545 reads a BYDAY offset within the month whenever BYMONTH is given), but dateutil then looks at one or
    two months instead of building each year's 366 days — most of the cost of a year's calendar."""
    checked = rrule_of(rule)
    parts = rule.strip().removeprefix("RRULE:").upper().split(";")
    values = dict(part.partition("=")[::2] for part in parts)
    if "BYMONTH" not in values or values.keys() & {"BYSETPOS", "BYWEEKNO", "BYYEARDAY"}:
        return checked, 1
    walked = ";".join("FREQ=MONTHLY" if part == "FREQ=YEARLY" else part for part in parts)
    parsed = rrulestr(walked, dtstart=datetime(1990, 1, 1))
    assert isinstance(parsed, rrule)
    return parsed, min(int(month) for month in values["BYMONTH"].split(","))


def _first_in(rule: str, year: int) -> date | None:
    # Started in the year itself, the rule walks at most that year (from its first written start it would walk
    # every year since).
    walked, first_month = _parsed(rule)
    start = datetime(year, first_month, 1)
    found = walked.replace(dtstart=start, until=datetime(year, 12, 31)).after(start, inc=True)
    return found.date() if found is not None else None


# -- reading a rule as written -------------------------------------------------------------------------------

# Parts that pick days within a year; INTERVAL, COUNT and UNTIL are left out, since each year's date is found
# from that year's 1 January (an "every other year" rule would silently become yearly).
_RRULE_PARTS = {"FREQ", "BYMONTH", "BYDAY", "BYMONTHDAY", "BYSETPOS", "BYWEEKNO", "BYYEARDAY", "WKST"}


def rrule_of(text: str) -> rrule:
    """A yearly RRULE ("FREQ=YEARLY;BYMONTH=6;BYDAY=-1SA"), or DateRuleError saying what is wrong with it."""
    body = text.strip().removeprefix("RRULE:").strip()
    if not body:
        raise DateRuleError("an RRULE needs at least FREQ=YEARLY and the month, e.g. FREQ=YEARLY;BYMONTH=6")
    for part in body.split(";"):
        name = part.partition("=")[0].upper()
        if name not in _RRULE_PARTS:
            raise DateRuleError(
                f"'{part}' is not a part of an RRULE I use (I read {', '.join(sorted(_RRULE_PARTS))})"
            )
    if "FREQ=YEARLY" not in body.upper():
        raise DateRuleError(f"'{body}' must repeat yearly (FREQ=YEARLY)")
    try:
        parsed = rrulestr(body, dtstart=datetime(1990, 1, 1))
    except (ValueError, TypeError, KeyError, IndexError) as error:
        raise DateRuleError(f"'{body}' is not a valid RRULE: {error}") from None
    if not isinstance(parsed, rrule) or parsed.after(datetime(2000, 1, 1)) is None:
        raise DateRuleError(f"'{body}' never gives a date")
    return parsed


_MONTHS = (
    *("january", "february", "march", "april", "may", "june"),
    *("july", "august", "september", "october", "november", "december"),
)
_DAY_MONTH = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)$")
_MONTH_DAY = re.compile(r"^([a-z]+)\s+(\d{1,2})(?:st|nd|rd|th)?$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_LASTING = re.compile(r"^(.*?)\s+for\s+(\d{1,2})\s+days?$")


def month_number(word: str) -> int | None:
    """ "oct", "October" → 10; None if it doesn't name a month."""
    word = word.lower().rstrip(".")
    matches = [i for i, name in enumerate(_MONTHS, 1) if len(word) >= 3 and name.startswith(word)]
    return matches[0] if len(matches) == 1 else None


def read_rule(text: str) -> Rule:
    """A date as an organisation writes one: "14 March" (every year), "March" (the whole month),
    "2026-03-14" (once), an RRULE ("FREQ=YEARLY;BYMONTH=11;BYDAY=2SU"), each optionally "for N days"."""
    written = " ".join(text.split())
    days = 1
    if lasting := _LASTING.match(written.lower()):
        written, days = written[: len(lasting.group(1))], int(lasting.group(2))
        if not 1 <= days <= 62:
            raise DateRuleError(f"'{text}': an observance lasts 1 to 62 days")
    lowered = written.lower()
    if lowered.startswith(("rrule:", "freq=")):
        rrule_of(written)
        return Recurring(written.removeprefix("RRULE:").removeprefix("rrule:"), days)
    if iso := _ISO.match(lowered):
        try:
            return OneOff(date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3))), days)
        except ValueError:
            raise DateRuleError(f"'{written}' is not a date in the calendar") from None
    if (month := month_number(lowered)) is not None:
        return Span(month, 1, month, 31)
    pair = _DAY_MONTH.match(lowered) or _MONTH_DAY.match(lowered)
    if pair:
        day_text, month_text = pair.groups() if pair.group(1).isdigit() else (pair.group(2), pair.group(1))
        month = month_number(month_text)
        if month is not None and 1 <= int(day_text) <= monthrange(2024, month)[1]:
            return Fixed(month, int(day_text), days)
    raise DateRuleError(
        f"'{text}' is not a date I can repeat: write a day and month (14 March), a month (March), a date "
        "(2026-03-14) or an RRULE (FREQ=YEARLY;BYMONTH=11;BYDAY=2SU)"
    )


def rule_text(rule: Rule) -> str:
    """A rule written back the way `read_rule` reads it, for rules an organisation adds."""
    days: int = getattr(rule, "days", 1)
    lasting = f" for {days} days" if days > 1 else ""
    if isinstance(rule, Fixed):
        return f"{rule.day} {_MONTHS[rule.month - 1].title()}{lasting}"
    if isinstance(rule, Span) and rule.start_month == rule.end_month and rule.start_day == 1:
        return _MONTHS[rule.start_month - 1].title()
    if isinstance(rule, Recurring):
        return f"{rule.rule}{lasting}"
    if isinstance(rule, OneOff):
        return f"{rule.start.isoformat()}{lasting}"
    raise DateRuleError(f"{rule} is a rule of the shipped calendar, not one an organisation writes")
