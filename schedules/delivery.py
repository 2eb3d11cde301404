"""The delivery worker: send each outbox message exactly once, at the pace the platform allows.

Delivery claims outbox rows under a lease (a crash between claim and send is retried when the lease runs
out), renders each message as it is to be sent, hands it to the platform's Sender, and records the platform's
message id — or, when the platform refuses, retries, pauses or gives up as its answer says. Reminders, notes
to admins and notices all leave this one way.

Exactly once across a crash: just before a message is handed to the platform its row is marked as tried
(committed first), and every outcome clears the mark; so after a kill the only messages the platform may have
taken are the ones still marked — those in flight at that moment, not the whole claimed batch. Where every
post is tagged with its outbox key (a `KeyedSender`: Slack), a message in doubt — cut off mid-send, or failed
in a way that may have posted — is first looked for on the platform by that key; a post found there is
adopted (marked sent with its id), not posted again. A platform that can't be asked (Teams' Bot Connector
lists no past messages; the console) gets a message cut off mid-send again, with a line saying it may be a
second copy: never lost, at most one copy too many per message in flight at the crash.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from handlers.messages import Context, Reply, Text, reply_from_data
from handlers.reminders import ReminderItem, reminder
from handlers.reports import attach_report
from schedules import metrics
from schedules.admin_notes import PostKind, tell_admins_about_channel_once, tell_admins_once
from schedules.adoption import render_welcome, welcome_plan
from schedules.digests import DIGEST_KEY_PREFIX
from schedules.observances import CALENDAR_KEY_PREFIX
from schedules.planning import escalation_channel
from schedules.sending import (
    Addressee,
    Channel,
    ChannelSender,
    KeyedSender,
    RateLimited,
    Recipient,
    RetryLater,
    Sender,
    Undeliverable,
)
from storage import outbox
from storage.db import Database
from storage.digests import digest_subscriptions_in
from storage.models import Action, Nudge, OutboxMessage
from storage.reminding import actions_with_owners, people_by_id, plans_escalating_in, reminders_delivered

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
LEASE = timedelta(minutes=2)
# How far before a message was queued a look for its earlier post starts: the platform's clock may differ a
# little.
LOOK_BACK = timedelta(minutes=5)


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: list[str] = field(default_factory=list)
    paused_until: datetime | None = None  # the platform asked us to wait: nothing is sent before then
    adopted: int = 0  # of those sent, the ones an earlier try had posted (a crash, a timeout): not re-sent
    handed_back: int = 0  # claimed, then handed back unsent because edibot was stopping
    # Of those sent, the ones whose earlier try was cut off mid-send, sent again with a line saying so: the
    # platform has no way to look (no KeyedSender), so the person may have them twice.
    marked_again: int = 0


def deliver(
    database: Database,
    *,
    now: datetime,
    zone: ZoneInfo,
    send: Sender,
    lease: timedelta = LEASE,
    limit: int = 50,
    clock: Callable[[], datetime] | None = None,
    keys: Collection[str] | None = None,
    stopping: Callable[[], bool] | None = None,
    fresh_only: bool = False,
) -> DeliveryReport:
    """Send what is due from the outbox: claim (lease), send, mark sent. A crash mid-way is retried after the
    lease.

    Each person and each channel gets their messages in the order they were queued: a claim takes only the
    first message of each conversation (outbox.claim_due), and once a batch is sent the next messages, now
    first in their conversations, are claimed in turn, up to `limit` in all. A message the platform sent
    back to wait (a 429, its trouble) holds its conversation's later ones back until it goes.

    When the platform rate-limits a message, the batch stops there: that message and everything else due
    waits exactly the Retry-After the platform gave, counted from its answer (by `clock`, when given, else
    `now`), and the messages claimed but not tried are handed back untouched. `keys` limits the round to those
    messages (notices an adapter has just queued, sent straight away); they are paced and retried all the
    same.

    `stopping` is asked before each message: once it says yes (edibot was told to stop), the messages
    claimed but not yet tried are handed back at once, for this or another worker to send, rather than held
    until their lease runs out; the one being sent is finished first. `fresh_only`: no message whose lease
    ran out (see outbox.claim_due).
    """
    report = DeliveryReport()
    while (handled := report.sent + report.retried + len(report.failed)) < limit:
        with database.session() as session:
            claims = outbox.claim_due(
                session,
                now=now,
                lease_until=now + lease,
                limit=limit - handled,
                keys=keys,
                fresh_only=fresh_only,
            )
        sent_before = report.sent
        carry_on = _send_claimed(
            database,
            claims,
            now=now,
            zone=zone,
            send=send,
            ours=now + lease,
            clock=clock,
            stopping=stopping,
            report=report,
        )
        if not carry_on or report.sent == sent_before:
            break  # paused, stopping, or nothing sent: no conversation has a next message ready
    return report


def _send_claimed(
    database: Database,
    claims: list[outbox.Claim],
    *,
    now: datetime,
    zone: ZoneInfo,
    send: Sender,
    ours: datetime,
    clock: Callable[[], datetime] | None,
    stopping: Callable[[], bool] | None,
    report: DeliveryReport,
) -> bool:
    """One claimed batch, in order; False when delivery must stop here (the platform said wait, or edibot is
    stopping)."""
    claimed = [claim.id for claim in claims]
    in_doubt = {claim.id for claim in claims if claim.in_doubt}
    interrupted = {claim.id for claim in claims if claim.interrupted}
    begun: int | None = None  # the message whose try was begun in the commit of the one before it (below)
    for position, ready, following in _prepared(database, claimed, now=now, zone=zone):
        message_id, to, attempt, reply = ready.message_id, ready.to, ready.attempt, ready.reply
        if stopping is not None and stopping():
            with database.session() as session:
                if begun == message_id:  # it was never handed over: not in doubt for whoever takes it
                    outbox.end_try(session, message_id, attempt=attempt)
                outbox.hand_back(session, claimed[position:], lease_until=ours)
            report.handed_back = len(claimed) - position
            log.info("stopping: %d claimed messages handed back unsent", report.handed_back)
            return False
        try:
            platform_id = _found(send, ready) if message_id in in_doubt else None
            if platform_id is not None:
                report.adopted += 1  # counted as sent below, as it was
                log.info(
                    "message %s was posted by an earlier try (%s): kept, not sent again",
                    ready.key,
                    platform_id,
                )
            else:
                if begun != message_id:
                    with database.engine.begin() as connection:  # one UPDATE: no ORM session needed
                        outbox.begin_try(connection, message_id, attempt=attempt, at=now)
                if message_id in interrupted and not isinstance(send, KeyedSender):
                    reply = _said_again(reply)
                    report.marked_again += 1
                    log.warning(
                        "message %s: edibot stopped while sending it and this platform can't be asked "
                        "whether it arrived; sent again, saying so",
                        ready.key,
                    )
                platform_id = _post(send, to, reply, key=ready.key)
        except RateLimited as error:
            metrics.rate_limited()
            answered = clock() if clock is not None else now
            _pause(
                database,
                message_id,
                attempt,
                untried=claimed[position + 1 :],
                ours=ours,
                until=answered + timedelta(seconds=error.seconds),
                reason=str(error),
                report=report,
            )
            return False
        except RetryLater as error:
            _retry(
                database,
                message_id,
                attempt,
                now=now,
                seconds=error.seconds,
                reason=str(error),
                report=report,
            )
            continue
        except Undeliverable as error:
            _fail(database, message_id, reason=str(error), report=report, who=to.name)
            if isinstance(to, Channel):
                post: PostKind = (
                    "calendar"
                    if ready.key.startswith(CALENDAR_KEY_PREFIX)
                    else "digest"
                    if ready.key.startswith(DIGEST_KEY_PREFIX)
                    else "escalation"
                )
                tell_admins_about_channel_once(database, to, reason=str(error), now=now, zone=zone, post=post)
            else:
                tell_admins_once(database, to, reason=str(error), now=now, zone=zone)
            continue
        # The next message's try begins in this one's commit when nothing but the post comes between: it is
        # rendered already (the same few) and not in doubt (no look on the platform first). One commit a
        # message instead of two, and the mark still lies on exactly the message being handed over.
        begun = (
            following.message_id if following is not None and following.message_id not in in_doubt else None
        )
        with database.session() as session:
            outbox.mark_sent(session, message_id, attempt=attempt, at=now, platform_message_id=platform_id)
            if following is not None and begun is not None:
                outbox.begin_try(session, begun, attempt=following.attempt, at=now)
        report.sent += 1
    return True


def _post(send: Sender, to: Addressee, reply: Reply, *, key: str) -> str:
    """A direct message to a person, or a post in a channel if the platform's sender can post there; tagged
    with the outbox key when the sender can find it again by that key."""
    if isinstance(to, Recipient):
        return send(to, reply, key=key) if isinstance(send, KeyedSender) else send(to, reply)
    if isinstance(send, KeyedSender):
        return send.to_channel(to, reply, key=key)
    if isinstance(send, ChannelSender):
        return send.to_channel(to, reply)
    raise Undeliverable("this chat platform's sender can't post in channels")


SAID_AGAIN = (
    "edibot was restarted while sending this, so it may reach you twice: if you already have it, this is "
    "the same message."
)


def _said_again(reply: Reply) -> Reply:
    """The reply with a closing line owning up to a possible second copy (its blocks are not changed)."""
    return replace(reply, blocks=[*reply.blocks, Context(SAID_AGAIN)])


def _found(send: Sender, ready: _Ready) -> str | None:
    """The platform's id of this message's post from an earlier try, if the sender can look and it is
    there."""
    if not isinstance(send, KeyedSender):
        return None
    return send.find_posted(ready.to, ready.key, since=ready.created_at - LOOK_BACK)


def _retry(
    database: Database,
    message_id: int,
    attempt: int,
    *,
    now: datetime,
    seconds: float,
    reason: str,
    report: DeliveryReport,
) -> None:
    """A genuine failure (the platform's trouble, the network): counted, and backed off longer each time."""
    with database.session() as session:
        message = outbox.held(session, message_id, attempt=attempt)
        if message is None:
            return  # our lease ran out and another worker has this message now: its outcome is theirs
        message.failures += 1
        message.last_error = reason
        message.lease_until = None
        message.tried_at = None  # an outcome: in doubt from here by its failure, not as cut off
        if message.failures >= MAX_ATTEMPTS:
            message.status = "failed"
            report.failed.append(f"message {message_id}: {reason}")
            return
        message.send_at = now + timedelta(seconds=max(seconds, 2**message.failures))
    report.retried += 1


def _pause(
    database: Database,
    message_id: int,
    attempt: int,
    *,
    untried: list[int],
    ours: datetime,
    until: datetime,
    reason: str,
    report: DeliveryReport,
) -> None:
    """The platform said "wait until `until`": not a failure of this message, and no message goes before then.

    Delivery is paused until then (outbox.pause: one row, only ever moved later), so neither the rest of
    this round nor another worker or replica keeps knocking; the ones this round claimed but did not try are
    handed back. Their `attempts` (the fencing token) stays bumped, so a worker that still held an older
    lease on one of them cannot mark it.
    """
    with database.session() as session:
        outbox.postpone(session, message_id, attempt=attempt, until=until, reason=reason)
        outbox.pause(session, until)
        outbox.hand_back(session, untried, lease_until=ours)
    report.retried += 1
    report.paused_until = until
    log.info("the platform asked us to wait until %s: delivery paused (%s)", until.isoformat(), reason)


def _fail(database: Database, message_id: int, *, reason: str, report: DeliveryReport, who: str) -> None:
    with database.session() as session:
        outbox.mark_failed(session, message_id, reason=reason)
    report.failed.append(f"{who}: {reason}")
    log.warning("reminder for %s could not be delivered: %s", who, reason)


_PREPARE_AHEAD = 10  # messages rendered at a time: the first goes out soon after a claim, or after a pause


class _Ready(NamedTuple):
    """A claimed message, rendered: whom it goes to, its claim token, its reply, its key and when it was
    queued."""

    message_id: int
    to: Addressee
    attempt: int
    reply: Reply
    key: str
    created_at: datetime


def _prepared(
    database: Database, claimed: list[int], *, now: datetime, zone: ZoneInfo
) -> Iterable[tuple[int, _Ready, _Ready | None]]:
    """Each claimed message with its position, rendered a few at a time, and the message after it when that
    one is rendered already (None at the end of each few)."""
    today = now.astimezone(zone).date()
    for start in range(0, len(claimed), _PREPARE_AHEAD):
        with database.session() as session:
            batch = _prepare(session, claimed[start : start + _PREPARE_AHEAD], today=today, zone=zone)
        for offset, ready in enumerate(batch):
            yield start + offset, ready, (batch[offset + 1] if offset + 1 < len(batch) else None)


def _prepare(session: Session, message_ids: list[int], *, today: date, zone: ZoneInfo) -> list[_Ready]:
    """The claimed messages rendered, with their recipients and claim tokens, from a few batched reads."""
    messages = outbox.messages_by_id(session, message_ids)
    people = people_by_id(session, {m.person_id for m in messages.values() if m.person_id is not None})
    recipients = {person_id: Recipient.of(person) for person_id, person in people.items()}
    channels = channels_named(session, {m.channel for m in messages.values() if m.channel is not None})
    by_message = outbox.nudges_of_messages(session, message_ids)
    actions = actions_with_owners(
        session, {nudge.action_id for nudges in by_message.values() for nudge in nudges}
    )
    prepared: list[_Ready] = []
    for message_id in message_ids:
        message = messages[message_id]
        to: Addressee
        if message.person_id is not None:
            to = recipients[message.person_id]
        else:
            assert message.channel is not None
            known = channels.get(message.channel, Channel(message.channel, f"#{message.channel}"))
            to = Channel(known.id, known.name, message.channel_workspace)
        reply = render_message(
            session, message, today=today, nudges=by_message.get(message_id, []), actions=actions, zone=zone
        )
        prepared.append(_Ready(message_id, to, message.attempts, reply, message.key, message.created_at))
    return prepared


def channels_named(session: Session, ids: set[str]) -> dict[str, Channel]:
    """The channels with these ids, named as the plans escalating there, or their digests, name them."""
    found: dict[str, Channel] = {
        subscription.channel: Channel(
            subscription.channel, f"#{subscription.channel_name}", subscription.channel_workspace
        )
        for subscription in digest_subscriptions_in(session, ids)
    }
    for plan in plans_escalating_in(session, ids):
        channel = escalation_channel(plan)
        if channel is not None:
            found.setdefault(channel.id, channel)
    return found


def render_message(
    session: Session,
    message: OutboxMessage,
    *,
    today: date,
    nudges: Sequence[Nudge] | None = None,
    actions: dict[int, Action] | None = None,
    zone: ZoneInfo | None = None,
) -> Reply:
    """Built at send time from the actions as they are now, so a reminder never shows a stale status.

    A notice carries the reply it was written with, and a note its text; a welcome lists the person's actions
    in its plan. `nudges` and `actions` (the message's nudges, and their actions with owners and plans) save
    the reads when delivery has loaded a whole batch at once. An escalation says how many reminders its
    owners were sent before it was queued, since when (local days in `zone`).
    """
    zone = zone or ZoneInfo("UTC")
    if message.reply is not None:
        return attach_report(session, reply_from_data(message.reply))
    if message.body is not None:
        return Reply([Text(message.body)], private=True)
    welcomed_to = welcome_plan(message.key)
    if welcomed_to is not None and message.person_id is not None:
        return render_welcome(session, person_id=message.person_id, plan_id=welcomed_to, today=today)
    if message.person_id is None:
        assert message.channel is not None
        channel = channels_named(session, {message.channel}).get(message.channel)
        name, to_channel = (channel.name if channel else f"#{message.channel}"), True
    else:
        person = people_by_id(session, [message.person_id]).get(message.person_id)
        assert person is not None
        name, to_channel = person.name, False
    if nudges is None:
        nudges = outbox.nudges_of_messages(session, [message.id]).get(message.id, [])
    if actions is None:
        actions = actions_with_owners(session, {nudge.action_id for nudge in nudges})
    escalated = {
        nudge.action_id: actions[nudge.action_id].answered_at
        for nudge in nudges
        if nudge.step == "escalate" and nudge.action_id in actions
    }
    # The reminders that had gone when the escalation was decided: not one sent since (the same morning's,
    # ahead of it in the outbox), so its words do not depend on which message delivery took first.
    reminded = (
        reminders_delivered(session, escalated, zone=zone, before=message.created_at) if escalated else {}
    )
    items: list[ReminderItem] = []
    for nudge in nudges:
        action = actions.get(nudge.action_id)
        if action is None:
            continue
        step = nudge.ladder_step
        items.append(
            ReminderItem(
                action=action,
                step=step.kind,
                why=step.describe(),
                today=today,
                deadline=step.deadline,
                reminded=reminded.get(action.id) if step.escalation else None,
            )
        )
    return reminder(name, items, today=today, to_channel=to_channel)
