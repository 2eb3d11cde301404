"""Every `/edi` command: what it needs, who may run it, what it changes, and what it says back."""

from __future__ import annotations

import re
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from handlers.cards import NOTE_LIMIT, action_card, action_line, reason_form, status_label, why_unreadable
from handlers.core import Request
from handlers.errors import CommandError
from handlers.messages import Context, Form, FormField, Heading, Reply, Text
from storage.models import Action, Person, Plan
from storage.rules.calendar import quiet_all_working_day, read_quiet_hours, workday_ends
from storage.rules.deadlines import interpret_deadline
from storage.rules.defaults import SEND_TIME
from storage.rules.ladder import next_occurrence_after

LIST_LIMIT = 30
_PERIOD = re.compile(r"^(\d{1,3})\s*(d|w|m)$", re.IGNORECASE)
_DUE_WITHIN = re.compile(r"^(\d{1,4})(d|w|m)$", re.IGNORECASE)


# -- reading ------------------------------------------------------------------------------------------


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
    reply.add(Context("In a reminder's thread you can also just write: “amber - waiting on budget”, “done ✅”, "
                      "“snooze 2 weeks”, “new date 30 June” or “not mine”."))  # fmt: skip
    return reply


def _listing(title: str, actions: list[Action], today: date, *, empty: str) -> Reply:
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
    declined_ids = request.store.declined_by(person)
    actions: list[Action] = []
    declined: list[Action] = []  # said "not mine": shown apart, not counted as things to do
    for action in request.store.actions_owned_by(person):
        (declined if action.id in declined_ids else actions).append(action)
    today = request.now.date()
    overdue = sum(1 for a in actions if a.due_date and a.due_date < today)
    title = f"Your {len(actions)} open action{'s' if len(actions) != 1 else ''}" + (
        f", {overdue} overdue" if overdue else ""
    )
    empty = "You have no open actions." if person.roles else (
        "You have no actions: you aren't mapped to any owner role yet. Ask an EDI lead to map you "
        "(`/edi people map \"HR Manager\" @you`)."
    )  # fmt: skip
    reply = _listing(title, actions, today, empty=empty)
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


def list_actions(request: Request) -> Reply:
    filters: dict[str, str] = {}
    overdue = False
    due_within: date | None = None
    today = request.now.date()
    for word in request.words:
        key, sep, value = word.partition(":")
        key = key.lower()
        if not sep and key == "overdue":
            overdue = True
        elif sep and key == "plan" and value:
            filters[key] = _plan_name(request, value)
        elif sep and key in ("theme", "owner") and value:
            filters[key] = value
        elif sep and key == "due" and (match := _DUE_WITHIN.match(value)):
            amount, unit = int(match.group(1)), match.group(2).lower()
            due_within = today + (
                relativedelta(months=amount)
                if unit == "m"
                else timedelta(days=amount * (7 if unit == "w" else 1))
            )
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
        if (not action.plan.restricted or _may_change(request, action))
        and (due_within is None or action.status != "done")
    ]
    described = " ".join(request.words) or "all plans"
    return _listing(f"{len(actions)} action{'s' if len(actions) != 1 else ''} ({described})", actions, today,
                    empty=f"No actions match {described}.")  # fmt: skip


def _plan_name(request: Request, wanted: str) -> str:
    """A plan by any unique part of its name ("plan:northbridge")."""
    plans = [p.name for p in request.store.plans()]
    exact = [name for name in plans if name.casefold() == wanted.casefold()]
    matches = exact or [name for name in plans if wanted.casefold() in name.casefold()]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise CommandError(f"No plan is called '{wanted}'. Plans: {', '.join(plans) or 'none yet'}.")
    raise CommandError(f"'{wanted}' could be {', '.join(matches)}. Which plan?")


def _may_change(request: Request, action: Action) -> bool:
    person = request.person
    return person is not None and (person.is_admin or request.store.is_owner(person, action))


def show(request: Request) -> Reply:
    action = _action(request)
    reply = Reply(action_card(action, request.now.date(), with_buttons=_may_change(request, action)))
    if action.description:
        reply.add(Context(action.description[:600] + ("…" if len(action.description) > 600 else "")))
    return reply


def history(request: Request) -> Reply:
    action = _action(request)
    entries = request.store.history(action)
    if not entries:
        return Reply.say(f"{action.ref} has no history yet.")
    lines = []
    for entry in entries[:LIST_LIMIT]:
        change = f"{entry.field}: {entry.from_value or '—'} → {entry.to_value or '—'}"
        note = f" — “{entry.note}”" if entry.note else ""
        local = entry.at.astimezone(request.now.tzinfo)
        lines.append(f"{local:%-d %b %Y %H:%M} · {entry.actor} via {entry.surface} · {change}{note}")
    reply = Reply([Heading(f"History of {action.ref} (newest first)"), Text("\n".join(lines))])
    if len(entries) > LIST_LIMIT:
        reply.add(Context(f"…and {len(entries) - LIST_LIMIT} older changes."))
    return reply


# -- changing one action ------------------------------------------------------------------------------


def _action(request: Request) -> Action:
    assert request.action is not None, "the authorise middleware resolves the action first"
    return request.action


def _note(request: Request) -> tuple[str | None, str | None]:
    """The free text after the reference, as typed, capped at NOTE_LIMIT characters, and a word about the cap."""
    text = request.free_text
    if not text:
        return None, None
    if len(text) > NOTE_LIMIT:
        return text[:NOTE_LIMIT], f"Your note was {len(text):,} characters; I kept the first {NOTE_LIMIT:,}."
    return text, None


def set_status(request: Request) -> Reply:
    action = _action(request)
    status = request.command
    note, capped = _note(request)
    if status in ("amber", "red") and note is None:
        return Reply(
            [Text(f"{action.ref} → {status.title()}: please say why, so the plan lead knows what's needed. "
                  f"(Or in one go: `/edi {status} {action.ref} REASON`.)"),
             reason_form(action.ref, status)]
        )  # fmt: skip
    before = status_label(action)
    if status == "done" and action.deadline_kind == "recurring":
        return _roll_recurring(request, action, note)
    if status == "done":
        if action.status == "done":
            return Reply.say(f"{action.ref} is already done.")
        request.change(action, "status", action.status, "done", note)
        action.status = "done"
        if action.rag != "blue":
            request.change(action, "rag", action.rag, "blue")
            action.rag = "blue"
    else:
        if action.rag == status and action.status != "done" and note is None:
            return Reply.say(f"{action.ref} is already {status.title()}.")
        if action.status == "done":
            request.change(action, "status", "done", "open")
            action.status = "open"
        if action.rag != status:
            request.change(action, "rag", action.rag, status, note)
            action.rag = status
    if note:
        request.change(action, "note", action.progress_note, note)
        action.progress_note = note
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
            f"{action.ref} recurs, but I can't tell how often ({action.recurrence}); set a date with /edi due."
        )
    request.change(action, "due", current.isoformat(), following.isoformat(), note or "this occurrence done")
    action.due_date = following
    if note:
        request.change(action, "note", action.progress_note, note)
        action.progress_note = note
    by = request.require_person().name
    return Reply.say(
        f"{action.ref}: this occurrence is done (marked by {by}). It recurs, so the next one is due "
        f"{following:%-d %B %Y}.",
        private=False,
    )


def add_note(request: Request) -> Reply:
    action = _action(request)
    note, capped = _note(request)
    if note is None:
        return Reply([Text(f"What's the latest on {action.ref}?"), _note_form(action)])
    request.change(action, "note", action.progress_note, note)
    action.progress_note = note
    reply = Reply.say(f"Noted on {action.ref}: “{note}”.")
    if capped:
        reply.add(Context(capped))
    return reply


def _note_form(action: Action, *, error: str | None = None) -> Form:
    return Form(
        form_id="note",
        title=f"Note on {action.ref}"[:24],
        fields=(FormField("note", "Progress note", multiline=True, max_length=NOTE_LIMIT, error=error),),
        state=action.ref,
    )


def set_due(request: Request) -> Reply:
    action = _action(request)
    written = " ".join(request.words[1:]).strip()
    if not written:
        raise CommandError(
            f"When is {action.ref} due? e.g. `/edi due {action.ref} 31/3/25` or `end of March`."
        )
    deadline = interpret_deadline(written, today=request.now.date())
    if deadline.kind in ("unknown", "complete"):
        raise CommandError(
            f"{why_unreadable(written, deadline)}. I haven't changed {action.ref}. Try `31/3/25`, `March 2025`, `end of March`, `next Friday` "
            "or `in 2 weeks`."
        )
    request.change(action, "deadline", action.deadline_text, written)
    action.deadline_text = written
    action.deadline_kind = deadline.kind
    action.start_date = deadline.start
    action.due_date = deadline.due
    action.recurrence = deadline.recurrence
    action.milestones = [d.isoformat() for d in deadline.milestones]
    when = f"{deadline.due:%-d %B %Y}" if deadline.due else deadline.kind
    return Reply.say(f"{action.ref} is now due {when} (“{written}”).", private=False)


def snooze(request: Request) -> Reply:
    action = _action(request)
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
    request.change(action, "snoozed_until", action.snoozed_until, until.isoformat())
    action.snoozed_until = until
    return Reply.say(f"I won't remind you about {action.ref} until {until:%A %-d %B}.")


def _snooze_until(spec: str, today: date) -> date | None:
    match = _PERIOD.match(spec)
    if match:
        amount, unit = int(match.group(1)), match.group(2).lower()
        if amount == 0:
            return None
        return today + (
            relativedelta(months=amount)
            if unit == "m"
            else timedelta(days=amount * (7 if unit == "w" else 1))
        )
    text = spec.removeprefix("until").strip()
    if not text:
        return None
    deadline = interpret_deadline(text, today=today)
    return deadline.due if deadline.kind == "dated" else None


def reopen(request: Request) -> Reply:
    action = _action(request)
    if action.status != "done":
        return Reply.say(f"{action.ref} is already open.")
    request.change(action, "status", "done", "open")
    action.status = "open"
    if action.rag == "blue":
        request.change(action, "rag", "blue", None)
        action.rag = None
    return Reply.say(f"{action.ref} is open again.", private=False)


def not_mine(request: Request) -> Reply:
    """The person hears no more about it (until an admin maps them to it again); the admins are told whose it may be."""
    action = _action(request)
    person = request.require_person()
    request.store.decline(action, person, at=request.now)
    admins = [admin for admin in request.store.admins() if admin.id != person.id]
    owners = ", ".join(owner.name for owner in action.owners) or "nobody"
    for admin in admins:
        request.notify(
            admin,
            Reply([Text(f"{person.name} says {action.ref} is not theirs. It is owned by {owners}; "
                        f"please map it to the right person (`/edi people map` or `/edi owner {action.ref} add`)."),
                   *action_card(action, request.now.date(), with_buttons=False)]),
        )  # fmt: skip
    if not admins:
        return Reply.say(
            f"Thanks — but there is no plan admin to tell yet. {action.ref} is owned by {owners}. "
            "I won't remind you about it again."
        )
    return Reply.say(
        f"Thanks, I've told the plan admins ({', '.join(a.name for a in admins)}) that {action.ref} isn't yours. "
        "I won't remind you about it again unless they map it back to you."
    )


# -- plan admin ---------------------------------------------------------------------------------------


def owner(request: Request) -> Reply:
    action = _action(request)
    if len(request.words) < 3 or request.words[1].lower() not in ("add", "remove"):
        raise CommandError(f'Usage: `/edi owner {action.ref} add|remove "Owner name"`')
    verb, name = request.words[1].lower(), " ".join(request.words[2:]).strip()
    before = ", ".join(o.name for o in action.owners)
    if verb == "add":
        role = request.store.owner_or_new(name)
        if role in action.owners:
            return Reply.say(f"{role.name} already owns {action.ref}.")
        action.owners.append(role)
    else:
        role_found = request.store.owner_named(name)
        if role_found is None or role_found not in action.owners:
            raise CommandError(f"{name} doesn't own {action.ref}; its owners are {before or 'nobody'}.")
        action.owners.remove(role_found)
    after = ", ".join(o.name for o in action.owners)
    request.change(action, "owners", before, after)
    request.store.forget_declines(action)  # new owners: anyone who said "not mine" is asked afresh
    return Reply.say(f"{action.ref} is now owned by {after or 'nobody'}.")


def people(request: Request) -> Reply:
    words = request.words
    sub = words[0].lower() if words else ""
    if sub == "unmapped":
        rows = request.store.unmapped_owners()
        if not rows:
            return Reply.say("Every owner on an open action is mapped to someone.")
        lines = [f"{owner.name} — {count} open action{'s' if count != 1 else ''}" for owner, count in rows]
        return Reply([Heading(f"{len(rows)} owner roles with nobody to remind"), Text("\n".join(lines)),
                      Context('Map one with `/edi people map "HR Manager" @someone`.')])  # fmt: skip
    if sub == "map" and len(words) >= 3:
        role_name, mention = words[1], " ".join(words[2:])
        person = _person(request, mention)
        role = request.store.owner_named(role_name)
        if role is None:
            near = ", ".join(o.name for o in request.store.owners_like(role_name)) or "none like it"
            raise CommandError(f"No plan has an owner called '{role_name}'. Similar: {near}.")
        again = request.store.forget_declines_in_role(person, role)
        back = (
            f" They had said {', '.join(again)} {'is' if len(again) == 1 else 'are'} not theirs; reminders about {'it' if len(again) == 1 else 'them'} start again."
            if again
            else ""
        )
        if role in person.roles:
            return Reply.say(f"{person.name} is already mapped to {role.name}.{back}")
        person.roles.append(role)
        request.store.renudge_role(role)
        return Reply.say(f"{person.name} now gets {role.name}'s actions.{back}")
    raise CommandError('Usage: `/edi people map "HR Manager" @someone` or `/edi people unmapped`.')


def _person(request: Request, mention: str) -> Person:
    person = request.store.person_mentioned(mention)
    if person is None:
        raise CommandError(
            f"I don't know {mention} — add them to the people directory first (edibot people import people.csv)."
        )
    return person


def admins(request: Request) -> Reply:
    words = request.words
    if len(words) < 2 or words[0].lower() not in ("add", "remove"):
        raise CommandError("Usage: `/edi admins add @someone` or `/edi admins remove @someone`.")
    person = _person(request, " ".join(words[1:]))
    if words[0].lower() == "add":
        if person.is_admin:
            return Reply.say(f"{person.name} is already a plan admin.")
        person.is_admin = True
        return Reply.say(f"{person.name} is now a plan admin.")
    if not person.is_admin:
        return Reply.say(f"{person.name} isn't a plan admin.")
    if len(request.store.admins()) == 1:
        raise CommandError(f"{person.name} is the last plan admin; add another before removing them.")
    person.is_admin = False
    return Reply.say(f"{person.name} is no longer a plan admin.")


def away(request: Request) -> Reply:
    """Leave: no reminders until the day after; what was held is sent once on return."""
    person = request.require_person()
    text = request.rest.strip()
    today = request.now.date()
    if text.lower() in ("off", "back", "cancel", "none"):
        if person.away_until is None or person.away_until < today:
            return Reply.say("You aren't marked as away.")
        person.away_until = None
        return Reply.say("Welcome back: reminders start again, and anything held goes out at the next round.")
    wanted = text.removeprefix("until").strip()
    deadline = interpret_deadline(wanted, today=today) if wanted else None
    if deadline is None or deadline.kind != "dated" or deadline.due is None:
        raise CommandError("Usage: `/edi away until 2 Jan` (or `/edi away off`). I haven't changed anything.")
    if deadline.due < today:
        raise CommandError(f"{deadline.due:%-d %B %Y} has passed; give the last day you're away.")
    person.away_until = deadline.due
    return Reply.say(
        f"Enjoy the break. No reminders until after {deadline.due:%A %-d %B}; anything due meanwhile waits for your return."
    )


QUIET_USAGE = (
    "Usage: `/edi quiet 12:00-13:00` (every day, your local time; `22:00-07:00` runs overnight), "
    "`/edi quiet` to see yours, or `/edi quiet off`. For days off, use `/edi away until DATE`."
)


def quiet(request: Request) -> Reply:
    """Daily quiet hours: no reminder arrives during them; one due then waits until they end."""
    person = request.require_person()
    text = request.rest.strip().lower()
    where = f" ({person.timezone})" if person.timezone else ""
    if not text:
        if not person.quiet_hours:
            return Reply.say(f"You have no quiet hours. {QUIET_USAGE.removeprefix('Usage: ')}")
        start, _, end = person.quiet_hours.partition("-")
        return Reply.say(f"Your quiet hours are {start}–{end} every day{where}. `/edi quiet off` ends them.")
    if text in ("off", "none", "cancel", "stop"):
        if not person.quiet_hours:
            return Reply.say("You have no quiet hours.")
        person.quiet_hours = None
        return Reply.say("Quiet hours off: reminders come at your usual time again.")
    window = read_quiet_hours(text)
    if window is None:
        raise CommandError(
            f"I can't read '{request.rest.strip()}' as quiet hours. {QUIET_USAGE} I haven't changed anything."
        )
    start, end = window
    before, person.quiet_hours = person.quiet_hours, f"{start}-{end}"
    overnight = " (overnight)" if end < start else ""
    if quiet_all_working_day(person):
        person.quiet_hours = before
        raise CommandError(
            f"{start}–{end}{overnight} would leave no time in your working day ({person.send_time or SEND_TIME}–"
            f"{workday_ends(person):%H:%M}) for reminders. Pick shorter quiet hours, or use `/edi away until DATE` for "
            "days off. I haven't changed anything."
        )
    return Reply.say(
        f"Quiet hours set: {start}–{end}{overnight} every day{where}. A reminder due then waits until {end}; "
        "`/edi quiet off` ends them."
    )


def plan(request: Request) -> Reply:
    words = request.words
    if len(words) >= 3 and words[0].lower() == "escalate":
        return _plan_escalation(request, words[1], " ".join(words[2:]))
    if len(words) >= 3 and words[0].lower() == "reminders":
        return _plan_reminders(request, words[1], " ".join(words[2:]))
    if len(words) >= 3 and words[0].lower() in ("checkins", "checkin", "check-ins"):
        return _plan_checkins(request, words[1], " ".join(words[2:]))
    if len(words) >= 2 and words[0].lower() in ("restrict", "unrestrict"):
        return _plan_restriction(request, " ".join(words[1:]), restrict=words[0].lower() == "restrict")
    if len(words) < 2 or words[0].lower() not in ("pause", "resume"):
        raise CommandError(PLAN_USAGE)
    found = _plan_called(request, " ".join(words[1:]))
    pause = words[0].lower() == "pause"
    if found.paused == pause:
        return Reply.say(f"{found.name} is already {'paused' if pause else 'running'}.")
    found.paused = pause
    if not pause:
        request.store.renudge_plan(found)
    return Reply.say(
        f"{found.name} is paused: no reminders go out for it until you resume it."
        if pause
        else f"{found.name} is running again: reminders held while it was paused go out at the next sweep."
    )


PLAN_USAGE = (
    "Usage: `/edi plan pause NAME`, `/edi plan resume NAME`, `/edi plan escalate NAME @someone|#channel`, "
    "`/edi plan escalate NAME after 21 days`, `/edi plan reminders NAME 14,3,0`, "
    "`/edi plan checkins NAME 3` (months) or `/edi plan restrict|unrestrict NAME`."
)
_AFTER_DAYS = re.compile(r"^after\s+(\d{1,3})\s*(d|day|days|w|wk|week|weeks)?$", re.IGNORECASE)
_CHECKIN_WORDS = {"monthly": 1, "quarterly": 3, "termly": 4, "six-monthly": 6, "twice a year": 6, "yearly": 12,
                  "annually": 12}  # fmt: skip
_CHECKIN_MONTHS = re.compile(r"^(?:every\s+)?(\d{1,2})\s*(?:m|mo|months?)?$", re.IGNORECASE)


def _plan_called(request: Request, name: str) -> Plan:
    found = request.store.plan(name)
    if found is None:
        known = ", ".join(p.name for p in request.store.plans()) or "none yet"
        raise CommandError(f"There is no plan called '{name}'. Plans: {known}.")
    return found


# A channel as typed: "#edi-leads", or as an adapter passes a platform mention, "#C0123|edi-leads" (Slack's
# "<#C0123|edi-leads>" is understood too, until the adapter turns it into that).
_CHANNEL = re.compile(r"^<?#([^\s|<>#]+)(?:\|([^>]*))?>?$")


def _plan_escalation(request: Request, name: str, mention: str) -> Reply:
    found = _plan_called(request, name)
    if mention.lower().startswith("after"):
        return _plan_escalate_after(request, found, mention)
    channel = _CHANNEL.match(mention.strip())
    if channel:
        ident = channel.group(1)
        shown = (channel.group(2) or "").strip().lstrip("#") or ident
        found.escalation_channel, found.escalation_channel_name = ident, shown
        found.escalation_channel_workspace = request.actor.workspace
        found.escalation_person_id = None
        return Reply.say(
            f"Overdue actions in {found.name} now escalate to #{shown} after {found.escalate_after_days} days. "
            f"Make sure edibot is in #{shown} (invite it there), or the plan admins will hear it couldn't post."
        )
    person = _person(request, mention)
    found.escalation_person_id = person.id
    found.escalation_channel = found.escalation_channel_name = found.escalation_channel_workspace = None
    return Reply.say(
        f"Overdue actions in {found.name} now escalate to {person.name} after {found.escalate_after_days} days."
    )


def _plan_reminders(request: Request, name: str, spec: str) -> Reply:
    """The days before a deadline that owners hear from edibot, e.g. 14,3,0 (0 is the day itself)."""
    found = _plan_called(request, name)
    parts = [part.strip() for part in spec.replace(" ", ",").split(",") if part.strip()]
    if not parts or not all(part.isdigit() and int(part) <= 365 for part in parts):
        raise CommandError(
            f"'{spec}' should be days before the deadline, e.g. `14,3,0` (0 is the day itself)."
        )
    days = sorted({int(part) for part in parts}, reverse=True)
    found.reminder_days = days
    request.store.renudge_plan(found)
    shown = ", ".join("on the day" if d == 0 else f"{d} day{'s' if d != 1 else ''} before" for d in days)
    return Reply.say(f"{found.name}: owners are reminded {shown}.")


def _plan_escalate_after(request: Request, found: Plan, spec: str) -> Reply:
    """How long an action may be overdue before the escalation contact hears of it ("after 21 days", "after 2w")."""
    match = _AFTER_DAYS.match(spec.strip())
    days = int(match.group(1)) * (7 if (match.group(2) or "d").lower().startswith("w") else 1) if match else 0
    if not 1 <= days <= 365:
        raise CommandError(
            f"'{spec}' should say how long overdue, e.g. `after 21 days` or `after 2w` (1 to 365 days). "
            "I haven't changed anything."
        )
    found.escalate_after_days = days
    request.store.renudge_plan(found)
    return Reply.say(f"{found.name}: an action {days} day{'s' if days != 1 else ''} overdue now escalates.")


def _plan_checkins(request: Request, name: str, spec: str) -> Reply:
    """How often ongoing actions get a progress check-in: a number of months, or monthly/quarterly/yearly."""
    found = _plan_called(request, name)
    wanted = spec.strip().lower()
    months = _CHECKIN_WORDS.get(wanted)
    if months is None and (match := _CHECKIN_MONTHS.match(wanted)):
        months = int(match.group(1))
    if months is None or not 1 <= months <= 12:
        raise CommandError(
            f"'{spec}' should be how many months between check-ins (1 to 12), or monthly, quarterly or yearly. "
            "I haven't changed anything."
        )
    found.checkin_months = months
    request.store.renudge_plan(found)
    every = "every month" if months == 1 else f"every {months} months"
    return Reply.say(f"{found.name}: ongoing actions get a progress check-in {every}.")


def _plan_restriction(request: Request, name: str, *, restrict: bool) -> Reply:
    """A restricted plan is seen only by its actions' owners and the plan admins; otherwise everyone may read it."""
    found = _plan_called(request, name)
    if found.restricted == restrict:
        return Reply.say(
            f"{found.name} is already {'restricted' if restrict else 'open to everyone to read'}."
        )
    found.restricted = restrict
    return Reply.say(
        f"{found.name} is restricted: only its actions' owners and the plan admins can see them."
        if restrict
        else f"{found.name} is open again: everyone in the directory can read it; only owners and admins change it."
    )
