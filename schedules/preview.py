"""What the nudge sweep would send over the next days, to whom, when (their local time) and why — changing
nothing.

It asks the sweep's own planning (schedules.planning.plan_day) day by day, so what it shows is what the sweep
would plan: the same steps, recipients, keys and send times. On its first day it asks the sweep's adoption
rule too: whoever the sweep would welcome gets one welcome, holding that day's reminders about the plan. The
reminders it shows are taken as delivered on their day, so an escalation appears once the owners would have
had the reminders the ladder promises (schedules.adoption, storage.rules.ladder.escalation_day), and a week
holds at most `weekly_cap` of a person's messages, as the sweep's batching does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from schedules.adoption import adoption_due, welcome_plan
from schedules.planning import owners_as_recipients, plan_day, recipient_key, send_at
from schedules.sending import Addressee, Channel, Recipient
from storage import outbox
from storage.db import Database
from storage.reminding import (
    live_actions,
    people_by_id,
    plans_by_id,
    refs_and_titles,
    reminders_delivered,
)
from storage.rules.calendar import (
    WEEKLY_CAP,
    batch_day_on_or_after,
    batch_week_began,
    catch_up_send_at,
    goes_on_its_own_day,
    next_send_at,
)
from storage.rules.ladder import Reminded, Step, StepKind

URGENCY: list[StepKind] = ["escalate", "overdue", "due", "set-date", "checkin"]


@dataclass
class PlannedMessage:
    person: Addressee  # a person, or a plan's escalation channel
    send_at: datetime  # in the person's own time zone
    # ref, title, step; in a welcome, None for an action listed with no reminder step due
    actions: list[tuple[str, str, Step | None]] = field(default_factory=list)
    welcome: bool = False  # a person's welcome to a plan: their actions in it, and that day's reminders

    @property
    def steps(self) -> list[Step]:
        return [step for _, _, step in self.actions if step is not None]

    @property
    def step(self) -> Step | None:
        """The most pressing step in the message (one message can gather several); None for a welcome with
        none due."""
        return min(
            self.steps,
            key=lambda s: URGENCY.index(s.kind) if s.kind in URGENCY else len(URGENCY),
            default=None,
        )

    @property
    def why(self) -> str:
        """What the message is, in a word: "welcome", or its most pressing step ("overdue", "before-3")."""
        step = self.step
        return "welcome" if self.welcome or step is None else step.name

    def as_json(self) -> dict[str, Any]:
        if isinstance(self.person, Channel):
            recipient: dict[str, Any] = {"name": self.person.name, "channel": self.person.id}
        else:
            recipient = {
                "name": self.person.name,
                "email": self.person.email,
                "slack_id": self.person.slack_id,
                "teams_id": self.person.teams_id,
            }
        return {
            "recipient": recipient,
            "send_at": self.send_at.isoformat(timespec="minutes"),
            "step": self.why,
            "actions": [
                {"ref": ref, "title": title, "step": step.name if step else "welcome"}
                for ref, title, step in self.actions
            ],
        }


def preview(
    database: Database, *, at: datetime, days: int, zone: ZoneInfo, weekly_cap: int = WEEKLY_CAP
) -> list[PlannedMessage]:
    """Messages the sweep would queue from `at` for `days` days, grouped per person per local day, soonest
    first."""
    start = at.astimezone(zone).date()
    messages: dict[tuple[str, str], PlannedMessage] = {}
    with database.session() as session:
        # Queued or sent already; planned-but-unsent nudges are planned again below and shown.
        shown = outbox.nudge_keys_in_messages(session)
        actions = live_actions(session)
        plans = plans_by_id(session, {action.plan_id for action in actions})
        owners = owners_as_recipients(session, [action.id for action in actions])
        names = refs_and_titles(session, [action.id for action in actions])
        due_today = [a for a in actions if a.next_nudge_on is None or a.next_nudge_on <= start]
        adoption = adoption_due(session, due_today, plans=plans, owners=owners)
        welcomes = {
            pair: (person, catch_up_send_at(person.hours, at, default_zone=zone))
            for pair, person in adoption.welcomes.items()
        }
        # Welcomes an earlier sweep queued for a working moment still to come are shown too.
        queued = outbox.pending_keyed(session, containing=":welcome:")
        queued_steps = outbox.nudges_of_messages(session, [message_id for message_id, *_ in queued])
        known = {person.id: person for people in owners.values() for person in people}
        for message_id, key, person_id, moment in queued:
            plan_id = welcome_plan(key)
            if plan_id is None or person_id is None:
                continue
            person = known.get(person_id) or Recipient.of(people_by_id(session, [person_id])[person_id])
            welcomes[person_id, plan_id] = (person, moment)
            for attached in queued_steps.get(message_id, []):
                shown.discard(attached.key)  # shown with the welcome they are in, below
        welcoming: dict[tuple[int, int], PlannedMessage] = {}
        for (person_id, plan_id), (person, moment) in welcomes.items():
            local = _local(moment, person, zone)
            # A welcome lists all their actions in the plan; those with a step due say which.
            listed: list[tuple[str, str, Step | None]] = [
                (*names[action.id], None)
                for action in actions
                if action.plan_id == plan_id and any(p.id == person_id for p in owners.get(action.id, []))
            ]
            welcoming[person_id, plan_id] = PlannedMessage(
                person=person, send_at=local, actions=listed, welcome=True
            )
            messages[f"welcome:{person_id}:{plan_id}", ""] = welcoming[person_id, plan_id]
        delivered = _Deliveries(
            reminders_delivered(session, {action.id: action.answered_at for action in actions}, zone=zone)
        )
        escalations: dict[int, list[Addressee]] = {}
        for offset in range(days + 1):
            # Every current step each day, not only those starting that day: a snooze or a pause ending
            # releases one; a step is shown on the first day it would be planned.
            day = start + timedelta(days=offset)
            planned = plan_day(
                session,
                actions,
                plans=plans,
                owners=owners,
                day=day,
                zone=zone,
                escalations=escalations,
                reminded=delivered.so_far(),
            )
            for nudge in planned.nudges:
                if nudge.key in shown:
                    continue
                shown.add(nudge.key)
                pair = (nudge.to.id, nudge.action.plan_id)
                if offset == 0 and isinstance(nudge.to, Recipient) and pair in welcoming:
                    message = welcoming[pair]  # the sweep gathers that round's reminders in the welcome
                    local = message.send_at
                else:
                    local = _local(send_at(nudge, day=day, now=at, zone=zone), nudge.to, zone)
                    slot = (recipient_key(nudge.to), local.date().isoformat())
                    message = messages.setdefault(slot, PlannedMessage(person=nudge.to, send_at=local))
                    message.send_at = min(message.send_at, local)
                # As the sweep does: an action appears once in a message, at its latest step.
                ref, title = names[nudge.action.id]
                if message.welcome:
                    message.actions = [(r, t, nudge.step if r == ref else s) for r, t, s in message.actions]
                else:
                    message.actions = [a for a in message.actions if a[0] != ref]
                    message.actions.append((ref, title, nudge.step))
                if nudge.step.kind == "overdue" and isinstance(nudge.to, Recipient):
                    delivered.add(nudge.action.id, nudge.step.occurrence, local.date())
    return _capped(
        sorted(messages.values(), key=lambda m: (m.send_at, m.person.name)), weekly_cap=weekly_cap, zone=zone
    )


def _local(moment: datetime, to: Addressee, zone: ZoneInfo) -> datetime:
    hours = to.hours
    return moment.astimezone(ZoneInfo(hours.timezone) if hours.timezone else zone)


class _Deliveries:
    """The overdue reminders each action's owners have had, and those the preview shows them having."""

    def __init__(self, known: dict[int, Reminded]) -> None:
        self.known = known
        self.added: dict[int, dict[str, date]] = {}

    def add(self, action_id: int, occurrence: str, on: date) -> None:
        self.added.setdefault(action_id, {}).setdefault(occurrence, on)

    def so_far(self) -> dict[int, Reminded]:
        found = dict(self.known)
        for action_id, rounds in self.added.items():
            before = self.known.get(action_id)
            count = len(rounds) + (before.count if before else 0)
            first = min([*rounds.values(), *([before.first] if before else [])])
            found[action_id] = Reminded(count, first)
        return found


def _capped(messages: list[PlannedMessage], *, weekly_cap: int, zone: ZoneInfo) -> list[PlannedMessage]:
    """At most `weekly_cap` messages in a person's reminder week, as the sweep's batching holds them: a
    message of recurring reminders only, past the cap, joins the person's next reminder day's message."""
    kept: list[PlannedMessage] = []
    in_week: dict[tuple[int, date], int] = {}
    moved: dict[tuple[int, date], PlannedMessage] = {}
    for message in messages:
        person = message.person
        if not isinstance(person, Recipient):
            kept.append(message)
            continue
        day = message.send_at.date()
        week = (person.id, batch_week_began(person.hours, day))
        waiting = moved.pop((person.id, day), None)
        if waiting is not None:
            held_refs = {a[0] for a in waiting.actions}
            message.actions = [*waiting.actions, *(a for a in message.actions if a[0] not in held_refs)]
        recurring_only = not message.welcome and not any(goes_on_its_own_day(s.kind) for s in message.steps)
        if recurring_only and in_week.get(week, 0) >= weekly_cap:
            later = batch_day_on_or_after(person.hours, day + timedelta(days=1))
            held = moved.setdefault(
                (person.id, later), PlannedMessage(person=person, send_at=message.send_at)
            )
            already = {a[0] for a in held.actions}
            held.actions.extend(a for a in message.actions if a[0] not in already)
            continue
        in_week[week] = in_week.get(week, 0) + 1
        kept.append(message)
    for (_, day), held in moved.items():  # past the horizon's last message: shown on their day
        held.send_at = _local(next_send_at(held.person.hours, day, default_zone=zone), held.person, zone)
        kept.append(held)
    return sorted(kept, key=lambda m: (m.send_at, m.person.name))
