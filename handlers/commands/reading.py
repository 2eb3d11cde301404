"""The `/edi` commands that read: help, your actions, a list across the plans, one action, its history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from handlers.cards import Listed, action_card, action_line, changed_by
from handlers.changes import read_period
from handlers.core import CommandSpec, Request
from handlers.errors import CommandError
from handlers.messages import Context, Heading, Reply, Text
from handlers.refs import may_change_action
from storage.models import Person
from storage.rules.bounds import FILTER_LIMIT
from storage.rules.overdue import action_overdue

LIST_LIMIT = 30


def help_command(request: Request) -> Reply:
    commands = request.commands
    if request.words:
        wanted = request.words[0].lower().removeprefix("/edi").strip()
        spec = commands.get(wanted) or next((s for s in commands.values() if wanted in s.aliases), None)
        if spec is None:
            raise CommandError(f"There is no command '{wanted}'. `/edi help` lists them all.")
        return Reply([Heading(f"/edi {spec.usage}"), Text(spec.summary)])
    lines = [f"`/edi {spec.usage}` — {spec.summary}" for spec in commands.values() if not spec.admin_only]
    admin = [f"`/edi {spec.usage}` — {spec.summary}" for spec in commands.values() if spec.admin_only]
    reply = Reply([Heading("What I can do"), Text("\n".join(lines))])
    if request.person is not None and request.person.is_admin:
        reply.add(Heading("For plan admins"), Text("\n".join(admin)))
    reply.add(
        Context(
            "In a reminder's thread you can also just write: “amber - waiting on budget”, “done ✅”, "
            "“snooze 2 weeks”, “new date 30 June” or “not mine”."
        )
    )
    return reply


def _listing(title: str, actions: Sequence[Listed], today: date, *, empty: str) -> Reply:
    if not actions:
        return Reply.say(empty)
    reply = Reply([Heading(title)])
    shown = actions[:LIST_LIMIT]
    reply.add(Text("\n".join(action_line(action, today) for action in shown)))
    if len(actions) > LIST_LIMIT:
        reply.add(
            Context(f"…and {len(actions) - LIST_LIMIT} more. Narrow it with plan:, theme:, owner: or due:.")
        )
    return reply


def mine(request: Request) -> Reply:
    person = request.require_person()
    # One statement, rows rather than ORM objects: every Slack request for `/edi mine` asks it.
    lines = request.store.lines_owned_by(person)
    actions = [line for line in lines if not line.declined]
    declined = [line for line in lines if line.declined]  # said "not mine": shown apart, not counted as to do
    today = request.now.date()
    overdue = sum(1 for a in actions if action_overdue(a, today))
    title = f"Your {len(actions)} open action{'s' if len(actions) != 1 else ''}" + (
        f", {overdue} overdue" if overdue else ""
    )
    reply = _listing(title, actions, today, empty="" if actions else _no_actions(person))
    if declined:
        # Still theirs on paper until an admin maps it elsewhere; a line of its own says so.
        refs = [action.ref for action in declined]
        named = refs[0] if len(refs) == 1 else ", ".join(refs[:-1]) + f" and {refs[-1]}"
        told = (
            "the plan admins have been told"
            if any(admin.id != person.id for admin in request.store.admins())
            else "there is no plan admin to tell yet"
        )
        reply.add(Context(f"You said {named} {'is' if len(refs) == 1 else 'are'}n't yours; {told}."))
    return reply


def _no_actions(person: Person) -> str:
    """Why `/edi mine` lists nothing (asked only then: reading the person's roles costs a query)."""
    if person.roles:
        return "You have no open actions."
    return (
        "You have no actions: you aren't mapped to any owner role yet. Ask an EDI lead to map you "
        '(`/edi people map "HR Manager" @you`).'
    )


def list_actions(request: Request) -> Reply:
    filters: dict[str, str] = {}
    overdue = False
    due_within: date | None = None
    today = request.now.date()
    for word in request.words:
        key, sep, value = word.partition(":")
        key = key.lower()
        if sep and key in ("plan", "theme", "owner") and len(value) > FILTER_LIMIT:
            raise CommandError(
                f"A list filter may be at most {FILTER_LIMIT} characters; {key}: was {len(value):,}. "
                "I haven't listed anything."
            )
        if not sep and key == "overdue":
            overdue = True
        elif sep and key == "plan" and value:
            filters[key] = _plan_name(request, value)
        elif sep and key in ("theme", "owner") and value:
            filters[key] = value
        elif sep and key == "due" and (period := read_period(value)):
            due_within = period.after(today)
        else:
            raise CommandError(
                f"I don't understand '{word}' in a list. Use plan:NAME, theme:TEXT, owner:TEXT, overdue or "
                "due:30d (also due:2w, due:3m)."
            )
    actions = [
        action
        for action in request.store.actions_matching(
            plan=filters.get("plan"),
            theme=filters.get("theme"),
            owner=filters.get("owner"),
            overdue_on=today if overdue else None,
            due_before=due_within + timedelta(days=1) if due_within else None,
        )
        if request.store.may_see(request.person, action) and (due_within is None or action.status != "done")
    ]
    described = " ".join(request.words) or "all plans"
    return _listing(
        f"{len(actions)} action{'s' if len(actions) != 1 else ''} ({described})",
        actions,
        today,
        empty=f"No actions match {described}.",
    )


def _plan_name(request: Request, wanted: str) -> str:
    """A plan by any unique part of its name ("plan:northbridge")."""
    plans = [p.name for p in request.store.plans_seen_by(request.person)]
    exact = [name for name in plans if name.casefold() == wanted.casefold()]
    matches = exact or [name for name in plans if wanted.casefold() in name.casefold()]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise CommandError(f"No plan is called '{wanted}'. Plans: {', '.join(plans) or 'none yet'}.")
    raise CommandError(f"'{wanted}' could be {', '.join(matches)}. Which plan?")


def show(request: Request) -> Reply:
    action = request.require_action()
    reply = Reply(
        action_card(
            action, request.now.date(), with_buttons=may_change_action(request.store, request.person, action)
        )
    )
    if action.description:
        reply.add(Context(action.description[:600] + ("…" if len(action.description) > 600 else "")))
    return reply


def history(request: Request) -> Reply:
    action = request.require_action()
    entries = request.store.history(action)
    if not entries:
        return Reply.say(f"{action.ref} has no history yet.")
    lines = []
    for entry in entries[:LIST_LIMIT]:
        change = f"{entry.field}: {entry.from_value or '—'} → {entry.to_value or '—'}"
        note = f" — “{entry.note}”" if entry.note else ""
        local = entry.at.astimezone(request.now.tzinfo)
        lines.append(f"{local:%-d %b %Y %H:%M} · {changed_by(entry.actor, entry.surface)} · {change}{note}")
    reply = Reply([Heading(f"History of {action.ref} (newest first)"), Text("\n".join(lines))])
    if len(entries) > LIST_LIMIT:
        reply.add(Context(f"…and {len(entries) - LIST_LIMIT} older changes."))
    return reply


# The reading commands, in the order help lists them.
COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(
        "help", "help [COMMAND]", "what I can do, or how one command works", help_command, anyone=True
    ),
    CommandSpec("mine", "mine", "your open actions, soonest first, overdue flagged", mine),
    CommandSpec(
        "list",
        "list [plan:NAME] [theme:TEXT] [owner:TEXT] [overdue] [due:30d]",
        "actions across the plans, narrowed as you ask",
        list_actions,
    ),
    CommandSpec("show", "show REF", "one action in full", show, about_action=True),
    CommandSpec(
        "history", "history REF", "every change to an action, newest first", history, about_action=True
    ),
)
