"""The reminder scheduler beside Slack's serving: in a worker process of its own, started and stopped by the
server.

Planning reminders is Python work that holds the GIL. On threads of the serving process, the first sweep of a
100,000-action store starved the request threads: `/edi mine` at 50 in flight waited 4.4 s at p99, past the
3 s Slack gives an answer. In a process of its own the sweep has its own interpreter (and, on a machine with
two cores, its own core), and the server's threads only serve; where the cores are busy, the worker runs at a
lower priority (nice), so the server is given the CPU first.

The worker is started with multiprocessing's "spawn" (a fresh interpreter: no threads, locks or database
connections copied from the server) and is given what it needs by value: the settings, the database's URL,
the clock `edibot run` chose (a clock stopped by --now stays stopped there) and the zone. It logs to the same
stderr. It stops when the server closes its end of a pipe that only the server holds: on a clean stop, and
just as surely when the server is killed (SIGKILL included), since the kernel closes that end with it, so no
worker is left behind sending reminders for a server that is gone. Ctrl-C in a terminal reaches both
processes; the worker ignores it and lets the server stop it in order (its round finished, its lead given up).

Notices a command causes still go out from the server (`notices_now`), straight after its answer: that is a
few messages, not a sweep, and needs no lead.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from multiprocessing.connection import Connection, wait
from typing import Protocol
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.config import Settings
from bot.logs import configure_from
from bot.slack.app import workspaces
from bot.slack.people import match_people
from bot.slack.sender import SlackSender
from bot.slack.workspaces import Workspaces
from schedules import metrics
from schedules.runner import NudgeRound, schedule_rounds
from schedules.sending import Sender, Switchboard
from storage.db import Database, DatabaseGone, DatabaseMissing
from storage.rules.clock import Clock

log = logging.getLogger(__name__)

PEOPLE_EVERY = timedelta(hours=6)
# The worker yields the CPU to the server: an answer is waited for, a reminder can be a moment late.
NICENESS = 10
# On a stop, the round under way hands back its claims and ends after the message being sent; a sweep under
# way is let run this long (each of its steps commits on its own, so cutting it is safe too): within the 10 s
# a container is given between SIGTERM and SIGKILL, with the server's own few seconds.
STOP_SECONDS = 5.0


class SenderMaker(Protocol):
    """How another platform's Sender is made where the rounds run (a module-level function: the worker
    process is given it by name)."""

    def __call__(self, database: Database, /, *, settings: Settings, clock: Clock) -> Sender: ...


@dataclass(frozen=True)
class Schedule:
    """What the scheduler needs, by value, so that a worker process can be given it."""

    settings: Settings
    database_url: str
    clock: Clock
    zone: ZoneInfo
    every: timedelta
    # Other platforms served beside Slack (`--teams`: {"teams": …}): their people are reminded there too.
    others: Mapping[str, SenderMaker] = field(default_factory=dict)


def schedule_for(
    database: Database,
    *,
    settings: Settings,
    clock: Clock,
    zone: ZoneInfo,
    every: timedelta,
    others: Mapping[str, SenderMaker] | None = None,
) -> Schedule:
    url = database.engine.url.render_as_string(hide_password=False)
    return Schedule(
        settings=settings, database_url=url, clock=clock, zone=zone, every=every, others=dict(others or {})
    )


def nudge_round(database: Database, schedule: Schedule, reach: Workspaces) -> NudgeRound:
    send: Sender = SlackSender(clients=reach.client_for, team_clients=reach.client_for_team)
    if schedule.others:
        made = {
            name: make(database, settings=schedule.settings, clock=schedule.clock)
            for name, make in schedule.others.items()
        }
        send = Switchboard({"slack": send, **made})
    return NudgeRound(
        database,
        clock=schedule.clock,
        zone=schedule.zone,
        send=send,
        daily_cap=schedule.settings.daily_nudge_cap,
        weekly_cap=schedule.settings.weekly_nudge_cap,
        every=schedule.every,
        speed=getattr(schedule.clock, "speed", 1.0),
        keep_delivering=True,
    )


def notices_now(database: Database, schedule: Schedule) -> NudgeRound:
    """A round whose `deliver_now` sends the notices a command just queued, from the serving process."""
    return nudge_round(database, schedule, workspaces(database, schedule.settings))


@contextmanager
def scheduling(database: Database, schedule: Schedule, *, worker: bool = True) -> Iterator[None]:
    """The reminder rounds and people matching run while the block runs: in a worker process, or (`worker`
    False) on threads of this process, as before the worker (kept to measure the difference)."""
    if not worker:
        scheduler, round_ = _scheduler(database, schedule)
        scheduler.start()
        try:
            yield
        finally:
            stop_rounds(scheduler, round_)
        return
    spawn = multiprocessing.get_context("spawn")
    theirs, ours = spawn.Pipe(duplex=False)  # the worker reads; only this process can write, or close
    process = spawn.Process(target=work, args=(schedule, theirs), name="edibot-scheduler")
    process.start()
    theirs.close()
    log.info("the reminder scheduler runs in worker process %d", process.pid)
    try:
        yield
    finally:
        ours.close()
        process.join(STOP_SECONDS)
        if process.is_alive():
            # Cut short mid-sweep, nothing is lost: each step commits on its own and is keyed.
            log.warning("the scheduler's worker did not stop within %.0f s; ending it", STOP_SECONDS)
            process.kill()
            process.join()


def work(schedule: Schedule, stop: Connection) -> None:
    """The worker process: rounds on a schedule until the server closes its end of `stop` (or is gone)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server stops us in order after Ctrl-C
    # SIGTERM sent to the whole group (systemd, `kill -- -PGID`): stop as the server would have us stop.
    signal.signal(signal.SIGTERM, _stop_waiting)
    os.nice(NICENESS)
    configure_from(schedule.settings)
    metrics.enable()  # counted in files the server's /metrics adds up (PROMETHEUS_MULTIPROC_DIR, inherited)
    try:
        database = Database.open(schedule.database_url, migrate=False, create="never")
    except (DatabaseMissing, DatabaseGone) as error:
        # Gone between the server's start and ours: the server refuses too, and only the operator can mend it,
        # so every round says so (as a round does when the file goes later), and nothing is opened in its
        # place.
        while True:
            log.error("no reminders this round: %s", error)
            if wait([stop], timeout=schedule.every.total_seconds()):
                return
    if stop.poll():  # told to stop while starting (a fresh interpreter takes seconds): nothing begun yet
        database.dispose()
        return
    scheduler, round_ = _scheduler(database, schedule)
    log.info("scheduler worker %d (of server %d) starts its rounds", os.getpid(), os.getppid())
    scheduler.start()
    try:
        wait([stop])  # readable once the server has closed it: asked to stop, or the server is gone
    except _Stop:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # stopping already
        stop_rounds(scheduler, round_)
        database.dispose()
    # Stopped in order; the interpreter's teardown would only free memory, slowly on a busy machine, while
    # the server waits for this process within the 10 s a container is given to stop.
    logging.shutdown()
    os._exit(0)


class _Stop(Exception):
    pass


def _stop_waiting(_signal: int, _frame: object) -> None:
    raise _Stop


def stop_rounds(scheduler: BackgroundScheduler, round_: NudgeRound) -> None:
    """No new round; the one under way hands back what it claimed and has not sent, and ends; the lead is
    given up, so another replica may lead at once."""
    round_.stopping.set()
    scheduler.shutdown(wait=True)
    round_.step_down()


def _scheduler(database: Database, schedule: Schedule) -> tuple[BackgroundScheduler, NudgeRound]:
    scheduler = BackgroundScheduler(timezone=schedule.zone)
    reach = workspaces(database, schedule.settings)
    round_ = nudge_round(database, schedule, reach)
    schedule_rounds(scheduler, round_, every=schedule.every)
    scheduler.add_job(
        lambda: _match(database, reach),
        IntervalTrigger(seconds=PEOPLE_EVERY.total_seconds()),
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now(schedule.zone),
        id="slack-people",
    )
    return scheduler, round_


def _match(database: Database, reach: Workspaces) -> None:
    report = match_people(database, reach)
    if report.matched or report.not_found or report.stopped:
        log.info(
            "Slack people: %d matched, %d not found%s",
            len(report.matched),
            len(report.not_found),
            f"; {report.stopped}" if report.stopped else "",
        )
