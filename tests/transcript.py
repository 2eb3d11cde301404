"""A conversation with edibot on the real command layer, read and checked like dialogue.

    transcript.say("@Amina Khan", "/edi amber NO-6 waiting on budget")
    transcript.expect_reply("NO-6 is now Amber")
    transcript.press("@Amina Khan", "Green")

Every line goes through the console adapter (bot.console.ConsoleSession) and the command layer
(handlers.registry.command_layer) over the test `store`, with a FakeClock the test moves with `at`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from bot.console import ConsoleSession, FakeClock, render
from handlers.core import Actor, CommandLayer
from handlers.messages import Button, Outcome
from handlers.registry import command_layer
from schedules.runner import outbox_now
from storage.db import Database
from storage.models import Action, HistoryEntry, Owner, Person, Plan
from storage.queries import action_by_ref, history_of

LONDON = ZoneInfo("Europe/London")

# The facts of an action a person can change; a refusal must leave every one of them as it was.
ACTION_FIELDS = (
    "rag",
    "status",
    "progress_note",
    "deadline_text",
    "deadline_kind",
    "start_date",
    "due_date",
    "recurrence",
    "milestones",
    "snoozed_until",
    "archived",
    "updated_at",
)


@dataclass(frozen=True)
class Row:
    """One history row, as the tests compare it."""

    actor: str
    field: str
    from_value: str | None
    to_value: str | None
    note: str | None
    surface: str
    at: datetime


def snapshot(store: Database, ref: str) -> dict[str, Any]:
    """An action's changeable facts and owners, read fresh from the store."""
    with store.session() as session:
        action = action_by_ref(session, ref)
        assert action is not None, f"no action {ref} in the store"
        facts = {name: getattr(action, name) for name in ACTION_FIELDS}
        facts["owners"] = [owner.name for owner in action.owners]
        return facts


def history(store: Database, ref: str) -> list[Row]:
    """An action's history, newest first, as the store keeps it."""
    with store.session() as session:
        action = action_by_ref(session, ref)
        assert action is not None, f"no action {ref} in the store"
        return [
            Row(e.actor, e.field, e.from_value, e.to_value, e.note, e.surface, e.at)
            for e in history_of(session, action)
        ]


def store_state(store: Database) -> dict[str, Any]:
    """Everything a command could change: every action, person, plan, and how much history there is."""
    with store.session() as session:
        actions = {
            action.ref: {name: getattr(action, name) for name in ACTION_FIELDS}
            | {"owners": [owner.name for owner in action.owners]}
            for action in session.scalars(select(Action).options(selectinload(Action.owners)))
        }
        people = {
            person.name: (person.is_admin, [role.name for role in person.roles])
            for person in session.scalars(select(Person).options(selectinload(Person.roles)))
        }
        plans = {plan.name: (plan.paused, plan.restricted) for plan in session.scalars(select(Plan))}
        owners = sorted(session.scalars(select(Owner.name)))
        rows = session.scalar(select(func.count()).select_from(HistoryEntry)) or 0
    return {"actions": actions, "people": people, "plans": plans, "owners": owners, "history rows": rows}


@contextmanager
def nothing_changes(store: Database) -> Iterator[None]:
    """The block must leave the store exactly as it found it: no field, person, plan or history row
    changed."""
    before = store_state(store)
    yield
    after = store_state(store)
    for part, was in before.items():
        now = after[part]
        if isinstance(was, dict):
            changed = {
                key: (was.get(key), now.get(key))
                for key in was.keys() | now.keys()
                if was.get(key) != now.get(key)
            }
            assert not changed, f"{part} changed (before, after): {changed}"
        else:
            assert now == was, f"{part} changed: {was} → {now}"


def refs_listed(reply: str) -> list[str]:
    """The references of the action lines in a listing ("NO-2 · Set EDI objectives… · Amber")."""
    return [line.split(" · ")[0] for line in reply.splitlines() if " · " in line]


def _name(who: str) -> str:
    return who.strip().removeprefix("@").strip()


class Transcript:
    """Says lines as people, presses buttons, and checks what edibot answered."""

    def __init__(self, database: Database, clock: FakeClock) -> None:
        self.database = database
        self.clock = clock
        self.layer: CommandLayer = command_layer(database, clock)
        self.lines: list[str] = []  # everything the console printed, the whole conversation
        self.console = ConsoleSession(
            self.layer, write=self.lines.append, outbox=outbox_now(database, clock=clock, zone=LONDON)
        )
        self.outcome: Outcome | None = None
        self.buttons: list[Button] = []  # on the last reply that had any: what `press` can press
        self._answer_from = 0

    # -- talking --------------------------------------------------------------------------------------
    def say(self, who: str, text: str) -> Outcome:
        """`who` ("@Amina Khan") types `text` in the console: a command, a thread reply, a number, an
        answer."""
        name = _name(who)
        self.lines.append(f"@{name}: {text}")
        self._answer_from = len(self.lines)
        self.outcome = self.console.say(name, text)
        self._note_buttons()
        return self.outcome

    def press(self, who: str, label: str) -> Outcome:
        """`who` presses the button labelled `label` on the last reply that had buttons (a message stays on
        screen)."""
        button = self._button(label)
        name = _name(who)
        self.lines.append(f"@{name} presses [{label}]")
        self._answer_from = len(self.lines)
        held = self.console.conversations.get(name.casefold())
        if held is not None and button in held.buttons:
            # The presser is looking at this message: press it the console's way, by its number.
            self.outcome = self.console.say(name, str(held.buttons.index(button) + 1))
        else:
            self.outcome = self.layer.press(
                Actor(surface="console", name=name), button.action_id, button.value
            )
            self.lines.extend(f"  edibot: {line}" for line in render(self.outcome.reply))
        self._note_buttons()
        return self.outcome

    def at(self, moment: str) -> None:
        """Moves the clock: "2025-11-04T10:00" (London time unless a zone is given)."""
        parsed = datetime.fromisoformat(moment)
        self.clock.set(parsed if parsed.tzinfo else parsed.replace(tzinfo=LONDON))

    # -- checking -------------------------------------------------------------------------------------
    @property
    def reply(self) -> str:
        """What edibot said back to the last line, as the console showed it (notices to others left out)."""
        assert self.outcome is not None, "nobody has said anything yet"
        return "\n".join(render(self.outcome.reply))

    @property
    def answer(self) -> str:
        """Everything the console printed after the last line, notices included."""
        return "\n".join(self.lines[self._answer_from :])

    def expect_reply(self, *texts: str) -> None:
        """Each text appears in edibot's answer to the last line."""
        reply = self.reply
        for text in texts:
            if text not in reply:
                pytest.fail(
                    f"expected the reply to contain {text!r}; edibot answered:\n{self.answer}", pytrace=False
                )

    def expect_reply_not(self, *texts: str) -> None:
        """None of the texts appears in edibot's answer to the last line."""
        reply = self.reply
        for text in texts:
            if text in reply:
                pytest.fail(
                    f"expected the reply not to contain {text!r}; edibot answered:\n{self.answer}",
                    pytrace=False,
                )

    def expect_notice(self, *, to: str, containing: str) -> None:
        """The last line made edibot tell `to` something containing `containing`."""
        assert self.outcome is not None, "nobody has said anything yet"
        notices = [n for n in self.outcome.notices if n.name == _name(to)]
        if not any(containing in "\n".join(render(n.reply)) for n in notices):
            pytest.fail(
                f"expected a notice to {_name(to)} containing {containing!r}; edibot "
                f"answered:\n{self.answer}",
                pytrace=False,
            )

    def expect_no_notices(self) -> None:
        assert self.outcome is not None and not self.outcome.notices, self.answer

    def _note_buttons(self) -> None:
        assert self.outcome is not None
        if self.outcome.reply.buttons:
            self.buttons = self.outcome.reply.buttons

    def _button(self, label: str) -> Button:
        found = [b for b in self.buttons if b.label.casefold() == label.casefold()]
        if not found:
            labels = ", ".join(b.label for b in self.buttons) or "no buttons"
            pytest.fail(
                f"the last reply has no button {label!r} (it has {labels}):\n{self.answer}", pytrace=False
            )
        return found[0]
