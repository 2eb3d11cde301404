"""When a person can be reminded: their time zone, working days, send time, leave, quiet hours, and their
nation's bank holidays."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo

import holidays

from storage.rules.defaults import NATION, NATIONS, SEND_CLOCK, SEND_TIME, WORKING_DAYS
from storage.rules.defaults import WEEKLY_CAP as WEEKLY_CAP  # noqa: PLC0414 — re-exported: known here too
from storage.rules.ladder import StepKind


class OfficeHours(Protocol):
    """What the calendar reads of whoever is being reminded: a person's row, or an `Hours` value."""

    @property
    def timezone(self) -> str | None: ...
    @property
    def working_days(self) -> str: ...
    @property
    def send_time(self) -> str: ...
    @property
    def nation(self) -> str: ...
    @property
    def away_until(self) -> date | None: ...
    @property
    def quiet_hours(self) -> str | None: ...
    @property
    def reminder_day(self) -> int | None: ...  # the weekday their recurring reminders gather on (0 = Monday)


@dataclass(frozen=True)
class Hours:
    """Office hours as a plain value: a channel's (the deployment's defaults), or a person's carried to an
    adapter."""

    timezone: str | None = None
    working_days: str = WORKING_DAYS
    send_time: str = SEND_TIME
    nation: str = NATION
    away_until: date | None = None
    quiet_hours: str | None = None
    reminder_day: int | None = None

    @classmethod
    def of(cls, hours: OfficeHours) -> Hours:
        return cls(
            timezone=hours.timezone,
            working_days=hours.working_days,
            send_time=hours.send_time,
            nation=hours.nation,
            away_until=hours.away_until,
            quiet_hours=hours.quiet_hours,
            reminder_day=hours.reminder_day,
        )


_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_LOOKAHEAD_DAYS = 40  # long enough to cross Christmas, Easter and a fortnight's leave


@lru_cache(maxsize=16)
def bank_holidays(nation: str) -> holidays.HolidayBase:
    """The bank holidays of one UK nation (England, Wales, Scotland, Northern Ireland), computed offline."""
    return holidays.country_holidays("GB", subdiv=NATIONS.get(nation, NATIONS[NATION]))


@lru_cache(maxsize=64)
def working_weekdays(spec: str) -> frozenset[int]:
    """ "Mon-Fri" → {0..4}; "Mon,Tue,Thu" → {0, 1, 3}; anything unreadable means Monday to Friday (what is
    stored was checked by read_working_days on the way in; this is the safe reading of anything older)."""
    return _weekdays(spec) or frozenset(range(5))


def read_working_days(text: str) -> str | None:
    """Working days as a person writes them ("Mon-Thu", "Monday to Wednesday, Friday"), in the short form they
    are kept in ("Mon-Wed,Fri"); None for text that doesn't name days throughout ("Funday to Blursday") —
    never quietly Monday to Friday."""
    days = _weekdays(text)
    if days is None:
        return None
    runs: list[list[int]] = []
    for day in sorted(days):
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    names = [_DAYS[run[0]].title() + (f"-{_DAYS[run[-1]].title()}" if len(run) > 1 else "") for run in runs]
    return ",".join(names)


def _weekdays(spec: str) -> frozenset[int] | None:
    days: set[int] = set()
    normal = re.sub(r"\s*(?:–|—|\bto\b|\buntil\b)\s*", "-", spec.lower())
    for part in normal.replace(" ", "").replace(";", ",").split(","):
        first, _, last = part.partition("-")
        if not _is_day(first) or (last and not _is_day(last)):
            return None
        start, end = _DAYS.index(first[:3]), _DAYS.index((last or first)[:3])
        days.update(range(start, end + 1) if start <= end else [*range(start, 7), *range(end + 1)])
    return frozenset(days) or None


def _is_day(word: str) -> bool:
    """ "mon", "monday", "tues", "thurs", "weds": the start of a day's name, three letters at least."""
    return (len(word) >= 3 and any(day.startswith(word) for day in _DAY_NAMES)) or word == "weds"


def send_clock(person: OfficeHours) -> time:
    hour, _, minute = (person.send_time or SEND_TIME).partition(":")
    try:
        return time(int(hour), int(minute or 0))
    except ValueError:
        return SEND_CLOCK


WORKDAY_ENDS = time(17, 30)
# A send time may be chosen from early morning to the evening (a late shift); the working day then runs on
# LATE_WINDOW past it, so a reminder due at 18:00 goes at 18:00 and a late one can still catch up that
# evening.
EARLIEST_SEND, LATEST_SEND = time(6, 0), time(20, 0)
LATE_WINDOW = timedelta(hours=3)


def workday_ends(person: OfficeHours) -> time:
    """When the person's day for reminders ends: 17:30, or LATE_WINDOW after a later send time, before
    midnight."""
    send = send_clock(person)
    minutes = min(send.hour * 60 + send.minute + int(LATE_WINDOW.total_seconds() // 60), 24 * 60 - 1)
    return max(WORKDAY_ENDS, time(minutes // 60, minutes % 60))


_CLOCK = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm)?$", re.IGNORECASE)  # one time of day


def read_send_time(text: str) -> str | None:
    """ "09:30", "9.30", "6pm", "18:00" → "HH:MM"; None if it isn't a time of day."""
    match = _CLOCK.match(text.strip())
    if not match:
        return None
    hour, minute, half = int(match.group(1)), int(match.group(2) or 0), (match.group(3) or "").lower()
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return f"{hour:02d}:{minute:02d}"


def send_time_problem(text: str) -> str | None:
    """Why `text` can't be someone's send time, in words for the person who wrote it; None if it can."""
    clock = read_send_time(text)
    if clock is None:
        return f"'{text}' is not a time of day such as 09:30"
    if not EARLIEST_SEND <= time.fromisoformat(clock) <= LATEST_SEND:
        return f"{clock} is outside the hours reminders go out ({EARLIEST_SEND:%H:%M}–{LATEST_SEND:%H:%M})"
    return None


def is_working_day(person: OfficeHours, day: date) -> bool:
    return day.weekday() in working_weekdays(
        person.working_days or WORKING_DAYS
    ) and day not in bank_holidays(person.nation or NATION)


_QUIET = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


_CLOCK_PART = r"(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm)?"
_QUIET_SPEC = re.compile(rf"^(?:from\s+)?{_CLOCK_PART}\s*(?:-|–|—|to|until)\s*{_CLOCK_PART}$", re.IGNORECASE)


def read_quiet_hours(text: str) -> tuple[str, str] | None:
    """ "12:00-13:00", "12-1pm", "12.30 to 1.30", "22:00-07:00" → ("HH:MM", "HH:MM"); None if unreadable or
    empty.

    The grammar of `/edi quiet` and of the people CSV's quiet_hours column."""
    match = _QUIET_SPEC.match(text.strip().lower())
    if not match:
        return None
    times = []
    for hour_text, minute_text, half in (match.group(1, 2, 3), match.group(4, 5, 6)):
        hour, minute = int(hour_text), int(minute_text or 0)
        if half and not 1 <= hour <= 12:
            return None
        if half:
            hour = hour % 12 + (12 if half == "pm" else 0)
        if hour > 23 or minute > 59:
            return None
        times.append(hour * 60 + minute)
    start, end = times
    # "12-1" means lunch, not thirteen hours overnight: an end written without am/pm that would come before
    # the
    # start is read in the afternoon when that makes a shorter window (but "22:00-07:00" stays overnight).
    if end < start and not match.group(6) and end < 12 * 60 and end + 12 * 60 > start:
        end += 12 * 60
    if start == end:
        return None
    return f"{start // 60:02d}:{start % 60:02d}", f"{end // 60:02d}:{end % 60:02d}"


def quiet_window(person: OfficeHours) -> tuple[time, time] | None:
    """A person's daily quiet hours in their local time, as stored ("12:00-13:00"; "22:00-07:00" spans
    midnight)."""
    match = _QUIET.match(person.quiet_hours or "")
    if not match:
        return None
    try:
        start = time(int(match.group(1)), int(match.group(2)))
        end = time(int(match.group(3)), int(match.group(4)))
    except ValueError:
        return None
    return (start, end) if start != end else None


def quiet_until(person: OfficeHours, moment: datetime) -> datetime | None:
    """When the quiet hours that `moment` falls in end (an aware local time), or None if it isn't quiet then.

    Worked out on the local wall clock, so 12:00-13:00 stays 12:00-13:00 on both sides of a clock change.
    """
    window = quiet_window(person)
    if window is None:
        return None
    start, end = window
    zone = moment.tzinfo
    clock, day = moment.time().replace(tzinfo=None), moment.date()
    if start < end:
        return datetime.combine(day, end, tzinfo=zone) if start <= clock < end else None
    if clock >= start:  # quiet through midnight: it ends tomorrow
        return datetime.combine(day + timedelta(days=1), end, tzinfo=zone)
    return datetime.combine(day, end, tzinfo=zone) if clock < end else None


def _free_from(person: OfficeHours, day: date, earliest: time, zone: ZoneInfo) -> datetime | None:
    """The first moment of `day` from `earliest` (and the send time) that is in working hours and not
    quiet."""
    start = max(earliest, send_clock(person))
    if start >= workday_ends(person):
        return None
    moment = datetime.combine(day, start, tzinfo=zone)
    ends = quiet_until(person, moment)
    if ends is None:
        return moment
    return ends if ends.date() == day and ends.time() < workday_ends(person) else None


def quiet_all_working_day(person: OfficeHours) -> bool:
    """Their quiet hours leave no time between their send time and the end of the working day."""
    return (
        quiet_window(person) is not None
        and _free_from(person, date(2025, 1, 6), time(0), ZoneInfo("UTC")) is None
    )


def quiet_hours_leave_no_time(person: OfficeHours, window: tuple[str, str]) -> bool:
    """Whether these quiet hours ("12:00", "13:00"), were they the person's, would leave no time between their
    send time and the end of their working day: `/edi quiet` and the people CSV refuse such hours alike."""
    return quiet_all_working_day(replace(Hours.of(person), quiet_hours="-".join(window)))


def next_send_at(person: OfficeHours, on_or_after: date, *, default_zone: ZoneInfo) -> datetime:
    """The person's first working day on or after `on_or_after` (and after any leave), at their send time, in
    UTC; if that falls in their quiet hours, when the quiet hours end.

    The local wall-clock time is kept across the clock changes: zoneinfo gives 09:30 BST in
    summer and 09:30 GMT in winter, never 08:30 or 10:30.
    """
    zone = ZoneInfo(person.timezone) if person.timezone else default_zone
    day = on_or_after
    if person.away_until and person.away_until >= day:
        day = person.away_until + timedelta(days=1)
    for _ in range(_LOOKAHEAD_DAYS):
        if is_working_day(person, day):
            break
        day += timedelta(days=1)
    # Quiet hours that cover the whole working day are ignored rather than letting reminders never go.
    moment = _free_from(person, day, send_clock(person), zone) or datetime.combine(
        day, send_clock(person), tzinfo=zone
    )
    return moment.astimezone(UTC)


def first_working_day_after(person: OfficeHours, day: date) -> date:
    following = day + timedelta(days=1)
    for _ in range(_LOOKAHEAD_DAYS):
        if is_working_day(person, following):
            return following
        following += timedelta(days=1)
    return following


def catch_up_send_at(person: OfficeHours, now: datetime, *, default_zone: ZoneInfo) -> datetime:
    """For a reminder already late (first import, or after downtime): now if it is working time for the person
    and not their quiet hours, else the end of their quiet hours or their next send time — never at 3 a.m.,
    on a Sunday or over lunch they asked to keep free."""
    zone = ZoneInfo(person.timezone) if person.timezone else default_zone
    local = now.astimezone(zone)
    today = local.date()
    away = person.away_until is not None and person.away_until >= today
    if is_working_day(person, today) and not away:
        if local.time() < send_clock(person):
            return next_send_at(person, today, default_zone=default_zone)
        if local.time() < workday_ends(person):
            if quiet_until(person, local) is None:
                return now.astimezone(UTC)
            later = _free_from(person, today, local.time().replace(tzinfo=None), zone)
            if later is not None:
                return later.astimezone(UTC)
            if _free_from(person, today, send_clock(person), zone) is None:
                return now.astimezone(UTC)  # quiet all working day: ignored, as next_send_at does
    return next_send_at(person, today + timedelta(days=1), default_zone=default_zone)


# -- one day a week ---------------------------------------------------------------------------------------
# A person's recurring reminders (overdue, check-ins, requests for a date) gather on one weekday into one
# message, so that twenty actions overdue on twenty different weekdays are one message a week, not a message
# nearly every working day. The one-off steps before a deadline and on its day go on their own day.
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def goes_on_its_own_day(step: StepKind) -> bool:
    """Steps before a deadline, on it, and escalations (to the plan's leads) go on their day; the recurring
    ones (overdue, check-in, a request for a date) wait for the person's reminder day."""
    return step not in ("overdue", "checkin", "set-date")


def reminder_weekday(person: OfficeHours) -> int:
    """The weekday a person's batch goes out: their choice, else Monday, else their first working weekday."""
    if person.reminder_day is not None and 0 <= person.reminder_day <= 6:
        return person.reminder_day
    days = working_weekdays(person.working_days or WORKING_DAYS)
    return 0 if 0 in days else min(days)


def read_weekday(text: str) -> int | None:
    """ "monday", "Mon", "tues", "Fridays" → 0, 0, 1, 4; None if it isn't a day of the week."""
    word = text.strip().lower().removesuffix("s")
    found = [i for i, name in enumerate(WEEKDAYS) if len(word) >= 3 and name.startswith(word)]
    return found[0] if len(found) == 1 else None


def is_working_weekday(person: OfficeHours, weekday: int) -> bool:
    return weekday in working_weekdays(person.working_days or WORKING_DAYS)


def batch_day_on_or_after(person: OfficeHours, day: date) -> date:
    """The first of the person's reminder days on or after `day`."""
    return day + timedelta(days=(reminder_weekday(person) - day.weekday()) % 7)


def batch_week_began(person: OfficeHours, day: date) -> date:
    """The last of the person's reminder days on or before `day`: their reminder week runs from it."""
    return day - timedelta(days=(day.weekday() - reminder_weekday(person)) % 7)
