"""Fills the people directory from a CSV: who is who, how to reach them, and which owner roles they answer
for."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email

from storage.db import Database
from storage.importing.errors import PlanFileError
from storage.importing.limits import MAX_FILE_BYTES, check_rows, megabytes, too_large
from storage.models import Person
from storage.rules.calendar import (
    WEEKDAYS,
    is_working_weekday,
    quiet_hours_leave_no_time,
    read_quiet_hours,
    read_send_time,
    read_weekday,
    read_working_days,
    reminder_weekday,
    send_time_problem,
)
from storage.rules.defaults import NATIONS, SEND_TIME, WORKING_DAYS
from storage.rules.text import clean_text
from storage.store import Store, person_key
from storage.textfiles import TextEncodingError, decode_text

COLUMNS = ("owner", "name", "email", "timezone", "slack_id", "teams_id")
TRUE = {"yes", "y", "true", "1", "admin"}


@dataclass
class PeopleSummary:
    people_added: int = 0
    people_updated: int = 0
    roles_mapped: int = 0
    problems: list[str] = field(default_factory=list)


def import_people(database: Database, path: Path, *, now: datetime) -> PeopleSummary:
    """One row per person per owner role (owner, name, email, timezone, slack_id, teams_id[, admin];
    optionally nation, working_days, send_time, quiet_hours and reminder_day: the weekday their recurring
    reminders gather on, as `/edi reminders DAY` sets it).

    Rows with a problem are reported by line and skipped; the rest are imported in one transaction.
    """
    if not path.is_file():
        raise PlanFileError(f"'{path}' is not a file I can read.")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise too_large(path.name, found=f"it is {megabytes(size)}", limit=megabytes(MAX_FILE_BYTES))
    try:
        # The one door the directory's text comes in by: no NUL, bidi controls or hidden characters in a name.
        text = clean_text(decode_text(path.read_bytes(), name=path.name))
    except TextEncodingError as exc:
        raise PlanFileError(str(exc)) from exc
    reader = csv.DictReader(io.StringIO(text))
    headers = {(h or "").strip().lower() for h in reader.fieldnames or []}
    missing = {"owner", "name"} - headers
    if missing:
        raise PlanFileError(
            f"{path.name} needs the columns {', '.join(COLUMNS)} (and optionally admin); "
            f"it has no {' or '.join(sorted(missing))} column."
        )
    summary = PeopleSummary()
    with database.session() as session:
        store = Store(session)
        seen: set[int] = set()
        for number, raw in enumerate(reader, start=1):
            check_rows(path.name, number)
            line = reader.line_num  # the file's line, even where a quoted cell spans several
            if None in raw:  # DictReader puts cells beyond the header under None
                summary.problems.append(
                    f"Line {line}: more cells than columns, so I can't tell which is which; a name or owner "
                    'with a comma needs quotes ("Policy, Communities and Engagement"); skipped.'
                )
                continue
            row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
            name, role_name = row.get("name", ""), row.get("owner", "")
            if not name:
                summary.problems.append(f"Line {line}: no name; skipped.")
                continue
            problem = _contact_problem(row)
            if problem:
                summary.problems.append(f"Line {line}: {problem}; {name} skipped.")
                continue
            zone = row.get("timezone") or None
            matches = store.people_matching(
                name=name, email=row.get("email"), slack_id=row.get("slack_id"), teams_id=row.get("teams_id")
            )
            if len(matches) > 1:
                names = " and ".join(sorted(p.name for p in matches))
                summary.problems.append(
                    f"Line {line}: its name, email and platform ids belong to different people ({names}); "
                    "skipped."
                )
                continue
            person = matches[0] if matches else None
            if person is not None and person.key != person_key(name):
                summary.problems.append(
                    f"Line {line}: those details already belong to {person.name}, not {name}; skipped."
                )
                continue
            if person is None:
                person = store.add_person(
                    name=name,
                    now=now,
                    email=row.get("email"),
                    timezone=zone,
                    slack_id=row.get("slack_id"),
                    teams_id=row.get("teams_id"),
                )
                summary.people_added += 1
            elif person.id not in seen:
                summary.people_updated += 1
            seen.add(person.id)
            for attribute in ("email", "slack_id", "teams_id"):
                if row.get(attribute):
                    setattr(person, attribute, row[attribute])
            if zone:
                person.timezone = zone
            nation = row.get("nation", "").lower().replace(" ", "-")
            if nation:
                if nation not in NATIONS:
                    summary.problems.append(
                        f"Line {line}: nation '{row['nation']}' should be one of {', '.join(NATIONS)}; kept "
                        f"{person.nation}."
                    )
                else:
                    person.nation = nation
            if row.get("send_time"):
                problem = send_time_problem(row["send_time"])
                if problem:
                    summary.problems.append(
                        f"Line {line}: send_time {problem}; kept {person.send_time or SEND_TIME} for {name}."
                    )
                else:
                    person.send_time = read_send_time(row["send_time"]) or person.send_time
            if row.get("working_days"):
                days = read_working_days(row["working_days"])
                if days is None:
                    summary.problems.append(
                        f"Line {line}: working_days '{row['working_days']}' names no days (write them like "
                        f"Mon-Fri or Mon, Tue, Thu); kept {person.working_days or WORKING_DAYS} for {name}."
                    )
                else:
                    person.working_days = days
            if row.get("reminder_day"):
                problem = _set_reminder_day(person, row["reminder_day"])
                if problem:
                    kept = WEEKDAYS[reminder_weekday(person)].capitalize()
                    summary.problems.append(f"Line {line}: reminder_day {problem}; kept {kept} for {name}.")
            if row.get("quiet_hours"):
                problem = _set_quiet_hours(person, row["quiet_hours"])
                if problem:
                    summary.problems.append(
                        f"Line {line}: quiet_hours {problem}; kept {person.quiet_hours or 'none'} for {name}."
                    )
            if row.get("admin", "").lower() in TRUE:
                person.is_admin = True
            if role_name:
                role = store.owner_or_new(role_name)
                if role not in person.roles:
                    person.roles.append(role)
                    store.renudge_role(role)  # the sweep looks at its actions again: they hear of them
                    summary.roles_mapped += 1
            session.flush()
    return summary


def _set_reminder_day(person: Person, text: str) -> str | None:
    """The weekday their recurring reminders gather on, as `/edi reminders DAY` sets it; why not, if not."""
    weekday = read_weekday(text)
    if weekday is None:
        return f"'{text.strip()}' is not a day of the week (write Monday, Tue, …)"
    if not is_working_weekday(person, weekday):
        return f"{WEEKDAYS[weekday].capitalize()} isn't one of their working days ({person.working_days})"
    person.reminder_day = weekday
    return None


def _contact_problem(row: dict[str, str]) -> str | None:
    """What is wrong with a row's email or time zone, which a person can't be reached without; None if
    fine."""
    email = row.get("email")
    if email:
        try:
            validate_email(email, check_deliverability=False)  # the syntax only: no network look-up
        except EmailNotValidError as error:
            return f"'{email}' is not an email address ({str(error).rstrip('.')})"
    zone = row.get("timezone")
    if zone:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            return f"'{zone}' is not a time zone such as Europe/London"
    return None


def _set_quiet_hours(person: Person, text: str) -> str | None:
    """A row's quiet_hours, read as `/edi quiet` reads them ("12:00-13:00", "12-1pm", "22:00-07:00"; "none"
    for none); what is wrong with it if they can't be kept, with the person's quiet hours left as they
    were."""
    if text.strip().lower() in ("none", "off", "no"):
        person.quiet_hours = None
        return None
    window = read_quiet_hours(text)
    if window is None:
        return f"'{text}' is not quiet hours such as 12:00-13:00 (22:00-07:00 runs overnight)"
    if quiet_hours_leave_no_time(person, window):
        return f"{window[0]}-{window[1]} would leave no time in their working day for reminders"
    person.quiet_hours = "-".join(window)
    return None
