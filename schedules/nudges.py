"""The nudge sweep and the delivery worker: plan reminders into a persistent outbox, then send each exactly once.

The sweep decides from the database what is due and writes it down under unique keys (a second sweep, a
restart or a second replica cannot create it twice); delivery claims outbox rows under a lease (a crash
between claim and send is retried when the lease runs out) and records the platform's message id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Final, Protocol, TypeVar, cast, runtime_checkable
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Table,
    any_,
    bindparam,
    delete,
    exists,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute, Session, selectinload

from handlers.messages import Reply, Text
from handlers.reminders import ReminderItem, reminder
from storage.db import Database
from storage.models import (
    Action,
    ActionDecline,
    Nudge,
    OutboxMessage,
    Person,
    Plan,
    action_owners,
    person_roles,
)
from storage.rules.calendar import Hours, OfficeHours, catch_up_send_at, next_send_at
from storage.rules.ladder import ActionFacts, Step, steps_and_next
from storage.store import Store

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
# The tables themselves, for the sweep's Core statements: the ORM has nothing to track about rows written in bulk.
_NUDGES: Final = cast("Table", Nudge.__table__)
_OUTBOX: Final = cast("Table", OutboxMessage.__table__)
_T = TypeVar("_T")
LEASE = timedelta(minutes=2)


class RetryLater(Exception):
    """The platform asked us to wait (HTTP 429 with Retry-After, or a transient error)."""

    def __init__(self, seconds: float, reason: str) -> None:
        super().__init__(reason)
        self.seconds = seconds


class RateLimited(RetryLater):
    """The platform's "slow down" (HTTP 429): nothing is wrong with the message, only with how fast we send.

    Delivery waits exactly the Retry-After it was given (no backoff on top), does not count the try against
    MAX_ATTEMPTS, and pauses the whole outbox until then rather than trying the next message straight away.
    """


class Undeliverable(Exception):
    """The platform refused this recipient for good (user deactivated, channel archived)."""


Sender = Callable[[Person, Reply], str]  # sends a reply to a person; returns the platform's message id


@dataclass(frozen=True)
class Channel:
    """A channel a plan's escalations are posted in, as its platform knows it."""

    id: str  # the platform's channel id (Slack "C0123"), or its name where that is all we were given
    name: str  # as people see it: "#edi-leads"
    workspace: str | None = None  # the Slack workspace it is in, when edibot is in several


@runtime_checkable
class ChannelSender(Protocol):
    """A Sender that can also post in a channel; returns the platform's message id, raises as a Sender does."""

    def __call__(self, person: Person, reply: Reply) -> str: ...

    def to_channel(self, channel: Channel, reply: Reply) -> str: ...


Recipient = Person | Channel


def recipient_key(recipient: Recipient) -> str:
    """How a nudge key names its recipient: a person's id, or "#" and a channel's id."""
    return f"#{recipient.id}" if isinstance(recipient, Channel) else str(recipient.id)


def hours_of(recipient: Recipient) -> OfficeHours:
    """Whose calendar a message keeps: the person's own, or for a channel the office's (weekdays from 09:30,
    England and Wales bank holidays, in the deployment's time zone)."""
    if isinstance(recipient, Person):
        return recipient
    return Hours()  # a channel keeps the deployment's office hours


def escalation_channel(plan: Plan) -> Channel | None:
    if not plan.escalation_channel:
        return None
    return Channel(plan.escalation_channel, f"#{plan.escalation_channel_name or plan.escalation_channel}",
                   plan.escalation_channel_workspace)  # fmt: skip


@dataclass
class SweepReport:
    actions_looked_at: int = 0
    nudges_planned: int = 0
    messages_queued: int = 0


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: list[str] = field(default_factory=list)
    paused_until: datetime | None = None  # the platform asked us to wait: nothing is sent before then


def recipients_of(session: Session, action: ActionFacts, step: Step, plan: Plan) -> list[Recipient]:
    """Who hears of this step: its owners; for an escalation the plan's channel, else its contact, else its admins."""
    if step.escalation:
        channel = escalation_channel(plan)
        if channel is not None:
            return [channel]
        if plan.escalation_person_id:
            person = session.get(Person, plan.escalation_person_id)
            return [person] if person else []
        return list(session.scalars(select(Person).where(Person.is_admin.is_(True)).order_by(Person.id)))
    return list(_people_owning(session, [action.id]).get(action.id, []))


class _Answerable(Protocol):
    @property
    def answered_at(self) -> datetime | None: ...


def answered_since(action: _Answerable, step: Step, zone: ZoneInfo) -> bool:
    """An owner already acted on it in chat (a button, a reply) on or after the step's day: that step is done.

    Imports don't count (they are the plan changing, not the owner answering), and escalations and
    requests for a date stand until the facts change.
    """
    if step.escalation or step.name == "set-date" or action.answered_at is None:
        return False
    return action.answered_at.astimezone(zone).date() >= step.on


@dataclass(frozen=True, slots=True)
class _Facts:
    """The columns of an action that the ladder and the sweep read, and nothing else (no JSON cells, no owners)."""

    id: int
    plan_id: int
    archived: bool
    status: str
    deadline_kind: str
    start_date: date | None
    due_date: date | None
    recurrence: str | None
    snoozed_until: date | None
    answered_at: datetime | None
    created_at: datetime
    next_nudge_on: date | None


_FACTS = (Action.id, Action.plan_id, Action.archived, Action.status, Action.deadline_kind, Action.start_date,
          Action.due_date, Action.recurrence, Action.snoozed_until, Action.answered_at, Action.created_at,
          Action.next_nudge_on)  # fmt: skip


def _facts_of(session: Session, action_ids: Iterable[int]) -> dict[int, _Facts]:
    return {
        row[0]: _Facts(*tuple(row))
        for chunk in _chunks(sorted(set(action_ids)))
        for row in session.execute(select(*_FACTS).where(_among(session, Action.id, chunk)))
    }


def _plans(
    session: Session, plan_ids: Iterable[int], known: dict[int, Plan] | None = None
) -> dict[int, Plan]:
    """These plans by id (a store has a handful), adding to `known` those it does not have yet."""
    found = dict(known or {})
    missing = sorted(set(plan_ids) - set(found))
    for chunk in _chunks(missing):
        found.update(
            (plan.id, plan) for plan in session.scalars(select(Plan).where(_among(session, Plan.id, chunk)))
        )
    return found


def sweep(database: Database, *, now: datetime, zone: ZoneInfo, daily_cap: int = 1) -> SweepReport:
    """Plan every reminder that is due by `now` into the outbox. Safe to run any number of times.

    Its cost follows the actions due, not the size of the store: the candidates come from the index on
    next_nudge_on, only the columns the ladder reads are loaded, and recipients, existing keys, next days and
    message ids are read and written in a few batched statements rather than one per action or per row.
    """
    today = now.astimezone(zone).date()
    report = SweepReport()
    with database.session() as session:
        candidates = [
            _Facts(*tuple(row))
            for row in session.execute(
                select(*_FACTS)
                .join(Plan)
                .where(
                    Action.archived.is_(False),
                    Action.status != "done",
                    Plan.paused.is_(False),
                    or_(Action.next_nudge_on.is_(None), Action.next_nudge_on <= today),
                )
            )
        ]
        plans = _plans(session, {action.plan_id for action in candidates})
        owners_of = _people_owning(session, [a.id for a in candidates])
        escalation_to: dict[int, list[Recipient]] = {}
        wanted: list[tuple[str, _Facts, Step, Recipient]] = []
        next_days: dict[date | None, list[int]] = {}
        for action in candidates:
            report.actions_looked_at += 1
            plan = plans[action.plan_id]
            steps, following = steps_and_next(action, plan, today)
            for step in steps:
                if answered_since(action, step, zone):
                    continue
                if step.escalation:
                    if action.plan_id not in escalation_to:
                        escalation_to[action.plan_id] = recipients_of(session, action, step, plan)
                    people = escalation_to[action.plan_id]
                else:
                    people = list(owners_of.get(action.id, []))
                for person in people:
                    key = f"{action.id}:{step.name}:{step.occurrence}:{recipient_key(person)}"
                    wanted.append((key, action, step, person))
            if following != action.next_nudge_on:
                next_days.setdefault(following, []).append(action.id)
        existing = _existing_keys(session, [key for key, *_ in wanted])
        planned: list[dict[str, object]] = []
        for key, action, step, person in wanted:
            if key in existing:
                continue
            existing.add(key)
            hours = hours_of(person)
            send_at = next_send_at(hours, step.on, default_zone=zone)
            if send_at < now:
                send_at = catch_up_send_at(hours, now, default_zone=zone)
            to_channel = isinstance(person, Channel)
            planned.append(
                dict(
                    key=key, action_id=action.id, person_id=None if to_channel else person.id,
                    channel=person.id if to_channel else None, step=step.name,
                    occurrence=step.occurrence, step_on=step.on, created_at=now, send_at=send_at,
                    message_id=None,
                )
            )  # fmt: skip
        if planned:
            # One executemany on the table (the ORM's bulk path costs more per row than the database does);
            # the unique key still refuses a twin.
            session.execute(insert(_NUDGES), planned)
        report.nudges_planned = len(planned)
        for following, ids in next_days.items():
            for chunk in _chunks(ids):
                session.execute(
                    update(Action)
                    .where(_among(session, Action.id, chunk))
                    .values(next_nudge_on=following)
                    .execution_options(synchronize_session=False)
                )
        session.flush()
        report.messages_queued = _queue_messages(
            session, now=now, zone=zone, daily_cap=daily_cap,
            facts={action.id: action for action in candidates}, plans=plans,
            known_people={person.id: person for people in owners_of.values() for person in people},
        )  # fmt: skip
        report.messages_queued += _weekly_admin_note(session, now=now, zone=zone)
    return report


_CHUNK = 500  # ids or keys per IN (...), well inside SQLite's and PostgreSQL's parameter limits


def _among(
    session: Session, column: ColumnElement[_T] | InstrumentedAttribute[_T], items: list[_T]
) -> ColumnElement[bool]:
    """`column IN (items)`; on PostgreSQL `column = ANY(array)`, one parameter however many items.

    A statement with hundreds of parameters costs more to build, send and parse (psycopg re-reads every long
    query) than to run; the array keeps it short and the same every time.
    """
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, items, type_=ARRAY(column.type), unique=True))
    return column.in_(items)


def _chunks(items: list[_T]) -> Iterable[list[_T]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _people_owning(session: Session, action_ids: list[int]) -> dict[int, list[Person]]:
    """Who answers for each action (people mapped to one of its owner roles), for many actions at once.

    Two kinds of batched query: the (action, person) pairs, ids only, one per 500 actions; then each person
    among them once, one per 500 people (rather than a person's whole row again for every action they own).
    Someone who said the action is "not mine" is left out until an admin maps them to it again.
    """
    pairs: dict[int, list[int]] = {}
    for chunk in _chunks(action_ids):
        declined = exists().where(
            ActionDecline.action_id == action_owners.c.action_id,
            ActionDecline.person_id == person_roles.c.person_id,
        )
        rows = session.execute(
            select(action_owners.c.action_id, person_roles.c.person_id)
            .join(person_roles, person_roles.c.owner_id == action_owners.c.owner_id)
            .where(_among(session, action_owners.c.action_id, chunk), ~declined)
            .order_by(action_owners.c.action_id, person_roles.c.person_id)
        )
        for action_id, person_id in rows:
            ids = pairs.setdefault(action_id, [])
            if not ids or ids[-1] != person_id:
                ids.append(person_id)
    people = _people(session, {person_id for ids in pairs.values() for person_id in ids})
    return {action_id: [people[i] for i in ids if i in people] for action_id, ids in pairs.items()}


def _people(
    session: Session, person_ids: Iterable[int], known: dict[int, Person] | None = None
) -> dict[int, Person]:
    """These people by id, one query per 500, adding to `known` those it does not have yet."""
    found = dict(known or {})
    for chunk in _chunks(sorted(set(person_ids) - set(found))):
        found.update(
            (person.id, person)
            for person in session.scalars(select(Person).where(_among(session, Person.id, chunk)))
        )
    return found


def _weekly_admin_note(session: Session, *, now: datetime, zone: ZoneInfo) -> int:
    """On Mondays, plan admins hear which owner roles have nobody to remind (once a week, by key)."""
    local = now.astimezone(zone)
    if local.weekday() != 0:
        return 0
    week = f"{local.isocalendar().year}-W{local.isocalendar().week:02d}"
    admins = session.scalars(select(Person).where(Person.is_admin.is_(True))).all()
    keys = [f"admin-note:{week}:{admin.id}" for admin in admins]
    if not keys or len(
        session.scalars(select(OutboxMessage.key).where(OutboxMessage.key.in_(keys))).all()
    ) == len(keys):
        return 0  # every admin has this week's note: the count over the whole store is not needed again
    unmapped = Store(session).unmapped_owners()
    if not unmapped:
        return 0
    lines = [f"{owner.name} — {count} open action{'s' if count != 1 else ''}" for owner, count in unmapped]
    body = (
        f"{len(unmapped)} owner role{'s have' if len(unmapped) != 1 else ' has'} nobody to remind:\n"
        + "\n".join(lines)
        + '\nMap each with `/edi people map "Role" @someone`.'
    )
    queued = 0
    for admin in admins:
        queued += _queue_note(
            session, key=f"admin-note:{week}:{admin.id}", person=admin, body=body, now=now, zone=zone
        )
    return queued


def _queue_note(
    session: Session, *, key: str, person: Person, body: str, now: datetime, zone: ZoneInfo
) -> int:
    """A one-off note under a unique key: planning it again (another sweep, another replica) does nothing."""
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)) is not None:
        return 0
    send_at = catch_up_send_at(person, now, default_zone=zone)
    session.add(OutboxMessage(key=key, person_id=person.id, send_at=send_at, status="pending", attempts=0,
                              body=body, created_at=now))  # fmt: skip
    return 1


def _existing_keys(session: Session, keys: list[str]) -> set[str]:
    """Which of these nudge keys are already planned, looked up through the unique index on the key."""
    existing: set[str] = set()
    for chunk in _chunks(sorted(set(keys))):
        existing.update(session.scalars(select(Nudge.key).where(_among(session, Nudge.key, chunk))))
    return existing


@dataclass(frozen=True, slots=True)
class _Waiting:
    """A planned nudge not yet in a message: the columns _queue_messages reads."""

    id: int
    action_id: int
    person_id: int | None
    channel: str | None
    step: str
    occurrence: str
    step_on: date


_WAITING = (
    Nudge.id,
    Nudge.action_id,
    Nudge.person_id,
    Nudge.channel,
    Nudge.step,
    Nudge.occurrence,
    Nudge.step_on,
)


def _queue_messages(
    session: Session, *, now: datetime, zone: ZoneInfo, daily_cap: int,
    facts: dict[int, _Facts] | None = None, plans: dict[int, Plan] | None = None,
    known_people: dict[int, Person] | None = None,
) -> int:  # fmt: skip
    """Gather each recipient's due nudges into one message, in their working hours, at most `daily_cap` a day.

    Held nudges (snooze, pause, leave, the cap) wait here, unattached, and go out at the person's next
    working moment, never at midnight; an action appears once, at the step it has reached now. A channel
    (a plan's escalations) keeps office hours. `facts`, `plans` and `known_people` are what the sweep has read
    already (the actions it looked at, their plans, their owners): only the rest is read here.
    """
    waiting = [
        _Waiting(*row)
        for row in session.execute(
            select(*_WAITING)
            .where(Nudge.message_id.is_(None), Nudge.send_at <= now)
            .order_by(Nudge.person_id, Nudge.channel, Nudge.step_on, Nudge.id)
        )
    ]
    by_recipient: dict[str, list[_Waiting]] = {}  # by recipient_key
    for nudge in waiting:
        by_recipient.setdefault(
            f"#{nudge.channel}" if nudge.person_id is None else str(nudge.person_id), []
        ).append(nudge)
    # Read once what the loop below asks about: the people, their actions (with plans), today's messages.
    wanted = {int(key) for key in by_recipient if not key.startswith("#")}
    people = _people(session, wanted, {i: p for i, p in (known_people or {}).items() if i in wanted})
    recipients: dict[str, Recipient] = {str(person_id): person for person_id, person in people.items()}
    for key in by_recipient:
        if key.startswith("#"):
            recipients[key] = Channel(key[1:], key)
    known = facts or {}
    actions = {nudge.action_id: known[nudge.action_id] for nudge in waiting if nudge.action_id in known}
    actions.update(_facts_of(session, {nudge.action_id for nudge in waiting} - set(actions)))
    plans = _plans(session, {action.plan_id for action in actions.values()}, plans)
    prefixes = {
        key: f"{key}:{now.astimezone(_zone_of(hours_of(recipient), zone)).date().isoformat()}:"
        for key, recipient in recipients.items()
    }
    # Message keys count up from 1 each day, so "sent today" is how many of prefix1..prefixN exist.
    todays = [f"{prefix}{n}" for prefix in prefixes.values() for n in range(1, daily_cap + 1)]
    taken: set[str] = set()
    for keys in _chunks(todays):
        taken.update(
            session.scalars(select(OutboxMessage.key).where(_among(session, OutboxMessage.key, keys)))
        )
    new_messages: dict[str, tuple[Recipient, list[_Waiting]]] = {}  # by message key
    dropped: list[int] = []  # nudges never to send (answered, finished, superseded)
    local_today = now.astimezone(zone).date()
    for key, nudges in by_recipient.items():
        recipient = recipients.get(key)
        if recipient is None or catch_up_send_at(hours_of(recipient), now, default_zone=zone) > now:
            continue  # not their working moment (night, weekend, bank holiday, leave, quiet hours): wait
        live = _latest_per_action(nudges, actions, plans, today=local_today, zone=zone, dropped=dropped)
        if not live:
            continue
        prefix = prefixes[key]
        sent_today = sum(1 for n in range(1, daily_cap + 1) if f"{prefix}{n}" in taken)
        if sent_today >= daily_cap:
            continue
        new_messages[f"{prefix}{sent_today + 1}"] = (recipient, live)
    for chunk in _chunks(dropped):
        session.execute(
            delete(Nudge).where(_among(session, Nudge.id, chunk)).execution_options(synchronize_session=False)
        )
    if not new_messages:
        return 0
    rows = []
    for key, (recipient, live) in new_messages.items():
        row: dict[str, object] = dict(key=key, send_at=now, status="pending", attempts=0, created_at=now)
        if isinstance(recipient, Channel):
            first = actions.get(live[0].action_id)
            plan = plans.get(first.plan_id) if first else None
            workspace = (
                plan.escalation_channel_workspace
                if plan and plan.escalation_channel == recipient.id
                else None
            )
            row.update(person_id=None, channel=recipient.id, channel_workspace=workspace)
        else:
            row.update(person_id=recipient.id, channel=None, channel_workspace=None)
        rows.append(row)
    # One multi-row INSERT that hands back each message's id (the order of the answer does not matter: by key).
    inserted = session.execute(insert(_OUTBOX).returning(_OUTBOX.c.key, _OUTBOX.c.id), rows)
    ids = {key: message_id for key, message_id in inserted}
    _attach(session, [(nudge.id, ids[key]) for key, (_, live) in new_messages.items() for nudge in live])
    return len(new_messages)


def _attach(session: Session, pairs: list[tuple[int, int]]) -> None:
    """Set each nudge's message_id in one statement, not one UPDATE per nudge.

    PostgreSQL joins the table to the pairs passed as two arrays (UPDATE ... FROM unnest(...)): two parameters
    however many nudges, so the statement is prepared once and never re-compiled. SQLite, in process, runs one
    prepared UPDATE over the pairs (executemany).
    """
    if not pairs:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            _ATTACH_POSTGRESQL, {"nudge_ids": [n for n, _ in pairs], "message_ids": [m for _, m in pairs]}
        )
        return
    statement = (
        update(_NUDGES)
        .where(_NUDGES.c.id == bindparam("nudge_id"))
        .values(message_id=bindparam("message_id"))
    )
    session.execute(statement, [{"nudge_id": n, "message_id": m} for n, m in pairs])


_ATTACH_POSTGRESQL = text(
    "UPDATE nudges SET message_id = pairs.message_id"
    " FROM unnest(CAST(:nudge_ids AS integer[]), CAST(:message_ids AS integer[])) AS pairs (nudge_id, message_id)"
    " WHERE nudges.id = pairs.nudge_id"
)


def _zone_of(person: OfficeHours, default: ZoneInfo) -> ZoneInfo:
    return ZoneInfo(person.timezone) if person.timezone else default


def _latest_per_action(
    nudges: list[_Waiting], actions: dict[int, _Facts], plans: dict[int, Plan], *, today: date, zone: ZoneInfo,
    dropped: list[int],
) -> list[_Waiting]:  # fmt: skip
    """The nudges still worth sending, one per action (its latest step); answered or finished ones go in `dropped`."""
    latest: dict[int, _Waiting] = {}
    for nudge in nudges:
        action = actions.get(nudge.action_id)
        step = Step(nudge.step, nudge.occurrence, nudge.step_on, escalation=nudge.step == "escalate")
        if action is None or action.archived or action.status == "done" or answered_since(action, step, zone):
            dropped.append(nudge.id)  # answered or finished: never send it
            continue
        if plans[action.plan_id].paused or (action.snoozed_until and action.snoozed_until > today):
            continue  # held: kept for when the hold ends
        slot = -action.id if step.escalation else action.id
        previous = latest.get(slot)
        if previous is not None:
            stale, nudge = (previous, nudge) if previous.step_on <= nudge.step_on else (nudge, previous)
            dropped.append(stale.id)  # superseded by a later step of the same action
        latest[slot] = nudge
    return list(latest.values())


def deliver(
    database: Database,
    *,
    now: datetime,
    zone: ZoneInfo,
    send: Sender,
    lease: timedelta = LEASE,
    limit: int = 50,
    clock: Callable[[], datetime] | None = None,
) -> DeliveryReport:
    """Send what is due from the outbox: claim (lease), send, mark sent. A crash mid-way is retried after the lease.

    When the platform rate-limits a message, the batch stops there: that message and everything else due
    waits exactly the Retry-After the platform gave, counted from its answer (by `clock`, when given, else
    `now`), and the messages claimed but not tried are handed back untouched.
    """
    report = DeliveryReport()
    claimed = _claim(database, now=now, lease=lease, limit=limit)
    for position, message_id, person, attempt, reply in _prepared(database, claimed, now=now, zone=zone):
        try:
            platform_id = _post(send, person, reply)
        except RateLimited as error:
            answered = clock() if clock is not None else now
            _pause(database, message_id, attempt, untried=claimed[position + 1 :], ours=now + lease,
                   until=answered + timedelta(seconds=error.seconds), reason=str(error), report=report)  # fmt: skip
            break
        except RetryLater as error:
            _retry(
                database,
                message_id,
                attempt,
                now=now,
                seconds=error.seconds,
                reason=str(error),
                report=report,
            )
            continue
        except Undeliverable as error:
            _fail(database, message_id, reason=str(error), report=report, who=person.name)
            if isinstance(person, Channel):
                _tell_admins_about_channel_once(database, person, reason=str(error), now=now, zone=zone)
            else:
                _tell_admins_once(database, person, reason=str(error), now=now, zone=zone)
            continue
        with database.session() as session:
            # Only the holder of this attempt's lease may mark it: a slow worker whose lease ran out must not.
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id, OutboxMessage.attempts == attempt)
                .values(status="sent", sent_at=now, platform_message_id=platform_id, lease_until=None)
            )
        report.sent += 1
    return report


def _post(send: Sender, recipient: Recipient, reply: Reply) -> str:
    """A direct message to a person, or a post in a channel if the platform's sender can post there."""
    if isinstance(recipient, Person):
        return send(recipient, reply)
    if not isinstance(send, ChannelSender):
        raise Undeliverable("this chat platform's sender can't post in channels")
    return send.to_channel(recipient, reply)


def _claim(database: Database, *, now: datetime, lease: timedelta, limit: int) -> list[int]:
    """Take up to `limit` due messages under a lease; each claim bumps `attempts`, the fencing token of that try."""
    with database.session() as session:
        due = session.scalars(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.status == "pending",
                OutboxMessage.send_at <= now,
                or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now),
            )
            .order_by(OutboxMessage.send_at, OutboxMessage.id)
            .limit(limit)
        ).all()
        if not due:
            return []
        # Compare-and-set in one statement: of two workers racing for a row, exactly one sees its UPDATE take
        # effect (PostgreSQL re-checks the WHERE once the other's row lock is released), and RETURNING says which.
        taken = set(
            session.scalars(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id.in_(due),
                    OutboxMessage.status == "pending",
                    or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now),
                )
                .values(lease_until=now + lease, attempts=OutboxMessage.attempts + 1)
                .returning(OutboxMessage.id)
                .execution_options(synchronize_session=False)
            )
        )
        return [message_id for message_id in due if message_id in taken]


def _retry(
    database: Database, message_id: int, attempt: int, *, now: datetime, seconds: float, reason: str,
    report: DeliveryReport,
) -> None:  # fmt: skip
    """A genuine failure (the platform's trouble, the network): counted, and backed off longer each time."""
    with database.session() as session:
        message = session.get(OutboxMessage, message_id)
        assert message is not None
        if message.attempts != attempt:
            return  # our lease ran out and another worker has this message now: its outcome is theirs
        message.failures += 1
        if message.failures >= MAX_ATTEMPTS:
            message.status = "failed"
            message.last_error = reason
            message.lease_until = None
            report.failed.append(f"message {message_id}: {reason}")
            return
        message.send_at = now + timedelta(seconds=max(seconds, 2**message.failures))
        message.lease_until = None
        message.last_error = reason
    report.retried += 1


def _pause(
    database: Database, message_id: int, attempt: int, *, untried: list[int], ours: datetime, until: datetime,
    reason: str, report: DeliveryReport,
) -> None:  # fmt: skip
    """The platform said "wait until `until`": not a failure of this message, and no message goes before then.

    Every pending message due before `until` moves to `until` (one statement), so neither the rest of this
    round nor another worker or replica keeps knocking; the ones this round claimed but did not try are
    handed back. Their `attempts` (the fencing token) stays bumped, so a worker that still held an older
    lease on one of them cannot mark it.
    """
    with database.session() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.attempts == attempt)
            .values(send_at=until, lease_until=None, last_error=reason)
        )
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == "pending", OutboxMessage.send_at < until)
            .values(send_at=until)
            .execution_options(synchronize_session=False)
        )
        for chunk in _chunks(untried):
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(chunk), OutboxMessage.lease_until == ours)
                .values(lease_until=None)
                .execution_options(synchronize_session=False)
            )
    report.retried += 1
    report.paused_until = until
    log.info("the platform asked us to wait until %s: delivery paused (%s)", until.isoformat(), reason)


def _fail(database: Database, message_id: int, *, reason: str, report: DeliveryReport, who: str) -> None:
    with database.session() as session:
        message = session.get(OutboxMessage, message_id)
        assert message is not None
        message.status = "failed"
        message.last_error = reason
        message.lease_until = None
    report.failed.append(f"{who}: {reason}")
    log.warning("reminder for %s could not be delivered: %s", who, reason)


def _tell_admins_about_channel_once(
    database: Database, channel: Channel, *, reason: str, now: datetime, zone: ZoneInfo
) -> None:
    """An escalation channel refused our post (archived, edibot not in it): each admin hears it once."""
    with database.session() as session:
        for admin in session.scalars(select(Person).where(Person.is_admin.is_(True))):
            body = (
                f"I couldn't post an escalation in {channel.name}: {reason}. It is waiting; invite edibot to the "
                "channel, or choose another with `/edi plan escalate PLAN #channel` (or `@someone`)."
            )
            _queue_note(
                session,
                key=f"unreachable:#{channel.id}:{admin.id}",
                person=admin,
                body=body,
                now=now,
                zone=zone,
            )


def _tell_admins_once(
    database: Database, person: Person, *, reason: str, now: datetime, zone: ZoneInfo
) -> None:
    """Someone can't be reached (no platform identity, deactivated): the admins hear it once, not every round."""
    with database.session() as session:
        for admin in session.scalars(select(Person).where(Person.is_admin.is_(True), Person.id != person.id)):
            body = (
                f"I couldn't deliver reminders to {person.name}: {reason}. Their actions are waiting; "
                "check their Slack/Teams id or email in the people directory."
            )
            _queue_note(
                session,
                key=f"unreachable:{person.id}:{admin.id}",
                person=admin,
                body=body,
                now=now,
                zone=zone,
            )


_PREPARE_AHEAD = 10  # messages rendered at a time: the first goes out soon after a claim, or after a pause


def _prepared(
    database: Database, claimed: list[int], *, now: datetime, zone: ZoneInfo
) -> Iterable[tuple[int, int, Recipient, int, Reply]]:
    """Each claimed message with its position, recipient, claim token and reply, rendered a few at a time."""
    today = now.astimezone(zone).date()
    for start in range(0, len(claimed), _PREPARE_AHEAD):
        with database.session() as session:
            batch = _prepare(session, claimed[start : start + _PREPARE_AHEAD], today=today)
        for offset, (message_id, person, attempt, reply) in enumerate(batch):
            yield start + offset, message_id, person, attempt, reply


def _prepare(
    session: Session, message_ids: list[int], *, today: date
) -> list[tuple[int, Recipient, int, Reply]]:
    """The claimed messages rendered, with their recipients and claim tokens, from a few batched reads."""
    messages = {
        message.id: message
        for chunk in _chunks(message_ids)
        for message in session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(chunk)))
    }
    people: dict[int, Person] = {
        person.id: person
        for chunk in _chunks(sorted({m.person_id for m in messages.values() if m.person_id is not None}))
        for person in session.scalars(select(Person).where(_among(session, Person.id, chunk)))
    }
    channels = _channels(session, {m.channel for m in messages.values() if m.channel is not None})
    by_message: dict[int, list[Nudge]] = {}
    for chunk in _chunks(message_ids):
        for nudge in session.scalars(select(Nudge).where(Nudge.message_id.in_(chunk)).order_by(Nudge.id)):
            by_message.setdefault(nudge.message_id or 0, []).append(nudge)
    actions = _load_actions(session, {nudge.action_id for nudges in by_message.values() for nudge in nudges})
    prepared = []
    for message_id in message_ids:
        message = messages[message_id]
        recipient: Recipient
        if message.person_id is not None:
            recipient = people[message.person_id]
        else:
            assert message.channel is not None
            known = channels.get(message.channel, Channel(message.channel, f"#{message.channel}"))
            recipient = Channel(known.id, known.name, message.channel_workspace)
        reply = render_message(
            session, message, today=today, nudges=by_message.get(message_id, []), actions=actions
        )
        prepared.append((message_id, recipient, message.attempts, reply))
    return prepared


def _channels(session: Session, ids: set[str]) -> dict[str, Channel]:
    """The escalation channels with these ids, named as the plans that use them name them."""
    found: dict[str, Channel] = {}
    for chunk in _chunks(sorted(ids)):
        for plan in session.scalars(select(Plan).where(Plan.escalation_channel.in_(chunk))):
            channel = escalation_channel(plan)
            if channel is not None:
                found.setdefault(channel.id, channel)
    return found


def _load_actions(session: Session, action_ids: set[int]) -> dict[int, Action]:
    """Actions with their owners and plans, in one query per 500 rather than three per action."""
    return {
        action.id: action
        for chunk in _chunks(sorted(action_ids))
        for action in session.scalars(
            select(Action)
            .where(Action.id.in_(chunk))
            .options(selectinload(Action.owners), selectinload(Action.plan))
        )
    }


def render_message(
    session: Session,
    message: OutboxMessage,
    *,
    today: date,
    nudges: Sequence[Nudge] | None = None,
    actions: dict[int, Action] | None = None,
) -> Reply:
    """Built at send time from the actions as they are now, so a reminder never shows a stale status.

    `nudges` and `actions` (the message's nudges, and their actions with owners and plans) save the reads
    when delivery has loaded a whole batch at once.
    """
    if message.body is not None:
        return Reply([Text(message.body)], private=True)
    if message.person_id is None:
        assert message.channel is not None
        channel = _channels(session, {message.channel}).get(message.channel)
        name, to_channel = (channel.name if channel else f"#{message.channel}"), True
    else:
        person = session.get(Person, message.person_id)
        assert person is not None
        name, to_channel = person.name, False
    if nudges is None:
        nudges = session.scalars(select(Nudge).where(Nudge.message_id == message.id).order_by(Nudge.id)).all()
    if actions is None:
        actions = _load_actions(session, {nudge.action_id for nudge in nudges})
    items: list[ReminderItem] = []
    for nudge in nudges:
        action = actions.get(nudge.action_id)
        if action is None:
            continue
        step = Step(nudge.step, nudge.occurrence, nudge.step_on, escalation=nudge.step == "escalate")
        items.append(ReminderItem(action=action, step=nudge.step, why=step.describe(), today=today))
    return reminder(name, items, today=today, to_channel=to_channel)


def planned_keys(database: Database) -> Iterable[str]:
    with database.session() as session:
        return list(session.scalars(select(Nudge.key)))
