"""What a reminder says: one message listing a person's actions that need them, each with its buttons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from handlers.cards import action_card, due_label, status_label
from handlers.messages import Context, Fields, Heading, Reply, Text
from storage.models import Action
from storage.rules.ladder import StepKind
from storage.rules.overdue import is_overdue
from storage.rules.owners import list_owners


@dataclass(frozen=True)
class ReminderItem:
    action: Action
    step: StepKind
    why: str  # as Step.describe()
    today: date | None = None  # the day it is sent, to say how long is really left


def reminder(name: str, items: list[ReminderItem], *, today: date, to_channel: bool = False) -> Reply:
    """A person's reminder: what is due, why now, and what to press; escalations say who owns it and their
    last word.

    In a channel (a plan's escalation channel) only escalations are posted, and they say why they are there.
    """
    own = [item for item in items if item.step != "escalate"]
    escalated = [item for item in items if item.step == "escalate"]
    reply = Reply(private=False)
    if own:
        count = len(own)
        reply.add(
            Heading(
                f"{name.split(maxsplit=1)[0]}, {count} EDI action{'s' if count != 1 else ''} "
                f"need{'s' if count == 1 else ''} you"
            )
        )
        for item in own:
            reply.add(*action_card(item.action, today))
            reply.add(Context(_nudge_line(item)))
    for item in escalated:
        action = item.action
        owners = list_owners((owner.name for owner in action.owners), none="nobody")
        reply.add(
            Heading(f"Escalation: {action.ref} is overdue"),
            Text(f"{action.ref} · {action.title}"),
            Fields(
                (
                    ("Owners", owners),
                    ("Due", due_label(action, today)),
                    ("Status", status_label(action)),
                    ("Last said", action.progress_note or "nothing yet"),
                )
            ),
            Context(
                f"Posted in {name} as the plan's escalation channel. The owners have had weekly reminders."
                if to_channel
                else "You get this as the plan's escalation contact. The owners have had weekly reminders."
            ),
        )
    return reply


def _where_it_stands(item: ReminderItem, today: date | None = None) -> str:
    """Said from the day it is sent, not the day the step was planned: a weekend never makes "3 days"
    wrong."""
    due = item.action.due_date
    day = today or item.today
    if due is None or day is None:
        return item.why
    left = (due - day).days
    if left > 0:
        return f"due in {left} day{'s' if left != 1 else ''}"
    if left == 0:
        return "due today"
    if not is_overdue(item.action.deadline_kind, due, day):
        return item.why  # "Nov 2022 & Ongoing" after November 2022: ongoing, checked in on, not overdue
    return f"overdue by {-left} day{'s' if left != -1 else ''}"


def _nudge_line(item: ReminderItem) -> str:
    ref = item.action.ref
    if item.step == "set-date":
        return f"This action has no date yet: set one with `/edi due {ref} WHEN` (e.g. end of March)."
    if item.step == "checkin":
        months = item.action.plan.checkin_months
        every = {1: "Monthly", 2: "Two-monthly", 3: "Quarterly", 6: "Six-monthly", 12: "Yearly"}.get(
            months, f"{months}-monthly"
        )
        return (
            f"{every} check-in: how is it going? Press a button, or reply in this thread "
            "(e.g. “green, on track”)."
        )
    return (
        f"Why now: {_where_it_stands(item)}. Press a button or reply in this thread "
        "(e.g. “amber - waiting on budget”)."
    )
