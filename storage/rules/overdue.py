"""What "overdue" means, once, for every surface: the sweep, `plans`, `actions --overdue`, `/edi mine`, App
Home.

An action is overdue when it is still open and its dated deadline has passed. An action written
"Nov 2022 & Ongoing" (deadline kind "ongoing", with a due date) is not overdue once that date passes: it
becomes ongoing and is checked in on, as the reminder ladder does; a recurring action moves on to its next
occurrence. Counting those as overdue would make a board report say "overdue by 372 days" of work that is
meant to go on.
"""

from __future__ import annotations

from datetime import date
from typing import Final, Literal, Protocol

from storage.rules.deadlines import DeadlineKind
from storage.rules.status import Status

# The deadline kinds that can be overdue: storage builds its SQL filter from this, so the rule stays here.
OVERDUE_KINDS: Final[tuple[DeadlineKind, ...]] = ("dated",)


def is_overdue(kind: DeadlineKind, due: date | None, today: date, *, done: bool = False) -> bool:
    """True when an open action's dated deadline is before `today`."""
    return not done and kind in OVERDUE_KINDS and due is not None and due < today


def days_overdue(kind: DeadlineKind, due: date | None, today: date, *, done: bool = False) -> int | None:
    """How many days past its deadline an overdue action is; None when it is not overdue."""
    if not is_overdue(kind, due, today, done=done) or due is None:
        return None
    return (today - due).days


class Deadlined(Protocol):
    """What the rule reads of an action: an Action, an ActionRow, or any value with these."""

    @property
    def status(self) -> Status: ...
    @property
    def deadline_kind(self) -> DeadlineKind: ...
    @property
    def due_date(self) -> date | None: ...


def action_overdue(action: Deadlined, today: date) -> bool:
    """is_overdue, asked of an action."""
    return is_overdue(action.deadline_kind, action.due_date, today, done=action.status == "done")


Standing = Literal["overdue", "due soon", "ongoing", "no date", "later"]
STANDINGS: Final[tuple[Standing, ...]] = ("overdue", "due soon", "ongoing", "no date", "later")


def standing(action: Deadlined, today: date, *, soon_days: int) -> Standing:
    """Where an open action stands, as a welcome groups it: overdue, due within `soon_days`, ongoing (an
    "& Ongoing" action past its date, a recurring one), no date yet, or due later."""
    kind, due = action.deadline_kind, action.due_date
    if action_overdue(action, today):
        return "overdue"
    if kind == "recurring" or (kind == "ongoing" and (due is None or due < today)):
        return "ongoing"
    if due is None:
        return "no date"
    return "due soon" if (due - today).days <= soon_days else "later"
