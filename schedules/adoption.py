"""Adopting a plan is an event: the first sweep that finds someone answering for a plan's actions sends them
one welcome listing all of those, instead of a reminder per action, and the first sweep of a plan sends its
admins one summary of where it stands.

"First" is kept in the store, not guessed from dates: `welcomes` holds each (person, plan) welcomed and
`plans.adopted_at` when a plan was taken up, so a second sweep, a restart or a replica never welcomes twice.
Someone mapped to a role later is welcomed at the first sweep after the mapping (mapping makes the sweep look
at the role's actions again): that is when they first answer for the plan. Someone already welcomed to a plan
who takes on another of its roles is not welcomed again; the new actions' reminders say what they need.
The welcome takes the place of that round's reminders to them about the plan: those are planned as usual,
under their own keys, and gathered into the welcome, so they are neither sent again nor lost.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.messages import Reply, reply_as_data
from handlers.reminders import adoption_summary, welcome
from schedules.sending import Recipient
from storage import outbox
from storage.models import Owner, Plan, person_roles
from storage.queries import plan_admins
from storage.reminding import (
    ActionRow,
    actions_of_person_in_plan,
    live_actions_of_plan,
    mark_welcomed,
    people_by_id,
    welcomed,
)
from storage.rules.calendar import WEEKDAYS, catch_up_send_at, reminder_weekday
from storage.rules.defaults import REMINDER_DAYS
from storage.rules.ladder import promised_reminders

_WELCOME = ":welcome:"


def welcome_key(person_id: int, plan_id: int) -> str:
    """A welcome's outbox key: it starts with the person's id, so it counts in their week's messages."""
    return f"{person_id}{_WELCOME}{plan_id}"


def welcome_plan(key: str) -> int | None:
    """The plan a welcome's key is about; None when the key is not a welcome's."""
    _, sep, plan_id = key.partition(_WELCOME)
    return int(plan_id) if sep and plan_id.isdigit() else None


def soon_days(plan: Plan) -> int:
    """How near a deadline is "due soon": the plan's first reminder before a deadline (14 days by default)."""
    return max([int(d) for d in (plan.reminder_days or REMINDER_DAYS)] or [0])


@dataclass
class Adoption:
    """Who is to be welcomed to which plan this sweep, and which plans are taken up now."""

    welcomes: dict[tuple[int, int], Recipient] = field(default_factory=dict)  # (person id, plan id)
    plans: list[Plan] = field(default_factory=list)
    # Welcomes queued by an earlier sweep and not sent yet (the person is away, or it is night): their id.
    waiting: dict[tuple[int, int], int] = field(default_factory=dict)


def adoption_due(
    session: Session,
    actions: Iterable[ActionRow],
    *,
    plans: Mapping[int, Plan],
    owners: Mapping[int, list[Recipient]],
) -> Adoption:
    """Of the people answering for these actions, those not yet welcomed to their plan; and the plans among
    them not yet taken up."""
    pairs: dict[tuple[int, int], Recipient] = {}
    plan_ids: set[int] = set()
    for action in actions:
        plan_ids.add(action.plan_id)
        for person in owners.get(action.id, []):
            pairs.setdefault((person.id, action.plan_id), person)
    done = welcomed(session, pairs)
    waiting = outbox.pending_messages(session, [welcome_key(*pair) for pair in done])
    return Adoption(
        {pair: person for pair, person in pairs.items() if pair not in done},
        [plans[plan_id] for plan_id in sorted(plan_ids) if plans[plan_id].adopted_at is None],
        {pair: waiting[welcome_key(*pair)] for pair in done if welcome_key(*pair) in waiting},
    )


def adopt(
    session: Session, adoption: Adoption, *, now: datetime, zone: ZoneInfo, weekly_cap: int
) -> dict[tuple[int, int], int]:
    """Queue each welcome (at the person's next working moment) and each admin's summary, and record both;
    the ids of the welcomes not sent yet (these and earlier ones), by (person id, plan id), for the sweep to
    gather that round's reminders in: until a welcome has gone, it is the person's one message about the
    plan."""
    rows = [
        dict(
            key=welcome_key(person_id, plan_id),
            person_id=person_id,
            channel=None,
            channel_workspace=None,
            send_at=catch_up_send_at(person.hours, now, default_zone=zone),
            created_at=now,
        )
        for (person_id, plan_id), person in sorted(adoption.welcomes.items())
    ]
    ids = outbox.queue_messages(session, rows)
    mark_welcomed(session, adoption.welcomes, at=now)
    today = now.astimezone(zone).date()
    admins = plan_admins(session) if adoption.plans else []
    for plan in adoption.plans:
        plan.adopted_at = now
        actions = live_actions_of_plan(session, plan.id)
        summary = adoption_summary(
            plan.name,
            actions,
            unmapped=unmapped_owners(session, {owner.id: owner for a in actions for owner in a.owners}),
            today=today,
            soon_days=soon_days(plan),
            weekly_cap=weekly_cap,
            promised=promised_reminders(plan),
        )
        for admin in admins:
            outbox.queue_once(
                session,
                key=f"adopted:{plan.id}:{admin.id}",
                person_id=admin.id,
                send_at=catch_up_send_at(admin, now, default_zone=zone),
                now=now,
                reply=reply_as_data(summary),
            )
    return {**adoption.waiting, **{pair: ids[welcome_key(*pair)] for pair in adoption.welcomes}}


def unmapped_owners(session: Session, owners: Mapping[int, Owner]) -> list[Owner]:
    """Of these owner roles, those nobody is mapped to, by name."""
    mapped = set(
        session.scalars(select(person_roles.c.owner_id).where(person_roles.c.owner_id.in_(sorted(owners))))
    )
    return sorted((owner for i, owner in owners.items() if i not in mapped), key=lambda o: o.name.casefold())


def render_welcome(session: Session, *, person_id: int, plan_id: int, today: date) -> Reply:
    """A welcome as it goes out: the person's actions in the plan as they are now, grouped, with buttons."""
    person = people_by_id(session, [person_id])[person_id]
    plan = session.get(Plan, plan_id)
    assert plan is not None
    actions = actions_of_person_in_plan(session, person_id, plan_id)
    return welcome(
        person.name,
        actions,
        plan=plan.name,
        today=today,
        soon_days=soon_days(plan),
        every=f"{WEEKDAYS[reminder_weekday(person)].title()}s",
    )
