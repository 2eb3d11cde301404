"""`edibot run`: APScheduler drives the nudge sweep, the weekly digests and the delivery worker, led by one
process at a time."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.exc import InterfaceError, OperationalError

from schedules.delivery import DeliveryReport, deliver
from schedules.digests import queue_digests
from schedules.feedback import forget_old_feedback, release_feedback
from schedules.leader import Leader, exclusive
from schedules.planning import SweepReport, sweep
from schedules.sending import Sender
from storage.db import Database, DatabaseGone
from storage.rules.calendar import WEEKLY_CAP
from storage.rules.clock import Clock

log = logging.getLogger(__name__)


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
    ) -> None:
        self.database = database
        self.clock = clock
        self.zone = zone
        self.send = send
        self.daily_cap = daily_cap
        self.weekly_cap = weekly_cap
        self.leader = Leader(database)

    def __call__(self) -> tuple[SweepReport, DeliveryReport] | None:
        """One round; None when another process leads or the database can't be reached (the next round
        retries)."""
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
            return deliver(
                self.database,
                now=self.clock.now(),
                zone=self.zone,
                send=self.send,
                clock=self.clock.now,
                keys=keys,
            )
        except (OperationalError, InterfaceError) as error:
            log.warning("database unavailable, notices wait for the next round: %s", error.orig or error)
            return None
        except DatabaseGone as error:
            log.error("notices not sent: %s", error)
            return None

    def _round(self) -> tuple[SweepReport, DeliveryReport] | None:
        self.database.check()
        now = self.clock.now()
        if not self.leader.acquire(now):
            return None
        with exclusive(self.database) as ours:
            if not ours:
                return None
            swept = sweep(
                self.database, now=now, zone=self.zone, daily_cap=self.daily_cap, weekly_cap=self.weekly_cap
            )
            queue_digests(self.database, now=now, zone=self.zone)  # each channel's weekly digest, once
            release_feedback(self.database, now=now, zone=self.zone)  # anonymous feedback, in batches
            forget_old_feedback(self.database, now=now, zone=self.zone)
            delivered = deliver(self.database, now=now, zone=self.zone, send=self.send, clock=self.clock.now)
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
