"""When a subscribed channel hears of an observance: its lead days before the first day (and on it), each
moved back to the channel's last working day when it posts on working days only, and the same day once."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta

from storage.rules.ladder import StepKind

DEFAULT_LEAD_DAYS = (7, 0)  # a week before, and on the day
# Reminders a person's observance hold never delays: a deadline's own day, and escalations to the leads.
URGENT_STEPS: frozenset[StepKind] = frozenset({"due", "escalate"})


def post_days(start: date, lead_days: Iterable[int], *, is_open: Callable[[date], bool]) -> list[date]:
    """The days a channel posts about an observance beginning on `start`, soonest first. A day the channel
    doesn't post on (a weekend, a bank holiday) moves back to its last working day before, so the post still
    comes ahead of the observance rather than after it; two leads landing on one day make one post."""
    days = set()
    for lead in lead_days:
        day = start - timedelta(days=lead)
        for _ in range(14):  # a channel open no day of the fortnight posts on the written day
            if is_open(day):
                break
            day -= timedelta(days=1)
        else:
            day = start - timedelta(days=lead)
        days.add(day)
    return sorted(days)
