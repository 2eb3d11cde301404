"""How an observance is announced: its dates in words ("on or around", "begins on the evening of") and a
tone that fits — a celebration is welcomed, a commemoration is marked reflectively, never "Happy …"."""

from __future__ import annotations

import re
from datetime import date, timedelta

from storage.rules.observances.catalogue import Observance
from storage.rules.observances.dates import Occurrence

# Words that celebrate: out of place on a day of remembrance, a fast of atonement or a memorial.
_CELEBRATORY = re.compile(
    r"\b(happy|celebrat\w*|congratulations|enjoy|festive|party|hooray|woo+)\b|🎉|🥳", re.I
)


def tone_problem(tone: str, text: str) -> str | None:
    """Why `text` can't be said of an observance of this tone; None if it can."""
    if tone == "commemoration" and (found := _CELEBRATORY.search(text)):
        return (
            f"'{found.group(0)}' celebrates, and this is a commemoration: word it reflectively "
            "(e.g. 'We remember…', 'A time to reflect…')"
        )
    return None


def day_text(day: date) -> str:
    """ "Wednesday 2 October 2024"."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def _short(day: date, *, with_year: bool) -> str:
    return f"{day.day} {day:%B}" + (f" {day.year}" if with_year else "")


def when_text(observance: Observance, occurrence: Occurrence) -> str:
    """Its dates in words: "on Monday 27 January 2025", "throughout October 2025", "from 18 July to 17 August
    2025", "on or around Sunday 30 March 2025", "begins on the evening of Wednesday 2 October 2024"."""
    start, end = occurrence.start, occurrence.end
    around = "on or around " if observance.approximate else ""
    if observance.evening_before:
        eve = start - timedelta(days=1)
        lasting = f", until {day_text(end)}" if end != start else ""
        return f"begins {around or 'on '}the evening of {day_text(eve)}{lasting}"
    if start == end:
        return f"{around or 'on '}{day_text(start)}"
    whole_month = start.day == 1 and end.month == start.month and (end + timedelta(days=1)).day == 1
    if whole_month:
        return f"throughout {start:%B %Y}"
    first = _short(start, with_year=start.year != end.year)
    return f"from {'around ' if around else ''}{first} to {_short(end, with_year=True)}"


def announcement(
    observance: Observance, occurrence: Occurrence, *, today: date, wording: str | None = None
) -> str:
    """What a channel is told: ahead ("Coming up …") or on its first day, in the observance's tone; an
    organisation's own wording replaces the description."""
    description = wording or observance.description
    when = when_text(observance, occurrence)
    days_to_go = (occurrence.start - today).days
    if observance.tone == "commemoration":
        if days_to_go > 0:
            opening = f"{observance.name} {when}: a time of reflection."
        else:
            opening = f"Today we mark {observance.name}, a time of reflection."
        return f"{opening} {description}"
    if days_to_go > 0:
        opening = f"Coming up: {observance.name} {when}."
    else:
        # A date that rests on a moon sighting may yet move by a day: "expected", not asserted.
        verb = "begin" if occurrence.days > 1 else "be"
        said = f"is expected to {verb}" if observance.approximate else ("begins" if verb == "begin" else "is")
        opening = f"{observance.name} {said} today."
        if observance.greeting:
            opening = f"{opening} {observance.greeting}"
    return f"{opening} {description}"
