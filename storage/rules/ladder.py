"""The reminder ladder: which step each action has reached on a given day, and when it reaches the next one.

Pure date arithmetic on one action and its plan's settings; it never reads the clock or the database. The one
fact it is handed from outside is what its owners were actually sent (`Reminded`): an escalation says "the
owners have had their reminders and said nothing", so it waits until that is true, not only until a date.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final, Literal, Protocol, get_args
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from storage.rules.deadlines import Scheduled
from storage.rules.defaults import REMINDER_DAYS
from storage.rules.overdue import is_overdue
from storage.rules.recurrence import step_of
from storage.rules.status import Status

StepKind = Literal["before", "due", "overdue", "escalate", "checkin", "set-date"]
STEP_KINDS: Final[tuple[StepKind, ...]] = get_args(StepKind)

SET_DATE_EVERY = timedelta(days=14)
_HORIZON = 400  # occurrences looked at, at most (weekly for eight years)


class LadderSettings(Protocol):
    """What the ladder reads of a plan: a plan's row, or any value with these."""

    @property
    def paused(self) -> bool: ...
    @property
    def reminder_days(self) -> list[int]: ...
    @property
    def escalate_after_days(self) -> int: ...
    @property
    def checkin_months(self) -> int: ...


class ActionFacts(Scheduled, Protocol):
    """What the ladder (and the sweep around it) reads of an action: an Action, or just these of its
    columns."""

    @property
    def id(self) -> int: ...
    @property
    def plan_id(self) -> int: ...
    @property
    def archived(self) -> bool: ...
    @property
    def status(self) -> Status: ...
    @property
    def snoozed_until(self) -> date | None: ...
    @property
    def answered_at(self) -> datetime | None: ...
    @property
    def created_at(self) -> datetime: ...


@dataclass(frozen=True)
class Step:
    """One rung of the ladder: its kind (and, before a deadline, how many days before), which deadline or
    period it belongs to, and the day it is for."""

    kind: StepKind
    occurrence: str
    on: date
    days_before: int | None = None  # set for "before" only

    def __post_init__(self) -> None:
        if (self.kind == "before") != (self.days_before is not None):
            raise ValueError(f"a '{self.kind}' step with days_before={self.days_before}")

    @classmethod
    def from_name(cls, name: str, *, occurrence: str, on: date) -> Step:
        """A step read back from its stored name (the inverse of `name`)."""
        days = name.removeprefix("before-")
        if days != name and days.isdigit():
            return cls("before", occurrence, on, days_before=int(days))
        for kind in STEP_KINDS:
            if name == kind and kind != "before":
                return cls(kind, occurrence, on)
        raise ValueError(f"'{name}' is not a reminder step")

    @property
    def deadline(self) -> date | None:
        """The deadline a "before" or "due" step counts towards (a recurring action's occurrence has no
        due date of its own on the action)."""
        if self.kind not in ("before", "due"):
            return None
        try:
            return date.fromisoformat(self.occurrence)
        except ValueError:
            return None

    @property
    def name(self) -> str:
        """How nudge keys and the outbox store it ("before-14", "due", "escalate"): the one place it is
        written."""
        return f"before-{self.days_before}" if self.kind == "before" else self.kind

    @property
    def escalation(self) -> bool:
        return self.kind == "escalate"

    def describe(self) -> str:
        if self.days_before is not None:
            days = self.days_before
            return f"due in {days} day{'s' if days != 1 else ''}"
        return _SAID[self.kind]


_SAID: Final[dict[StepKind, str]] = {
    "due": "due today",
    "overdue": "overdue",
    "escalate": "overdue and escalated",
    "checkin": "progress check-in",
    "set-date": "needs a date",
}


@dataclass(frozen=True)
class Reminded:
    """The overdue reminders about one action its owners were actually sent (delivered, not only planned)
    since it fell overdue or was last answered: how many (one per weekly round), and the day of the first."""

    count: int
    first: date


def promised_reminders(plan: LadderSettings) -> int:
    """How many weekly overdue reminders the ladder gives before it escalates: those between the day after the
    deadline and the escalation day (two for the default 14 days), at least one."""
    return max(1, math.ceil((max(plan.escalate_after_days, 1) - 1) / 7))


def escalation_day(plan: LadderSettings, due: date, reminded: Reminded | None) -> date | None:
    """The day an overdue action escalates: `escalate_after_days` after its deadline, and never sooner than
    that long after its owners' first delivered reminder (less the day the ladder sends that one after the
    deadline); None while they have not had the reminders the ladder promises.

    So a plan adopted long after its deadlines escalates nothing on its first day: its owners first hear of
    them, then have the same time to answer as for a deadline that passes today.
    """
    if reminded is None or reminded.count < promised_reminders(plan):
        return None
    after = max(plan.escalate_after_days, 1)
    return max(due + timedelta(days=after), reminded.first + timedelta(days=after - 1))


def may_escalate(action: ActionFacts, plan: LadderSettings, today: date) -> bool:
    """Whether the action is far enough past its deadline to escalate if its owners have had their reminders:
    the sweep asks what was delivered only about these."""
    due = action.due_date
    return (
        due is not None
        and is_overdue(action.deadline_kind, due, today, done=action.status == "done")
        and today >= due + timedelta(days=max(plan.escalate_after_days, 1))
    )


class Answerable(Protocol):
    @property
    def answered_at(self) -> datetime | None: ...


def answered_since(action: Answerable, step: Step, zone: ZoneInfo) -> bool:
    """An owner already acted on it in chat (a button, a reply) on or after the step's day: that step is done.

    Imports don't count (they are the plan changing, not the owner answering), and escalations and
    requests for a date stand until the facts change.
    """
    if step.escalation or step.kind == "set-date" or action.answered_at is None:
        return False
    return action.answered_at.astimezone(zone).date() >= step.on


def current_steps(
    action: ActionFacts, plan: LadderSettings, today: date, *, reminded: Reminded | None = None
) -> list[Step]:
    """The latest step of each kind this action has reached by `today` (earlier, stale ones are not
    repeated); an escalation only once `reminded` shows the owners have had the reminders promised."""
    return steps_and_next(action, plan, today, reminded=reminded)[0]


def next_step_on(
    action: ActionFacts, plan: LadderSettings, today: date, *, reminded: Reminded | None = None
) -> date | None:
    """The first day after `today` on which the action reaches a new step, or None if it never will."""
    return steps_and_next(action, plan, today, reminded=reminded)[1]


def steps_and_next(
    action: ActionFacts, plan: LadderSettings, today: date, *, reminded: Reminded | None = None
) -> tuple[list[Step], date | None]:
    """current_steps and next_step_on at once, for the sweep, which needs both of every action it looks at."""
    if action.archived or action.status == "done" or action.deadline_kind == "complete" or plan.paused:
        return [], None
    if action.snoozed_until and action.snoozed_until > today:
        return [], action.snoozed_until
    kind, due = action.deadline_kind, action.due_date
    if kind == "recurring":
        upcoming = _next_occurrence(action, today)
        return _before(plan, upcoming, today) if upcoming else ([], None)
    if due is not None and due >= today:
        return _before(plan, due, today)
    if due is not None and is_overdue(kind, due, today):
        return _overdue(plan, due, today, reminded)
    if kind == "ongoing":
        return _checkins(action, plan, today)
    return _set_date(action, today)


def _before(plan: LadderSettings, due: date, today: date) -> tuple[list[Step], date | None]:
    days = sorted({int(d) for d in (plan.reminder_days or REMINDER_DAYS) if int(d) >= 0}, reverse=True)
    reached = [d for d in days if due - timedelta(days=d) <= today]
    later = [due - timedelta(days=d) for d in days if due - timedelta(days=d) > today]
    steps = []
    if reached:
        d = min(reached)
        on = due - timedelta(days=d)
        steps.append(Step("due", due.isoformat(), on) if d == 0 else Step("before", due.isoformat(), on, d))
    after_due = due + timedelta(days=1)
    return steps, min(later) if later else after_due


def _overdue(
    plan: LadderSettings, due: date, today: date, reminded: Reminded | None
) -> tuple[list[Step], date]:
    first = due + timedelta(days=1)  # the person's calendar moves it to their first working day
    weeks = (today - first).days // 7
    on = first + timedelta(weeks=weeks)
    steps = [Step("overdue", f"{due.isoformat()}+{weeks}w", on)]
    upcoming = [on + timedelta(weeks=1)]  # a reminder delivered meanwhile is counted then
    escalate_on = escalation_day(plan, due, reminded)
    if escalate_on is not None and today >= escalate_on:
        steps.append(Step("escalate", due.isoformat(), escalate_on))
    elif escalate_on is not None:
        upcoming.append(escalate_on)
    return steps, min(upcoming)


def _checkins(action: ActionFacts, plan: LadderSettings, today: date) -> tuple[list[Step], date]:
    anchor = max(filter(None, [action.start_date, action.due_date, action.created_at.date()]))
    every = relativedelta(months=max(plan.checkin_months, 1))
    reached: date | None = None
    on = anchor + every
    for _ in range(_HORIZON):
        if on > today:
            break
        reached, on = on, on + every
    steps = [Step("checkin", reached.isoformat(), reached)] if reached else []
    return steps, on


def _set_date(action: ActionFacts, today: date) -> tuple[list[Step], date]:
    start = action.created_at.date()
    rounds = max((today - start).days, 0) // SET_DATE_EVERY.days
    on = start + SET_DATE_EVERY * rounds
    return [Step("set-date", on.isoformat(), on)], on + SET_DATE_EVERY


def _next_occurrence(action: ActionFacts, today: date) -> date | None:
    period = step_of(action.recurrence)
    if period is None:
        return None
    occurrence = action.due_date or (action.created_at.date() + period)
    for _ in range(_HORIZON):
        if occurrence >= today:
            return occurrence
        occurrence += period
    return None


def next_occurrence_after(action: ActionFacts, current: date) -> date | None:
    """For a recurring action marked done: the occurrence after this one."""
    period = step_of(action.recurrence)
    return current + period if period else None
