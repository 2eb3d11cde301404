"""Several edibots on one PostgreSQL database, as separate processes: replicas that start together migrate
once, and two replicas through a rehearsed day elect one scheduler, send every message once, and carry on
when the leader is killed.

PostgreSQL only: replicas share a database server (SQLite is one machine's file, for one edibot).
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import make_url, select, text

from bot.console import FakeClock
from bot.slack.manifest import bot_scopes
from bot.slack.sender import OUTBOX_EVENT
from storage.db import Database, make_engine
from storage.models import Leadership, OutboxMessage
from tests.edibot_process import EDIBOT, get, slack_environment, start_edibot, terminated
from tests.nudging import NudgeWorld, Row, Someone
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
            for process, _ in replicas:
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=20)
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
    api: SlackStandIn, database_url: str, log: Path, *, anchor: float
) -> tuple[subprocess.Popen[str], int]:
    """`edibot run --slack-http` on a rehearsal clock all replicas share (one start, anchor and speed)."""
    port = _free_port()
    env = slack_environment(api, EDIBOT_DATABASE_URL=database_url, EDIBOT_LOG_LEVEL="INFO")
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    arguments = [
        "--now",
        MONDAY_EARLY.isoformat(),
        "run",
        "--slack-http",
        "--port",
        str(port),
        "--every",
        "5",
        "--speed",
        str(SPEED),
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


def outbox(store: Database) -> list[OutboxMessage]:
    with store.session() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def sent(store: Database) -> int:
    return sum(row.status == "sent" for row in outbox(store))


def tuesdays(store: Database) -> int:
    """Messages queued on Tuesday (rehearsal time), after the leader was killed on Monday."""
    tuesday = MONDAY_EARLY.date() + timedelta(days=1)
    return sum(row.created_at.astimezone(LONDON).date() == tuesday for row in outbox(store))


def unsent(store: Database) -> int:
    return sum(row.status == "pending" for row in outbox(store))


def waited(condition: object, what: str, *, seconds: float) -> None:
    assert callable(condition)
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not within {seconds:g} s: {what}"
        time.sleep(0.2)
