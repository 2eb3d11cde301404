"""The changes several commands make alike, each written once: done means blue, a new rating reopens a done
action, a note is kept, a deadline applied, an owner's name bounded, and a period such as "2w" counted from a
day."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from handlers.core import Request
from handlers.errors import CommandError
from storage.models import Action, HistoryEntry
from storage.rules.bounds import DEADLINE_LIMIT, OWNER_NAME_LIMIT
from storage.rules.deadlines import Deadline
from storage.rules.rag import Rag

DONE_RAG: Rag = "blue"  # a done action is rated blue, and reopening it takes the blue away


def mark_done(request: Request, action: Action, note: str | None) -> None:
    """Done, with the note as the reason for it; a done action is blue."""
    request.change(action, "status", action.status, "done", note)
    action.status = "done"
    if action.rag != DONE_RAG:
        request.change(action, "rag", action.rag, DONE_RAG)
        action.rag = DONE_RAG


def rate(request: Request, action: Action, rag: Rag, note: str | None) -> None:
    """Red, amber or green, with the note as the reason for it: a done action is open again."""
    if action.status == "done":
        request.change(action, "status", "done", "open")
        action.status = "open"
    if action.rag != rag:
        request.change(action, "rag", action.rag, rag, note)
        action.rag = rag


def mark_open(request: Request, action: Action) -> None:
    """A done action open again, no longer blue: back to the RAG it had before it was done (its history says
    which), or not rated if it had none."""
    request.change(action, "status", "done", "open")
    action.status = "open"
    if action.rag == DONE_RAG:
        before = rag_before_done(request.store.history(action))
        request.change(action, "rag", DONE_RAG, before)
        action.rag = before


_OPEN_RAGS: dict[str | None, Rag] = {"red": "red", "amber": "amber", "green": "green"}


def rag_before_done(entries: Sequence[HistoryEntry]) -> Rag | None:
    """The RAG an action had when it last turned blue, from its history (newest first); None if unrated
    then."""
    for entry in entries:
        if entry.field == "rag" and entry.to_value == DONE_RAG:
            return _OPEN_RAGS.get(entry.from_value)
    return None


def keep_note(request: Request, action: Action, note: str) -> None:
    """The latest progress note, the one before it kept in the history."""
    request.change(action, "note", action.progress_note, note)
    action.progress_note = note


def apply_deadline(action: Action, written: str, deadline: Deadline) -> None:
    """A deadline as it was written and as edibot reads it (`interpret_deadline(written)`), on an action."""
    action.deadline_text = written or None
    action.deadline_kind = deadline.kind
    action.start_date = deadline.start
    action.due_date = deadline.due
    action.recurrence = deadline.recurrence
    action.milestones = [day.isoformat() for day in deadline.milestones]


def refuse_long_owner_name(name: str) -> None:
    """An owner's name longer than OWNER_NAME_LIMIT is refused whole: it would not fit where owners are
    kept."""
    if len(name) > OWNER_NAME_LIMIT:
        raise CommandError(
            f"An owner's name may be at most {OWNER_NAME_LIMIT} characters; that one is {len(name):,}. "
            "I haven't changed anything."
        )


def refuse_long_deadline(written: str, *, unchanged: str) -> None:
    """A deadline as written longer than DEADLINE_LIMIT is refused: no date is written that long."""
    if len(written) > DEADLINE_LIMIT:
        raise CommandError(
            f"A deadline may be at most {DEADLINE_LIMIT} characters as written; that one is "
            f"{len(written):,}. I haven't changed {unchanged}."
        )


_PERIOD = re.compile(r"^(\d{1,4})\s*(d|w|m)$", re.IGNORECASE)


@dataclass(frozen=True)
class Period:
    """So many days, weeks or months, as in `/edi snooze LT-4 2w` or `/edi list due:3m`."""

    amount: int
    unit: str  # "d", "w" or "m"

    def after(self, day: date) -> date:
        """The day this long after `day`; a month on from 31 January is the last day of February."""
        if self.unit == "m":
            return day + relativedelta(months=self.amount)
        return day + timedelta(days=self.amount * (7 if self.unit == "w" else 1))


def read_period(text: str) -> Period | None:
    """ "3d", "2w", "3m", "2 w" → a Period; None for anything else."""
    match = _PERIOD.match(text)
    return Period(int(match.group(1)), match.group(2).lower()) if match else None
