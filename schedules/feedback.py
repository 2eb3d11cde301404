"""Anonymous feedback leaves in batches: at each release time, everything waiting is posted to the responders'
channel in a shuffled order, through the outbox; and feedback older than the retention period is deleted.

Batching is what makes the time a piece appears say nothing about when it was written: nothing is posted the
moment it arrives, and within a batch the order is random. A release is decided once per slot (the slot is
written on the settings in the transaction that queues the posts, each keyed "feedback:SLOT:REF"), so a
round cut short, a restart or a second replica never posts a batch twice.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from handlers.feedback import follow_up_post, released_post
from handlers.messages import reply_as_data
from storage import feedback as stored
from storage import outbox
from storage.db import Database
from storage.models import FeedbackMessage
from storage.rules.anonymity import DEFAULT_RELEASE_TIMES

log = logging.getLogger(__name__)


@dataclass
class ReleaseReport:
    slot: str | None = None  # the release done this round, "YYYY-MM-DD HH:MM"; None when none was due
    posts: list[str] = field(default_factory=list)  # outbox keys, in the shuffled order they go out


def release_slot(times: list[str], now: datetime) -> str | None:
    """The latest release moment today at or before `now` ("YYYY-MM-DD HH:MM"); None before the first."""
    moments = [time.fromisoformat(text) for text in times] or list(DEFAULT_RELEASE_TIMES)
    passed = [moment for moment in moments if moment <= now.time().replace(tzinfo=None)]
    if not passed:
        return None
    return f"{now.date().isoformat()} {max(passed):%H:%M}"


def release_feedback(
    database: Database, *, now: datetime, zone: ZoneInfo, shuffle: random.Random | None = None
) -> ReleaseReport:
    """Queue everything waiting, shuffled, for the responders' channel, once per release slot."""
    report = ReleaseReport()
    local = now.astimezone(zone)
    with database.session() as session:
        settings = stored.feedback_settings(session)
        if settings is None:
            return report
        slot = release_slot(settings.release_times, local)
        if slot is None or (settings.last_release or "") >= slot:
            return report
        settings.last_release = slot
        report.slot = slot
        pieces, follow_ups = stored.waiting_for_release(session)
        posts: list[tuple[str, Any]] = []
        for piece in pieces:
            waiting = [m for m in piece.messages if m.author == "submitter" and not m.released]
            posts.append((piece.ref, released_post(piece, follow_ups=waiting)))
            piece.released_on = local.date()
            _mark_released(waiting)
        by_piece: dict[str, list[FeedbackMessage]] = {}
        for message in follow_ups:
            by_piece.setdefault(message.feedback_ref, []).append(message)
        for ref, messages in by_piece.items():
            found = stored.feedback(session, ref)
            if found is not None:
                posts.append((f"{ref}:follow-up", follow_up_post(found, messages)))
                _mark_released(messages)
        (shuffle or random.SystemRandom()).shuffle(posts)
        rows = [
            {
                "key": f"feedback:{slot}:{name}",
                "channel": settings.channel,
                "channel_workspace": settings.channel_workspace,
                "send_at": now,
                "reply": reply_as_data(reply),
                "created_at": now,
            }
            for name, reply in posts
        ]
        outbox.queue_messages(session, rows)
        report.posts = [str(row["key"]) for row in rows]
    if report.posts:
        log.info("feedback: %d posts released to the responders", len(report.posts))
    return report


def _mark_released(messages: list[FeedbackMessage]) -> None:
    for message in messages:
        message.released = True


def forget_old_feedback(database: Database, *, now: datetime, zone: ZoneInfo) -> int:
    """Deletes feedback received more than the retention period ago; how many pieces went."""
    with database.session() as session:
        settings = stored.feedback_settings(session)
        if settings is None:
            return 0
        gone = stored.delete_older_than(
            session, now.astimezone(zone).date() - timedelta(days=settings.retention_days)
        )
    if gone:
        log.info("feedback: %d pieces older than the retention period deleted", gone)
    return gone
