"""Questions the rest of edibot asks the store, each named after what it answers."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple, TypeVarTuple

from sqlalchemy import CursorResult, Engine, Select, and_, bindparam, func, select
from sqlalchemy.orm import Session, selectinload

from storage.models import (
    SLACK_BOTS,
    Action,
    ActionDecline,
    Base,
    HistoryEntry,
    Owner,
    Person,
    Plan,
    action_owners,
    person_roles,
)
from storage.rules.deadlines import DeadlineKind
from storage.rules.overdue import OVERDUE_KINDS, is_overdue
from storage.rules.owners import owner_key
from storage.rules.rag import Rag
from storage.rules.refs import former_ref
from storage.rules.status import Status

_Columns = TypeVarTuple("_Columns")


@dataclass(frozen=True)
class PlanCounts:
    plan: Plan
    actions: int
    archived: int
    done: int
    overdue: int
    by_rag: dict[str, int]


class ActionLine(NamedTuple):
    """The columns of an action that its one-line summary reads (handlers.cards.action_line), and whether the
    person asking said it isn't theirs. A named tuple, not a frozen dataclass: made from a row in a third of
    the time (`/edi mine` makes one per open action on every request)."""

    id: int
    ref: str
    title: str
    deadline_text: str | None
    deadline_kind: DeadlineKind
    start_date: date | None
    due_date: date | None
    recurrence: str | None
    rag: Rag | None
    status: Status
    declined: bool


# Built once, its parameter bound per call: SQLAlchemy's compiled-statement cache then skips most of the work
# of turning it into SQL, and rows come back as plain tuples, not ORM objects (no identity map, no deferred
# columns to set up, no JSON to decode). `/edi mine` asks it on every request.
_OPEN_LINES = (
    select(
        Action.id,
        Action.ref,
        Action.title,
        Action.deadline_text,
        Action.deadline_kind,
        Action.start_date,
        Action.due_date,
        Action.recurrence,
        Action.rag,
        Action.status,
        ActionDecline.person_id.is_not(None),
    )
    .outerjoin(
        ActionDecline,
        and_(ActionDecline.action_id == Action.id, ActionDecline.person_id == bindparam("person_id")),
    )
    .where(
        Action.id.in_(
            select(action_owners.c.action_id)
            .join(person_roles, person_roles.c.owner_id == action_owners.c.owner_id)
            .where(person_roles.c.person_id == bindparam("person_id"))
        ),
        Action.archived.is_(False),
        Action.status != "done",
    )
    .order_by(Action.due_date.is_(None), Action.due_date, Action.ref)
)


def open_lines_of(session: Session, person_id: int) -> list[ActionLine]:
    """A person's open, live actions, soonest due first, undated last, as one-line rows (the same actions
    and order as Store.actions_owned_by)."""
    return [ActionLine._make(row) for row in core_rows(session, _OPEN_LINES, {"person_id": person_id}).all()]


def core_rows(
    session: Session, statement: Select[*_Columns], parameters: dict[str, Any]
) -> CursorResult[*_Columns]:
    """A read that wants columns, not ORM objects, run on the session's connection: the ORM's execution layer
    (its compile state, loading context and result wrapping, about a quarter of a small query's CPU) is
    skipped. Pending changes are flushed first, as the ORM's autoflush would, so the read sees the
    transaction's own writes. Take many rows with `.all()` (one fetchall), not by iterating (a fetchone
    each)."""
    session.flush()
    return session.connection().execute(statement, parameters)


def plan_admins(session: Session, *, but: int | None = None) -> Sequence[Person]:
    """The plan admins, by name (leaving out the person with id `but`, when given)."""
    query = select(Person).where(Person.is_admin.is_(True))
    if but is not None:
        query = query.where(Person.id != but)
    return session.scalars(query.order_by(Person.name, Person.id)).all()


def plan_named(session: Session, name: str) -> Plan | None:
    return session.scalar(select(Plan).where(func.lower(Plan.name) == name.strip().lower()))


def plan_imported_from(session: Session, source_name: str) -> Plan | None:
    """The plan last imported from a file of this name, if any: a re-import without a plan name goes there."""
    return session.scalar(
        select(Plan).where(Plan.source_name == source_name).order_by(Plan.imported_at.desc()).limit(1)
    )


def plans_with_counts(session: Session, *, today: date) -> list[PlanCounts]:
    """Every plan with how many live actions it has, how many are done or overdue, and its RAG spread."""
    plans = session.scalars(select(Plan).order_by(Plan.name)).all()
    result: list[PlanCounts] = []
    for plan in plans:
        rows = session.execute(
            select(Action.archived, Action.status, Action.rag, Action.deadline_kind, Action.due_date).where(
                Action.plan_id == plan.id
            )
        ).all()
        live = [row for row in rows if not row.archived]
        by_rag: dict[str, int] = {}
        for row in live:
            key = row.rag or "unrated"
            by_rag[key] = by_rag.get(key, 0) + 1
        result.append(
            PlanCounts(
                plan=plan,
                actions=len(live),
                archived=len(rows) - len(live),
                done=sum(1 for row in live if row.status == "done"),
                overdue=sum(
                    1
                    for row in live
                    if is_overdue(row.deadline_kind, row.due_date, today, done=row.status == "done")
                ),
                by_rag=by_rag,
            )
        )
    return result


def actions_matching(
    session: Session,
    *,
    plan: str | None = None,
    owner: str | None = None,
    due_before: date | None = None,
    overdue_on: date | None = None,
    include_archived: bool = False,
) -> Sequence[Action]:
    """Live actions, in plan order, narrowed by plan name, owner (part of the name), due date or
    overdue-ness."""
    query = (
        select(Action)
        .join(Plan)
        .options(selectinload(Action.owners), selectinload(Action.plan))
        .order_by(Plan.name, Action.position)
    )
    if not include_archived:
        query = query.where(Action.archived.is_(False))
    if plan:
        query = query.where(func.lower(Plan.name) == plan.strip().lower())
    if owner:
        # Escaped: a "%" or "_" someone types is a character they are looking for, not a wildcard.
        needle = owner_key(owner)
        owned = (
            select(action_owners.c.action_id).join(Owner).where(Owner.key.contains(needle, autoescape=True))
        )
        query = query.where(Action.id.in_(owned))
    if due_before:
        query = query.where(Action.due_date.is_not(None), Action.due_date < due_before)
    if overdue_on:
        # The rule of storage.rules.overdue, as SQL: open, of a kind that can be overdue, past its date.
        query = query.where(
            Action.status != "done",
            Action.deadline_kind.in_(OVERDUE_KINDS),
            Action.due_date.is_not(None),
            Action.due_date < overdue_on,
        )
    return session.scalars(query).all()


def actions_of_plan(session: Session, plan: Plan) -> Sequence[Action]:
    """Every action of a plan, archived ones too, with their owners loaded in one go."""
    if plan.id is None:
        return []
    return session.scalars(
        select(Action).where(Action.plan_id == plan.id).options(selectinload(Action.owners))
    ).all()


def refs_of_plan(session: Session, plan: Plan) -> set[str]:
    """Every reference the plan's actions use, archived ones too: a new action's must be none of them."""
    if plan.id is None:
        return set()
    return set(session.scalars(select(Action.ref).where(Action.plan_id == plan.id)))


def refs_in_use(session: Session, refs: Collection[str]) -> set[str]:
    """Which of these references an action of any plan already has (a plan's own "WB-1" is global)."""
    found: set[str] = set()
    wanted = sorted(refs)
    for start in range(0, len(wanted), 500):  # bound the IN list: SQLite limits a statement's parameters
        found |= set(session.scalars(select(Action.ref).where(Action.ref.in_(wanted[start : start + 500]))))
    return found


def refs_under_prefix(session: Session, prefix: str) -> set[str]:
    """Every reference of any plan that starts "PREFIX-": a plan's next number must be none of them."""
    start = f"{prefix}-".upper()
    # A range rather than LIKE, so the unique index on ref serves it on SQLite and PostgreSQL alike.
    return set(session.scalars(select(Action.ref).where(Action.ref >= start, Action.ref < start + "\uffff")))


def actions_by_plan_ref(session: Session, written: str) -> Sequence[str]:
    """The live references of the actions a plan numbers `written` ("1.1"), whatever plan they are in."""
    wanted = written.strip().upper()
    return session.scalars(
        select(Action.ref)
        .where(func.upper(func.trim(Action.source_ref)) == wanted, Action.archived.is_(False))
        .order_by(Action.ref)
        .limit(12)
    ).all()


def action_by_former_ref(session: Session, ref: str) -> Action | None:
    """The action a reference made before plans' own were kept as written still names ("WE-WB1" for the
    plan WE's "WB-1"), when exactly one does."""
    prefix, dash, _ = ref.strip().upper().partition("-")
    if not dash:
        return None
    candidates = session.scalars(
        select(Action)
        .join(Plan)
        .where(func.upper(Plan.ref_prefix) == prefix, Action.source_ref.is_not(None))
        .options(selectinload(Action.owners), selectinload(Action.plan))
    ).all()
    wanted = ref.strip().upper()
    found = [
        action
        for action in candidates
        if action.ref != wanted and former_ref(action.plan.ref_prefix, action.source_ref or "") == wanted
    ]
    return found[0] if len(found) == 1 else None


def action_by_ref(session: Session, ref: str) -> Action | None:
    """The action with this reference, whatever its case (references are stored in capitals, so the index
    serves)."""
    return session.scalar(
        select(Action)
        .where(Action.ref == ref.strip().upper())
        .options(selectinload(Action.owners), selectinload(Action.plan))
    )


def history_of(session: Session, action: Action) -> Sequence[HistoryEntry]:
    """Every change to an action, newest first."""
    return session.scalars(
        select(HistoryEntry)
        .where(HistoryEntry.action_id == action.id)
        .order_by(HistoryEntry.at.desc(), HistoryEntry.id.desc())
    ).all()


def owners_by_key(session: Session, keys: Sequence[str]) -> dict[str, Owner]:
    if not keys:
        return {}
    return {owner.key: owner for owner in session.scalars(select(Owner).where(Owner.key.in_(keys)))}


def prefixes_in_use(session: Session) -> set[str]:
    return set(session.scalars(select(Plan.ref_prefix)))


def installed_slack_teams(engine: Engine, *, client_id: str) -> list[str]:
    """The Slack workspaces (team ids) this Slack app, by its client id, is installed in."""
    bots = Base.metadata.tables[SLACK_BOTS]
    with engine.connect() as connection:
        found = connection.execute(
            select(bots.c.team_id).where(bots.c.client_id == client_id).distinct()
        ).scalars()
        return sorted(team for team in found if team)
