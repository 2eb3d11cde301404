"""The reminder scheduler beside Slack's serving: in a worker process of its own, started and stopped by the
server.

Planning reminders is Python work that holds the GIL. On threads of the serving process, the first sweep of a
100,000-action store starved the request threads: `/edi mine` at 50 in flight waited 4.4 s at p99, past the
3 s Slack gives an answer. In a process of its own the sweep has its own interpreter (and, on a machine with
two cores, its own core), and the server's threads only serve; where the cores are busy, the worker runs at a
lower priority (nice), so the server is given the CPU first.

On Linux the worker is forked from the server once the server has imported what both use and before it
starts any thread (`start_method`): it shares the server's imported modules page for page instead of
importing them again (issue 19: both processes together idle under 150 MB, counted as PSS), and no lock or
database connection is carried over, since the server then has no other thread and its pool has just been
emptied (`engine.dispose()`, as SQLAlchemy advises for fork). Elsewhere, or if a thread is running, it is
started with "spawn" (a fresh interpreter that imports what it needs). Either way it is given what it needs
by value: the settings, the database's URL, the clock `edibot run` chose (a clock stopped by --now stays
stopped there) and the zone, and opens its own database engine. It logs to the same stderr. It stops when
the server closes its end of a pipe that only the server holds: on a clean stop, and just as surely when the
server is killed (SIGKILL included), since the kernel closes that end with it, so no worker is left behind
sending reminders for a server that is gone. Ctrl-C in a terminal reaches both processes; the worker ignores
it and lets the server stop it in order (its round finished, its lead given up).

Notices a command causes still go out from the server (`notices_now`), straight after its answer: that is a
few messages, not a sweep, and needs no lead.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from multiprocessing.connection import Connection, wait
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.orm import configure_mappers

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
PROCESS_NAME = "edibot-scheduler"


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
    method = start_method()
    process: multiprocessing.process.BaseProcess
    if method == "fork":
        forking = multiprocessing.get_context("fork")
        theirs, ours = forking.Pipe(duplex=False)  # the worker reads; only this process can write, or close
        # No connection of the server's pool may be shared with the child: emptied here, reopened on demand.
        database.engine.dispose()
        configure_mappers()  # done once here, where both processes share it, not in each after the fork
        # What the server holds now is frozen out of the garbage collector's reach, so that neither process's
        # collections write into (and so copy) the pages the two share.
        gc.collect()
        gc.freeze()
        process = forking.Process(target=_forked, args=(schedule, theirs, ours, database), name=PROCESS_NAME)
    else:
        spawn = multiprocessing.get_context("spawn")
        theirs, ours = spawn.Pipe(duplex=False)
        process = spawn.Process(target=work, args=(schedule, theirs), name=PROCESS_NAME)
    process.start()
    theirs.close()
    log.info("the reminder scheduler runs in worker process %d (%s)", process.pid, method)
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


def start_method() -> Literal["fork", "spawn"]:
    """'fork' where it is safe and shares memory: on Linux, in a process with no thread but this one (a thread
    holding a lock at the fork would leave that lock held for ever in the child); else 'spawn'."""
    if sys.platform == "linux" and threading.active_count() == 1:
        return "fork"
    return "spawn"


def _forked(schedule: Schedule, stop: Connection, ours: Connection, server: Database) -> None:
    """The worker, forked: the server's end of the pipe closed here too (else the worker would hold it open
    and never see the server go), and the server's engine dropped unused, as SQLAlchemy advises. What the
    server froze stays frozen here (gc.freeze): the collector scans only what the worker makes."""
    ours.close()
    server.engine.dispose(close=False)
    work(schedule, stop)


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
