"""The nudge sweep: which reminder steps are due, to whom, under which key and when — planned into the outbox.

The sweep decides from the database what is due and writes it down under unique keys (a second sweep, a
restart or a second replica cannot create it twice). `plan_day` is the one statement of that rule: the sweep
plans what it returns, and `edibot nudges preview` shows what it returns, so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from schedules.admin_notes import gathered_not_mine, weekly_admin_note
from schedules.adoption import adopt, adoption_due
from schedules.batching import queue_messages
from schedules.observances import ObservanceHolds, queue_calendar_posts, refresh_feeds
from schedules.sending import Addressee, Channel, Recipient
from storage import outbox
from storage.db import Database
from storage.models import Person, Plan
from storage.queries import plan_admins
from storage.reminding import (
    ActionRow,
    action_ids_to_look_at,
    actions_to_look_at,
    look_again_on,
    owner_ids,
    people_by_id,
    plans_by_id,
    reminders_delivered,
)
from storage.rules.calendar import (
    WEEKLY_CAP,
    batch_day_on_or_after,
    catch_up_send_at,
    goes_on_its_own_day,
    next_send_at,
)
from storage.rules.ladder import ActionFacts, Reminded, Step, answered_since, may_escalate, steps_and_next

# Actions planned in one transaction: small enough that a command waiting for SQLite's write lock waits for
# one chunk (tens of milliseconds), not for the whole first sweep of a large store.
SWEEP_CHUNK = 250


@dataclass
class SweepReport:
    actions_looked_at: int = 0
    nudges_planned: int = 0
    messages_queued: int = 0
    welcomes_queued: int = 0


@dataclass(frozen=True, slots=True)
class PlannedNudge:
    """One reminder step of one action for one recipient, under the key that makes planning it twice
    impossible."""

    key: str
    action: ActionFacts
    step: Step
    to: Addressee


@dataclass
class DayPlan:
    """What `plan_day` found: the nudges due, and for each action the next day it reaches a new step."""

    nudges: list[PlannedNudge] = field(default_factory=list)
    next_on: dict[int, date | None] = field(default_factory=dict)


def recipient_key(to: Addressee) -> str:
    """How a nudge key names its recipient: a person's id, or "#" and a channel's id."""
    return f"#{to.id}" if isinstance(to, Channel) else str(to.id)


def nudge_key(action_id: int, step: Step, *, to: Addressee) -> str:
    """action:step:occurrence:recipient — the same step of the same deadline for the same person is one
    nudge."""
    return f"{action_id}:{step.name}:{step.occurrence}:{recipient_key(to)}"


def escalation_channel(plan: Plan) -> Channel | None:
    if not plan.escalation_channel:
        return None
    return Channel(
        plan.escalation_channel,
        f"#{plan.escalation_channel_name or plan.escalation_channel}",
        plan.escalation_channel_workspace,
    )


def escalated_to(session: Session, plan: Plan) -> list[Addressee]:
    """Who hears of a plan's escalations: its channel, else its escalation contact, else its admins."""
    channel = escalation_channel(plan)
    if channel is not None:
        return [channel]
    if plan.escalation_person_id:
        person = session.get(Person, plan.escalation_person_id)
        return [Recipient.of(person)] if person else []
    return [Recipient.of(admin) for admin in plan_admins(session)]


def owners_as_recipients(
    session: Session, action_ids: list[int], *, known: dict[int, Recipient] | None = None
) -> dict[int, list[Recipient]]:
    """Who answers for each action, as recipients (one value per person, however many actions they own);
    people already in `known` are not read again, and those read are added to it."""
    values = {} if known is None else known
    pairs = owner_ids(session, action_ids)
    wanted = {person_id for ids in pairs.values() for person_id in ids} - set(values)
    values.update((i, Recipient.of(person)) for i, person in people_by_id(session, wanted).items())
    return {action_id: [values[i] for i in ids if i in values] for action_id, ids in pairs.items()}


def plan_day(
    session: Session,
    actions: Iterable[ActionFacts],
    *,
    plans: Mapping[int, Plan],
    owners: Mapping[int, list[Recipient]],
    day: date,
    zone: ZoneInfo,
    escalations: dict[int, list[Addressee]] | None = None,
    reminded: Mapping[int, Reminded] | None = None,
) -> DayPlan:
    """Every step these actions have reached by `day` that no owner has answered since, for each recipient.

    An action's owners hear of its steps; an escalation goes where its plan escalates to (`escalations` keeps
    that per plan, across days), once `reminded` shows its owners were sent the reminders the ladder promises
    and said nothing since. An action nobody is mapped to is not escalated: no one was reminded (the admins
    hear of its roles as having no one to remind). Keys already planned are the caller's to leave out.
    """
    escalations = {} if escalations is None else escalations
    reminded = reminded or {}
    found = DayPlan()
    for action in actions:
        plan = plans[action.plan_id]
        steps, following = steps_and_next(action, plan, day, reminded=reminded.get(action.id))
        found.next_on[action.id] = following
        for step in steps:
            if answered_since(action, step, zone):
                continue
            if step.escalation and not owners.get(action.id):
                continue
            if step.escalation:
                if action.plan_id not in escalations:
                    escalations[action.plan_id] = escalated_to(session, plan)
                recipients: list[Addressee] = list(escalations[action.plan_id])
            else:
                recipients = list(owners.get(action.id, []))
            for to in recipients:
                found.nudges.append(PlannedNudge(nudge_key(action.id, step, to=to), action, step, to))
    return found


def send_at(nudge: PlannedNudge, *, day: date, now: datetime, zone: ZoneInfo) -> datetime:
    """When a planned step goes out: its recipient's first working moment on or after the step's day (and not
    before `day`) — for a recurring step (overdue, check-in, a request for a date), their first reminder day
    on or after the step's, so a week's are one message; if that has passed, their next working moment from
    `now`."""
    hours = nudge.to.hours
    start = nudge.step.on
    if isinstance(nudge.to, Recipient) and not goes_on_its_own_day(nudge.step.kind):
        start = batch_day_on_or_after(hours, start)  # a batch day missed (a new plan, an outage) is caught up
    start = max(start, day)
    moment = next_send_at(hours, start, default_zone=zone)
    if moment < now:
        moment = catch_up_send_at(hours, now, default_zone=zone)
    return moment


def sweep(
    database: Database,
    *,
    now: datetime,
    zone: ZoneInfo,
    daily_cap: int = 1,
    weekly_cap: int = WEEKLY_CAP,
    chunk: int = SWEEP_CHUNK,
) -> SweepReport:
    """Plan every reminder that is due by `now` into the outbox. Safe to run any number of times.

    Its cost follows the actions due, not the size of the store: the candidates come from the index on
    next_nudge_on, only the columns the ladder reads are loaded, and recipients, existing keys, next days and
    message ids are read and written in a few batched statements rather than one per action or per row.

    The candidates are planned `chunk` at a time, each chunk in a transaction of its own, and only then
    gathered into messages. The first sweep of a large store looks at every open action: in one transaction
    it held SQLite's write lock for its whole length, and every command that writes (a status, a note, the
    record of a delivery) waited behind it. A chunk plans its actions' nudges and moves their next day to look
    at together, so a sweep cut short (a crash, a lost connection) leaves each action either planned or still
    due: the next round plans what is left, and the unique keys keep what was planned from being planned
    again. Nudges planned but not yet in a message wait for the next gathering.
    """
    today = now.astimezone(zone).date()
    report = SweepReport()
    refresh_feeds(database, now=now, zone=zone)
    with database.session() as session:
        ids = action_ids_to_look_at(session, today=today)
    read = _ReadSoFar()
    for start in range(0, len(ids), chunk):
        with database.session() as session:
            planned, welcomed = _plan_chunk(
                session, ids[start : start + chunk], now=now, zone=zone, weekly_cap=weekly_cap, read=read
            )
            report.nudges_planned += planned
            report.welcomes_queued += welcomed
    report.actions_looked_at = len(read.facts)
    with database.session() as session:
        report.messages_queued = queue_messages(
            session,
            now=now,
            zone=zone,
            daily_cap=daily_cap,
            weekly_cap=weekly_cap,
            facts=read.facts,
            plans=read.plans,
            known_people=read.people,
        )
        report.messages_queued += weekly_admin_note(session, now=now, zone=zone) + report.welcomes_queued
        report.messages_queued += gathered_not_mine(session, now=now, zone=zone)
        report.messages_queued += queue_calendar_posts(session, now=now, zone=zone)
    return report


@dataclass
class _ReadSoFar:
    """What the sweep's chunks have read, kept for gathering the messages (read as fresh as it was before
    the sweep was chunked: each fact when its action was looked at) and for the chunks that follow."""

    facts: dict[int, ActionRow] = field(default_factory=dict)  # the actions looked at
    plans: dict[int, Plan] = field(default_factory=dict)
    people: dict[int, Recipient] = field(default_factory=dict)  # their owners
    escalations: dict[int, list[Addressee]] = field(default_factory=dict)  # per plan


def _plan_chunk(
    session: Session, ids: list[int], *, now: datetime, zone: ZoneInfo, weekly_cap: int, read: _ReadSoFar
) -> tuple[int, int]:
    """Plans the nudges of these actions (those still due to be looked at), queues the welcomes their owners
    are due, and sets the next day to look at each, in the caller's one transaction; how many nudges it
    planned and welcomes it queued.

    A welcome queued by an earlier chunk and not sent yet is found again here (adoption_due's `waiting`), so
    a person's reminders about a plan join their one welcome whichever chunk their actions fall in."""
    today = now.astimezone(zone).date()
    candidates = actions_to_look_at(session, today=today, among_ids=ids)
    read.plans = plans = plans_by_id(session, {action.plan_id for action in candidates}, known=read.plans)
    owners = owners_as_recipients(session, [action.id for action in candidates], known=read.people)
    read.facts.update((action.id, action) for action in candidates)
    reminded = reminders_delivered(
        session,
        {a.id: a.answered_at for a in candidates if may_escalate(a, plans[a.plan_id], today)},
        zone=zone,
    )
    due = plan_day(
        session,
        candidates,
        plans=plans,
        owners=owners,
        day=today,
        zone=zone,
        escalations=read.escalations,
        reminded=reminded,
    )
    # A plan taken up, or someone newly answering for it: this round's reminders to them about it go in
    # their welcome (planned under their keys all the same, so never sent again).
    adoption = adoption_due(session, candidates, plans=plans, owners=owners)
    welcomes = adopt(session, adoption, now=now, zone=zone, weekly_cap=weekly_cap)
    existing = outbox.planned_nudge_keys(session, [nudge.key for nudge in due.nudges])
    people = {nudge.to.id for nudge in due.nudges if isinstance(nudge.to, Recipient)}
    holds = ObservanceHolds(session, people, today=today)
    rows: list[dict[str, object]] = []
    for nudge in due.nudges:
        if nudge.key in existing:
            continue
        existing.add(nudge.key)
        to_channel = isinstance(nudge.to, Channel)
        welcome = None if isinstance(nudge.to, Channel) else welcomes.get((nudge.to.id, nudge.action.plan_id))
        rows.append(
            dict(
                key=nudge.key,
                action_id=nudge.action.id,
                person_id=None if to_channel else nudge.to.id,
                channel=nudge.to.id if to_channel else None,
                step=nudge.step.name,
                occurrence=nudge.step.occurrence,
                step_on=nudge.step.on,
                created_at=now,
                send_at=holds.release(
                    nudge.to, nudge.step.kind, send_at(nudge, day=today, now=now, zone=zone), zone=zone
                ),
                message_id=welcome,
            )
        )
    outbox.plan_nudges(session, rows)
    look_again_on(
        session,
        {
            action.id: due.next_on[action.id]
            for action in candidates
            if due.next_on[action.id] != action.next_nudge_on
        },
    )
    return len(rows), len(welcomes) - len(adoption.waiting)


def planned_keys(database: Database) -> list[str]:
    """Every nudge key planned so far."""
    with database.session() as session:
        return outbox.all_nudge_keys(session)
