"""Notes for the plan admins: owner roles with nobody to remind (weekly), and whoever can't be reached
(once)."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from schedules.sending import Channel, Recipient
from storage import outbox
from storage.db import Database
from storage.models import Person
from storage.queries import plan_admins
from storage.rules.calendar import catch_up_send_at
from storage.store import Store


def weekly_admin_note(session: Session, *, now: datetime, zone: ZoneInfo) -> int:
    """On Mondays, plan admins hear which owner roles have nobody to remind (once a week, by key)."""
    local = now.astimezone(zone)
    if local.weekday() != 0:
        return 0
    week = f"{local.isocalendar().year}-W{local.isocalendar().week:02d}"
    admins = plan_admins(session)
    keys = [f"admin-note:{week}:{admin.id}" for admin in admins]
    if not keys or len(outbox.message_keys_taken(session, keys)) == len(keys):
        return 0  # every admin has this week's note: the count over the whole store is not needed again
    # An admin who had a plan's adoption summary this week has just read which of its roles have no one.
    monday = datetime.combine(local.date(), time(0), tzinfo=zone)
    told = outbox.people_sent_keys_since(session, prefix="adopted:", since=monday)
    admins = [admin for admin in admins if admin.id not in told]
    unmapped = Store(session).unmapped_owners() if admins else []
    if not unmapped:
        return 0
    lines = [f"{owner.name} — {count} open action{'s' if count != 1 else ''}" for owner, count in unmapped]
    body = (
        f"{len(unmapped)} owner role{'s have' if len(unmapped) != 1 else ' has'} nobody to remind:\n"
        + "\n".join(lines)
        + '\nMap each with `/edi people map "Role" @someone`.'
    )
    return sum(
        _queue_note(session, key=f"admin-note:{week}:{admin.id}", admin=admin, body=body, now=now, zone=zone)
        for admin in admins
    )


def tell_admins_about_channel_once(
    database: Database, channel: Channel, *, reason: str, now: datetime, zone: ZoneInfo
) -> None:
    """An escalation channel refused our post (archived, edibot not in it): each admin hears it once."""
    with database.session() as session:
        for admin in plan_admins(session):
            body = (
                f"I couldn't post an escalation in {channel.name}: {reason}. It is waiting; invite edibot to "
                "the channel, or choose another with `/edi plan escalate PLAN #channel` (or `@someone`)."
            )
            _queue_note(
                session,
                key=f"unreachable:#{channel.id}:{admin.id}",
                admin=admin,
                body=body,
                now=now,
                zone=zone,
            )


def tell_admins_once(
    database: Database, person: Recipient, *, reason: str, now: datetime, zone: ZoneInfo
) -> None:
    """Someone can't be reached (no platform identity, deactivated): the admins hear it once, not every
    round."""
    with database.session() as session:
        for admin in plan_admins(session, but=person.id):
            body = (
                f"I couldn't deliver reminders to {person.name}: {reason}. Their actions are waiting; "
                "check their Slack/Teams id or email in the people directory."
            )
            _queue_note(
                session, key=f"unreachable:{person.id}:{admin.id}", admin=admin, body=body, now=now, zone=zone
            )


def _queue_note(
    session: Session, *, key: str, admin: Person, body: str, now: datetime, zone: ZoneInfo
) -> int:
    """A one-off note under a unique key: planning it again (another sweep, another replica) does nothing."""
    send_at = catch_up_send_at(admin, now, default_zone=zone)
    return int(outbox.queue_once(session, key=key, person_id=admin.id, send_at=send_at, now=now, body=body))
