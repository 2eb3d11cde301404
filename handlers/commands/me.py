"""The `/edi` commands about yourself: when you are away, your daily quiet hours, your reminder day,
and, for someone on both Slack and Teams, which of them reminds them."""

from __future__ import annotations

from dateutil.relativedelta import relativedelta

from handlers.core import CommandSpec, Request
from handlers.errors import CommandError
from handlers.messages import Reply
from storage.rules.bounds import AWAY_MOST_YEARS
from storage.rules.calendar import (
    WEEKDAYS,
    is_working_weekday,
    quiet_hours_leave_no_time,
    read_quiet_hours,
    read_weekday,
    reminder_weekday,
    workday_ends,
)
from storage.rules.deadlines import interpret_deadline
from storage.rules.defaults import SEND_TIME
from storage.rules.platforms import read_platform, reminded_on


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
    latest = today + relativedelta(years=AWAY_MOST_YEARS)
    if deadline.due > latest:
        raise CommandError(
            f"You can be away for at most a year ahead, until {latest:%A %-d %B %Y}. Give your last day away "
            "before then. I haven't changed anything."
        )
    person.away_until = deadline.due
    return Reply.say(
        f"Enjoy the break. No reminders until after {deadline.due:%A %-d %B}; anything due meanwhile waits "
        "for your return."
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
    overnight = " (overnight)" if end < start else ""
    if quiet_hours_leave_no_time(person, window):
        raise CommandError(
            f"{start}–{end}{overnight} would leave no time in your working day "
            f"({person.send_time or SEND_TIME}–{workday_ends(person):%H:%M}) for reminders. Pick shorter "
            "quiet hours, or use `/edi away until DATE` for days off. I haven't changed anything."
        )
    person.quiet_hours = f"{start}-{end}"
    return Reply.say(
        f"Quiet hours set: {start}–{end}{overnight} every day{where}. A reminder due then waits until {end}; "
        "`/edi quiet off` ends them."
    )


REMINDERS_USAGE = (
    "Usage: `/edi reminders monday` (any working day), `/edi reminders on slack|teams|last` (on both, where "
    "they come), `/edi reminders` to see yours."
)
PLATFORM_NAMES = {"slack": "Slack", "teams": "Teams"}


def reminder_day(request: Request) -> Reply:
    """The one weekday a person's recurring reminders (overdue, check-ins) gather on, as one message."""
    person = request.require_person()
    text = request.rest.strip()
    first, _, after = text.partition(" ")
    if first.lower() == "on":
        return reminders_on(request, after)
    if not text:
        day = WEEKDAYS[reminder_weekday(person)].capitalize()
        return Reply.say(
            f"Your weekly reminders (overdue actions, check-ins) come together on {day}s; reminders before a "
            f"deadline and on its day come on their day.{_where(request)} "
            f"{REMINDERS_USAGE.removeprefix('Usage: ')}"
        )
    weekday = read_weekday(text)
    if weekday is None:
        raise CommandError(
            f"'{text}' is not a day of the week. {REMINDERS_USAGE} I haven't changed anything."
        )
    if not is_working_weekday(person, weekday):
        raise CommandError(
            f"{WEEKDAYS[weekday].capitalize()} isn't one of your working days ({person.working_days}). "
            "Pick one that is. I haven't changed anything."
        )
    person.reminder_day = weekday
    return Reply.say(
        f"Your weekly reminders now come together on {WEEKDAYS[weekday].capitalize()}s, in one message."
    )


def reminders_on(request: Request, text: str) -> Reply:
    """Where the reminders of someone on both Slack and Teams go: one of them, or the one they last used."""
    person = request.require_person()
    chosen = read_platform(text)
    if chosen is None:
        raise CommandError(
            f"'{text.strip() or '(nothing)'}' is not slack, teams or last. {REMINDERS_USAGE} "
            "I haven't changed anything."
        )
    person.reminders_on = None if chosen == "last" else chosen
    if chosen == "last":
        said = "Your reminders now come on whichever of Slack and Teams you last used me on."
    else:
        said = f"Your reminders now come on {PLATFORM_NAMES[chosen]}, whichever you last used me on."
    return Reply.say(said + _where(request, only_if_other=True))


def _where(request: Request, *, only_if_other: bool = False) -> str:
    """ " They go to you on Teams." (a sentence to add), for someone edibot reaches on both or only one."""
    person = request.require_person()
    going = reminded_on(
        slack_id=person.slack_id,
        teams_id=person.teams_id,
        chosen=person.reminders_on,
        last=person.last_surface,
    )
    if going is None:
        return ""
    if person.slack_id and person.teams_id:
        return "" if only_if_other else f" They go to you on {PLATFORM_NAMES[going]}."
    if only_if_other and going == person.reminders_on:
        return ""
    return f" I only know you on {PLATFORM_NAMES[going]}, so that is where they go for now."


# The commands about yourself, in the order help lists them.
COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("away", "away until DATE | away off", "hold your reminders while you're on leave", away),
    CommandSpec(
        "quiet",
        "quiet HH:MM-HH:MM | quiet off",
        "no reminders during these hours, every day (your local time)",
        quiet,
    ),
    CommandSpec(
        "reminders",
        "reminders DAY | reminders on slack|teams|last",
        "the weekday your overdue reminders and check-ins come together on (default Monday); on both Slack "
        "and Teams, which one reminds you (default: the one you last used)",
        reminder_day,
    ),
)
