"""Observances as plain values — name, category, tone, words and date rules — and which fall in a window of
days."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

# Re-exported: the calendar's categories and tones are known by this module's name too.
from storage.rules.observances.categories import CATEGORIES as CATEGORIES  # noqa: PLC0414
from storage.rules.observances.categories import TONES as TONES  # noqa: PLC0414
from storage.rules.observances.dates import FromYear, Occurrence, occurrences


@dataclass(frozen=True, slots=True)
class Observance:
    """One observance: what it is called, how it is marked (celebration or commemoration), when it
    falls."""

    key: str  # a stable slug: "holocaust-memorial-day"
    name: str
    category: str
    tone: str  # "celebration" or "commemoration"
    description: str
    rules: tuple[FromYear, ...]
    source: str | None = None  # a link to an authoritative source
    approximate: bool = (
        False  # the date depends on a moon sighting or a community's reckoning: "on or around"
    )
    evening_before: bool = False  # it begins at sundown the evening before its first day
    greeting: str | None = None  # said on the day of a celebration ("Eid Mubarak to everyone celebrating.")
    suggestions: tuple[str, ...] = ()  # suggested actions or links the organisation added
    added_by_organisation: bool = False


@dataclass(frozen=True, slots=True)
class Dated:
    """An observance on one of its occurrences."""

    observance: Observance
    occurrence: Occurrence


def slug(name: str) -> str:
    """ "Gypsy, Roma and Traveller History Month" → "gypsy-roma-and-traveller-history-month"."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


@dataclass
class Calendar:
    """The observances an organisation keeps: the shipped ones and its own, less those it hid."""

    observances: list[Observance] = field(default_factory=list)

    def find(self, text: str) -> Observance | None:
        """By key or name, ignoring case and punctuation ("ramadan", "Holocaust Memorial Day")."""
        wanted = slug(text)
        for observance in self.observances:
            if wanted in (observance.key, slug(observance.name)):
                return observance
        return None

    def in_category(self, categories: Iterable[str] | None) -> list[Observance]:
        wanted = set(categories or ())
        return [o for o in self.observances if not wanted or o.category in wanted]

    def between(
        self, first: date, last: date, *, categories: Iterable[str] | None = None, ongoing: bool = False
    ) -> list[Dated]:
        """Occurrences starting from `first` to `last` (both included), soonest first; with `ongoing`, also
        those that began earlier and are still running on `first`."""
        found = []
        for observance in self.in_category(categories):
            for year in range(first.year - 1, last.year + 1):
                for occurrence in occurrences(observance.rules, year):
                    starts_inside = first <= occurrence.start <= last
                    running = ongoing and occurrence.start < first <= occurrence.end
                    if starts_inside or running:
                        found.append(Dated(observance, occurrence))
        return sorted(found, key=lambda d: (d.occurrence.start, d.observance.name))

    def in_year(self, year: int, *, categories: Iterable[str] | None = None) -> list[Dated]:
        return self.between(date(year, 1, 1), date(year, 12, 31), categories=categories)


def kept_during(
    observances: Sequence[Observance], *, around: date, horizon_days: int = 400
) -> list[tuple[date, date]]:
    """The spans (first day, last day) of these observances near `around`: those a person chose to hold
    non-urgent reminders during. A span beginning at sundown starts the evening before: that day is held
    too."""
    spans = []
    for observance in observances:
        for year in range(around.year - 1, around.year + 2):
            for occurrence in occurrences(observance.rules, year):
                start = occurrence.start
                if observance.evening_before:
                    start = date.fromordinal(start.toordinal() - 1)
                if abs((start - around).days) <= horizon_days:
                    spans.append((start, occurrence.end))
    return sorted(spans)


def released_on(spans: Sequence[tuple[date, date]], day: date) -> date:
    """The first day on or after `day` outside every span (spans that meet or overlap are crossed
    together)."""
    moved = True
    while moved:
        moved = False
        for first, last in spans:
            if first <= day <= last:
                day = date.fromordinal(last.toordinal() + 1)
                moved = True
    return day
