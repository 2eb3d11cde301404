"""The diversity calendar's scheduled work: posts to subscribed channels queued in the outbox (each once, at
the channel's local morning), the organisation's published calendars (.ics) those channels follow, fetched and
cached, and the holds people chose on their non-urgent reminders during an observance.

Posts are decided from the store each round, like the nudges: an observance's post days come from its dates
and the channel's lead days; each post is an outbox row under a key naming the channel, the observance, the
occurrence and the day, so a second round, a restart or a second replica cannot post it twice.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from handlers.commands.calendar import observance_post
from handlers.messages import reply_as_data
from schedules.admin_notes import tell_admins_about_feed_once
from schedules.sending import Addressee, Recipient
from storage import outbox
from storage.db import Database
from storage.models import CalendarSubscription
from storage.observance_ics import ICS_MOST_BYTES, IcsError, read_ics
from storage.observances import (
    feed_bodies,
    feed_failed,
    feed_fetched,
    feeds_to_fetch,
    holds_of,
    organisation_calendar,
    subscriptions,
)
from storage.rules.calendar import Hours, is_working_day, next_send_at, send_clock
from storage.rules.ladder import StepKind
from storage.rules.observances.catalogue import Calendar, Observance, kept_during, released_on
from storage.rules.observances.posting import DEFAULT_LEAD_DAYS, URGENT_STEPS, post_days

log = logging.getLogger(__name__)

CALENDAR_KEY_PREFIX = "calendar:"
FEED_EVERY = timedelta(hours=6)  # how stale a published calendar may get: a change shows within the day
FEED_TIMEOUT_SECONDS = 10.0
CATCH_UP_DAYS = 3  # posts missed while edibot was down go out late, if the observance is still ahead
_ALL_WEEK = "Mon-Sun"


def channel_hours(subscription: CalendarSubscription) -> Hours:
    """A subscribed channel's office hours: its zone and morning; every day, or working days only."""
    return Hours(
        timezone=subscription.timezone,
        working_days="Mon-Fri" if subscription.working_days_only else _ALL_WEEK,
        send_time=subscription.send_time,
    )


def calendar_post_key(subscription: CalendarSubscription, observance_key: str, start: date, day: date) -> str:
    return (
        f"{CALENDAR_KEY_PREFIX}#{subscription.channel}:{observance_key}:{start.isoformat()}:{day.isoformat()}"
    )


def queue_calendar_posts(
    session: Session, *, now: datetime, zone: ZoneInfo, calendar: Calendar | None = None
) -> int:
    """Queue every calendar post due by today in each subscribed channel's local time (and those missed in
    the last CATCH_UP_DAYS for observances still ahead); the number queued."""
    found = subscriptions(session)
    if not found:
        return 0
    calendar = calendar or organisation_calendar(session)
    bodies = feed_bodies(session) if any(s.feed_url for s in found) else {}
    rows: list[dict[str, object]] = []
    for subscription in found:
        rows.extend(_posts_due(subscription, calendar, now=now, zone=zone))
        body = bodies.get(subscription.feed_url or "")
        if body is not None:
            feed = Calendar(list(feed_observances(body)))
            rows.extend(_posts_due(subscription, feed, now=now, zone=zone, every_category=True))
    taken = outbox.message_keys_taken(session, [str(row["key"]) for row in rows])
    fresh = [row for row in rows if row["key"] not in taken]
    outbox.queue_messages(session, fresh)
    return len(fresh)


def _posts_due(
    subscription: CalendarSubscription,
    calendar: Calendar,
    *,
    now: datetime,
    zone: ZoneInfo,
    every_category: bool = False,
) -> Iterable[dict[str, object]]:
    hours = channel_hours(subscription)
    channel_zone = ZoneInfo(subscription.timezone) if subscription.timezone else zone
    today = now.astimezone(channel_zone).date()
    leads = subscription.lead_days or list(DEFAULT_LEAD_DAYS)
    horizon = today + timedelta(days=max(leads) + 14)  # a post moved back off a weekend comes earlier

    def is_open(day: date) -> bool:
        return not subscription.working_days_only or is_working_day(hours, day)

    categories = None if every_category else subscription.categories
    for dated in calendar.between(today - timedelta(days=CATCH_UP_DAYS), horizon, categories=categories):
        start = dated.occurrence.start
        for day in post_days(start, leads, is_open=is_open):
            if day > today or day < today - timedelta(days=CATCH_UP_DAYS) or (day < today and start <= today):
                continue
            moment = datetime.combine(day, send_clock(hours), tzinfo=channel_zone).astimezone(UTC)
            if moment < now:  # caught up late (edibot was down, or the channel has just subscribed)
                moment = now
                if not is_open(today):
                    moment = next_send_at(hours, today, default_zone=channel_zone)
            reply = observance_post(dated.observance, dated.occurrence, today=day)
            yield {
                "key": calendar_post_key(subscription, dated.observance.key, start, day),
                "channel": subscription.channel,
                "channel_workspace": subscription.channel_workspace,
                "person_id": None,
                "send_at": moment,
                "reply": reply_as_data(reply),
                "created_at": now,
            }


class ObservanceHolds:
    """The spans during which each of these people holds their non-urgent reminders (observances they keep),
    read once per sweep."""

    def __init__(self, session: Session, person_ids: Iterable[int], *, today: date) -> None:
        self.spans: dict[int, list[tuple[date, date]]] = {}
        keys = holds_of(session, person_ids)
        if not keys:
            return
        calendar = organisation_calendar(session, with_hidden=True)
        for person_id, held in keys.items():
            kept = [found for key in held if (found := calendar.find(key)) is not None]
            self.spans[person_id] = kept_during(kept, around=today)

    def release(self, to: Addressee, step: StepKind, moment: datetime, *, zone: ZoneInfo) -> datetime:
        """When a reminder planned for `moment` may go: then, unless it is non-urgent and falls during an
        observance its recipient keeps — then their first working moment after it ends."""
        spans = self.spans.get(to.id) if isinstance(to, Recipient) else None
        if not spans or step in URGENT_STEPS:
            return moment
        local_zone = ZoneInfo(to.hours.timezone) if to.hours.timezone else zone
        day = moment.astimezone(local_zone).date()
        free = released_on(spans, day)
        return moment if free == day else next_send_at(to.hours, free, default_zone=zone)


# -- published calendars -------------------------------------------------------------------------------------


class FeedError(Exception):
    """A published calendar that could not be fetched or read, in words for the admins."""


# (url, the ETag of the copy we hold) → (the new text, or None if unchanged; its ETag)
FeedFetch = Callable[[str, str | None], tuple[bytes | None, str | None]]


def fetch_feed(url: str, etag: str | None) -> tuple[bytes | None, str | None]:
    """GET a published .ics over HTTP(S): bounded in time and size, conditional on the copy we hold."""
    headers = {"User-Agent": "edibot (diversity calendar)", "Accept": "text/calendar"}
    if etag:
        headers["If-None-Match"] = etag
    # The scheme was checked on subscribe (http or https only), and urllib follows no redirect to a file.
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=FEED_TIMEOUT_SECONDS) as response:
            data = bytes(response.read(ICS_MOST_BYTES + 1))
            if len(data) > ICS_MOST_BYTES:
                raise FeedError(f"it is larger than {ICS_MOST_BYTES:,} bytes")
            return data, response.headers.get("ETag")
    except urllib.error.HTTPError as error:
        if error.code == 304:
            return None, etag
        raise FeedError(f"the server answered HTTP {error.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", None) or error
        raise FeedError(f"it could not be reached ({reason})") from None


def refresh_feeds(database: Database, *, now: datetime, zone: ZoneInfo, fetch: FeedFetch = fetch_feed) -> int:
    """Fetch the published calendars that channels follow and are due a look (every FEED_EVERY); a failure
    keeps the last good copy and is told to the admins once per run of failures. The number fetched.

    Fetching happens outside any transaction: a slow server holds no database connection."""
    with database.session() as session:
        due = feeds_to_fetch(session, now=now, every=FEED_EVERY)
    for url, etag in due:
        try:
            data, new_etag = fetch(url, etag)
            if data is not None:
                read_ics(data)  # a page that isn't a calendar is a failure, not an empty calendar
        except (FeedError, IcsError) as error:
            log.warning("calendar feed %s: %s", url, error)
            with database.session() as session:
                since = feed_failed(session, url, reason=str(error), at=now)
                tell_admins_about_feed_once(
                    session, url=url, reason=str(error), since=since, now=now, zone=zone
                )
            continue
        with database.session() as session:
            body = None if data is None else data.decode("utf-8", errors="replace")
            feed_fetched(session, url, body=body, etag=new_etag, at=now)
    return len(due)


@lru_cache(maxsize=16)
def feed_observances(body: str) -> tuple[Observance, ...]:
    """The events of a feed's text as observances (read once per text, not once per round)."""
    try:
        events, _ = read_ics(body.encode("utf-8"))
    except IcsError:
        return ()
    return tuple(event.as_observance() for event in events)
