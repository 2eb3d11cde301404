"""The plan admins' `/edi plan` command: pause or resume a plan's reminders, say who hears of overdue
actions and after how long, when owners are reminded, how often ongoing actions are checked in, and who sees
the plan."""

from __future__ import annotations

import re

from handlers.commands.admin import person_mentioned
from handlers.core import CommandSpec, Request
from handlers.errors import CommandError
from handlers.messages import Reply
from storage.models import Plan
from storage.rules.bounds import CHANNEL_NAME_LIMIT


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
_CHECKIN_WORDS = {
    "monthly": 1,
    "quarterly": 3,
    "termly": 4,
    "six-monthly": 6,
    "twice a year": 6,
    "yearly": 12,
    "annually": 12,
}
_CHECKIN_MONTHS = re.compile(r"^(?:every\s+)?(\d{1,2})\s*(?:m|mo|months?)?$", re.IGNORECASE)


def _plan_called(request: Request, name: str) -> Plan:
    found = request.store.plan(name)
    if found is None:
        known = ", ".join(p.name for p in request.store.plans()) or "none yet"
        raise CommandError(f"There is no plan called '{name}'. Plans: {known}.")
    return found


# A channel as typed: "#edi-leads", or as an adapter passes a platform mention, "#C0123|edi-leads" (Slack's
# "<#C0123|edi-leads>" is understood too, until the adapter turns it into that).
CHANNEL = re.compile(r"^<?#([^\s|<>#]+)(?:\|([^>]*))?>?$")


def _plan_escalation(request: Request, name: str, mention: str) -> Reply:
    found = _plan_called(request, name)
    if mention.lower().startswith("after"):
        return _plan_escalate_after(request, found, mention)
    channel = CHANNEL.match(mention.strip())
    if channel:
        ident = channel.group(1)
        shown = (channel.group(2) or "").strip().lstrip("#") or ident
        longest = max(len(ident), len(shown))
        if longest > CHANNEL_NAME_LIMIT:
            raise CommandError(
                f"A channel's name may be at most {CHANNEL_NAME_LIMIT} characters; that one is {longest:,}. "
                "I haven't changed anything."
            )
        found.escalation_channel, found.escalation_channel_name = ident, shown
        found.escalation_channel_workspace = request.actor.workspace
        found.escalation_person_id = None
        return Reply.say(
            f"Overdue actions in {found.name} now escalate to #{shown} after {found.escalate_after_days} "
            f"days. Make sure edibot is in #{shown} (invite it there), or the plan admins will hear it "
            "couldn't post."
        )
    person = person_mentioned(request, mention)
    found.escalation_person_id = person.id
    found.escalation_channel = found.escalation_channel_name = found.escalation_channel_workspace = None
    return Reply.say(
        f"Overdue actions in {found.name} now escalate to {person.name} after {found.escalate_after_days} "
        "days."
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
    """How long an action may be overdue before the escalation contact hears of it ("after 21 days", "after
    2w")."""
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
            f"'{spec}' should be how many months between check-ins (1 to 12), or monthly, quarterly or "
            "yearly. I haven't changed anything."
        )
    found.checkin_months = months
    request.store.renudge_plan(found)
    every = "every month" if months == 1 else f"every {months} months"
    return Reply.say(f"{found.name}: ongoing actions get a progress check-in {every}.")


def _plan_restriction(request: Request, name: str, *, restrict: bool) -> Reply:
    """A restricted plan is seen only by its actions' owners and the plan admins; otherwise everyone may read
    it."""
    found = _plan_called(request, name)
    if found.restricted == restrict:
        return Reply.say(
            f"{found.name} is already {'restricted' if restrict else 'open to everyone to read'}."
        )
    found.restricted = restrict
    return Reply.say(
        f"{found.name} is restricted: only its actions' owners and the plan admins can see them."
        if restrict
        else (
            f"{found.name} is open again: everyone in the directory can read it; only owners and admins "
            "change it."
        )
    )


# One command for everything about a plan, its first word saying what.
COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(
        "plan",
        "plan pause|resume|restrict|unrestrict NAME | plan escalate NAME @someone|#channel|after N days "
        "| plan reminders NAME 14,3,0 | plan checkins NAME MONTHS",
        "hold or restart a plan's reminders; who hears about overdue actions (a person or a channel) and "
        "after how long; when owners are reminded; how often ongoing actions get a check-in; who can see "
        "the plan",
        plan,
        admin_only=True,
    ),
)
