"""What a channel's weekly digest reads from the store: its subscription, and the week's facts of the actions
it covers, gathered once for many digests.

A round of digests (or the benchmark's thousand) reads every live action and the week's history in two
queries, works out each (plan, theme) group's counts and lists once per local day, and then answers each
subscription by adding up the groups it covers. Only a subscription that names an owner reads more: the ids
of that owner's actions.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from operator import itemgetter
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from storage.batches import chunks
from storage.models import (
    Action,
    DigestSubscription,
    HistoryEntry,
    Owner,
    Plan,
    action_owners,
)
from storage.rules.deadlines import DeadlineKind
from storage.rules.defaults import DUE_SOON_DAYS
from storage.rules.overdue import is_overdue
from storage.rules.owners import owner_key
from storage.rules.status import Status

# The buckets a digest counts, in the order it shows them: a done action counts as done whatever its rating.
BUCKETS = ("red", "amber", "green", "done", "unrated")
# Their names wherever they are shown as words (digests, reports): colour is never the only signal.
BUCKET_NAMES = {"red": "Red", "amber": "Amber", "green": "Green", "done": "Done", "unrated": "Not rated"}
WEEK = timedelta(days=7)
MOVE_FIELDS = ("rag", "status")  # the changes "what moved this week" lists


# -- subscriptions -----------------------------------------------------------------------------------------


def digest_subscriptions(session: Session) -> Sequence[DigestSubscription]:
    """Every channel's digest subscription, by channel name, with its plan."""
    return session.scalars(
        select(DigestSubscription)
        .options(selectinload(DigestSubscription.plan))
        .order_by(DigestSubscription.channel_name, DigestSubscription.id)
    ).all()


def digest_subscriptions_in(session: Session, channels: Collection[str]) -> Sequence[DigestSubscription]:
    """The subscriptions of the channels with these platform ids."""
    if not channels:
        return []
    return session.scalars(
        select(DigestSubscription).where(DigestSubscription.channel.in_(sorted(channels)))
    ).all()


def digest_subscription_of(session: Session, channel: str) -> DigestSubscription | None:
    """The subscription of the channel with this platform id, or this name ("#edi-group" or "edi-group")."""
    found = session.scalar(select(DigestSubscription).where(DigestSubscription.channel == channel))
    if found is not None:
        return found
    name = channel.lstrip("#").casefold()
    return next((s for s in digest_subscriptions(session) if s.channel_name.casefold() == name), None)


# -- the week's facts --------------------------------------------------------------------------------------


class DigestAction(NamedTuple):
    """One live action as a digest reads it (a tuple: a hundred thousand of them are made in one read)."""

    id: int
    plan_id: int
    ref: str
    title: str
    theme: str | None
    deadline_kind: DeadlineKind
    due_date: date | None
    rag: str | None
    status: Status
    updated_at: datetime
    existed_a_week_ago: bool
    position: int

    @property
    def bucket(self) -> str:
        return bucket_of(self.rag, done=self.status == "done")


def bucket_of(rag: str | None, *, done: bool) -> str:
    """Where an action counts: done (or rated blue, the rating for done), else its rating, else unrated."""
    if done or rag == "blue":
        return "done"
    return rag if rag in ("red", "amber", "green") else "unrated"


@dataclass(frozen=True, slots=True)
class Move:
    """One change this week to an action's rating or status: who, when, from → to, and their note."""

    action: DigestAction
    at: datetime
    actor: str
    surface: str
    field: str
    from_value: str | None
    to_value: str | None
    note: str | None


@dataclass
class _Group:
    """One (plan, theme)'s facts for one local day: counts now and a week ago, and its lists, sorted."""

    plan_id: int
    theme: str | None
    counts: Counter[str] = field(default_factory=Counter)
    last_week: Counter[str] = field(default_factory=Counter)
    overdue: list[DigestAction] = field(default_factory=list)  # oldest deadline first
    due_soon: list[DigestAction] = field(default_factory=list)  # soonest first
    open_by_update: list[DigestAction] = field(default_factory=list)  # least recently updated first
    updated: list[float] = field(default_factory=list)  # their updated_at (a timestamp), to bisect stale ones
    moved: list[Move] = field(default_factory=list)  # oldest first


@dataclass(frozen=True)
class Section:
    """A digest's list, grouped: each group's label (a theme, "Plan › theme", or "" for no grouping) and
    items, and how many there are in all."""

    groups: tuple[tuple[str, tuple[DigestAction, ...]], ...]
    total: int


@dataclass(frozen=True)
class MovedSection:
    groups: tuple[tuple[str, tuple[Move, ...]], ...]
    total: int


@dataclass(frozen=True)
class DigestFacts:
    """Everything one channel's digest says, as plain values: the adapters never see the store."""

    title: str  # what it covers: "Northbridge EDI Plan", "All plans · theme: workforce"
    plan_name: str | None  # the plan it names, for the "full list" command
    theme: str | None
    owner: str | None
    today: date
    counts: dict[str, int]
    last_week: dict[str, int]
    moved: MovedSection
    overdue: Section
    due_soon: Section
    stale: Section
    stale_weeks: int
    paused: bool = False  # the plan it names is paused: no reminders go out for it

    @property
    def quiet(self) -> bool:
        """Nothing moved, nothing overdue, due soon or stale: a week with nothing to say."""
        return not (self.moved.total or self.overdue.total or self.due_soon.total or self.stale.total)


class DigestSource:
    """Every live action and this week's moves, loaded once; each subscription's facts are added up from it.

    `now` is when the digests are built; "this week" is the seven days before it. The actions are read as they
    are now: a preview for a moment later than now shows today's actions with that moment's dates.
    """

    def __init__(self, session: Session, *, now: datetime) -> None:
        self.session = session
        self.now = now
        self.since = now - WEEK
        self.plans = {plan.id: plan for plan in session.scalars(select(Plan))}
        # Through the connection: the ORM's loading of plain columns costs more than reading them.
        rows = session.connection().execute(
            select(
                Action.id,
                Action.plan_id,
                Action.ref,
                Action.title,
                Action.theme,
                Action.deadline_kind,
                Action.due_date,
                Action.rag,
                Action.status,
                Action.updated_at,
                (Action.created_at <= self.since).label("existed"),
                Action.position,
            ).where(Action.archived.is_(False))
        )
        # Sorted here rather than by the database: cheaper than its sort of every row with its title.
        self.actions = sorted(map(DigestAction._make, rows.all()), key=_plan_order)
        self._by_id = by_id = {action.id: action for action in self.actions}
        self._owned: dict[str, list[DigestAction]] = {}
        self._owner_groups: dict[tuple[str, date], dict[tuple[int, str | None], _Group]] = {}
        self.moves: dict[int, list[Move]] = {}
        for action_id, at, actor, surface, name, before, after, note in session.execute(
            select(
                HistoryEntry.action_id,
                HistoryEntry.at,
                HistoryEntry.actor,
                HistoryEntry.surface,
                HistoryEntry.field,
                HistoryEntry.from_value,
                HistoryEntry.to_value,
                HistoryEntry.note,
            )
            .where(HistoryEntry.at > self.since, HistoryEntry.at <= now, HistoryEntry.field.in_(MOVE_FIELDS))
            .order_by(HistoryEntry.at, HistoryEntry.id)
        ):
            action = by_id.get(action_id)
            if action is not None:
                move = Move(action, at, actor, surface, name, before, after, note)
                self.moves.setdefault(action_id, []).append(move)
        self._groups: dict[date, dict[tuple[int, str | None], _Group]] = {}

    def facts(self, subscription: DigestSubscription, *, today: date, shown: int) -> DigestFacts:
        """What this subscription's digest says on `today` (the channel's local date), each list's groups
        holding at most `shown` items (a digest shows no more) and its total counting them all."""
        plan = self.plans.get(subscription.plan_id) if subscription.plan_id is not None else None
        theme = (subscription.theme or "").casefold()
        if subscription.owner:
            groups = self._groups_of_owner(subscription.owner, today).values()
        else:
            groups = self._groups_on(today).values()
        chosen = [
            group
            for group in groups
            if (plan.id == group.plan_id if plan else not self.plans[group.plan_id].restricted)
            and theme in (group.theme or "").casefold()
        ]
        several_plans = len({group.plan_id for group in chosen}) > 1
        themed = several_plans or any(group.theme for group in chosen)

        def label(group: _Group) -> str:
            if not themed:
                return ""
            theme_name = group.theme or "No theme"
            return f"{self.plans[group.plan_id].name} › {theme_name}" if several_plans else theme_name

        counts: Counter[str] = Counter()
        last_week: Counter[str] = Counter()
        for group in chosen:
            counts.update(group.counts)
            last_week.update(group.last_week)
        stale_before = (self.now - timedelta(weeks=subscription.stale_weeks)).timestamp()
        stale = [(group, bisect_left(group.updated, stale_before)) for group in chosen]
        parts = [plan.name if plan else "All plans"]
        parts += [f"theme: {subscription.theme}"] if subscription.theme else []
        parts += [f"owner: {subscription.owner}"] if subscription.owner else []
        return DigestFacts(
            title=" · ".join(parts),
            plan_name=plan.name if plan else None,
            theme=subscription.theme,
            owner=subscription.owner,
            today=today,
            counts={bucket: counts[bucket] for bucket in BUCKETS},
            last_week={bucket: last_week[bucket] for bucket in BUCKETS},
            moved=MovedSection(
                tuple((label(g), tuple(g.moved[:shown])) for g in chosen if g.moved),
                sum(len(g.moved) for g in chosen),
            ),
            overdue=_section([(label(g), g.overdue, len(g.overdue)) for g in chosen], shown=shown),
            due_soon=_section([(label(g), g.due_soon, len(g.due_soon)) for g in chosen], shown=shown),
            stale=_section([(label(g), g.open_by_update, count) for g, count in stale], shown=shown),
            stale_weeks=subscription.stale_weeks,
            paused=bool(plan and plan.paused),
        )

    def _groups_on(self, today: date) -> dict[tuple[int, str | None], _Group]:
        if today not in self._groups:
            self._groups[today] = self._grouped(self.actions, today)
        return self._groups[today]

    def _groups_of_owner(self, owner: str, today: date) -> dict[tuple[int, str | None], _Group]:
        key = (owner.casefold(), today)
        if key not in self._owner_groups:
            self._owner_groups[key] = self._grouped(self._owned_by(owner), today)
        return self._owner_groups[key]

    def _owned_by(self, owner: str) -> list[DigestAction]:
        """The live actions with an owner whose name holds `owner` (as `/edi list owner:` finds them)."""
        if owner not in self._owned:
            roles = list(
                self.session.scalars(
                    select(Owner.id).where(Owner.key.contains(owner_key(owner), autoescape=True))
                )
            )
            owned: set[int] = set()
            for chunk in chunks(roles):
                owned.update(
                    self.session.scalars(
                        select(action_owners.c.action_id).where(action_owners.c.owner_id.in_(chunk))
                    )
                )
            found = [self._by_id[i] for i in owned if i in self._by_id]
            self._owned[owner] = sorted(found, key=_plan_order)
        return self._owned[owner]

    def _grouped(self, actions: Sequence[DigestAction], today: date) -> dict[tuple[int, str | None], _Group]:
        """One pass over the actions: each (plan, theme) group's counts and lists on `today`."""
        groups: dict[tuple[int, str | None], _Group] = {}
        soon = today + timedelta(days=DUE_SOON_DAYS)
        moved = self.moves
        for action in actions:
            key = (action.plan_id, action.theme)
            group = groups.get(key)
            if group is None:
                group = groups[key] = _Group(action.plan_id, action.theme)
            done = action.status == "done"
            bucket = bucket_of(action.rag, done=done)
            group.counts[bucket] += 1
            moves = moved.get(action.id)
            if moves:
                group.moved.extend(_one_per_change(moves))
            if action.existed_a_week_ago:
                group.last_week[_bucket_a_week_ago(action, moves) if moves else bucket] += 1
            if done:
                continue
            due = action.due_date
            if due is not None:
                if is_overdue(action.deadline_kind, due, today):
                    group.overdue.append(action)
                elif today <= due <= soon:
                    group.due_soon.append(action)
            group.open_by_update.append(action)
        for group in groups.values():
            group.overdue.sort(key=lambda a: (a.due_date or today, a.position))
            group.due_soon.sort(key=lambda a: (a.due_date or today, a.position))
            group.open_by_update.sort(key=lambda a: (a.updated_at, a.position))
            group.updated = [a.updated_at.timestamp() for a in group.open_by_update]
            group.moved.sort(key=lambda m: (m.at, m.action.position))
        return groups


_plan_order = itemgetter(1, 11)  # a DigestAction's (plan_id, position): its place in its plan


def _bucket_a_week_ago(action: DigestAction, moves: list[Move] | None) -> str:
    """The bucket an action was in a week ago: its rating and status before this week's first change to
    each."""
    rag, done = action.rag, action.status == "done"
    for move in reversed(moves or []):  # newest first, so the earliest change's "from" is left standing
        if move.field == "rag":
            rag = move.from_value
        elif move.field == "status":
            done = move.from_value == "done"
    return bucket_of(rag, done=done)


def _one_per_change(moves: list[Move]) -> list[Move]:
    """One move per change someone made: marking an action done writes its status and its rating (to blue)
    at the same moment, and the rating, carrying the note of either, says it."""
    kept: dict[tuple[datetime, str], Move] = {}
    for move in moves:
        key = (move.at, move.actor)
        earlier = kept.get(key)
        if earlier is None:
            kept[key] = move
            continue
        rated = move if move.field == "rag" else earlier
        kept[key] = replace(rated, note=earlier.note or move.note)
    return list(kept.values())


def _section(groups: list[tuple[str, list[DigestAction], int]], *, shown: int) -> Section:
    """Each group's first `count` items (at most `shown` of them kept), and how many there are in all."""
    kept = tuple((label, tuple(items[: min(count, shown)])) for label, items, count in groups if count)
    return Section(kept, sum(count for _, _, count in groups))
