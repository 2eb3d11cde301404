"""What the nudge sweep and delivery ask of actions, plans and people, in a few batched statements each."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    exists,
    insert,
    literal_column,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session, selectinload

from storage.batches import among, chunks
from storage.models import (
    Action,
    ActionDecline,
    Nudge,
    OutboxMessage,
    Person,
    Plan,
    Welcome,
    action_owners,
    person_roles,
)
from storage.rules.deadlines import DeadlineKind
from storage.rules.ladder import Reminded
from storage.rules.status import Status


@dataclass(frozen=True, slots=True)
class ActionRow:
    """The columns of an action that the ladder and the sweep read, and nothing else (no JSON cells, no
    owners)."""

    id: int
    plan_id: int
    archived: bool
    status: Status
    deadline_kind: DeadlineKind
    start_date: date | None
    due_date: date | None
    recurrence: str | None
    snoozed_until: date | None
    answered_at: datetime | None
    created_at: datetime
    next_nudge_on: date | None


_COLUMNS = (
    Action.id,
    Action.plan_id,
    Action.archived,
    Action.status,
    Action.deadline_kind,
    Action.start_date,
    Action.due_date,
    Action.recurrence,
    Action.snoozed_until,
    Action.answered_at,
    Action.created_at,
    Action.next_nudge_on,
)


# Live and open, as ix_actions_to_look_at's conditions say it (storage.models): "done" written in the
# statement, not bound, since a database uses a partial index only for a query whose conditions imply the
# index's, which a parameter's value cannot show before it is known.
_LIVE: tuple[ColumnElement[bool], ...] = (
    Action.archived.is_(False),
    Action.status != literal_column("'done'"),
    Plan.paused.is_(False),
)


def _to_look_at(today: date) -> tuple[ColumnElement[bool], ...]:
    return (*_LIVE, or_(Action.next_nudge_on.is_(None), Action.next_nudge_on <= today))


def action_ids_to_look_at(session: Session, *, today: date) -> list[int]:
    """The ids of the live, open actions of running plans whose next day to look at has come (or was never
    worked out), in order.

    Two searches of the partial index ix_actions_to_look_at, which holds only live, open actions: those never
    worked out (NULL), and those whose day has come. So the cost follows the actions due, not the store. One
    statement with the OR, or ordered in SQL, let SQLite (which has no statistics to go by) scan the whole
    table instead: 3 s at 1,000,000 actions (bench/bench_sweep_scale.py --explain shows the plans).
    """
    return sorted(session.scalars(ids_to_look_at_statement(today)))


def ids_to_look_at_statement(today: date) -> CompoundSelect[int]:
    """action_ids_to_look_at's statement (benchmarks show its query plan)."""
    never = select(Action.id).join(Plan).where(*_LIVE, Action.next_nudge_on.is_(None))
    come = select(Action.id).join(Plan).where(*_LIVE, Action.next_nudge_on <= today)
    return union_all(never, come)


def actions_to_look_at(
    session: Session, *, today: date, among_ids: list[int] | None = None
) -> list[ActionRow]:
    """Live, open actions of running plans whose next day to look at has come (or was never worked out), in
    order; of `among_ids` only, when given (those still to look at: one may have changed since they were
    listed).

    Of `among_ids`, they are found by id; all of them (no `among_ids`) are a search of ix_actions_to_look_at.
    """
    query = select(*_COLUMNS).join(Plan).where(*_to_look_at(today)).order_by(Action.id)
    if among_ids is not None:
        query = query.where(among(session, Action.id, among_ids))
    return [ActionRow(*tuple(row)) for row in session.execute(query)]


def live_actions(session: Session) -> list[ActionRow]:
    """Every live, open action of a running plan, whatever its next day to look at (the preview's horizon)."""
    return [
        ActionRow(*tuple(row))
        for row in session.execute(
            select(*_COLUMNS)
            .join(Plan)
            .where(Action.archived.is_(False), Action.status != "done", Plan.paused.is_(False))
            .order_by(Action.id)
        )
    ]


def action_rows(session: Session, action_ids: Iterable[int]) -> dict[int, ActionRow]:
    """These actions' ladder columns, by id, one query per 500."""
    return {
        row[0]: ActionRow(*tuple(row))
        for chunk in chunks(sorted(set(action_ids)))
        for row in session.execute(select(*_COLUMNS).where(among(session, Action.id, chunk)))
    }


def plans_by_id(
    session: Session, plan_ids: Iterable[int], *, known: Mapping[int, Plan] | None = None
) -> dict[int, Plan]:
    """These plans by id (a store has a handful), adding to `known` those it does not have yet."""
    found = dict(known or {})
    for chunk in chunks(sorted(set(plan_ids) - set(found))):
        found.update(
            (plan.id, plan) for plan in session.scalars(select(Plan).where(among(session, Plan.id, chunk)))
        )
    return found


def people_by_id(
    session: Session, person_ids: Iterable[int], *, known: Mapping[int, Person] | None = None
) -> dict[int, Person]:
    """These people by id, one query per 500, adding to `known` those it does not have yet."""
    found = dict(known or {})
    for chunk in chunks(sorted(set(person_ids) - set(found))):
        found.update(
            (person.id, person)
            for person in session.scalars(select(Person).where(among(session, Person.id, chunk)))
        )
    return found


def owner_ids(session: Session, action_ids: list[int]) -> dict[int, list[int]]:
    """Who answers for each action (the ids of the people mapped to one of its owner roles), for many actions
    at once, one query per 500 actions. Someone who said the action is "not mine" is left out until an admin
    maps them to it again."""
    pairs: dict[int, list[int]] = {}
    for chunk in chunks(action_ids):
        declined = exists().where(
            ActionDecline.action_id == action_owners.c.action_id,
            ActionDecline.person_id == person_roles.c.person_id,
        )
        rows = session.execute(
            select(action_owners.c.action_id, person_roles.c.person_id)
            .join(person_roles, person_roles.c.owner_id == action_owners.c.owner_id)
            .where(among(session, action_owners.c.action_id, chunk), ~declined)
            .order_by(action_owners.c.action_id, person_roles.c.person_id)
        )
        for action_id, person_id in rows:
            ids = pairs.setdefault(action_id, [])
            if not ids or ids[-1] != person_id:
                ids.append(person_id)
    return pairs


def people_owning(session: Session, action_ids: list[int]) -> dict[int, list[Person]]:
    """Who answers for each action (people mapped to one of its owner roles), for many actions at once.

    Two kinds of batched query: the (action, person) pairs, ids only (owner_ids); then each person among them
    once, one per 500 people (rather than a person's whole row again for every action they own).
    """
    pairs = owner_ids(session, action_ids)
    people = people_by_id(session, {person_id for ids in pairs.values() for person_id in ids})
    return {action_id: [people[i] for i in ids if i in people] for action_id, ids in pairs.items()}


def look_again_on(session: Session, days: Mapping[int, date | None]) -> None:
    """Set each action's next_nudge_on (by id): the day the sweep must look at it again (None: at the next
    sweep), in one statement executed for each."""
    if days:
        session.execute(
            update(Action),
            [{"id": action_id, "next_nudge_on": day} for action_id, day in days.items()],
        )


def plans_escalating_in(session: Session, channel_ids: Iterable[str]) -> list[Plan]:
    """The plans whose escalation channel is one of these."""
    return [
        plan
        for chunk in chunks(sorted(set(channel_ids)))
        for plan in session.scalars(select(Plan).where(Plan.escalation_channel.in_(chunk)))
    ]


def actions_with_owners(session: Session, action_ids: Iterable[int]) -> dict[int, Action]:
    """Actions with their owners and plans, in one query per 500 rather than three per action."""
    return {
        action.id: action
        for chunk in chunks(sorted(set(action_ids)))
        for action in session.scalars(
            select(Action)
            .where(Action.id.in_(chunk))
            .options(selectinload(Action.owners), selectinload(Action.plan))
        )
    }


def refs_and_titles(session: Session, action_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """Each action's reference and title, by id."""
    return {
        action_id: (ref, title)
        for chunk in chunks(sorted(set(action_ids)))
        for action_id, ref, title in session.execute(
            select(Action.id, Action.ref, Action.title).where(among(session, Action.id, chunk))
        )
    }


def reminders_delivered(
    session: Session,
    since: Mapping[int, datetime | None],
    *,
    zone: ZoneInfo,
    before: datetime | None = None,
) -> dict[int, Reminded]:
    """For each of these actions, the overdue reminders its owners were sent (the message went out, not only
    planned) after its moment in `since` (when it was last answered; None: ever) and before `before` when
    given: one per weekly round, however many owners had it, and the local day of the first. Actions with
    none are left out."""
    rounds: dict[int, set[str]] = {}
    first: dict[int, datetime] = {}
    for chunk in chunks(sorted(since)):
        rows = session.execute(
            select(Nudge.action_id, Nudge.occurrence, OutboxMessage.sent_at)
            .join(OutboxMessage, OutboxMessage.id == Nudge.message_id)
            .where(
                among(session, Nudge.action_id, chunk),
                Nudge.person_id.is_not(None),
                Nudge.step == "overdue",
                OutboxMessage.status == "sent",
            )
        )
        for action_id, occurrence, sent_at in rows:
            answered = since[action_id]
            if sent_at is None or (answered is not None and sent_at <= answered):
                continue
            if before is not None and sent_at >= before:
                continue
            rounds.setdefault(action_id, set()).add(occurrence)
            first[action_id] = min(first.get(action_id, sent_at), sent_at)
    return {
        action_id: Reminded(len(occurrences), first[action_id].astimezone(zone).date())
        for action_id, occurrences in rounds.items()
    }


def welcomed(session: Session, pairs: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
    """Which of these (person id, plan id) pairs have had their welcome to the plan."""
    wanted = set(pairs)
    found: set[tuple[int, int]] = set()
    for chunk in chunks(sorted({person_id for person_id, _ in wanted})):
        found.update(
            (person_id, plan_id)
            for person_id, plan_id in session.execute(
                select(Welcome.person_id, Welcome.plan_id).where(among(session, Welcome.person_id, chunk))
            )
            if (person_id, plan_id) in wanted
        )
    return found


def mark_welcomed(session: Session, pairs: Iterable[tuple[int, int]], *, at: datetime) -> None:
    """These people are welcomed to these plans (the primary key refuses a second welcome)."""
    rows = [{"person_id": person_id, "plan_id": plan_id, "at": at} for person_id, plan_id in sorted(pairs)]
    if rows:
        session.execute(insert(Welcome), rows)


def actions_of_person_in_plan(session: Session, person_id: int, plan_id: int) -> list[Action]:
    """A person's live, open actions in one plan (through their roles, leaving out what they said isn't
    theirs), with owners and plan, soonest due first and undated last."""
    owned = (
        select(action_owners.c.action_id)
        .join(person_roles, person_roles.c.owner_id == action_owners.c.owner_id)
        .where(person_roles.c.person_id == person_id)
    )
    declined = select(ActionDecline.action_id).where(ActionDecline.person_id == person_id)
    return list(
        session.scalars(
            select(Action)
            .where(
                Action.plan_id == plan_id,
                Action.id.in_(owned),
                Action.id.not_in(declined),
                Action.archived.is_(False),
                Action.status != "done",
            )
            .options(selectinload(Action.owners), selectinload(Action.plan))
            .order_by(Action.due_date.is_(None), Action.due_date, Action.position)
        )
    )


def live_actions_of_plan(session: Session, plan_id: int) -> list[Action]:
    """A plan's live, open actions with their owners, in plan order."""
    return list(
        session.scalars(
            select(Action)
            .where(Action.plan_id == plan_id, Action.archived.is_(False), Action.status != "done")
            .options(selectinload(Action.owners))
            .order_by(Action.position)
        )
    )
