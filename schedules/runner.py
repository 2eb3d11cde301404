"""`edibot run`: APScheduler drives the nudge sweep, the weekly digests and the delivery worker, led by one
process at a time."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.exc import InterfaceError, OperationalError

from schedules import metrics
from schedules.delivery import LEASE, DeliveryReport, deliver
from schedules.digests import queue_digests
from schedules.feedback import forget_old_feedback, release_feedback
from schedules.leader import Leader, exclusive
from schedules.planning import SweepReport, sweep
from schedules.sending import Sender
from storage.db import Database, DatabaseGone
from storage.rules.calendar import WEEKLY_CAP
from storage.rules.clock import Clock

log = logging.getLogger(__name__)

BATCH = 50  # messages a delivery claims at a time (deliver's limit)


class NudgeRound:
    """One round of work: lead or stand by; if leading, sweep then deliver. A failed round is retried next
    time."""

    def __init__(
        self,
        database: Database,
        *,
        clock: Clock,
        zone: ZoneInfo,
        send: Sender,
        daily_cap: int = 1,
        weekly_cap: int = WEEKLY_CAP,
        every: timedelta = timedelta(seconds=60),
        speed: float = 1.0,
        keep_delivering: bool = False,
    ) -> None:
        self.database = database
        self.clock = clock
        self.zone = zone
        self.send = send
        self.daily_cap = daily_cap
        self.weekly_cap = weekly_cap
        # Leases are counted by the clock: one `speed` times faster than the wall's (a rehearsal) stretches
        # them as much, so they last as long in real time. The lead lasts two rounds (two minutes at the
        # default `every`), so a leader that renews it each round keeps it, and one that died is replaced
        # within two rounds; a round that outlasts it is still alone, under the advisory lock (`exclusive`).
        self.leader = Leader(database, lease=2 * every * speed)
        self.lease = LEASE * speed
        # edibot's rounds (`edibot run`) keep delivering while a backlog lasts; a round called by hand
        # delivers one batch.
        self.keep_delivering = keep_delivering
        self.longest_wait = (
            every / 2
        )  # a platform's wait longer than this (as the clock counts) ends the round
        # Set when edibot is told to stop (SIGTERM, Ctrl-C): no new claims, and claimed messages not yet tried
        # are handed back.
        self.stopping = threading.Event()

    def __call__(self) -> tuple[SweepReport, DeliveryReport] | None:
        """One round; None when another process leads or the database can't be reached (the next round
        retries).

        A process that does not lead still delivers: every replica's worker claims due messages (each one
        claimed by one worker only), so delivery grows with the replicas while the sweep stays single.
        Messages whose lease ran out are left to the leader.
        """
        if self.stopping.is_set():
            return None
        try:
            return self._round()
        except (OperationalError, InterfaceError) as error:
            # Each step commits on its own and is keyed, so a round cut short is finished by a later one:
            # nothing planned twice, nothing skipped (the sweep catches up on whatever day it missed).
            log.warning("database unavailable, waiting for the next round: %s", error.orig or error)
            return None
        except DatabaseGone as error:
            # Not a passing outage: only the operator can put the file back, so every round says so loudly.
            log.error("no reminders this round: %s", error)
            return None

    def step_down(self) -> None:
        """Gives up the lead so the next `edibot run` (or a replica) may lead at once; a lost database is
        logged."""
        try:
            self.leader.release()
        except (OperationalError, InterfaceError, DatabaseGone) as error:
            log.warning("could not give up the scheduler lead (it runs out by itself): %s", error)

    def deliver_now(self, keys: Collection[str]) -> DeliveryReport | None:
        """Sends these messages now (notices just queued), between rounds; None if the database can't be
        reached.

        Safe beside a round, here or in another replica: each message is claimed under a lease, paced and
        retried as every other; whatever can't go now is left to the rounds.
        """
        try:
            delivered = deliver(
                self.database,
                now=self.clock.now(),
                zone=self.zone,
                send=self.send,
                clock=self.clock.now,
                keys=keys,
                lease=self.lease,
                stopping=self.stopping.is_set,
            )
        except (OperationalError, InterfaceError) as error:
            log.warning("database unavailable, notices wait for the next round: %s", error.orig or error)
            return None
        except DatabaseGone as error:
            log.error("notices not sent: %s", error)
            return None
        _count(delivered)
        return delivered

    def _round(self) -> tuple[SweepReport, DeliveryReport] | None:
        self.database.check()
        now = self.clock.now()
        if not self.leader.acquire(now):
            self._deliver_only(now)
            return None
        with exclusive(self.database) as ours:
            if not ours:
                self._deliver_only(now)
                return None
            started = time.monotonic()
            swept = sweep(
                self.database, now=now, zone=self.zone, daily_cap=self.daily_cap, weekly_cap=self.weekly_cap
            )
            metrics.sweep_took(time.monotonic() - started)
            metrics.nudges(queued=swept.messages_queued)
            queue_digests(self.database, now=now, zone=self.zone)  # each channel's weekly digest, once
            release_feedback(self.database, now=now, zone=self.zone)  # anonymous feedback, in batches
            forget_old_feedback(self.database, now=now, zone=self.zone)
            delivered = self._deliver(now)
        if swept.nudges_planned or delivered.sent or delivered.failed:
            log.info(
                "nudges: %d planned, %d messages queued, %d sent, %d retried, %d failed",
                swept.nudges_planned,
                swept.messages_queued,
                delivered.sent,
                delivered.retried,
                len(delivered.failed),
            )
        return swept, delivered

    def _deliver(self, now: datetime, *, fresh_only: bool = False) -> DeliveryReport:
        """Delivers what is due; with `keep_delivering`, batch after batch while more is due, and after a
        short "wait" from the platform (a 429's Retry-After) once it has passed, rather than at the next
        round: so a backlog leaves at the rate the platform allows, not at one batch a round."""
        total = DeliveryReport()
        while True:
            delivered = deliver(
                self.database,
                now=now,
                zone=self.zone,
                send=self.send,
                clock=self.clock.now,
                lease=self.lease,
                limit=BATCH,
                stopping=self.stopping.is_set,
                fresh_only=fresh_only,
            )
            _count(delivered)
            total.sent += delivered.sent
            total.retried += delivered.retried
            total.failed += delivered.failed
            total.adopted += delivered.adopted
            total.paused_until = delivered.paused_until or total.paused_until
            if not self.keep_delivering or self.stopping.is_set():
                return total
            if delivered.paused_until is not None:
                wait = (delivered.paused_until - self.clock.now()).total_seconds()
                if wait > self.longest_wait.total_seconds() or self.stopping.wait(max(wait, 0.0)):
                    return total  # a long wait is the next rounds' to keep; or edibot is stopping
            elif delivered.sent + delivered.retried + len(delivered.failed) < BATCH:
                return total  # nothing more was due
            now = self.clock.now()

    def _deliver_only(self, now: datetime) -> None:
        """Another process leads (sweeps): this one helps deliver what is due — messages nobody has tried
        yet, or whose try ended; one whose lease ran out is the leader's to take over (its holder may be
        slow rather than gone, and the leader works alone under the advisory lock)."""
        delivered = self._deliver(now, fresh_only=True)
        if delivered.sent or delivered.failed:
            log.info(
                "delivery: %d sent, %d retried, %d failed",
                delivered.sent,
                delivered.retried,
                len(delivered.failed),
            )


def _count(delivered: DeliveryReport) -> None:
    metrics.nudges(sent=delivered.sent, failed=len(delivered.failed), retried=delivered.retried)


def outbox_now(
    database: Database, *, clock: Clock, zone: ZoneInfo
) -> Callable[[Collection[str], Sender], DeliveryReport]:
    """Delivers named outbox messages now, through a sender the caller gives: how the console shows the
    notices a line just caused, as they leave the outbox."""

    def deliver_these(keys: Collection[str], send: Sender) -> DeliveryReport:
        return deliver(database, now=clock.now(), zone=zone, send=send, clock=clock.now, keys=keys)

    return deliver_these


def schedule_rounds(scheduler: BaseScheduler, round_: NudgeRound, *, every: timedelta) -> None:
    """A round now and every `every` after; never two at once, and missed runs (a long round) run once."""
    scheduler.add_job(
        round_,
        IntervalTrigger(seconds=every.total_seconds()),
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now(round_.zone),
        id="nudges",
    )


def run_forever(round_: NudgeRound, *, every: timedelta) -> None:
    """Blocks, running a round every `every`; Ctrl-C stops it and gives up the lead."""
    scheduler = BlockingScheduler(timezone=round_.zone)
    schedule_rounds(scheduler, round_, every=every)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        round_.step_down()
