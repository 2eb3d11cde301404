"""How an action looks in any reply or reminder: a card with its facts and buttons, or a one-line summary."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Protocol

from handlers.controls import ButtonMeaning, FormMeaning, Invocation
from handlers.messages import Block, Button, Buttons, Fields, Form, FormField, Heading, Reply
from storage.models import Action
from storage.rules.bounds import NOTE_LIMIT
from storage.rules.deadlines import Deadline, DeadlineKind, Scheduled, implausible_year
from storage.rules.overdue import days_overdue
from storage.rules.owners import list_owners
from storage.rules.rag import Rag
from storage.rules.recurrence import say_recurrence
from storage.rules.status import Status

RAG_LABEL = {"red": "Red", "amber": "Amber", "green": "Green", "blue": "Blue (done)"}


def changed_by(actor: str, surface: str) -> str:
    """Who made a change and where, in a history line: "Amina Khan via slack", or "the plan file" for an
    import (whose actor and surface are both "import")."""
    if surface == "import":
        return "the plan file" if actor in ("import", "") else f"{actor}'s plan import"
    return f"{actor} via {surface}"


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _day(day: date) -> str:
    """What `f"{day:%-d %b %Y}"` writes ("30 Jun 2023": edibot never sets a locale, so strftime's month names
    are these), without strftime's cost: every line of `/edi mine` writes one or two."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def describe_deadline(
    kind: DeadlineKind, *, start: date | None, due: date | None, recurrence: str | None
) -> str:
    """A deadline as edibot reads it, in words: "due 30 Jun 2023", "ongoing, first due 30 Nov 2022"."""
    if kind == "dated" and due:
        return f"due {_day(due)}" + (f", from {_day(start)}" if start else "")
    if kind == "ongoing":
        parts = ["ongoing"]
        if start:
            parts.append(f"from {_day(start)}")
        if due:
            parts.append(f"first due {_day(due)}")
        return ", ".join(parts)
    if kind == "recurring":
        return say_recurrence(recurrence)
    if kind == "complete":
        return "complete"
    return "no date yet"


def unusable(deadline: Deadline) -> bool:
    """A deadline someone typed that edibot won't take: unreadable, or a year no plan means (1/1/1900)."""
    return deadline.kind == "unknown" or implausible_year(deadline) is not None


def why_unreadable(written: str, deadline: Deadline) -> str:
    """Why a deadline someone typed can't be used, in the importer's words without its "kept as text" tail."""
    implausible = implausible_year(deadline)
    if implausible:
        return implausible
    reason = deadline.warnings[0] if deadline.warnings else f"'{written}' is not a date I understand"
    return re.sub(r";?\s*kept as text.*$", "", reason)


class Listed(Scheduled, Protocol):
    """What a one-line summary reads of an action: an Action, or a row of its columns (storage's
    ActionLine)."""

    @property
    def ref(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def deadline_text(self) -> str | None: ...
    @property
    def rag(self) -> Rag | None: ...
    @property
    def status(self) -> Status: ...


def understood(action: Listed) -> str:
    return describe_deadline(
        action.deadline_kind, start=action.start_date, due=action.due_date, recurrence=action.recurrence
    )


def due_label(action: Listed, today: date) -> str:
    written = (action.deadline_text or "").strip()
    reading = understood(action)
    label = f"{written} ({reading})" if written and written.lower() != reading else reading
    days = days_overdue(action.deadline_kind, action.due_date, today, done=action.status == "done")
    if days is not None:
        label += f" — overdue by {days} day{'s' if days != 1 else ''}"
    return label


def status_label(action: Listed) -> str:
    rag = RAG_LABEL.get(action.rag or "", "not rated")
    return "Done" if action.status == "done" else rag


def action_line(action: Listed, today: date) -> str:
    """One line: "LT-4 · Review recruitment adverts · due 30 Jun 2023 — overdue by 12 days · Amber"."""
    return f"{action.ref} · {action.title} · {due_label(action, today)} · {status_label(action)}"


def update_buttons(ref: str) -> Buttons:
    """What an owner can press on a card; BUTTONS says what each press runs."""
    return Buttons(
        (
            Button("Green", "status", f"{ref}|green", "primary"),
            Button("Amber", "status", f"{ref}|amber"),
            Button("Red", "status", f"{ref}|red", "danger"),
            Button("Done", "status", f"{ref}|done"),
            Button("Snooze 1 week", "snooze", f"{ref}|1w"),
            Button("Add note", "note", ref),
            Button("Not mine", "not_mine", ref),
        )
    )


def _press_status(ref: str, status: str) -> Invocation | None:
    return Invocation(status, (ref,)) if status in ("green", "amber", "red", "done") else None


def _press_snooze(ref: str, period: str) -> Invocation | None:
    return Invocation("snooze", (ref, period)) if period else None


def _press_note(ref: str, argument: str) -> Invocation | None:
    return None if argument else Invocation("note", (ref,))


def _press_not_mine(ref: str, argument: str) -> Invocation | None:
    return None if argument else Invocation("notmine", (ref,))


# The card's buttons, by action id: the command each press runs, so the same checks apply as to the words.
BUTTONS: dict[str, ButtonMeaning] = {
    "status": _press_status,
    "snooze": _press_snooze,
    "note": _press_note,
    "not_mine": _press_not_mine,
}


def action_card(action: Action, today: date, *, with_buttons: bool = True) -> list[Block]:
    """The action in full: what it is, whose it is, when it is due, how it is going, and what to press."""
    title = action.title if len(action.title) <= 140 else action.title[:139] + "…"
    fields: list[tuple[str, str]] = [
        ("Plan", action.plan.name + (f" › {action.theme}" if action.theme else "")),
        ("Owners", list_owners(owner.name for owner in action.owners)),
        ("Due", due_label(action, today)),
        ("Status", status_label(action)),
    ]
    if action.snoozed_until and action.snoozed_until > today:
        fields.append(("Snoozed until", f"{action.snoozed_until:%-d %b %Y}"))
    if action.progress_note:
        fields.append(("Last note", action.progress_note))
    blocks: list[Block] = [Heading(f"{action.ref} · {title}"), Fields(tuple(fields))]
    if with_buttons and action.status != "done":
        blocks.append(update_buttons(action.ref))
    return blocks


def reason_form(ref: str, status: str, *, error: str | None = None) -> Form:
    question = "What's putting it at risk?" if status == "amber" else "What's blocking it?"
    return Form(
        form_id="status",
        title=f"{ref} is {status.title()}"[:24],
        fields=(FormField("reason", question, multiline=True, max_length=NOTE_LIMIT, error=error),),
        state=f"{ref}|{status}",
    )


def _submit_reason(state: str, values: Mapping[str, str]) -> Invocation | Reply | None:
    """The reason form answered: the status with the reason as its note, or the form again if left empty."""
    ref, _, status = state.partition("|")
    if status not in ("amber", "red"):
        return None
    reason = (values.get("reason") or "").strip()
    if not reason:
        return Reply([reason_form(ref, status, error="Please say why, in a few words.")])
    return Invocation(status, (ref, reason))


# The forms a card leads to, by form id: what submitting each runs.
FORMS: dict[str, FormMeaning] = {"status": _submit_reason}
