"""The diversity calendar as iCalendar (RFC 5545): exported one VEVENT per occurrence, all-day, and the
organisation's own dates read back from an .ics file into the store."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from storage.observances import add_own_observance, own_observance_named
from storage.rules.observances.catalogue import CATEGORIES, Calendar, Dated, Observance, slug
from storage.rules.observances.dates import DateRuleError, FromYear, OneOff, Recurring, read_rule, rule_text
from storage.rules.observances.wording import tone_problem

# icalendar is imported by the two functions that read or write a file: `edibot run` imports this module (the
# worker fetches subscribed calendars) and would otherwise hold it in every process from the start.
if TYPE_CHECKING:
    import icalendar

PRODUCT = "-//edibot//diversity calendar//EN"
TONE_PROPERTY = "X-EDIBOT-TONE"
ICS_MOST_BYTES = (
    2_000_000  # an organisation's calendar is a few hundred events; anything far bigger is not one
)


class IcsError(Exception):
    """An .ics file that can't be read at all, in words for whoever gave it."""


def export_ics(dated: Iterable[Dated]) -> bytes:
    """One VEVENT per occurrence: all-day DTSTART on its first day, DTEND (the day after the last, as RFC 5545
    has it) for one that runs several days, SUMMARY its name, DESCRIPTION its text, and its category and
    tone."""
    import icalendar  # noqa: PLC0415 — see the imports above

    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    for item in dated:
        observance, occurrence = item.observance, item.occurrence
        event = icalendar.Event()
        event.add("uid", f"{observance.key}-{occurrence.start.isoformat()}@edibot")
        event.add("dtstamp", datetime(occurrence.start.year, 1, 1))
        event.add("dtstart", occurrence.start)
        if occurrence.end != occurrence.start:
            event.add("dtend", occurrence.end + timedelta(days=1))
        event.add("summary", observance.name)
        event.add("description", observance.description)
        event.add("categories", [observance.category])
        event.add(TONE_PROPERTY, observance.tone)
        if observance.source:
            event.add("url", observance.source)
        calendar.add_component(event)
    return bytes(calendar.to_ical())


@dataclass
class IcsImport:
    """What an import did: dates added, dates the calendar had already, and events it could not use (why)."""

    added: list[str] = field(default_factory=list)
    already: int = 0
    problems: list[str] = field(default_factory=list)


def _day(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


@dataclass(frozen=True)
class IcsEvent:
    """One usable VEVENT of an organisation's calendar, as an observance of its own would hold it."""

    key: str
    name: str
    category: str
    tone: str
    rule: OneOff | Recurring
    description: str
    source: str | None

    def as_observance(self) -> Observance:
        return Observance(
            key=self.key,
            name=self.name,
            category=self.category,
            tone=self.tone,
            description=self.description,
            rules=(FromYear(0, self.rule),),
            source=self.source,
            added_by_organisation=True,
        )


def read_ics(data: bytes) -> tuple[list[IcsEvent], list[str]]:
    """The events of an .ics file that can be observances (a yearly RRULE kept as a rule, any other event one
    dated occurrence), and a sentence for each that can't; IcsError if it is not a calendar at all."""
    if len(data) > ICS_MOST_BYTES:
        raise IcsError(f"That file is {len(data):,} bytes; a calendar file is at most {ICS_MOST_BYTES:,}.")
    import icalendar  # noqa: PLC0415 — see the imports above

    try:
        parsed = icalendar.Calendar.from_ical(data)
    except ValueError as error:
        raise IcsError(f"That is not an iCalendar (.ics) file: {error}") from None
    events: list[IcsEvent] = []
    problems: list[str] = []
    for number, event in enumerate(parsed.walk("VEVENT"), 1):
        name = str(event.get("summary") or "").strip()[:100]
        start = _day(getattr(event.get("dtstart"), "dt", None))
        if not name or start is None:
            problems.append(f"Event {number}: it needs a SUMMARY and a DTSTART date; skipped.")
            continue
        end = _day(getattr(event.get("dtend"), "dt", None))
        days = min(max((end - start).days, 1), 62) if end else 1
        tone = str(event.get(TONE_PROPERTY) or "celebration").lower()
        tone = tone if tone in ("celebration", "commemoration") else "celebration"
        categories = [str(c).lower() for c in _categories(event)]
        category = next((c for c in categories if c in CATEGORIES), "organisation")
        description = str(event.get("description") or "").strip()[:1000]
        source = str(event.get("url") or "").strip()[:1000] or None
        problem = tone_problem(tone, f"{name} {description}")
        if problem:
            problems.append(f"Event {number} ({name}): {problem}; skipped.")
            continue
        try:
            if event.get("rrule") is not None:
                rule: OneOff | Recurring = Recurring(event.get("rrule").to_ical().decode(), days)
                read_rule(rule_text(rule))
                key = slug(name)
            else:
                rule = OneOff(start, days)
                key = f"{slug(name)}-{start.isoformat()}"
        except DateRuleError as error:
            problems.append(f"Event {number} ({name}): {error}; skipped.")
            continue
        events.append(IcsEvent(key, name, category, tone, rule, description, source))
    return events, problems


def import_ics(session: Session, data: bytes, *, known: Calendar, now: datetime) -> IcsImport:
    """The organisation's own dates from an .ics file into the store; an event the calendar already has on
    that day (by name) is left alone."""
    events, problems = read_ics(data)
    report = IcsImport(problems=problems)
    for event in events:
        first = event.rule.start if isinstance(event.rule, OneOff) else None
        on_day = first is not None and _already(known, event.name, first)
        if on_day or own_observance_named(session, event.key) is not None or known.find(event.key):
            report.already += 1
            continue
        add_own_observance(
            session,
            key=event.key,
            name=event.name,
            category=event.category,
            tone=event.tone,
            rule=rule_text(event.rule),
            description=event.description,
            source=event.source,
            at=now,
        )
        report.added.append(f"{event.name} ({rule_text(event.rule)})")
    return report


def _categories(event: icalendar.Component) -> list[str]:
    found = event.get("categories")
    if found is None:
        return []
    found = found if isinstance(found, list) else [found]
    return [str(category) for item in found for category in getattr(item, "cats", [item])]


def _already(known: Calendar, name: str, start: date) -> bool:
    wanted = slug(name)
    return any(slug(dated.observance.name) == wanted for dated in known.between(start, start))
