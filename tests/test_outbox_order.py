"""Each person and each channel gets its messages in the order they were queued, however deep the backlog:
a message waits for the earlier ones of its own conversation only, never for anyone else's.

These stories pin the outbox claim's rule (storage.outbox.claim_due) as delivery lives it: a backlog of
notes queued for three people and two channels, sent by schedules.delivery.deliver to the stand-in platform
of tests/nudging.py, which records what each one received.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.console import FakeClock
from schedules.delivery import deliver
from schedules.sending import RateLimited, RetryLater
from storage import outbox
from storage.db import Database
from storage.models import OutboxMessage, Person
from tests.nudging import LONDON, Platform, at

pytestmark = pytest.mark.db

MORNING = at("2025-11-03T09:00")
PEOPLE = ("Amina Khan", "Tom Okafor", "Grace Liu")
CHANNELS = ("#edi-leads", "#staff-network")


class Backlog:
    """Three people and two channels, notes queued for them, and the platform that receives them."""

    def __init__(self, store: Database) -> None:
        self.store = store
        self.clock = FakeClock(MORNING)
        self.platform = Platform(self.clock)
        with store.session() as session:
            people = [Person(name=name, key=name.lower(), created_at=MORNING) for name in PEOPLE]
            session.add_all(people)
            session.flush()
            self.ids = {person.name: person.id for person in people}
        self.queued: dict[str, list[str]] = {name: [] for name in (*PEOPLE, *CHANNELS)}

    def queue(self, to: str, text: str, *, send_at: datetime = MORNING) -> None:
        """A note for a person or a channel (by name), due at `send_at`."""
        recipient = (
            {"person_id": None, "channel": to.removeprefix("#")}
            if to.startswith("#")
            else {"person_id": self.ids[to], "channel": None}
        )
        with self.store.session() as session:
            outbox.queue_messages(
                session,
                [
                    {
                        "key": f"note:{text}",
                        "send_at": send_at,
                        "body": text,
                        "created_at": MORNING,
                        **recipient,
                    }
                ],
            )
        self.queued[to].append(text)

    def deliver(self, *, at: datetime, limit: int = 50) -> int:
        self.clock.set(at)
        return deliver(self.store, now=at, zone=LONDON, send=self.platform, limit=limit).sent

    def received(self, name: str) -> list[str]:
        return [message.text for message in self.platform.received if message.to == name]


@pytest.fixture
def backlog(store: Database) -> Backlog:
    return Backlog(store)


def test_a_deep_backlog_reaches_everyone_in_the_order_it_was_queued(backlog: Backlog) -> None:
    for number in range(40):  # conversation after conversation, as the sweeps queue them
        for to in (*PEOPLE, *CHANNELS):
            backlog.queue(to, f"{to} note {number}")

    rounds = 0
    while backlog.deliver(at=MORNING + timedelta(minutes=rounds), limit=7):
        rounds += 1

    for to in (*PEOPLE, *CHANNELS):
        assert backlog.received(to) == backlog.queued[to], to
    assert rounds == 200 // 7 + 1  # seven a round, the first of each conversation each time


def test_a_message_sent_back_to_wait_holds_back_its_conversation_only(backlog: Backlog) -> None:
    for number in range(3):
        for to in ("Amina Khan", "Tom Okafor", "#edi-leads"):
            backlog.queue(to, f"{to} note {number}")
    backlog.platform.fail("Amina Khan", RetryLater(60, "Slack is having trouble"))

    backlog.deliver(at=MORNING)

    assert backlog.received("Amina Khan") == []  # her first note waits a minute, and her others behind it
    assert backlog.received("Tom Okafor") == backlog.queued["Tom Okafor"]
    assert backlog.received("#edi-leads") == backlog.queued["#edi-leads"]

    backlog.deliver(at=MORNING + timedelta(minutes=5))

    assert backlog.received("Amina Khan") == backlog.queued["Amina Khan"]


def test_a_message_queued_for_later_holds_back_nothing_due_before_it(backlog: Backlog) -> None:
    backlog.queue("Grace Liu", "tomorrow's note", send_at=MORNING + timedelta(days=1))
    backlog.queue("Grace Liu", "today's note")

    backlog.deliver(at=MORNING)
    assert backlog.received("Grace Liu") == ["today's note"]

    backlog.deliver(at=MORNING + timedelta(days=1))
    assert backlog.received("Grace Liu") == ["today's note", "tomorrow's note"]


def test_while_one_worker_sends_a_conversations_first_message_another_sends_only_other_conversations(
    backlog: Backlog, store: Database
) -> None:
    for to in ("Amina Khan", "#edi-leads"):
        backlog.queue(to, f"{to} first")
        backlog.queue(to, f"{to} second")
    with store.session() as session:  # the other worker holds Amina's first note, and is sending it now
        first = session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == "note:Amina Khan first"))
        held = outbox.claim_due(
            session,
            now=MORNING,
            lease_until=MORNING + timedelta(minutes=2),
            limit=1,
            keys=["note:Amina Khan first"],
        )
    assert [claim.id for claim in held] == [first]

    backlog.deliver(at=MORNING)

    assert backlog.received("Amina Khan") == []  # her second note does not overtake the first
    assert backlog.received("#edi-leads") == ["#edi-leads first", "#edi-leads second"]


def test_a_429_in_a_deep_backlog_pauses_everyone_until_its_retry_after_and_they_resume_in_order(
    backlog: Backlog, store: Database
) -> None:
    everyone = (*PEOPLE, *CHANNELS)
    for number in range(40):
        for to in everyone:
            backlog.queue(to, f"{to} note {number}")
    backlog.platform.fail("Tom Okafor", RateLimited(30, "Slack: ratelimited"))

    backlog.deliver(at=MORNING)  # Amina's first note goes, then Slack tells us to wait 30 s at Tom's

    assert [message.to for message in backlog.platform.received] == ["Amina Khan"]
    with store.session() as session:
        assert outbox.backlog(session, now=MORNING + timedelta(seconds=1)) == (
            199,
            None,
        )  # not stalled: waiting
    # Another worker's 429 with a shorter Retry-After (5 s) comes in: it does not cut the 30 s wait short.
    with store.session() as session:
        outbox.pause(session, MORNING + timedelta(seconds=5))
    backlog.queue("Grace Liu", "a notice sent straight away")
    notice = ["note:a notice sent straight away"]
    assert (
        deliver(
            store, now=MORNING + timedelta(seconds=1), zone=LONDON, send=backlog.platform, keys=notice
        ).sent
        == 0
    )
    for seconds in (6, 29):
        assert backlog.deliver(at=MORNING + timedelta(seconds=seconds)) == 0  # nobody, not only Tom

    assert len(backlog.platform.received) == 1
    with store.session() as session:  # due since the wait ended, as far as the backlog's age goes
        assert outbox.backlog(session, now=MORNING + timedelta(minutes=1))[1] == MORNING + timedelta(
            seconds=30
        )
    rounds = 0
    while backlog.deliver(at=MORNING + timedelta(seconds=30 + rounds), limit=25):
        rounds += 1
    for to in everyone:
        assert backlog.received(to) == backlog.queued[to], to
    assert min(message.at for message in backlog.platform.received[1:]) == MORNING + timedelta(seconds=30)
