"""A plan's progress report as plain values, as the plan stood at any moment: its actions rebuilt from their
history, RAG over time, progress by theme, overdue by owner and what changed since an earlier moment.

Every change to an action is a history row (field, from → to), so the plan as it stood at `as_of` is the plan
now with each later change undone, newest first. The same walk, stopped at each weekly point on the way
back, gives the RAG counts over time. The rules are the digest's: one bucket per action
(`storage.digests.bucket_of`, done wins over any rating), one rule of overdue (`storage.rules.overdue`),
themes as the importer names them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from storage.digests import BUCKETS, bucket_of
from storage.models import Action, HistoryEntry, Plan
from storage.rules.deadlines import DeadlineKind, interpret_deadline
from storage.rules.overdue import days_overdue
from storage.rules.owners import OWNER_SEPARATOR
from storage.rules.status import Status

TIMELINE_WEEKS = 12  # RAG over time: a point a week for a quarter, the span a board meets over
SINCE_DEFAULT = timedelta(weeks=4)  # "what changed": the month before, the span a working group meets over
NO_THEME = "No theme"
NO_OWNER = "No owner"
# The history fields a report lists under "what changed", with the words it uses for them.
CHANGE_LABELS = {
    "created": "added",
    "archived": "archived",
    "rag": "rating",
    "status": "status",
    "note": "note",
    "progress": "note",
    "deadline": "deadline",
    "due": "next due",
    "owners": "owners",
    "title": "title",
}


class ReportRefused(ValueError):
    """A report that can't be made as asked (a date out of the plan's life, a theme it hasn't); the message
    says why, to the person who asked."""


@dataclass(frozen=True, slots=True)
class ReportAction:
    """One action as it stood at the report's moment."""

    ref: str
    source_ref: str | None
    title: str
    group: tuple[tuple[str, str], ...]  # (level, value), the theme first
    description: str | None
    how: str | None
    outputs: str | None
    owners: tuple[str, ...]
    deadline_text: str | None
    deadline_kind: DeadlineKind
    due_date: date | None
    rag: str | None
    status: Status
    note: str | None
    updated_at: datetime
    overdue_days: int | None  # None: not overdue on the report's day

    @property
    def theme(self) -> str | None:
        return self.group[0][1] if self.group else None

    @property
    def bucket(self) -> str:
        return bucket_of(self.rag, done=self.status == "done")


@dataclass(frozen=True, slots=True)
class ReportChange:
    """One change between the two moments: a rating, a status, a note, a deadline, owners, added, archived."""

    at: datetime
    ref: str
    title: str
    field: str  # CHANGE_LABELS' word
    from_value: str | None
    to_value: str | None
    actor: str
    note: str | None


@dataclass(frozen=True)
class ReportFacts:
    """Everything a report says, as plain values: the formats never see the store."""

    plan_name: str
    as_of: datetime
    since: datetime
    theme: str | None
    actions: tuple[ReportAction, ...]  # live on the day, in plan order
    counts: dict[str, int]  # by bucket (BUCKETS)
    timeline: tuple[tuple[date, dict[str, int]], ...]  # oldest point first, the last one `as_of`
    by_theme: tuple[tuple[str, dict[str, int]], ...]  # in plan order
    overdue_by_owner: tuple[tuple[str, tuple[ReportAction, ...]], ...]  # most overdue actions first
    changes: tuple[ReportChange, ...]  # newest first
    group_levels: tuple[str, ...]  # the plan's grouping levels ("theme", "objective"), for column headers

    @property
    def overdue(self) -> int:
        return sum(1 for action in self.actions if action.overdue_days is not None)


@dataclass(slots=True)
class _State:
    """An action's fields, changed back one history row at a time."""

    action: Action
    title: str
    group: list[tuple[str, str]]
    description: str | None
    how: str | None
    outputs: str | None
    owners: list[str]
    deadline_text: str | None
    deadline_kind: DeadlineKind
    due_date: date | None
    rag: str | None
    status: Status
    note: str | None
    archived: bool
    updated_at: datetime
    theme_match: bool = field(default=True)

    def exists_at(self, moment: datetime) -> bool:
        return self.action.created_at <= moment and not self.archived

    def undo(self, entry: _Entry) -> None:
        """The action as it was before this change."""
        name, before = entry.field, entry.from_value
        if name == "rag":
            self.rag = before
        elif name == "status":
            self.status = "done" if before == "done" else "open"
        elif name in ("note", "progress"):
            self.note = before
        elif name == "archived":
            self.archived = before == "yes"
        elif name == "owners":
            # An import writes owners "A; B", a chat command as it lists them, "A · B".
            written = (before or "").replace(OWNER_SEPARATOR, ";")
            self.owners = [owner.strip() for owner in written.split(";") if owner.strip()]
        elif name == "deadline":
            deadline = interpret_deadline(before or "", today=entry.at.date())
            self.deadline_text = before
            self.deadline_kind, self.due_date = deadline.kind, deadline.due
        elif name == "due":
            self.due_date = date.fromisoformat(before) if before else None
        elif name == "title" and before:
            self.title = before
        elif name in ("description", "how", "outputs"):
            setattr(self, name, before)
        elif name == "group":
            values = [value.strip() for value in (before or "").split("›") if value.strip()]
            levels = [level for level, _ in self.group] + ["group"] * len(values)
            self.group = list(zip(levels, values, strict=False))


@dataclass(frozen=True, slots=True)
class _Entry:
    action_id: int
    at: datetime
    actor: str
    field: str
    from_value: str | None
    to_value: str | None
    note: str | None


def plan_themes(session: Session, plan: Plan) -> list[str]:
    """The plan's live themes, in plan order."""
    themes = session.scalars(
        select(Action.theme)
        .where(Action.plan_id == plan.id, Action.archived.is_(False), Action.theme.is_not(None))
        .order_by(Action.position)
    )
    return list(dict.fromkeys(theme for theme in themes if theme))


def report_facts(
    session: Session,
    plan: Plan,
    *,
    as_of: datetime,
    now: datetime,
    since: datetime | None = None,
    theme: str | None = None,
) -> ReportFacts:
    """The plan as it stood at `as_of` (no later than `now`, no earlier than the plan), and what changed
    between `since` (default: four weeks before) and then; only the themes whose name holds `theme`."""
    if as_of > now:
        raise ReportRefused(
            f"{as_of:%-d %B %Y} is in the future: a report can be as of today ({now:%-d %B %Y}) at the "
            "latest."
        )
    if as_of < plan.created_at:
        raise ReportRefused(
            f"'{plan.name}' didn't exist on {as_of:%-d %B %Y}: it was first imported on "
            f"{plan.created_at:%-d %B %Y}. Choose a date from then on."
        )
    since = as_of - SINCE_DEFAULT if since is None else since
    if since > as_of:
        raise ReportRefused(
            f"The changes can't be listed from {since:%-d %B %Y}: that is after the report's date "
            f"({as_of:%-d %B %Y}). Choose an earlier day."
        )
    wanted = (theme or "").strip().casefold()
    if wanted:
        themes = plan_themes(session, plan)
        if not any(wanted in name.casefold() for name in themes):
            known = "; ".join(themes) if themes else "it has no themes"
            raise ReportRefused(f"No theme of '{plan.name}' has '{theme}' in its name. Its themes: {known}.")

    actions = session.scalars(
        select(Action)
        .where(Action.plan_id == plan.id)
        .options(selectinload(Action.owners))
        .order_by(Action.position, Action.id)
    ).all()
    states = {action.id: _state_now(action) for action in actions}
    # When each action last changed on or before the day: its latest history row by then.
    for action_id, last in session.execute(
        select(HistoryEntry.action_id, func.max(HistoryEntry.at))
        .join(Action, Action.id == HistoryEntry.action_id)
        .where(Action.plan_id == plan.id, HistoryEntry.at <= as_of)
        .group_by(HistoryEntry.action_id)
    ):
        states[action_id].updated_at = last
    entries = [
        _Entry(*row)
        for row in session.execute(
            select(
                HistoryEntry.action_id,
                HistoryEntry.at,
                HistoryEntry.actor,
                HistoryEntry.field,
                HistoryEntry.from_value,
                HistoryEntry.to_value,
                HistoryEntry.note,
            )
            .join(Action, Action.id == HistoryEntry.action_id)
            .where(Action.plan_id == plan.id, HistoryEntry.at > min(since, _first_point(as_of, plan)))
            .order_by(HistoryEntry.at.desc(), HistoryEntry.id.desc())
        )
    ]

    def chosen(state: _State) -> bool:
        return not wanted or wanted in (state.group[0][1] if state.group else "").casefold()

    # Walk back from now: undo every change after each point, newest point first.
    points = _points(as_of, plan)
    timeline: list[tuple[date, dict[str, int]]] = []
    changes: list[ReportChange] = []
    cursor = 0
    snapshot: list[ReportAction] = []
    for point in sorted([*points, since], reverse=True):
        while cursor < len(entries) and entries[cursor].at > point:
            entry = entries[cursor]
            state = states[entry.action_id]
            if entry.at <= as_of and entry.at > since and chosen(state) and entry.field in CHANGE_LABELS:
                changes.append(_change(entry, state))
            state.undo(entry)
            cursor += 1
        if point == as_of and not snapshot:
            snapshot = [
                _frozen(state, today=as_of.date())
                for state in states.values()
                if state.exists_at(point) and chosen(state)
            ]
        if point in points:
            counts = Counter(
                bucket_of(state.rag, done=state.status == "done")
                for state in states.values()
                if state.exists_at(point) and chosen(state)
            )
            timeline.append((point.date(), {bucket: counts[bucket] for bucket in BUCKETS}))
    timeline.reverse()
    timeline = list(dict(timeline).items())  # one point a day at most (as_of may fall on a weekly point)

    counts = Counter(action.bucket for action in snapshot)
    by_theme: dict[str, Counter[str]] = {}
    owed: dict[str, list[ReportAction]] = {}
    for action in snapshot:
        by_theme.setdefault(action.theme or NO_THEME, Counter())[action.bucket] += 1
        if action.overdue_days is not None:
            for owner in action.owners or (NO_OWNER,):
                owed.setdefault(owner, []).append(action)
    overdue_by_owner = sorted(owed.items(), key=lambda item: (-len(item[1]), item[0].casefold()))
    levels = dict.fromkeys(level for action in snapshot for level, _ in action.group)
    return ReportFacts(
        plan_name=plan.name,
        as_of=as_of,
        since=since,
        theme=theme.strip() if theme and theme.strip() else None,
        actions=tuple(snapshot),
        counts={bucket: counts[bucket] for bucket in BUCKETS},
        timeline=tuple(timeline),
        by_theme=tuple((name, {b: found[b] for b in BUCKETS}) for name, found in by_theme.items()),
        overdue_by_owner=tuple(
            (owner, tuple(sorted(found, key=lambda a: -(a.overdue_days or 0))))
            for owner, found in overdue_by_owner
        ),
        changes=tuple(_one_per_change(changes)),
        group_levels=tuple(levels),
    )


def _first_point(as_of: datetime, plan: Plan) -> datetime:
    return _points(as_of, plan)[-1]


def _points(as_of: datetime, plan: Plan) -> list[datetime]:
    """The timeline's moments, newest first: `as_of`, and a week before each, back to the plan's start."""
    points = [as_of - timedelta(weeks=weeks) for weeks in range(TIMELINE_WEEKS + 1)]
    kept = [point for point in points if point >= plan.created_at]
    return kept or [as_of]


def _state_now(action: Action) -> _State:
    return _State(
        action=action,
        title=action.title,
        group=[(str(step.get("level", "group")), str(step.get("value", ""))) for step in action.group_path],
        description=action.description,
        how=action.how,
        outputs=action.outputs,
        owners=[owner.name for owner in action.owners],
        deadline_text=action.deadline_text,
        deadline_kind=action.deadline_kind,
        due_date=action.due_date,
        rag=action.rag,
        status=action.status,
        note=action.progress_note,
        archived=action.archived,
        updated_at=action.updated_at,
    )


def _frozen(state: _State, *, today: date) -> ReportAction:
    action = state.action
    return ReportAction(
        ref=action.ref,
        source_ref=action.source_ref,
        title=state.title,
        group=tuple(state.group),
        description=state.description,
        how=state.how,
        outputs=state.outputs,
        owners=tuple(state.owners),
        deadline_text=state.deadline_text,
        deadline_kind=state.deadline_kind,
        due_date=state.due_date,
        rag=state.rag,
        status=state.status,
        note=state.note,
        updated_at=state.updated_at,
        overdue_days=days_overdue(state.deadline_kind, state.due_date, today, done=state.status == "done"),
    )


def _change(entry: _Entry, state: _State) -> ReportChange:
    return ReportChange(
        at=entry.at,
        ref=state.action.ref,
        title=state.title,
        field=CHANGE_LABELS[entry.field],
        from_value=entry.from_value,
        to_value=entry.to_value,
        actor=entry.actor,
        note=entry.note,
    )


def _one_per_change(changes: Sequence[ReportChange]) -> list[ReportChange]:
    """One line per thing someone did, as the digest's "what moved" has it: marking an action done writes its
    status and its rating (to blue) at once, and a rating given with a note writes the note too."""
    together: dict[tuple[str, datetime, str], list[ReportChange]] = {}
    for change in changes:
        together.setdefault((change.ref, change.at, change.actor), []).append(change)
    result: list[ReportChange] = []
    for group in together.values():
        fields = {change.field for change in group}
        notes = {change.note for change in group if change.field not in ("note",)}
        for change in group:
            if change.field == "rating" and "status" in fields:
                continue
            if change.field == "note" and change.to_value in notes:
                continue
            if change.field == "status" and "rating" in fields and not change.note:
                rated = next(c for c in group if c.field == "rating")
                change = replace(change, note=rated.note)
            result.append(change)
    return result
