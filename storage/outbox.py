"""The outbox and the nudges planned into it, as named questions and changes: what is planned, what is due,
who holds a message's lease, and what became of each try.

Rows written in bulk go through the tables themselves (Core statements): the ORM has nothing to track there.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, NamedTuple, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    Table,
    bindparam,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from storage.batches import among, chunks
from storage.models import DeliveryPause, Nudge, OutboxMessage
from storage.rules.ladder import Step

_NUDGES: Final = cast("Table", Nudge.__table__)
_OUTBOX: Final = cast("Table", OutboxMessage.__table__)
_PAUSE: Final = cast("Table", DeliveryPause.__table__)
_PAUSE_ROW: Final = 1  # delivery_pause holds one row


# -- nudges: one reminder step for one recipient, planned once by its key ------------------------------------


def planned_nudge_keys(session: Session, keys: Iterable[str]) -> set[str]:
    """Which of these nudge keys are already planned, looked up through the unique index on the key."""
    found: set[str] = set()
    for chunk in chunks(sorted(set(keys))):
        found.update(session.scalars(select(Nudge.key).where(among(session, Nudge.key, chunk))))
    return found


def nudge_keys_in_messages(session: Session) -> set[str]:
    """The keys of every nudge already gathered into a message (queued or sent)."""
    return set(session.scalars(select(Nudge.key).where(Nudge.message_id.is_not(None))))


def all_nudge_keys(session: Session) -> list[str]:
    return list(session.scalars(select(Nudge.key)))


def plan_nudges(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write planned nudges (key, action_id, person_id or channel, step, occurrence, step_on, send_at,
    created_at).

    One executemany on the table (the ORM's bulk path costs more per row than the database does); the unique
    key still refuses a twin.
    """
    if rows:
        session.execute(insert(_NUDGES), [{"message_id": None, **row} for row in rows])


@dataclass(frozen=True, slots=True)
class WaitingNudge:
    """A planned nudge not yet in a message: the columns batching reads, the step read back as a Step."""

    id: int
    action_id: int
    person_id: int | None
    channel: str | None
    step: Step


def nudges_waiting(session: Session, *, due_by: datetime) -> list[WaitingNudge]:
    """Planned nudges in no message yet whose send time has come, by recipient, then step day."""
    return [
        WaitingNudge(
            nudge_id, action_id, person_id, channel, Step.from_name(name, occurrence=occurrence, on=on)
        )
        for nudge_id, action_id, person_id, channel, name, occurrence, on in session.execute(
            select(
                Nudge.id,
                Nudge.action_id,
                Nudge.person_id,
                Nudge.channel,
                Nudge.step,
                Nudge.occurrence,
                Nudge.step_on,
            )
            .where(Nudge.message_id.is_(None), Nudge.send_at <= due_by)
            .order_by(Nudge.person_id, Nudge.channel, Nudge.step_on, Nudge.id)
        )
    ]


def drop_nudges(session: Session, nudge_ids: list[int]) -> None:
    for chunk in chunks(nudge_ids):
        session.execute(
            delete(Nudge).where(among(session, Nudge.id, chunk)).execution_options(synchronize_session=False)
        )


def attach_nudges(session: Session, pairs: list[tuple[int, int]]) -> None:
    """Set each (nudge id, message id) pair's message_id in one statement, not one UPDATE per nudge.

    PostgreSQL joins the table to the pairs passed as two arrays (UPDATE ... FROM unnest(...)): two parameters
    however many nudges, so the statement is prepared once and never re-compiled. SQLite, in process, runs one
    prepared UPDATE over the pairs (executemany).
    """
    if not pairs:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            _ATTACH_POSTGRESQL, {"nudge_ids": [n for n, _ in pairs], "message_ids": [m for _, m in pairs]}
        )
        return
    statement = (
        update(_NUDGES)
        .where(_NUDGES.c.id == bindparam("nudge_id"))
        .values(message_id=bindparam("message_id"))
    )
    session.execute(statement, [{"nudge_id": n, "message_id": m} for n, m in pairs])


_ATTACH_POSTGRESQL = text(
    "UPDATE nudges SET message_id = pairs.message_id"
    " FROM unnest(CAST(:nudge_ids AS integer[]), CAST(:message_ids AS integer[]))"
    " AS pairs (nudge_id, message_id)"
    " WHERE nudges.id = pairs.nudge_id"
)


def nudges_of_messages(session: Session, message_ids: list[int]) -> dict[int, list[Nudge]]:
    """Each message's nudges, in the order they were planned."""
    found: dict[int, list[Nudge]] = {}
    for chunk in chunks(message_ids):
        for nudge in session.scalars(select(Nudge).where(Nudge.message_id.in_(chunk)).order_by(Nudge.id)):
            found.setdefault(nudge.message_id or 0, []).append(nudge)
    return found


# -- the outbox: messages, each delivered once ---------------------------------------------------------------


def message_keys_taken(session: Session, keys: Iterable[str]) -> set[str]:
    """Which of these message keys the outbox has already."""
    found: set[str] = set()
    for chunk in chunks(sorted(set(keys))):
        found.update(
            session.scalars(select(OutboxMessage.key).where(among(session, OutboxMessage.key, chunk)))
        )
    return found


def pending_messages(session: Session, keys: Iterable[str]) -> dict[str, int]:
    """Which of these messages are queued and not yet sent: their ids by key."""
    found: dict[str, int] = {}
    for chunk in chunks(sorted(set(keys))):
        found.update(
            (key, message_id)
            for key, message_id in session.execute(
                select(OutboxMessage.key, OutboxMessage.id).where(
                    among(session, OutboxMessage.key, chunk), OutboxMessage.status == "pending"
                )
            )
        )
    return found


def pending_keyed(session: Session, *, containing: str) -> list[tuple[int, str, int | None, datetime]]:
    """Queued, unsent messages whose key contains `containing`: id, key, person id and send time."""
    return [
        (message_id, key, person_id, send_at)
        for message_id, key, person_id, send_at in session.execute(
            select(OutboxMessage.id, OutboxMessage.key, OutboxMessage.person_id, OutboxMessage.send_at).where(
                OutboxMessage.status == "pending", OutboxMessage.key.contains(containing, autoescape=True)
            )
        )
    ]


def people_sent_keys_since(session: Session, *, prefix: str, since: datetime) -> set[int]:
    """The people queued a message whose key starts with `prefix` since `since`."""
    return {
        person_id
        for person_id in session.scalars(
            select(OutboxMessage.person_id).where(
                OutboxMessage.key.startswith(prefix, autoescape=True), OutboxMessage.created_at >= since
            )
        )
        if person_id is not None
    }


def queue_messages(session: Session, rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """New pending messages (key, send_at, person_id or channel and channel_workspace, created_at); their ids
    by key.

    One multi-row INSERT that hands back each message's id (the order of the answer does not matter: by key).
    """
    if not rows:
        return {}
    values = [{"status": "pending", "attempts": 0, **row} for row in rows]
    inserted = session.execute(insert(_OUTBOX).returning(_OUTBOX.c.key, _OUTBOX.c.id), values)
    return {key: message_id for key, message_id in inserted}


def queue_once(
    session: Session,
    *,
    key: str,
    person_id: int,
    send_at: datetime,
    now: datetime,
    body: str | None = None,
    reply: dict[str, Any] | None = None,
) -> bool:
    """A one-off message (a note's text, or a notice's reply) under a unique key; False if the key is
    taken."""
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)) is not None:
        return False
    session.add(
        OutboxMessage(
            key=key,
            person_id=person_id,
            send_at=send_at,
            status="pending",
            attempts=0,
            body=body,
            reply=reply,
            created_at=now,
        )
    )
    return True


class Claim(NamedTuple):
    """A message this worker now holds, and whether an earlier try may already have reached the platform."""

    id: int
    # An earlier try was cut off mid-send (below), or failed in a way that may have posted (a timeout, Slack's
    # 5xx): the platform may already show it.
    in_doubt: bool
    # An earlier try began handing it to the platform and recorded no outcome: the worker died (or hung past
    # its lease) mid-send. Only the messages being sent at that moment, not the rest of its claimed batch.
    interrupted: bool = False


def claim_due(
    session: Session,
    *,
    now: datetime,
    lease_until: datetime,
    limit: int,
    keys: Collection[str] | None = None,
    fresh_only: bool = False,
) -> list[Claim]:
    """Take up to `limit` due messages (only those with these keys, when given) under a lease until
    `lease_until`, soonest first; each claim bumps `attempts`, the fencing token of that try.

    Only the first of each person's or channel's messages is taken (see `_first_in_conversation`): the next
    is claimable once that one is sent or has failed for good, so each conversation gets its messages in the
    order they were queued, whichever worker or replica sends them.

    Nothing is taken while delivery is paused (`pause`: a platform's Retry-After has not passed yet).

    Every outcome of a try (sent, failed, retry, pause, handed back) clears the lease, so a lease still set
    on a claimable message is one that ran out. Of those, only the ones whose try had begun posting
    (`tried_at`, see begin_try) may be on the platform: with one that failed, they are in doubt; the rest of a
    dead worker's batch was never handed over and is simply sent. `fresh_only` leaves run-out leases alone (a
    worker that does not lead: its holder may be slow, not gone, and the leader, alone under its lock, takes
    them over).
    """
    lease_free = or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now)
    free = (OutboxMessage.status == "pending", lease_free)
    interrupted = OutboxMessage.tried_at.is_not(None)
    in_doubt = or_(interrupted, OutboxMessage.failures > 0)
    wanted = select(OutboxMessage.id, in_doubt, interrupted).where(
        *free, OutboxMessage.send_at <= now, _not_paused(now), *_first_in_conversation(now)
    )
    if fresh_only:
        wanted = wanted.where(OutboxMessage.lease_until.is_(None))
    if keys is not None:
        if not keys:
            return []
        wanted = wanted.where(OutboxMessage.key.in_(sorted(keys)))
    wanted = wanted.order_by(OutboxMessage.send_at, OutboxMessage.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        # Rows another worker is claiming right now are passed over, not waited for: two delivery workers
        # take two different batches at once instead of queueing behind each other's row locks. The locks
        # are held until this session commits, after the UPDATE below.
        wanted = wanted.with_for_update(skip_locked=True, of=OutboxMessage)
    found = session.execute(wanted).all()
    if not found:
        return []
    due = [message_id for message_id, _, _ in found]
    # Compare-and-set in one statement: of two workers racing for a row, exactly one sees its UPDATE take
    # effect (SQLite has one writer at a time; on PostgreSQL the rows are locked already), and RETURNING says
    # which. The rows are found by id and their status checked one by one: compared as `status || ''`, which
    # no index answers, because SQLite (no statistics) would otherwise walk every pending message by the
    # status index rather than look up `limit` ids (90 ms against 0.4 ms with 500,000 pending).
    still_free = (OutboxMessage.status.concat("") == "pending", lease_free)
    taken = set(
        session.scalars(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(due), *still_free)
            .values(lease_until=lease_until, attempts=OutboxMessage.attempts + 1)
            .returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)
        )
    )
    return [
        Claim(message_id, bool(doubt), bool(cut_off))
        for message_id, doubt, cut_off in found
        if message_id in taken
    ]


def _first_in_conversation(now: datetime) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """The claim's candidate is its conversation's first message still to go: no earlier one of the same
    person, or of the same channel, is still to go.

    Head-of-line order per conversation. A message counts from the moment it is due, and stays counted once
    it has been tried (`attempts`) until it is sent or fails for good: one that a 429 or the platform's
    trouble sent back to wait, or that another worker is sending right now, holds its conversation's later
    messages back, while other conversations go on. A message queued earlier for a later time (not yet due,
    never tried) holds nothing back.

    Asked of each candidate, not worked out for every conversation: the claim walks the due messages soonest
    first (ix_outbox_status_send_at_id) and stops at `limit`, and each candidate's question is one probe of
    ix_outbox_conversation (status, person_id, channel, id) that stops at the first earlier message it finds
    — so a claim costs the same with 1,000 messages pending as with 500,000 (bench/bench_outbox_depth.py).
    The walk passes over (one probe each) the due messages held back behind a first message that a retry
    moved later: as many as wait behind it, not the whole outbox.
    The candidate is counted itself (it is due), so "no earlier one counts" is exactly "it is the first that
    counts". A message goes to a person (channel NULL) or to a channel (person NULL), never both (every
    writer of the outbox: schedules.batching, queue_once, digests, the calendar, feedback): one of the two
    probes is the candidate's conversation, the other compares with NULL and finds nothing. Aliases: the
    enclosing claim reads the same table.
    """
    by_person, by_channel = _BY_PERSON, _BY_CHANNEL  # made once, below
    return (
        ~exists().where(
            by_person.status == "pending",
            by_person.person_id == OutboxMessage.person_id,
            by_person.channel.is_(None),
            by_person.id < OutboxMessage.id,
            or_(by_person.send_at <= now, by_person.attempts > 0),
        ),
        ~exists().where(
            by_channel.status == "pending",
            by_channel.person_id.is_(None),
            by_channel.channel == OutboxMessage.channel,
            by_channel.id < OutboxMessage.id,
            or_(by_channel.send_at <= now, by_channel.attempts > 0),
        ),
    )


# Made once: an alias copies every column of the table, a cost a claim need not pay each time.
_BY_PERSON: Final = aliased(OutboxMessage, name="by_person")
_BY_CHANNEL: Final = aliased(OutboxMessage, name="by_channel")


def messages_by_id(session: Session, message_ids: list[int]) -> dict[int, OutboxMessage]:
    return {
        message.id: message
        for chunk in chunks(message_ids)
        for message in session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(chunk)))
    }


def held(session: Session, message_id: int, *, attempt: int) -> OutboxMessage | None:
    """The message, if this attempt still holds it; None when its lease ran out and another worker has it
    now."""
    message = session.get(OutboxMessage, message_id)
    assert message is not None
    return message if message.attempts == attempt else None


def begin_try(session: Session | Connection, message_id: int, *, attempt: int, at: datetime) -> None:
    """This try is about to hand the message to the platform: committed before it does, so that a worker
    killed before the outcome is recorded leaves a mark on exactly the messages the platform may have taken
    (see Claim.interrupted). Every outcome below clears it. Its own commit, or the previous message's
    (schedules.delivery: when that one is marked sent and nothing but this post comes between)."""
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.attempts == attempt)
        .values(tried_at=at)
    )


def end_try(session: Session, message_id: int, *, attempt: int) -> None:
    """A try begun and then not made (edibot is stopping): the message was never handed over."""
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.attempts == attempt)
        .values(tried_at=None)
    )


def mark_sent(
    session: Session, message_id: int, *, attempt: int, at: datetime, platform_message_id: str
) -> None:
    """Sent, with the platform's id; only by the holder of this attempt's lease (a slow worker's ran out)."""
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.attempts == attempt)
        .values(
            status="sent",
            sent_at=at,
            platform_message_id=platform_message_id,
            lease_until=None,
            tried_at=None,
        )
    )


def mark_failed(session: Session, message_id: int, *, reason: str) -> None:
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(status="failed", last_error=reason, lease_until=None, tried_at=None)
    )


def postpone(session: Session, message_id: int, *, attempt: int, until: datetime, reason: str) -> None:
    """This try is handed back, to be made again at `until` (not a failure: the platform said wait)."""
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.attempts == attempt)
        .values(send_at=until, lease_until=None, last_error=reason, tried_at=None)
    )


def pause(session: Session, until: datetime) -> None:
    """No message is claimed before `until`, by any worker or replica: one row written, however many messages
    wait. The later of the pause already kept and this one wins, in one statement (an upsert that only moves
    it later), so of two workers' 429s the shorter never cuts the longer short."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    new = dialect.insert(_PAUSE).values(id=_PAUSE_ROW, until=until)  # the same upsert in both dialects
    wanted = new.excluded.until
    session.execute(
        new.on_conflict_do_update(
            index_elements=[_PAUSE.c.id], set_={"until": wanted}, where=_PAUSE.c.until < wanted
        )
    )


def paused_until(session: Session, *, now: datetime) -> datetime | None:
    """When delivery may go on, if it is paused at `now` (None: it is not)."""
    until = _pause_kept(session)
    return until if until is not None and until > now else None


def _pause_kept(session: Session) -> datetime | None:
    """The pause's end as kept (it may have passed): None before any platform asked for one."""
    return session.scalar(select(DeliveryPause.until).where(DeliveryPause.id == _PAUSE_ROW))


def _not_paused(now: datetime) -> ColumnElement[bool]:
    """No pause runs at `now`: the claim's condition (one primary-key probe of delivery_pause)."""
    return ~exists().where(_PAUSE.c.id == _PAUSE_ROW, _PAUSE.c.until > now)


def hand_back(session: Session, message_ids: list[int], *, lease_until: datetime) -> None:
    """Claimed but not tried: free again, if still under the lease that claimed them."""
    for chunk in chunks(message_ids):
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(chunk), OutboxMessage.lease_until == lease_until)
            .values(lease_until=None)
            .execution_options(synchronize_session=False)
        )


def backlog(session: Session, *, now: datetime) -> tuple[int, datetime | None]:
    """How many messages are pending, and when the oldest of those already due was due (None: none is).

    A pause counts: while it runs nothing is due, and a message it held became due when it ended (as if its
    send time had been moved to the pause's end), so a platform's "wait" is not read as delivery stalling.
    """
    pending = OutboxMessage.status == "pending"
    depth = session.scalar(select(func.count()).select_from(_OUTBOX).where(pending)) or 0
    until = _pause_kept(session)
    if until is not None and until > now:
        return depth, None
    oldest = session.scalar(
        select(func.min(OutboxMessage.send_at)).where(pending, OutboxMessage.send_at <= now)
    )
    if oldest is not None and until is not None:
        oldest = max(oldest, until)
    return depth, oldest


def reminders_since(session: Session, since: Mapping[int, datetime]) -> dict[int, int]:
    """How many reminder messages each of these people was queued since their moment in `since` (one query per
    500).

    Reminder messages are keyed "person:day:n"; notes and notices have keys of their own and are not counted.
    """
    counts: dict[int, int] = {}
    if not since:
        return counts
    earliest = min(since.values())
    for chunk in chunks(sorted(since)):
        rows = session.execute(
            select(OutboxMessage.person_id, OutboxMessage.key, OutboxMessage.created_at).where(
                OutboxMessage.person_id.in_(chunk), OutboxMessage.created_at >= earliest
            )
        )
        for person_id, key, created_at in rows:
            if person_id is not None and key.startswith(f"{person_id}:") and created_at >= since[person_id]:
                counts[person_id] = counts.get(person_id, 0) + 1
    return counts
