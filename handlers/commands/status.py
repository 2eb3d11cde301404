"""The `/edi` commands an action's owners use to say how it is going: green, amber, red or done; a note, a new
deadline, a snooze, reopening it, or saying it isn't theirs."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from handlers.cards import action_card, reason_form, status_label, unusable, why_unreadable
from handlers.changes import (
    Period,
    apply_deadline,
    keep_note,
    mark_done,
    mark_open,
    rate,
    read_period,
    refuse_long_deadline,
)
from handlers.controls import FormMeaning, Invocation
from handlers.core import CommandSpec, Request
from handlers.errors import CommandError
from handlers.messages import Context, Form, FormField, Reply, Text
from handlers.refs import resolve_action
from storage.models import Action
from storage.rules.bounds import NOT_MINE_PER_DAY, NOTE_LIMIT, SNOOZE_MOST_MONTHS, SNOOZE_MOST_WEEKS
from storage.rules.deadlines import interpret_deadline
from storage.rules.ladder import next_occurrence_after
from storage.rules.rag import Rag

RATINGS: dict[str, Rag] = {"green": "green", "amber": "amber", "red": "red"}  # the commands that rate


def _note(request: Request) -> tuple[str | None, str | None]:
    """The free text after the reference, as typed, capped at NOTE_LIMIT characters, and a word about the
    cap."""
    text = request.free_text
    if not text:
        return None, None
    if len(text) > NOTE_LIMIT:
        return text[:NOTE_LIMIT], f"Your note was {len(text):,} characters; I kept the first {NOTE_LIMIT:,}."
    return text, None


def set_status(request: Request) -> Reply:
    action = request.require_action()
    status = request.command
    note, capped = _note(request)
    if status in ("amber", "red") and note is None:
        return Reply(
            [
                Text(
                    f"{action.ref} → {status.title()}: please say why, so the plan lead knows what's needed. "
                    f"(Or in one go: `/edi {status} {action.ref} REASON`.)"
                ),
                reason_form(action.ref, status),
            ]
        )
    before = status_label(action)
    if status == "done" and action.deadline_kind == "recurring":
        return _roll_recurring(request, action, note)
    if status == "done":
        if action.status == "done":
            return Reply.say(f"{action.ref} is already done.")
        mark_done(request, action, note)
    else:
        if action.rag == status and action.status != "done" and note is None:
            return Reply.say(f"{action.ref} is already {status.title()}.")
        rate(request, action, RATINGS[status], note)
    if note:
        keep_note(request, action, note)
    after = status_label(action)
    by = request.require_person().name
    said = f" — “{note}”" if note else ""
    text = (
        f"{action.ref} stays {after}, noted by {by}{said}."
        if after == before
        else f"{action.ref} is now {after} (was {before}), marked by {by}{said}."
    )
    reply = Reply([Text(text)], private=False)
    if capped:
        reply.add(Context(capped))
    return reply


def _roll_recurring(request: Request, action: Action, note: str | None) -> Reply:
    """Done, for an action that recurs ("Annually"), means this occurrence: it rolls on to the next one."""
    today = request.now.date()
    current = action.due_date or today
    following = next_occurrence_after(action, current)
    if following is None:
        raise CommandError(
            f"{action.ref} recurs, but I can't tell how often ({action.recurrence}); set a date with "
            "/edi due."
        )
    request.change(action, "due", current.isoformat(), following.isoformat(), note or "this occurrence done")
    action.due_date = following
    if note:
        keep_note(request, action, note)
    by = request.require_person().name
    return Reply.say(
        f"{action.ref}: this occurrence is done (marked by {by}). It recurs, so the next one is due "
        f"{following:%-d %B %Y}.",
        private=False,
    )


def add_note(request: Request) -> Reply:
    action = request.require_action()
    note, capped = _note(request)
    if note is None:
        return Reply([Text(f"What's the latest on {action.ref}?"), _note_form(action)])
    keep_note(request, action, note)
    reply = Reply.say(f"Noted on {action.ref}: “{note}”.")
    if capped:
        reply.add(Context(capped))
    return reply


def _note_form(action: Action, *, error: str | None = None) -> Form:
    """What's the latest? FORMS says what submitting it runs."""
    return Form(
        form_id="note",
        title=f"Note on {action.ref}"[:24],
        fields=(FormField("note", "Progress note", multiline=True, max_length=NOTE_LIMIT, error=error),),
        state=action.ref,
    )


def _submit_note(state: str, values: Mapping[str, str]) -> Invocation | None:
    """The note form answered: `note REF TEXT`, which asks again when the note was left empty."""
    ref = state.partition("|")[0]
    if not ref:
        return None
    note = (values.get("note") or "").strip()
    return Invocation("note", (ref, note) if note else (ref,))


# The forms these commands ask with, by form id: what submitting each runs.
FORMS: dict[str, FormMeaning] = {"note": _submit_note}


def set_due(request: Request) -> Reply:
    action = request.require_action()
    written = " ".join(request.words[1:]).strip()
    if not written:
        raise CommandError(
            f"When is {action.ref} due? e.g. `/edi due {action.ref} 31/3/25` or `end of March`."
        )
    refuse_long_deadline(written, unchanged=action.ref)
    deadline = interpret_deadline(written, today=request.now.date())
    if deadline.kind == "complete" or unusable(deadline):
        raise CommandError(
            f"{why_unreadable(written, deadline)}. I haven't changed {action.ref}. Try `31/3/25`, "
            "`March 2025`, `end of March`, `next Friday` or `in 2 weeks`."
        )
    request.change(action, "deadline", action.deadline_text, written)
    apply_deadline(action, written, deadline)
    when = f"{deadline.due:%-d %B %Y}" if deadline.due else deadline.kind
    return Reply.say(f"{action.ref} is now due {when} (“{written}”).", private=False)


def snooze(request: Request) -> Reply:
    action = request.require_action()
    spec = request.free_text
    today = request.now.date()
    until = _snooze_until(spec, today)
    if until is None:
        raise CommandError(
            f"'{spec or '(nothing)'}' is not a snooze I understand. Use `1w`, `3d`, `2w` or `until 3 March`. "
            f"I haven't changed {action.ref}."
        )
    if until <= today:
        raise CommandError(f"{until:%-d %B %Y} has already come; snooze until a later day.")
    latest = snooze_most(today)
    if until > latest:
        raise CommandError(
            f"Snooze for at most {SNOOZE_MOST_MONTHS} months ({SNOOZE_MOST_WEEKS} weeks), until "
            f"{latest:%A %-d %B %Y}; for longer, change the due date with `/edi due {action.ref} WHEN`. I "
            f"haven't changed {action.ref}."
        )
    request.change(action, "snoozed_until", action.snoozed_until, until.isoformat())
    action.snoozed_until = until
    return Reply.say(f"I won't remind you about {action.ref} until {until:%A %-d %B}.")


def snooze_most(today: date) -> date:
    """The furthest a snooze reaches from `today`: SNOOZE_MOST_MONTHS or SNOOZE_MOST_WEEKS, whichever is
    later, so that both "6m" and "26w" are taken."""
    return max(Period(SNOOZE_MOST_MONTHS, "m").after(today), Period(SNOOZE_MOST_WEEKS, "w").after(today))


def _snooze_until(spec: str, today: date) -> date | None:
    period = read_period(spec)
    if period is not None:
        return period.after(today) if period.amount > 0 else None
    text = spec.removeprefix("until").strip()
    if not text:
        return None
    deadline = interpret_deadline(text, today=today)
    return deadline.due if deadline.kind == "dated" else None


def reopen(request: Request) -> Reply:
    action = request.require_action()
    if action.status != "done":
        return Reply.say(f"{action.ref} is already open.")
    mark_open(request, action)
    return Reply.say(f"{action.ref} is open again.", private=False)


def not_mine(request: Request) -> Reply:
    """The person hears no more about these actions (until an admin maps them to one again); each plan admin
    is told once, in one notice gathering them, whose they may be: the day's first "not mine" at once, the
    rest of the day's together, in one message the next morning.

    Only someone an action names, or who answers for one of its owners, may decline it; a second "not mine"
    about the same action tells nobody again; and one person sends the admins at most NOT_MINE_PER_DAY a day.
    Any refusal refuses the whole command, so either every action named is passed on or none is.
    """
    person = request.require_person()
    actions = _actions_named(request)
    for action in actions:
        if not request.store.answers_for(person, action):
            raise CommandError(
                f"You can only say “not mine” about an action you answer for: {action.ref} is owned by "
                f"{_owners(action)}, not by you. I haven't told anyone."
            )
    new = [action for action in actions if not request.store.has_declined(person, action)]
    if not new:
        return Reply.say(
            f"You had already said {_refs(actions)} {_isnt(actions)} yours; the plan admins have been told. "
            "I haven't told them again."
        )
    admins = [admin for admin in request.store.admins() if admin.id != person.id]
    midnight = request.now.replace(hour=0, minute=0, second=0, microsecond=0)
    earlier = request.store.declines_since(person, midnight)
    if earlier + len(new) > NOT_MINE_PER_DAY:
        who = f" ({', '.join(a.name for a in admins)})" if admins else ""
        raise CommandError(
            f"You have said “not mine” about {earlier} action{'s' if earlier != 1 else ''} today, and I pass "
            f"on at most {NOT_MINE_PER_DAY} a day to the plan admins, so I haven't passed on {_refs(new)}. "
            f"Tell a plan admin{who} directly, or try again tomorrow. I haven't changed anything."
        )
    # The day's first reaches the admins at once; the rest of the day's wait for one message the next
    # morning (schedules.admin_notes.gathered_not_mine), so a busy day is one message, not one per command.
    at_once = not request.store.admins_told_of_a_decline_since(midnight)
    for action in new:
        request.store.decline(action, person, at=request.now, told=at_once)
    if at_once:
        notice = _declined_notice(person.name, new, request.now.date())
        for admin in admins:
            request.notify(admin, notice)
    before = [action for action in actions if action not in new]
    again = f" (you had already said so of {_refs(before)})" if before else ""
    it = "it" if len(new) == 1 else "them"
    if not admins:
        return Reply.say(
            f"Thanks — but there is no plan admin to tell yet. {_owned_by_line(new)}{again} "
            f"I won't remind you about {it} again."
        )
    names = ", ".join(a.name for a in admins)
    if not at_once:
        return Reply.say(
            f"Thanks, I'll tell the plan admins ({names}) that {_refs(new)} {_isnt(new)} yours{again} "
            "tomorrow morning, in one message with the others said today. I won't remind you about "
            f"{it} again unless they map {it} back to you."
        )
    return Reply.say(
        f"Thanks, I've told the plan admins ({names}) that {_refs(new)} "
        f"{_isnt(new)} yours{again}. I won't remind you about {it} again unless they map {it} back to you."
    )


def _actions_named(request: Request) -> list[Action]:
    """The actions a "not mine" is about: the one the layer found, and any more references after it."""
    person = request.require_person()
    actions = [request.require_action()]
    for word in request.words[1:]:
        action = resolve_action(request.store, word, person=person)  # restricted plans refused first
        if action not in actions:
            actions.append(action)
    return actions


def _owners(action: Action) -> str:
    return ", ".join(owner.name for owner in action.owners) or "nobody"


def _refs(actions: list[Action]) -> str:
    refs = [action.ref for action in actions]
    return refs[0] if len(refs) == 1 else ", ".join(refs[:-1]) + f" and {refs[-1]}"


def _isnt(actions: list[Action]) -> str:
    return "isn't" if len(actions) == 1 else "aren't"


def _owned_by_line(actions: list[Action]) -> str:
    return " ".join(f"{action.ref} is owned by {_owners(action)}." for action in actions)


def _declined_notice(name: str, actions: list[Action], today: date) -> Reply:
    """What each plan admin reads: one action in full, or several, one line each, in one message."""
    if len(actions) == 1:
        [action] = actions
        told = Text(
            f"{name} says {action.ref} is not theirs. It is owned by {_owners(action)}; please map it to the "
            f"right person (`/edi people map` or `/edi owner {action.ref} add`)."
        )
        return Reply([told, *action_card(action, today, with_buttons=False)])
    lines = "\n".join(f"{a.ref} · {a.title} — owned by {_owners(a)}" for a in actions)
    return Reply(
        [
            Text(
                f"{name} says {len(actions)} actions are not theirs; please map each to the right person "
                "(`/edi people map` or `/edi owner REF add`)."
            ),
            Text(lines),
        ]
    )


def _status(name: str, summary: str) -> CommandSpec:
    return CommandSpec(
        name, f"{name} REF [note]", summary, set_status, about_action=True, changes_action=True
    )


# The owners' commands, in the order help lists them.
COMMANDS: tuple[CommandSpec, ...] = (
    _status("green", "on track"),
    _status("amber", "at risk — say why"),
    _status("red", "blocked or late — say why"),
    _status("done", "finished"),
    CommandSpec(
        "note", "note REF TEXT", "add a progress note", add_note, about_action=True, changes_action=True
    ),
    CommandSpec(
        "due",
        "due REF WHEN",
        "set a new deadline: 31/3/25, March 2025, end of March, next Friday, in 2 weeks",
        set_due,
        about_action=True,
        changes_action=True,
    ),
    CommandSpec(
        "snooze",
        "snooze REF 1w|3d|until DATE",
        "no reminders about it until then",
        snooze,
        about_action=True,
        changes_action=True,
    ),
    CommandSpec(
        "reopen", "reopen REF", "reopen a done action", reopen, about_action=True, changes_action=True
    ),
    CommandSpec(
        "notmine",
        "notmine REF [REF…]",
        "tell the plan admins an action (or several) isn't yours",
        not_mine,
        about_action=True,
        aliases=("not-mine",),
    ),
)
