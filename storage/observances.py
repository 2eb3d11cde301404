"""The diversity calendar in the store, as named questions and changes: the organisation's calendar (shipped
observances and its own, with what it hid or reworded), the channels that subscribe, and people's holds."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.batches import chunks
from storage.models import (
    CalendarFeed,
    CalendarSubscription,
    ObservanceHold,
    ObservanceSetting,
    OrganisationObservance,
)
from storage.observance_data import shipped_observances
from storage.rules.defaults import SEND_TIME
from storage.rules.observances.catalogue import Calendar, Dated, Observance
from storage.rules.observances.dates import DateRuleError, FromYear, read_rule
from storage.rules.observances.wording import when_text

log = logging.getLogger(__name__)


def own_observance(row: OrganisationObservance) -> Observance:
    """An observance the organisation added, as the calendar keeps it."""
    return Observance(
        key=row.key,
        name=row.name,
        category=row.category,
        tone=row.tone,
        description=row.description,
        rules=(FromYear(0, read_rule(row.rule)),),
        source=row.source,
        added_by_organisation=True,
    )


def organisation_calendar(
    session: Session, *, shipped: Sequence[Observance] | None = None, with_hidden: bool = False
) -> Calendar:
    """The calendar this organisation keeps: the shipped observances and its own, its wording in place of a
    description, its suggestions attached, and (unless `with_hidden`) without those it hid."""
    observances = list(shipped_observances() if shipped is None else shipped)
    for row in session.scalars(select(OrganisationObservance)):
        try:
            observances.append(own_observance(row))
        except DateRuleError as error:
            # A rule stored under an older grammar must not stop every sweep: it is left out, and logged.
            log.warning("calendar: %s is left out: %s", row.name, error)
    settings = {setting.key: setting for setting in session.scalars(select(ObservanceSetting))}
    kept = []
    for observance in observances:
        setting = settings.get(observance.key)
        if setting is not None:
            if setting.hidden and not with_hidden:
                continue
            observance = replace(
                observance,
                description=setting.wording or observance.description,
                suggestions=tuple(setting.suggestions or ()),
            )
        kept.append(observance)
    return Calendar(kept)


def upcoming_observances(
    session: Session, *, today: date, days: int = 7, categories: Iterable[str] | None = None
) -> list[Dated]:
    """The organisation's observances starting in the `days` from `today` (and those running on it): what a
    weekly digest lists under "upcoming observances"."""
    calendar = organisation_calendar(session)
    return calendar.between(today, today + timedelta(days=days - 1), categories=categories, ongoing=True)


def hidden_keys(session: Session) -> set[str]:
    return set(session.scalars(select(ObservanceSetting.key).where(ObservanceSetting.hidden.is_(True))))


def setting_of(session: Session, key: str) -> ObservanceSetting:
    """The organisation's settings for one observance, made (unchanged) if it has none yet."""
    setting = session.get(ObservanceSetting, key)
    if setting is None:
        setting = ObservanceSetting(key=key, hidden=False, wording=None, suggestions=[])
        session.add(setting)
    return setting


def own_observance_named(session: Session, key: str) -> OrganisationObservance | None:
    return session.scalar(select(OrganisationObservance).where(OrganisationObservance.key == key))


def add_own_observance(
    session: Session,
    *,
    key: str,
    name: str,
    category: str,
    tone: str,
    rule: str,
    description: str,
    source: str | None,
    at: datetime,
) -> OrganisationObservance:
    row = OrganisationObservance(
        key=key,
        name=name,
        category=category,
        tone=tone,
        rule=rule,
        description=description,
        source=source,
        created_at=at,
    )
    session.add(row)
    return row


def remove_own_observance(session: Session, key: str) -> bool:
    row = own_observance_named(session, key)
    if row is None:
        return False
    session.delete(row)
    return True


# -- channels ------------------------------------------------------------------------------------------------


def subscriptions(session: Session) -> list[CalendarSubscription]:
    return list(session.scalars(select(CalendarSubscription).order_by(CalendarSubscription.id)))


def subscription_of(session: Session, channel: str) -> CalendarSubscription | None:
    return session.scalar(select(CalendarSubscription).where(CalendarSubscription.channel == channel))


def subscribe(
    session: Session,
    *,
    channel: str,
    channel_name: str,
    workspace: str | None,
    categories: list[str],
    lead_days: list[int],
    working_days_only: bool,
    feed_url: str | None = None,
    at: datetime,
) -> tuple[CalendarSubscription, bool]:
    """A channel's subscription, made or changed; and whether it is new."""
    found = subscription_of(session, channel)
    new = found is None
    if found is None:
        found = CalendarSubscription(channel=channel, send_time=SEND_TIME, timezone=None, created_at=at)
        session.add(found)
    found.channel_name = channel_name
    found.channel_workspace = workspace
    found.categories = categories
    found.lead_days = lead_days
    found.working_days_only = working_days_only
    found.feed_url = feed_url
    return found, new


def unsubscribe(session: Session, channel: str) -> bool:
    found = subscription_of(session, channel)
    if found is None:
        return False
    session.delete(found)
    return True


# -- people's holds ------------------------------------------------------------------------------------------


def holds_of(session: Session, person_ids: Iterable[int]) -> dict[int, list[str]]:
    """The observances each of these people holds non-urgent reminders during, by key."""
    found: dict[int, list[str]] = {}
    for chunk in chunks(sorted(set(person_ids))):
        rows = session.execute(
            select(ObservanceHold.person_id, ObservanceHold.key)
            .where(ObservanceHold.person_id.in_(chunk))
            .order_by(ObservanceHold.person_id, ObservanceHold.key)
        )
        for person_id, key in rows:
            found.setdefault(person_id, []).append(key)
    return found


def hold_during(session: Session, person_id: int, key: str) -> bool:
    """True if this is a new hold."""
    if session.get(ObservanceHold, (person_id, key)) is not None:
        return False
    session.add(ObservanceHold(person_id=person_id, key=key))
    return True


def release_hold(session: Session, person_id: int, key: str) -> bool:
    result = session.execute(
        delete(ObservanceHold).where(ObservanceHold.person_id == person_id, ObservanceHold.key == key)
    )
    return bool(getattr(result, "rowcount", 0))


# -- published calendars (.ics feeds) ------------------------------------------------------------------------


def feeds_to_fetch(session: Session, *, now: datetime, every: timedelta) -> list[tuple[str, str | None]]:
    """The feeds channels follow that were not fetched in the last `every` (each once): (url, its ETag)."""
    urls = set(
        session.scalars(
            select(CalendarSubscription.feed_url).where(CalendarSubscription.feed_url.is_not(None))
        )
    )
    due = []
    for url in sorted(str(u) for u in urls):
        feed = session.get(CalendarFeed, url)
        if feed is None:
            feed = CalendarFeed(url=url)
            session.add(feed)
        if feed.checked_at is None or feed.checked_at <= now - every:
            due.append((url, feed.etag))
    return due


def feed_fetched(session: Session, url: str, *, body: str | None, etag: str | None, at: datetime) -> None:
    """A good fetch: the new text (None: unchanged since the last, HTTP 304), and the failures are over."""
    feed = session.get(CalendarFeed, url) or CalendarFeed(url=url)
    session.add(feed)
    if body is not None:
        feed.body = body
    feed.etag = etag
    feed.checked_at, feed.failing_since, feed.last_error = at, None, None


def feed_failed(session: Session, url: str, *, reason: str, at: datetime) -> datetime:
    """A failed fetch (the last good copy is kept); when this run of failures began."""
    feed = session.get(CalendarFeed, url) or CalendarFeed(url=url)
    session.add(feed)
    feed.checked_at, feed.last_error = at, reason
    if feed.failing_since is None:
        feed.failing_since = at
    return feed.failing_since


def feed_bodies(session: Session) -> dict[str, str]:
    """The last good copy of each feed, by url."""
    return {
        feed.url: feed.body
        for feed in session.scalars(select(CalendarFeed).where(CalendarFeed.body.is_not(None)))
        if feed.body is not None
    }


def calendar_observances(session: Session) -> Callable[[date, date], list[str]]:
    """The organisation's diversity calendar (shipped observances less hidden ones, plus its own dates) as the
    digest's "coming up" lines: "Diwali, on or around Sunday 8 November 2026"."""
    calendar = organisation_calendar(session)

    def between(start: date, end: date) -> list[str]:
        return [
            f"{dated.observance.name}, {when_text(dated.observance, dated.occurrence)}"
            for dated in calendar.between(start, end, ongoing=True)
        ]

    return between
