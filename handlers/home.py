"""A person's home page (Slack's App Home tab, a Teams personal tab): their actions by when they are due, and,
for plan admins, the health of every plan."""

from __future__ import annotations

from datetime import date, timedelta

from handlers.cards import RAG_LABEL, action_card
from handlers.core import Request
from handlers.feedback import give_feedback_button
from handlers.messages import Context, Fields, Heading, Reply, Text
from storage.feedback import feedback_settings
from storage.models import Action
from storage.rules.overdue import action_overdue

SOON = timedelta(days=14)
RAG_ORDER = ("red", "amber", "green", None)


def _bucket(action: Action, today: date) -> str:
    if action_overdue(action, today):
        return "Overdue"
    if action.due_date is None or action.due_date < today:
        return "Ongoing or no date yet"  # "Nov 2022 & Ongoing" after November 2022 is ongoing, not overdue
    if action.due_date <= today + SOON:
        return "Due in the next two weeks"
    return "Later"


BUCKETS = ("Overdue", "Due in the next two weeks", "Later", "Ongoing or no date yet")


def _rag_counts(actions: list[Action]) -> str:
    counts = {rag: sum(1 for a in actions if a.rag == rag) for rag in RAG_ORDER}
    parts = [f"{counts[rag]} {RAG_LABEL[rag]}" for rag in RAG_ORDER if rag and counts[rag]]
    if counts[None]:
        parts.append(f"{counts[None]} not rated")
    return ", ".join(parts) or "none rated"


def home(request: Request) -> Reply:
    """What someone sees when they open edibot: plan health (admins), then their own actions, worst first."""
    person = request.require_person()
    today = request.now.date()
    reply = Reply([Heading(f"EDI actions for {person.name}")])
    if feedback_settings(request.store.session) is not None:
        reply.add(give_feedback_button())  # anonymous: the press runs without knowing who pressed
    if person.is_admin:
        reply.add(*_plan_health(request, today))
    declined = request.store.declined_by(person)
    actions = [a for a in request.store.actions_owned_by(person, with_owners=True) if a.id not in declined]
    if not actions:
        reply.add(
            Text(
                "You have no open actions."
                if person.roles
                else (
                    "You have no actions: you aren't mapped to any owner role yet. Ask an EDI lead to map "
                    "you."
                )
            )
        )
        return reply
    overdue = sum(1 for a in actions if action_overdue(a, today))
    reply.add(
        Text(
            f"*Your {len(actions)} open action{'s' if len(actions) != 1 else ''}*: {_rag_counts(actions)}"
            + (f"; *{overdue} overdue*" if overdue else "")
            + "."
        )
    )
    for bucket in BUCKETS:
        group = [a for a in actions if _bucket(a, today) == bucket]
        if not group:
            continue
        # Worst first within a group: Red, then Amber, Green, unrated; soonest due next.
        group.sort(
            key=lambda a: (RAG_ORDER.index(a.rag) if a.rag in RAG_ORDER else 3, a.due_date or date.max)
        )
        reply.add(Context(f"*{bucket}* · {len(group)}: {_rag_counts(group)}"))
        for action in group:
            reply.add(*action_card(action, today))
    return reply


def _plan_health(request: Request, today: date) -> list[Heading | Fields | Context | Text]:
    blocks: list[Heading | Fields | Context | Text] = [Heading("Plan health")]
    counts = request.store.plans_with_counts(today=today)
    if not counts:
        return [*blocks, Text("No plans yet: `edibot import PLAN.docx` brings one in.")]
    for plan in counts:
        rag = ", ".join(
            f"{plan.by_rag.get(key, 0)} {label}"
            for key, label in (("red", "Red"), ("amber", "Amber"), ("green", "Green"))
        )
        blocks.append(
            Fields(
                (
                    ("Plan", plan.plan.name + (" (paused)" if plan.plan.paused else "")),
                    ("Actions", f"{plan.actions} live, {plan.done} done"),
                    ("RAG", f"{rag}, {plan.by_rag.get('unrated', 0)} not rated"),
                    ("Overdue", str(plan.overdue)),
                )
            )
        )
    unmapped = request.store.unmapped_owners()
    if unmapped:
        names = ", ".join(f"{owner.name} ({count})" for owner, count in unmapped[:10])
        more = f" and {len(unmapped) - 10} more" if len(unmapped) > 10 else ""
        blocks.append(
            Context(
                f"Owner roles nobody is mapped to, so nobody is reminded: {names}{more}. "
                "`/edi people unmapped` lists them all."
            )
        )
    else:
        blocks.append(Context("Every owner role is mapped to someone."))
    return blocks
