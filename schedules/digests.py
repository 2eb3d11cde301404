"""Weekly digests into the outbox: each subscribed channel's digest queued once a week, on its day at its
local time — the next working day when that day is a bank holiday — and delivered like every other message.

Exactly once: a channel's week is decided in the same transaction that queues its digest (or skips a quiet
one), by writing the week on the subscription, and the outbox key "digest:#CHANNEL:2025-W45" cannot be queued
twice; a round cut short, a restart or a second replica finds the week decided. A digest the scheduler could
not queue within its own week (the scheduler was down until the weekend) is dropped rather than posted beside
the next week's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from handlers.digests import Digest, Observances, build_digest, week_of
from handlers.messages import Reply, reply_as_data
from storage import outbox
from storage.db import Database
from storage.digests import DigestSource, digest_subscription_of, digest_subscriptions
from storage.models import DigestSubscription
from storage.observances import calendar_observances
from storage.rules.calendar import Hours, catch_up_send_at, is_working_day, send_clock

log = logging.getLogger(__name__)


@dataclass
class DigestReport:
    queued: list[str] = field(default_factory=list)  # outbox keys
    skipped_quiet: list[str] = field(default_factory=list)  # channels whose quiet week was skipped
    missed: list[str] = field(default_factory=list)  # channels whose week ended before it could be queued


def channel_hours(subscription: DigestSubscription) -> Hours:
    """The channel's office hours: its zone, its send time, its nation's bank holidays, Monday to Friday."""
    return Hours(timezone=subscription.timezone, send_time=subscription.send_time, nation=subscription.nation)


def zone_of(subscription: DigestSubscription, default_zone: ZoneInfo) -> ZoneInfo:
    return ZoneInfo(subscription.timezone) if subscription.timezone else default_zone


def digest_day(subscription: DigestSubscription, week_day: date) -> date | None:
    """The day of `week_day`'s week (Monday to Sunday) the digest goes out: its weekday, or the first working
    day after it in the same week; None when no working day is left that week."""
    monday = week_day - timedelta(days=week_day.weekday())
    hours = channel_hours(subscription)
    for offset in range(subscription.weekday, 7):
        day = monday + timedelta(days=offset)
        if is_working_day(hours, day):
            return day
    return None


def digest_due(subscription: DigestSubscription, now: datetime, *, default_zone: ZoneInfo) -> datetime | None:
    """When this week's digest is due (aware, the channel's zone); None when the week has no digest day."""
    zone = zone_of(subscription, default_zone)
    day = digest_day(subscription, now.astimezone(zone).date())
    if day is None:
        return None
    return datetime.combine(day, send_clock(channel_hours(subscription)), tzinfo=zone)


DIGEST_KEY_PREFIX = "digest:"  # every digest's outbox key starts so


def digest_key(subscription: DigestSubscription, week: str) -> str:
    return f"{DIGEST_KEY_PREFIX}#{subscription.channel}:{week}"


def queue_digests(
    database: Database, *, now: datetime, zone: ZoneInfo, observances: Observances | None = None
) -> DigestReport:
    """Queue each digest whose moment has come this week and whose week is not yet decided."""
    report = DigestReport()
    with database.session() as session:
        due = []
        for subscription in digest_subscriptions(session):
            at = digest_due(subscription, now, default_zone=zone)
            if at is not None and at <= now and subscription.last_week != week_of(at):
                due.append((subscription, at))
        if not due:
            return report
        source = DigestSource(session, now=now)
        coming = observances or calendar_observances(session)  # the calendar read once, for every digest
        taken = outbox.message_keys_taken(session, [digest_key(s, week_of(at)) for s, at in due])
        rows: list[dict[str, Any]] = []
        for subscription, at in due:
            week = week_of(at)
            subscription.last_week = week
            key = digest_key(subscription, week)
            send_at = catch_up_send_at(channel_hours(subscription), now, default_zone=zone)
            if key in taken:
                continue  # this week's went out before the channel unsubscribed and subscribed again
            if week_of(send_at.astimezone(at.tzinfo)) != week:
                report.missed.append(subscription.channel_name)
                log.warning(
                    "the digest for #%s of %s was not sent: its week ended", subscription.channel_name, week
                )
                continue
            today = now.astimezone(at.tzinfo).date()
            built = build_digest(source, subscription, today=today, observances=coming)
            if built.quiet and subscription.skip_quiet:
                report.skipped_quiet.append(subscription.channel_name)
                continue
            rows.append(
                {
                    "key": key,
                    "channel": subscription.channel,
                    "channel_workspace": subscription.channel_workspace,
                    "send_at": send_at,
                    "reply": reply_as_data(built.reply),
                    "created_at": now,
                }
            )
        queued = outbox.queue_messages(session, rows)
        report.queued.extend(str(row["key"]) for row in rows if row["key"] in queued)
    if report.queued:
        log.info("digests: %d queued", len(report.queued))
    return report


@dataclass(frozen=True)
class DigestPreview:
    """What a channel's digest would say at a moment, and whether and when it would be posted."""

    channel_name: str
    digest: Digest
    due: datetime | None  # this week's digest moment, in the channel's zone
    posted: bool  # False: a quiet week the channel skips

    @property
    def reply(self) -> Reply:
        return self.digest.reply


class NoDigest(Exception):
    """The channel asked about has no digest subscription; the message names the ones that do."""


def preview_digest(
    database: Database, *, channel: str, at: datetime, zone: ZoneInfo, observances: Observances | None = None
) -> DigestPreview:
    """The digest `channel` (an id or a name) would get at `at`, built as the scheduled job builds it."""
    with database.session() as session:
        subscription = digest_subscription_of(session, channel)
        if subscription is None:
            have = ", ".join(f"#{s.channel_name}" for s in digest_subscriptions(session)) or "none yet"
            raise NoDigest(f"{channel} has no weekly digest (channels that do: {have}).")
        today = at.astimezone(zone_of(subscription, zone)).date()
        built = build_digest(
            DigestSource(session, now=at),
            subscription,
            today=today,
            observances=observances or calendar_observances(session),
        )
        return DigestPreview(
            channel_name=subscription.channel_name,
            digest=built,
            due=digest_due(subscription, at, default_zone=zone),
            posted=not (built.quiet and subscription.skip_quiet),
        )
