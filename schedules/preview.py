"""What the nudge sweep would send over the next days, to whom, when (their local time) and why — changing
nothing.

It asks the sweep's own planning (schedules.planning.plan_day) day by day, so what it shows is what the sweep
would plan: the same steps, recipients, keys and send times.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from schedules.planning import owners_as_recipients, plan_day, recipient_key, send_at
from schedules.sending import Addressee, Channel
from storage import outbox
from storage.db import Database
from storage.reminding import live_actions, plans_by_id, refs_and_titles
from storage.rules.ladder import Step, StepKind

URGENCY: list[StepKind] = ["escalate", "overdue", "due", "set-date", "checkin"]


@dataclass
class PlannedMessage:
    person: Addressee  # a person, or a plan's escalation channel
    send_at: datetime  # in the person's own time zone
    actions: list[tuple[str, str, Step]] = field(default_factory=list)  # ref, title, step

    @property
    def step(self) -> Step:
        """The most pressing step in the message (one message can gather several)."""
        return min(
            (step for _, _, step in self.actions),
            key=lambda s: URGENCY.index(s.kind) if s.kind in URGENCY else len(URGENCY),
        )

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
            "step": self.step.name,
            "actions": [{"ref": ref, "title": title, "step": step.name} for ref, title, step in self.actions],
        }


def preview(database: Database, *, at: datetime, days: int, zone: ZoneInfo) -> list[PlannedMessage]:
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
        escalations: dict[int, list[Addressee]] = {}
        for offset in range(days + 1):
            # Every current step each day, not only those starting that day: a snooze or a pause ending
            # releases one; a step is shown on the first day it would be planned.
            day = start + timedelta(days=offset)
            planned = plan_day(
                session, actions, plans=plans, owners=owners, day=day, zone=zone, escalations=escalations
            )
            for nudge in planned.nudges:
                if nudge.key in shown:
                    continue
                shown.add(nudge.key)
                hours = nudge.to.hours
                local = send_at(nudge, day=day, now=at, zone=zone).astimezone(
                    ZoneInfo(hours.timezone) if hours.timezone else zone
                )
                slot = (recipient_key(nudge.to), local.date().isoformat())
                message = messages.setdefault(slot, PlannedMessage(person=nudge.to, send_at=local))
                message.send_at = min(message.send_at, local)
                # As the sweep does: an action appears once in a message, at its latest step.
                ref, title = names[nudge.action.id]
                message.actions = [a for a in message.actions if a[0] != ref]
                message.actions.append((ref, title, nudge.step))
    return sorted(messages.values(), key=lambda m: (m.send_at, m.person.name))
