"""Several edibots on one PostgreSQL database, as separate processes: replicas that start together migrate
once, two replicas through a rehearsed day elect one scheduler, send every message once, and carry on when
the leader is killed, and two replicas race through a rehearsed month of reminders, digests and calendar
posts with one leader at a time, the leader killed mid-month, and every message sent once.

PostgreSQL only: replicas share a database server (SQLite is one machine's file, for one edibot).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import make_url, select, text

from bot.console import FakeClock
from bot.slack.manifest import bot_scopes
from bot.slack.sender import OUTBOX_EVENT
from schedules.leader import ADVISORY_KEY
from storage.db import Database, make_engine
from storage.models import Leadership, OutboxMessage, Person, Plan
from tests.edibot_process import (
    EDIBOT,
    get,
    killed_if_running,
    slack_environment,
    start_edibot,
    terminated,
)
from tests.nudging import NudgeWorld, Row, Someone, channel_following, day_of_our_own, outbox
from tests.slack_standin import SlackStandIn
from tests.slack_workspace import _free_port

LONDON = ZoneInfo("Europe/London")
MONDAY_EARLY = datetime(2025, 11, 3, 7, 0, tzinfo=LONDON)
SPEED = 2880.0  # the rehearsal's clock: a simulated hour in 1.25 s, a day in 30 s
STARTING = 45.0  # real seconds the replicas are given to start (a busy machine is slow) before Monday 07:00

postgres_only = pytest.mark.skipif(
    not os.environ.get("EDIBOT_TEST_DATABASE_URL"),
    reason="replicas share a PostgreSQL server; SQLite is one edibot's file (set EDIBOT_TEST_DATABASE_URL)",
)


@postgres_only
def test_replicas_started_together_on_an_empty_database_migrate_it_once_and_all_start(
    database_url: str, tmp_path: Path
) -> None:
    schema = "replicas_starting"
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    url = make_url(database_url).update_query_dict({"options": f"-csearch_path={schema}"})
    env = {**os.environ, "EDIBOT_DATABASE_URL": url.render_as_string(hide_password=False)}
    try:
        starting = [
            subprocess.Popen(
                [EDIBOT, "plans"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            for _ in range(4)
        ]
        finished = [process.communicate(timeout=120) for process in starting]
        with engine.connect() as connection:
            versions = connection.scalars(text(f"SELECT version_num FROM {schema}.alembic_version")).all()
    finally:
        with engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        engine.dispose()

    assert [process.returncode for process in starting] == [0, 0, 0, 0], [err for _, err in finished]
    assert len(versions) == 1  # one schema, at one head


@postgres_only
def test_two_replicas_through_a_day_elect_one_scheduler_send_each_message_once_and_survive_the_leader(
    store: Database, database_url: str, tmp_path: Path
) -> None:
    with SlackStandIn(scopes=set(bot_scopes())) as api:
        a_day_of_reminders(store, api)
        anchor = time.time() + STARTING
        replicas = [replica(api, database_url, tmp_path / f"replica-{n}.log", anchor=anchor) for n in (1, 2)]
        holders: list[str] = []
        watching = threading.Event()
        watcher = threading.Thread(target=watch_the_lead, args=(store, holders, watching), daemon=True)
        try:
            for _, port in replicas:
                get(port, "/healthz", wait=90)
            watcher.start()
            # Monday: the overdue actions' reminders, from whichever replicas claim them.
            waited(lambda: sent(store) >= 50 and unsent(store) == 0, "Monday's reminders sent", seconds=120)
            watching.set()
            watcher.join()
            leader_pid = int(holders[-1].split("-")[0])
            [(leader, _)] = [(p, port) for p, port in replicas if os.getpgid(leader_pid) == p.pid]
            [(survivor, _)] = [(p, port) for p, port in replicas if p is not leader]
            os.killpg(leader.pid, signal.SIGKILL)  # the leading replica and its worker, without a word
            leader.wait(timeout=20)
            # Its lease runs out (two rounds) and the survivor leads: the sweep goes on.
            waited(lambda: lead_holder(store) != holders[-1], "the survivor taking the lead", seconds=60)
            new_holder = lead_holder(store)
            assert new_holder is not None
            new_leader_group = os.getpgid(int(new_holder.split("-")[0]))
            # Tuesday: the deadline-day reminders, planned by the new leader's sweep.
            waited(lambda: tuesdays(store) and unsent(store) == 0, "Tuesday's reminders sent", seconds=150)
            stopped_in = terminated(survivor)
        finally:
            watching.set()
            killed_if_running(process for process, _ in replicas)
        keys = api.keys_posted(OUTBOX_EVENT)

    rows = outbox(store)
    assert len(set(holders)) == 1, f"the lead changed hands while both ran: {holders}"
    assert new_leader_group == survivor.pid  # the survivor's worker took the lead over
    assert {row.status for row in rows} == {"sent"}
    assert len(rows) >= 50
    assert keys == {row.key: 1 for row in rows}  # every outbox row posted exactly once, counted at Slack
    days = {row.sent_at.astimezone(LONDON).date() for row in rows if row.sent_at is not None}
    assert days == {MONDAY_EARLY.date(), MONDAY_EARLY.date() + timedelta(days=1)}  # sent on both days
    assert stopped_in < 10


# -- the world -----------------------------------------------------------------------------------------------


def a_day_of_reminders(store: Database, api: SlackStandIn) -> None:
    """Fifty people on Slack: thirty with an action overdue on Monday morning, twenty with one due on Tuesday
    (reminded on Monday that it is coming, and on Tuesday that it is due)."""
    world = NudgeWorld(store, FakeClock(MONDAY_EARLY))
    try:
        world.people(
            *[
                Someone(f"Person {n}", f"Role {n}", slack_id=api.add_user(f"Person {n}").id)
                for n in range(1, 51)
            ]
        )
        world.plan(
            [Row(f"Action {n}", f"Role {n}", "31/10/25", "R") for n in range(1, 31)]
            + [Row(f"Action {n}", f"Role {n}", "04/11/25", "A") for n in range(31, 51)],
            imported=MONDAY_EARLY - timedelta(days=33),
        )
    finally:
        world.close()


def replica(
    api: SlackStandIn,
    database_url: str,
    log: Path,
    *,
    anchor: float,
    now: datetime = MONDAY_EARLY,
    speed: float = SPEED,
    every: int = 5,
) -> tuple[subprocess.Popen[str], int]:
    """`edibot run --slack-http` on a rehearsal clock all replicas share (one start, anchor and speed), a
    round every `every` real seconds."""
    port = _free_port()
    env = slack_environment(api, EDIBOT_DATABASE_URL=database_url, EDIBOT_LOG_LEVEL="INFO")
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    arguments = [
        "--now",
        now.isoformat(),
        "run",
        "--slack-http",
        "--port",
        str(port),
        "--every",
        str(every),
        "--speed",
        str(speed),
        "--speed-from",
        str(anchor),
    ]
    with log.open("w") as written:
        return start_edibot(env, arguments, log=written), port


def watch_the_lead(store: Database, holders: list[str], done: threading.Event) -> None:
    """Every lease holder seen, in turn, until `done`."""
    while not done.is_set():
        holder = lead_holder(store)
        if holder is not None and (not holders or holders[-1] != holder):
            holders.append(holder)
        time.sleep(0.2)


def lead_holder(store: Database) -> str | None:
    with store.session() as session:
        return session.scalar(select(Leadership.holder).where(Leadership.name == "scheduler"))


def sent(store: Database) -> int:
    return sum(row.status == "sent" for row in outbox(store))


def tuesdays(store: Database) -> int:
    """Messages queued on Tuesday (rehearsal time), after the leader was killed on Monday."""
    tuesday = MONDAY_EARLY.date() + timedelta(days=1)
    return sum(row.created_at.astimezone(LONDON).date() == tuesday for row in outbox(store))


def unsent(store: Database, *, before: datetime | None = None) -> int:
    """Messages not sent yet (of those queued before `before`, when given)."""
    return sum(
        row.status == "pending" and (before is None or row.created_at < before) for row in outbox(store)
    )


def waited(condition: object, what: str, *, seconds: float) -> None:
    assert callable(condition)
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not within {seconds:g} s: {what}"
        time.sleep(0.2)


# -- a month -------------------------------------------------------------------------------------------------

MONTH_STARTS = datetime(2025, 11, 3, 7, 0, tzinfo=LONDON)  # a Monday
MONTH_ENDS = datetime(2025, 12, 2, 7, 0, tzinfo=LONDON)  # after Monday 1 December's digests and reminders
MONTH_SPEED = 72000.0  # a simulated day in 1.2 s; a round every real second is every 20 simulated hours
MONTH_STARTING = 45.0  # real seconds the replicas are given to start (a loaded machine is slow)
KILLED_ON = datetime(2025, 11, 16, 12, 0, tzinfo=LONDON)  # mid-month, the day before the third digests
TAKEOVER = 10.0  # real seconds the survivor may take to lead once the leader is gone
OBSERVANCES = {"staff-networks-day": "12 November", "founders-day": "24 November", "carers-day": "1 December"}
CHANNELS = {"C0EDILEADS": "edi-leads", "C0WORKFORCE": "workforce"}


@postgres_only
def test_two_replicas_racing_through_a_month_lead_one_at_a_time_fail_over_and_send_each_message_once(
    store: Database, database_url: str, tmp_path: Path
) -> None:
    with SlackStandIn(scopes=set(bot_scopes())) as api:
        # The replicas start first, their clock held at Monday 07:00 until the anchor (the month is set up
        # meanwhile): both are running their rounds when the month begins.
        anchor = time.time() + MONTH_STARTING
        replicas = [
            replica(
                api,
                database_url,
                tmp_path / f"replica-{n}.log",
                anchor=anchor,
                now=MONTH_STARTS,
                speed=MONTH_SPEED,
                every=1,
            )
            for n in (1, 2)
        ]
        seen = LeadWatch(store)
        try:
            a_month_of_work(store, api)
            for _, port in replicas:
                get(port, "/healthz", wait=60)
            seen.start()
            waited(lambda: seen.holder() is not None, "a replica leading", seconds=MONTH_STARTING)
            assert time.time() < anchor, "the replicas were not ready before the month began"
            kill_at = anchor + (KILLED_ON - MONTH_STARTS).total_seconds() / MONTH_SPEED
            time.sleep(max(kill_at - time.time(), 0.0))
            killed_while_leading, survivor = kill_the_leader(replicas, store)
            killed = time.monotonic()
            waited(lambda: lead_holder(store) != killed_while_leading, "the survivor leading", seconds=30)
            took_over = time.monotonic() - killed
            new_holder = lead_holder(store)
            assert new_holder is not None
            new_leader_group = os.getpgid(int(new_holder.split("-")[0]))
            month_over = anchor + (MONTH_ENDS - MONTH_STARTS).total_seconds() / MONTH_SPEED
            time.sleep(max(month_over - time.time(), 0.0))
            waited(lambda: unsent(store, before=MONTH_ENDS) == 0, "the month's messages sent", seconds=20)
            stopped_in = terminated(survivor)
        finally:
            seen.stop()
            killed_if_running(process for process, _ in replicas)
        keys = api.keys_posted(OUTBOX_EVENT)

    rows = outbox(store)
    # One leader at a time: never two sessions holding the scheduler's advisory lock (rounds that outlast
    # the two-round lease may let it pass to the other replica, which then works only once the lock is
    # free), both replicas leading at some point, and the survivor's worker leading within a few seconds of
    # the leader's death.
    assert seen.most_lock_holders == 1 and seen.lock_seen > 0
    assert set(seen.groups.values()) == {process.pid for process, _ in replicas}
    assert new_leader_group == survivor.pid
    assert took_over < TAKEOVER
    # Every message of the month sent once, counted at Slack: nothing lost across the failover, nothing
    # doubled (and nothing posted that the outbox does not count as sent).
    month = [row for row in rows if row.created_at < MONTH_ENDS]
    assert {row.status for row in month} == {"sent"}
    assert keys == {row.key: 1 for row in rows if row.status == "sent"}
    sent = sorted(row.sent_at for row in month if row.sent_at is not None)
    assert sent[0] < KILLED_ON < sent[-1]  # sent before the kill and after it
    # The month's digests and calendar posts, each once: five Monday digests in each channel, and each of
    # our days posted a week ahead and on the day (the post due the day after the kill caught up).
    assert sorted(row.key for row in month if row.key.startswith("digest:")) == sorted(
        f"digest:#{channel}:2025-W{week}" for channel in CHANNELS for week in range(45, 50)
    )
    assert sorted(row.key for row in month if row.key.startswith("calendar:")) == sorted(
        key
        for channel in CHANNELS
        for name, day in OBSERVANCES.items()
        for key in calendar_keys(channel, name, day)
    )
    # Everyone welcomed once before the kill; the owners of the actions overdue all month reminded after it
    # too (the survivor's sweep went on); nobody sent two reminders for one day; the plan's escalations in
    # #edi-leads.
    people = everyone(store)
    assert Counter(row.person_id for row in month if ":welcome:" in row.key) == dict.fromkeys(people, 1)
    assert all(row.sent_at < KILLED_ON for row in month if ":welcome:" in row.key if row.sent_at)
    after = {row.person_id for row in month if row.sent_at and row.sent_at > KILLED_ON}
    assert overdue_all_month(store) <= after
    days = Counter(
        tuple(row.key.split(":")[:2]) for row in month if row.person_id and ":welcome:" not in row.key
    )
    assert max(days.values()) == 1
    assert any(row.key.startswith("#C0EDILEADS:") for row in month)
    assert len(month) >= 60
    assert stopped_in < 10


def a_month_of_work(store: Database, api: SlackStandIn) -> None:
    """Twelve people on Slack: four with actions overdue all month (reminded weekly, then escalated in
    #edi-leads), eight with deadlines through the month; two channels with a Monday digest and the
    organisation's own calendar of three days, posted a week ahead and on the day."""
    world = NudgeWorld(store, FakeClock(MONTH_STARTS))
    deadlines = ["30/09/25"] * 4 + ["10/11/25", "14/11/25", "18/11/25", "19/11/25"]
    deadlines += ["21/11/25", "25/11/25", "27/11/25", "28/11/25"]
    try:
        world.people(
            *[
                Someone(f"Person {n}", f"Role {n}", slack_id=api.add_user(f"Person {n}").id)
                for n in range(1, len(deadlines) + 1)
            ]
        )
        world.plan(
            [Row(f"Action {n}", f"Role {n}", deadline, "R") for n, deadline in enumerate(deadlines, start=1)],
            imported=MONTH_STARTS - timedelta(days=33),
        )
    finally:
        world.close()
    for channel in CHANNELS:
        api.add_channel(channel)
    with store.session() as session:
        plan = session.scalar(select(Plan))
        assert plan is not None
        plan.escalation_channel, plan.escalation_channel_name = "C0EDILEADS", "edi-leads"
        for key, day in OBSERVANCES.items():
            day_of_our_own(session, key=key, name=key.replace("-", " ").title(), day=day, at=MONTH_STARTS)
        for channel, name in CHANNELS.items():
            channel_following(
                session,
                plan_id=plan.id,
                channel=channel,
                name=name,
                by="test",
                at=MONTH_STARTS,
                working_days_only=False,
            )


def calendar_keys(channel: str, key: str, day: str) -> list[str]:
    """The outbox keys of the posts of one of our days (in 2025) in `channel`: a week ahead, and on the
    day."""
    start = datetime.strptime(f"{day} 2025", "%d %B %Y").date()
    return [
        f"calendar:#{channel}:{key}:{start.isoformat()}:{(start - timedelta(days=lead)).isoformat()}"
        for lead in (7, 0)
    ]


def everyone(store: Database) -> set[int]:
    with store.session() as session:
        return set(session.scalars(select(Person.id)))


def overdue_all_month(store: Database) -> set[int]:
    """The owners of the actions overdue before the month began (Persons 1 to 4)."""
    with store.session() as session:
        names = [f"Person {n}" for n in range(1, 5)]
        return set(session.scalars(select(Person.id).where(Person.name.in_(names))))


class LeadWatch:
    """Watches, every 50 ms from its own thread, who holds the scheduler's lead (the lease row) and how many
    sessions hold its PostgreSQL advisory lock (pg_locks)."""

    def __init__(self, store: Database) -> None:
        self.store = store
        self.holders: list[str] = []  # every holder of the lease seen, in turn
        self.groups: dict[str, int] = {}  # each holder's process group: which replica it is part of
        self.most_lock_holders = 0
        self.lock_seen = 0  # samples with the lock held: the watch saw the leader at work
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="lead-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join(timeout=10)

    def holder(self) -> str | None:
        return self.holders[-1] if self.holders else None

    def _watch(self) -> None:
        while not self._done.is_set():
            with self.store.session() as session:
                holder = session.scalar(select(Leadership.holder).where(Leadership.name == "scheduler"))
                holding = session.scalar(_LOCK_HOLDERS, {"key": ADVISORY_KEY}) or 0
            if holder is not None and holder != self.holder():
                self.holders.append(holder)
                with contextlib.suppress(ProcessLookupError):  # killed since it took the lead
                    self.groups.setdefault(holder, os.getpgid(int(holder.split("-")[0])))
            self.most_lock_holders = max(self.most_lock_holders, holding)
            self.lock_seen += holding > 0
            self._done.wait(0.05)


# pg_advisory_lock(bigint) shows in pg_locks as classid (its high 32 bits), objid (its low ones), objsubid 1;
# advisory locks are the database's own (pg_locks shows the whole server's, other databases' tests included).
_LOCK_HOLDERS = text(
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    " AND classid = 0 AND objid = CAST(:key AS oid) AND objsubid = 1"
)


def kill_the_leader(
    replicas: list[tuple[subprocess.Popen[str], int]], store: Database
) -> tuple[str, subprocess.Popen[str]]:
    """SIGKILL to the leading replica's process group at a moment it holds no message's lease: who led, and
    the replica that is left.

    The outbox lease stretches with the rehearsal's speed (two real minutes), so a message the leader held
    when killed would wait that long for the survivor (tests/test_exactly_once.py kills mid-send). Both
    replicas are stopped (SIGSTOP) while the test looks, so neither claims nor takes the lead in between.
    """
    for _ in range(200):
        for process, _ in replicas:
            os.killpg(process.pid, signal.SIGSTOP)
        holder = lead_holder(store)
        if holder is not None and leased(store) == 0:
            group = os.getpgid(int(holder.split("-")[0]))
            [leader] = [process for process, _ in replicas if process.pid == group]
            [survivor] = [process for process, _ in replicas if process is not leader]
            os.killpg(leader.pid, signal.SIGKILL)
            os.killpg(survivor.pid, signal.SIGCONT)
            leader.wait(timeout=20)
            return holder, survivor
        for process, _ in replicas:
            os.killpg(process.pid, signal.SIGCONT)
        time.sleep(0.05)
    raise AssertionError("the leader never stood between two sends")


def leased(store: Database) -> int:
    """Messages a worker holds right now (claimed, not yet sent)."""
    with store.session() as session:
        return len(
            session.scalars(
                select(OutboxMessage.id).where(
                    OutboxMessage.status == "pending", OutboxMessage.lease_until.is_not(None)
                )
            ).all()
        )
