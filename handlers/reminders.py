"""What a reminder says: one message listing a person's actions that need them, each with its buttons; and
what a plan's adoption says: a welcome to each owner, a summary to its admins."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from handlers.cards import action_card, due_label, status_label
from handlers.messages import Block, Context, Fields, Heading, Reply, Text
from storage.models import Action, Owner
from storage.rules.ladder import Reminded, StepKind
from storage.rules.overdue import STANDINGS, Standing, is_overdue, standing
from storage.rules.owners import list_owners

# Action cards in one welcome: with the greeting, group labels and the closing line it stays well inside a
# message's 50 blocks (a card is 3), so no platform has to cut it; the rest are counted, and where they are.
WELCOME_CARDS = 12


@dataclass(frozen=True)
class ReminderItem:
    action: Action
    step: StepKind
    why: str  # as Step.describe()
    today: date | None = None  # the day it is sent, to say how long is really left
    reminded: Reminded | None = None  # an escalation: the reminders its owners were sent, unanswered
    deadline: date | None = (
        None  # the deadline the step counts towards, when the action has no date of its own
    )


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
                f"Posted in {name} as the plan's escalation channel: {what_happened(item.reminded)}."
                if to_channel
                else f"You get this as the plan's escalation contact: {what_happened(item.reminded)}."
            ),
        )
    return reply


def what_happened(reminded: Reminded | None) -> str:
    """What the owners of an escalated action were really sent: "2 reminders since 3 Nov, no reply"."""
    if reminded is None:
        return "its owners have not answered their reminders"
    count = reminded.count
    return f"{count} reminder{'s' if count != 1 else ''} since {reminded.first:%-d %b}, no reply"


GROUP_LABEL: dict[Standing, str] = {
    "overdue": "Overdue",
    "due soon": "Due soon",
    "ongoing": "Ongoing: I'll ask how each is going now and then",
    "no date": "No date yet: set one with `/edi due REF WHEN`",
    "later": "Due later",
}


def grouped(actions: Sequence[Action], today: date, *, soon_days: int) -> dict[Standing, list[Action]]:
    """The actions by where they stand, in the order a welcome shows them (groups with none left out)."""
    groups: dict[Standing, list[Action]] = {group: [] for group in STANDINGS}
    for action in actions:
        groups[standing(action, today, soon_days=soon_days)].append(action)
    return {group: found for group, found in groups.items() if found}


def welcome(
    name: str, actions: Sequence[Action], *, plan: str, today: date, soon_days: int, every: str = "Mondays"
) -> Reply:
    """A person's first message about a plan: what edibot is, their actions grouped (overdue, due soon,
    ongoing, no date, later), each with its buttons, and what happens next — instead of a reminder per action.

    At most WELCOME_CARDS cards; the rest are counted, and `/edi mine` lists them all.
    """
    first_name = name.split(maxsplit=1)[0] if name.strip() else name
    count = len(actions)
    reply = Reply(private=False)
    reply.add(
        Heading(f"Welcome to edibot, {first_name}"),
        Text(
            f"I'm edibot: I keep *{plan}* moving by reminding owners of their EDI actions here in chat and "
            "taking their updates. "
            + {
                0: "You have none of its actions open just now.",
                1: "You answer for one of its actions: press a button under it to say how it stands.",
            }.get(
                count,
                f"You answer for {count} of its actions: press a button under each to say how it stands.",
            )
        ),
    )
    shown = 0
    left: dict[Standing, int] = {}
    for group, found in grouped(actions, today, soon_days=soon_days).items():
        room = WELCOME_CARDS - shown
        if room > 0:
            reply.add(Text(f"*{GROUP_LABEL[group]}* ({len(found)})"))
            for action in found[:room]:
                reply.add(*action_card(action, today))
            shown += min(room, len(found))
        if len(found) > max(room, 0):
            left[group] = len(found) - max(room, 0)
    closing: list[Block] = []
    if left:
        more = sum(left.values())
        parts = ", ".join(f"{n} {group}" for group, n in left.items())
        closing.append(
            Context(
                f"…and {more} more ({parts}): `/edi mine` lists them all, `/edi show REF` gives any one "
                "with its buttons."
            )
        )
    closing.append(
        Context(
            f"From now on your reminders come together once a week, on {every} (`/edi reminders DAY` "
            "changes it), and a deadline gets a word on its own day."
        )
    )
    reply.add(*closing)
    return reply


def adoption_summary(
    plan: str,
    actions: Sequence[Action],
    *,
    unmapped: Sequence[Owner],
    today: date,
    soon_days: int,
    weekly_cap: int,
    promised: int,
) -> Reply:
    """The plan admins' one message when a plan is taken up: where its actions stand, and which owner roles
    have no one to remind (their actions are not escalated, there being nobody who had a reminder)."""
    groups = grouped(actions, today, soon_days=soon_days)
    counts = ", ".join(f"{len(found)} {group}" for group, found in groups.items())
    count = len(actions)
    reply = Reply(private=True)
    reply.add(
        Heading(f"{plan} is on edibot"),
        Text(f"{count} open action{'s' if count != 1 else ''}" + (f": {counts}." if counts else ".")),
    )
    if unmapped:
        owned = {
            owner.id: sum(1 for action in actions if any(o.id == owner.id for o in action.owners))
            for owner in unmapped
        }
        lines = [
            f"{owner.name} — {owned[owner.id]} action{'s' if owned[owner.id] != 1 else ''}"
            for owner in unmapped
        ]
        roles = len(unmapped)
        reply.add(
            Text(
                f"{roles} owner role{'s have' if roles != 1 else ' has'} no one to remind:\n"
                + "\n".join(lines)
                + '\nMap each with `/edi people map "Role" @someone`; until then their actions are not '
                "escalated, as nobody has been reminded."
            )
        )
    else:
        reply.add(Text("Every owner role has someone to remind."))
    reply.add(
        Context(
            "Today each owner gets one welcome listing their actions. After that their reminders come once a "
            f"week on their reminder day, at most {weekly_cap} messages a week, and nothing escalates before "
            f"its owners have had {promised} reminder{'s' if promised != 1 else ''} with no reply."
        )
    )
    return reply


def _where_it_stands(item: ReminderItem, today: date | None = None) -> str:
    """Said from the day it is sent, not the day the step was planned: a weekend never makes "3 days"
    wrong."""
    due = item.action.due_date or item.deadline
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
