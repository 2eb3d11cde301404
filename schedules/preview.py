"""What the nudge sweep would send over the next days, to whom, when (their local time) and why — changing nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from schedules.nudges import Channel, Recipient, answered_since, hours_of, recipient_key, recipients_of
from storage.db import Database
from storage.models import Action, Nudge, Plan
from storage.rules.calendar import catch_up_send_at, next_send_at
from storage.rules.ladder import current_steps

URGENCY = ["escalate", "overdue", "due", "set-date", "checkin"]


@dataclass
class PlannedMessage:
    person: Recipient  # a person, or a plan's escalation channel
    send_at: datetime  # in the person's own time zone
    steps: list[str] = field(default_factory=list)
    actions: list[tuple[str, str, str]] = field(default_factory=list)  # ref, title, step

    @property
    def step(self) -> str:
        """The most pressing step in the message (one message can gather several)."""
        return min(self.steps, key=lambda s: URGENCY.index(s) if s in URGENCY else len(URGENCY))

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
            "step": self.step,
            "actions": [{"ref": ref, "title": title, "step": step} for ref, title, step in self.actions],
        }


def preview(database: Database, *, at: datetime, days: int, zone: ZoneInfo) -> list[PlannedMessage]:
    """Messages the sweep would queue from `at` for `days` days, grouped per person per local day, soonest first."""
    start = at.astimezone(zone).date()
    messages: dict[tuple[str, str], PlannedMessage] = {}
    with database.session() as session:
        # Queued or sent already; planned-but-unsent nudges are recomputed below and shown.
        sent = set(session.scalars(select(Nudge.key).where(Nudge.message_id.is_not(None))))
        actions = session.scalars(
            select(Action)
            .join(Plan)
            .where(Action.archived.is_(False), Action.status != "done", Plan.paused.is_(False))
            .options(selectinload(Action.owners), selectinload(Action.plan))
            .order_by(Action.id)
        ).all()
        recipients: dict[tuple[int, bool], list[Recipient]] = {}
        for offset in range(days + 1):
            day = start + timedelta(days=offset)
            for action in actions:
                for step in current_steps(action, action.plan, day):
                    # Every current step, not only those starting today: a snooze or a pause ending releases one.
                    if answered_since(action, step, zone):
                        continue
                    cache = (action.id, step.escalation)
                    if cache not in recipients:
                        recipients[cache] = recipients_of(session, action, step, action.plan)
                    for person in recipients[cache]:
                        key = f"{action.id}:{step.name}:{step.occurrence}:{recipient_key(person)}"
                        if key in sent:
                            continue
                        sent.add(key)
                        # Not before the day the step becomes sendable (a snooze or pause may have held it).
                        hours = hours_of(person)
                        send_at = next_send_at(hours, max(step.on, day), default_zone=zone)
                        if send_at < at:
                            send_at = catch_up_send_at(hours, at, default_zone=zone)
                        local = send_at.astimezone(ZoneInfo(hours.timezone) if hours.timezone else zone)
                        slot = (recipient_key(person), local.date().isoformat())
                        message = messages.setdefault(slot, PlannedMessage(person=person, send_at=local))
                        message.send_at = min(message.send_at, local)
                        # As the sweep does: an action appears once in a message, at its latest step.
                        message.actions = [a for a in message.actions if a[0] != action.ref]
                        message.actions.append((action.ref, action.title, step.name))
                        message.steps = [a[2] for a in message.actions]
    return sorted(messages.values(), key=lambda m: (m.send_at, m.person.name))
