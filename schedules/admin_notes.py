"""Notes for the plan admins: owner roles with nobody to remind (weekly), the day's "not mine"s gathered (the
next morning), and whoever can't be reached (once)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, time
from typing import Literal
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


def gathered_not_mine(session: Session, *, now: datetime, zone: ZoneInfo) -> int:
    """Each plan admin hears, in one message, every "not mine" said before today that they have not heard of:
    the rest of a day's after its first (which went at once), gathered for the next morning.

    Keyed by day and admin, and marked told in the same transaction, so another round or a replica sends none
    of them twice, and a round cut short loses none.
    """
    local = now.astimezone(zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    waiting = Store(session).declines_waiting(before=midnight)
    if not waiting:
        return 0
    admins = plan_admins(session)
    keys = {admin.id: f"not-mine:{local.date().isoformat()}:{admin.id}" for admin in admins}
    if outbox.message_keys_taken(session, list(keys.values())):
        return 0  # today's went already (these came in late): they wait for tomorrow's
    queued = 0
    for admin in admins:
        theirs = [(person, action) for person, action in waiting if person.id != admin.id]
        if not theirs:
            continue
        lines = [
            f"{action.ref} · {action.title} — owned by "
            f"{', '.join(owner.name for owner in action.owners) or 'nobody'}; "
            f"{person.name} says it isn't theirs"
            for person, action in theirs
        ]
        count = f"{len(theirs)} action{'s' if len(theirs) != 1 else ''}"
        body = (
            f"Since my last note, people have said {count} {'are' if len(theirs) != 1 else 'is'} not theirs; "
            "please map each to the right person (`/edi people map` or `/edi owner REF add`):\n"
            + "\n".join(lines)
        )
        queued += _queue_note(session, key=keys[admin.id], admin=admin, body=body, now=now, zone=zone)
    Store(session).admins_told(waiting, at=now)
    return queued


PostKind = Literal["escalation", "calendar", "digest"]  # what a channel post was, for the admins' note
_WHAT = {"escalation": "an escalation", "calendar": "the diversity calendar", "digest": "the weekly digest"}


def tell_admins_about_channel_once(
    database: Database,
    channel: Channel,
    *,
    reason: str,
    now: datetime,
    zone: ZoneInfo,
    post: PostKind = "escalation",
) -> None:
    """A channel refused our post (archived, edibot not in it) — an escalation, the diversity calendar or a
    weekly digest: each admin hears it once, with what to do about that kind of post."""
    with database.session() as session:
        for admin in plan_admins(session):
            first = f"I couldn't post {_WHAT[post]} in {channel.name}: {reason}."
            body = {
                "calendar": f"{first} Invite edibot to the channel, or stop the posts with "
                f"`/edi calendar unsubscribe {channel.name}`.",
                "digest": f"{first} Invite edibot to the channel, or stop the digest with "
                f"`/edi digest unsubscribe {channel.name}`.",
                "escalation": f"{first} It is waiting; invite edibot to the channel, or choose another with "
                "`/edi plan escalate PLAN #channel` (or `@someone`).",
            }[post]
            _queue_note(
                session,
                key=f"unreachable:#{channel.id}:{admin.id}",
                admin=admin,
                body=body,
                now=now,
                zone=zone,
            )


def tell_admins_about_feed_once(
    session: Session, *, url: str, reason: str, since: datetime, now: datetime, zone: ZoneInfo
) -> int:
    """A published calendar channels follow can't be fetched: each admin hears it once per run of failures."""
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    body = (
        f"I couldn't fetch the calendar {url}: {reason}. Channels that follow it keep the last copy I had; "
        "check the address, or change it with `/edi calendar subscribe #channel URL`."
    )
    return sum(
        _queue_note(
            session,
            key=f"calendar-feed:{digest}:{since.astimezone(UTC):%Y%m%dT%H%M%S}:{admin.id}",
            admin=admin,
            body=body,
            now=now,
            zone=zone,
        )
        for admin in plan_admins(session)
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
