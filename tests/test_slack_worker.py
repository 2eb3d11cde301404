"""`edibot run --slack-http` is two processes: the server answers Slack, its worker sweeps and sends
reminders."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from storage.db import Database
from storage.models import Leadership
from tests.conftest import sample_organisation
from tests.edibot_process import (
    grace_on_slack,
    post_command,
    posted_to,
    slack_environment,
    start_slack_http,
)
from tests.slack_standin import SlackStandIn
from tests.slack_workspace import _free_port

LONDON = ZoneInfo("Europe/London")
MONDAY = datetime(2025, 11, 3, 9, 30, tzinfo=LONDON)
WAIT_S = 60.0


@dataclass
class Running:
    server: subprocess.Popen[str]
    port: int
    api: SlackStandIn
    grace: str  # her Slack id

    def reminded(self) -> bool:
        return bool(posted_to(self.api, self.grace))


@pytest.fixture
def running(store: Database, database_url: str, tmp_path: Path) -> Iterator[Running]:
    """edibot started by an operator on the sample plan, on Monday morning, when Grace has a reminder due."""
    sample_organisation(store, now=MONDAY)
    with SlackStandIn() as api:
        grace = grace_on_slack(store, api)
        port = _free_port()
        env = slack_environment(api, EDIBOT_DATABASE_URL=database_url)
        log = (tmp_path / "stderr.log").open("w+")  # a file, not a pipe: a full pipe would stall the server
        server = start_slack_http(env, now=MONDAY, port=port, stdout=subprocess.DEVNULL, stderr=log)
        try:
            yield Running(server, port, api, grace)
        finally:
            if server.poll() is None:
                server.send_signal(signal.SIGINT)
                server.wait(timeout=60)
            log.close()


def _until(condition: object, what: str) -> None:
    assert callable(condition)
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, f"not within {WAIT_S:.0f} s: {what}"
        time.sleep(0.1)


def _children(pid: int) -> list[int]:
    """The processes `pid` started (Linux's /proc)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def _alive(pid: int) -> bool:
    """Running, not gone and not a zombie waiting to be reaped."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def _leading_pid(store: Database) -> int:
    """The process that holds the scheduler's lead (a lease holder is named pid-…)."""
    with store.session() as session:
        holder = session.scalar(select(Leadership.holder).where(Leadership.name == "scheduler"))
    assert holder is not None
    return int(holder.split("-")[0])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the process tree from /proc")
def test_the_reminders_are_swept_and_sent_by_a_worker_process_not_by_the_server_answering_slack(
    running: Running, store: Database
) -> None:
    answer = post_command(running.port, user_id=running.grace, text="mine")
    _until(running.reminded, "Grace's Monday reminder")

    leader = _leading_pid(store)
    assert "Your 1 open action, 1 overdue" in answer.json()["text"]
    assert leader != running.server.pid  # the server only serves
    assert leader in _children(running.server.pid)  # its worker leads, sweeps and sends


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the process tree from /proc")
def test_when_the_server_is_killed_its_worker_stops_too_and_sends_nothing_more(
    running: Running, store: Database
) -> None:
    _until(running.reminded, "Grace's Monday reminder")
    worker = _leading_pid(store)
    assert _alive(worker)

    running.server.kill()  # SIGKILL: no clean-up runs in the server
    running.server.wait(timeout=10)
    _until(lambda: not _alive(worker), "the worker stopping once its server is gone")
