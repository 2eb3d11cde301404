"""The values of the deadline grammar: the Deadline it answers with, and the readings it builds on the way."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal, NamedTuple, Protocol

DeadlineKind = Literal["dated", "ongoing", "recurring", "unknown", "complete"]

# What the words around a date ("by", "from", "w/c", "onwards") say it is: a plain date, a deadline, the day
# after something must be done, when work starts, or a window to work in.
Mode = Literal["plain", "deadline", "before", "start", "window"]


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


# The working types below are NamedTuples: they are made by the thousand per import and build faster.
class Span(NamedTuple):
    """A stretch of calendar time a phrase names; `last` is when it is due."""

    first: date
    last: date
    # Quarters, financial years and ranges name a window to work in, so their first day is a start date;
    # "June 2024" only says when the work is due.
    window: bool = False
    note: str | None = None


class Problem(NamedTuple):
    """A phrase shaped like a date that cannot be turned into one."""

    warning: str
    needs_today: bool = False


class Reading(NamedTuple):
    """What a cell, or one part of it, reads as so far."""

    kind: DeadlineKind
    start: date | None = None
    due: date | None = None
    recurrence: str | None = None
    milestones: tuple[date, ...] = ()
    warnings: tuple[str, ...] = ()
    needs_today: bool = False


# A single period's reader answers with a span, a reason it is no date, or None: not its shape at all.
Found = Span | Problem | None


def unknown(warning: str, *, needs_today: bool = False) -> Reading:
    return Reading("unknown", warnings=(warning,), needs_today=needs_today)


class Scheduled(Protocol):
    """What the rules read of an action's deadline as it is kept: its kind and dates (an Action, a row of
    its columns)."""

    @property
    def deadline_kind(self) -> DeadlineKind: ...
    @property
    def start_date(self) -> date | None: ...
    @property
    def due_date(self) -> date | None: ...
    @property
    def recurrence(self) -> str | None: ...
