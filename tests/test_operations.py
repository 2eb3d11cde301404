"""edibot as an operator runs it in production: health, readiness and metrics on the port it serves, JSON logs
with request ids, roles and `--workers`, and a stop on SIGTERM that loses and repeats nothing.

Each test starts the real `edibot run` in processes of its own against the Slack stand-in.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import make_url

from bot.slack.manifest import bot_scopes
from bot.slack.sender import OUTBOX_EVENT
from storage.db import Database, sqlite_path
from tests.conftest import CliRun, sample_organisation
from tests.edibot_process import (
    get,
    grace_on_slack,
    post_command,
    posted_to,
    slack_environment,
    start_edibot,
    terminated,
)
from tests.nudging import fifty_reminders_due, outbox
from tests.slack_standin import SlackStandIn
from tests.slack_workspace import _free_port

LONDON = ZoneInfo("Europe/London")
MONDAY = datetime(2025, 11, 3, 9, 30, tzinfo=LONDON)

# Every metric edibot exposes, and the only labels (and label values) they may carry: nothing a person wrote,
# nobody's name or id, nothing about feedback.
ALLOWED_LABELS: dict[str, dict[str, set[str] | None]] = {
    "edibot_commands_total": {"surface": {"slack", "teams", "console", "cli", "other"}},
    "edibot_nudges_total": {"outcome": {"queued", "sent", "failed", "retried"}},
    "edibot_platform_rate_limited_total": {},
    "edibot_sweep_seconds_bucket": {"le": None},
    "edibot_sweep_seconds_count": {},
    "edibot_sweep_seconds_sum": {},
    "edibot_http_request_seconds_bucket": {
        "route": {"slack_events", "teams_messages", "slack_oauth", "healthz", "readyz", "metrics", "other"},
        "le": None,
    },
    "edibot_http_request_seconds_count": {
        "route": {"slack_events", "teams_messages", "slack_oauth", "healthz", "readyz", "metrics", "other"}
    },
    "edibot_http_request_seconds_sum": {
        "route": {"slack_events", "teams_messages", "slack_oauth", "healthz", "readyz", "metrics", "other"}
    },
    "edibot_outbox_depth": {},
    "edibot_outbox_oldest_due_seconds": {},
}
_SAMPLE = re.compile(r"^(?P<name>[a-z_]+)(?:\{(?P<labels>[^}]*)\})? (?P<value>\S+)$")


def samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    """The samples of a /metrics answer: name, labels, value."""
    found = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        labels = dict(re.findall(r'(\w+)="([^"]*)"', match["labels"] or ""))
        found.append((match["name"], labels, float(match["value"])))
    return found


def value(found: list[tuple[str, dict[str, str], float]], name: str, **labels: str) -> float:
    return sum(v for n, ls, v in found if n == name and all(ls.get(k) == w for k, w in labels.items()))


def sent_counted(port: int) -> bool:
    """Whether /metrics counts a message sent (marked so a moment after the platform took it)."""
    return value(samples(get(port, "/metrics").text), "edibot_nudges_total", outcome="sent") >= 1


@contextmanager
def running(
    api: SlackStandIn, database_url: str, log: Path, *arguments: str, **settings: str
) -> Iterator[tuple[subprocess.Popen[str], int, IO[Any]]]:
    """`edibot --now MONDAY run --port P ARGUMENTS` with these settings; stopped (if still running) after."""
    port = _free_port()
    env = slack_environment(api, EDIBOT_DATABASE_URL=database_url, **settings)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with log.open("w+") as written:
        process = start_edibot(
            env, ["--now", MONDAY.isoformat(), "run", "--port", str(port), *arguments], log=written
        )
        try:
            get(port, "/healthz", wait=90)  # up: on a busy machine, starting takes a while
            yield process, port, written
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=20)


def until(condition: Callable[[], object], what: str, *, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not within {seconds:g} s: {what}"
        time.sleep(0.1)


class Outage:
    """The database unreachable for a while: a SQLite file moved away (and back), or a TCP relay to PostgreSQL
    that drops every connection and refuses new ones until it is restored."""

    def __init__(self, database_url: str) -> None:
        self.url = database_url
        self.path = sqlite_path(database_url)
        self._listener: socket.socket | None = None
        self._open: list[socket.socket] = []
        self.down = False
        self.port = 0
        if self.path is None:
            self._listener = socket.create_server(("127.0.0.1", 0))
            self.port = self._listener.getsockname()[1]
            threading.Thread(target=self._accept, daemon=True).start()

    @property
    def edibot_url(self) -> str:
        """The URL edibot is given: through the relay, for PostgreSQL."""
        if self.path is not None:
            return self.url
        return make_url(self.url).set(host="127.0.0.1", port=self.port).render_as_string(hide_password=False)

    def start(self) -> None:
        self.down = True
        if self.path is not None:
            self.path.rename(self.path.with_suffix(".away"))
            return
        for connection in self._open:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
                connection.close()
        self._open.clear()

    def end(self) -> None:
        self.down = False
        if self.path is not None:
            self.path.with_suffix(".away").rename(self.path)

    def _accept(self) -> None:
        assert self._listener is not None
        target = make_url(self.url)
        while True:
            client, _ = self._listener.accept()
            if self.down:
                client.close()
                continue
            server = socket.create_connection((target.host or "127.0.0.1", target.port or 5432))
            self._open += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=_pipe, args=(a, b), daemon=True).start()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


def test_healthz_readyz_and_metrics_are_served_beside_slack_and_readyz_follows_the_database(
    store: Database, database_url: str, tmp_path: Path
) -> None:
    sample_organisation(store, now=MONDAY)
    outage = Outage(database_url)
    with SlackStandIn() as api:
        grace = grace_on_slack(store, api)
        with running(
            api,
            outage.edibot_url,
            tmp_path / "edibot.log",
            "--slack-http",
            "--every",
            "5",
            EDIBOT_LOG_FORMAT="json",
            EDIBOT_LOG_LEVEL="INFO",
            EDIBOT_LOG_LEVELS="alembic=WARNING,apscheduler=WARNING",
        ) as (edibot, port, log):
            health = get(port, "/healthz")
            ready = get(port, "/readyz")
            answer = post_command(port, user_id=grace, text="mine")
            refused = [httpx_post(port, "/slack/events"), httpx_post(port, "/slack/events")]  # unsigned
            until(lambda: posted_to(api, grace), "Grace's Monday reminder")
            until(lambda: sent_counted(port), "the reminder counted as sent")  # a moment after Slack took it
            found = samples(get(port, "/metrics").text)

            outage.start()
            during = [get(port, "/readyz"), get(port, "/healthz")]
            outage.end()
            until(lambda: get(port, "/readyz").status_code == 200, "/readyz ready again")
            stopped_in = terminated(edibot)
            log.seek(0)
            lines = log.read().splitlines()

    assert health.status_code == 200
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"ready": True, "checks": {"database": "ok", "migrations": "ok", "slack": "ok"}}
    assert answer.status_code == 200
    assert [r.status_code for r in during] == [503, 200]  # not ready, but alive: not restarted
    assert during[0].json()["checks"]["database"].startswith("unreachable")
    assert stopped_in < 10

    for name, labels, _ in found:
        assert name in ALLOWED_LABELS, f"{name} is not on the allow-list"
        allowed = ALLOWED_LABELS[name]
        assert set(labels) <= set(allowed), f"{name} has labels {labels}"
        for label, given in labels.items():
            assert allowed[label] is None or given in allowed[label], f"{name}{{{label}={given!r}}}"
    assert value(found, "edibot_commands_total", surface="slack") >= 1
    assert value(found, "edibot_nudges_total", outcome="sent") >= 1  # counted in the scheduler's process
    assert value(found, "edibot_nudges_total", outcome="queued") >= 1
    assert value(found, "edibot_sweep_seconds_count") >= 1
    assert value(found, "edibot_http_request_seconds_count", route="slack_events") >= 1
    names = {name for name, _, _ in found}
    assert {"edibot_outbox_depth", "edibot_outbox_oldest_due_seconds"} <= names  # read from the database

    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert records, "no JSON log lines"
    assert all(line.startswith("{") for line in lines if "edibot is running" not in line), lines[:5]
    assert refused == [401, 401]
    answering = [r for r in records if r["event"].startswith("refused a request to /slack/events")]
    assert len({r.get("request_id") for r in answering}) == 2  # each line names its request
    assert all(r["logger"] != "alembic.runtime.migration" for r in records)  # EDIBOT_LOG_LEVELS: quiet
    assert all(api.token not in line for line in lines)  # never a token
    assert all("Refresh the equality impact assessment template" not in line for line in lines)


def test_on_sigterm_mid_delivery_edibot_stops_within_ten_seconds_and_after_a_restart_each_message_went_once(
    store: Database, database_url: str, tmp_path: Path
) -> None:
    with SlackStandIn(scopes=set(bot_scopes())) as api:
        fifty_reminders_due(store, api, on=MONDAY)
        api.slow("chat.postMessage", seconds=0.15, calls=50)
        with running(api, database_url, tmp_path / "first.log", "--slack-http", "--every", "5") as (
            first,
            _,
            _,
        ):
            until(lambda: len(api.posted()) >= 5, "the first reminders to reach Slack")
            stopped_in = terminated(first)
        stopped = outbox(store)
        with running(api, database_url, tmp_path / "second.log", "--slack-http", "--every", "5") as (
            second,
            _,
            _,
        ):
            until(lambda: all(row.status == "sent" for row in outbox(store)), "every reminder sent")
            terminated(second)
        keys = api.keys_posted(OUTBOX_EVENT)

    assert first.returncode == 0
    assert stopped_in < 10
    assert 5 <= sum(row.status == "sent" for row in stopped) < 50  # stopped mid-delivery
    assert all(row.lease_until is None for row in stopped)  # claimed and unsent: handed back, not left leased
    assert all(row.tried_at is None for row in stopped)  # none left looking as if it might have been posted
    rows = outbox(store)
    assert len(rows) == 50
    assert keys == {row.key: 1 for row in rows}  # each exactly once
    assert "was posted by an earlier try" not in (tmp_path / "second.log").read_text()  # nothing in doubt


def test_two_processes_serve_one_port_with_one_scheduler_in_the_parent(
    store: Database, database_url: str, tmp_path: Path
) -> None:
    sample_organisation(store, now=MONDAY)
    with SlackStandIn() as api:
        grace = grace_on_slack(store, api)
        with running(
            api, database_url, tmp_path / "edibot.log", "--slack-http", "--workers", "2", "--every", "5"
        ) as (edibot, port, log):
            answers = [post_command(port, user_id=grace, text="mine") for _ in range(6)]
            until(lambda: posted_to(api, grace), "Grace's Monday reminder")
            until(lambda: sent_counted(port), "the reminder counted as sent")  # a moment after Slack took it
            found = samples(get(port, "/metrics").text)
            children = _children(edibot.pid)
            stopped_in = terminated(edibot)
            log.seek(0)
            said = log.read()

    assert all(answer.status_code == 200 for answer in answers), said
    assert all("Your 1 open action, 1 overdue" in answer.json()["text"] for answer in answers)
    assert len(posted_to(api, grace)) == 1
    assert value(found, "edibot_commands_total", surface="slack") == 6  # added up across both processes
    assert len(children) >= 2  # uvicorn's two web processes (and its own helper)
    assert "(2 processes)" in said
    assert stopped_in < 10


def test_a_web_replica_serves_and_sends_no_reminders_and_a_worker_replica_sends_them(
    store: Database, database_url: str, tmp_path: Path
) -> None:
    sample_organisation(store, now=MONDAY)
    with SlackStandIn() as api:
        grace = grace_on_slack(store, api)
        with running(
            api, database_url, tmp_path / "web.log", "--slack-http", "--role", "web", "--every", "5"
        ) as (web, web_port, _):
            answer = post_command(web_port, user_id=grace, text="mine")
            time.sleep(6)  # a round's time: a web replica runs none
            reminded_by_web = posted_to(api, grace)
            with running(
                api, database_url, tmp_path / "worker.log", "--slack-http", "--role", "worker", "--every", "5"
            ) as (worker, worker_port, _):
                until(lambda: posted_to(api, grace), "Grace's reminder, from the worker")
                worker_ready = get(worker_port, "/readyz")
                worker_events = httpx_post(worker_port, "/slack/events")
                terminated(worker)
            terminated(web)

    assert "Your 1 open action, 1 overdue" in answer.json()["text"]
    assert reminded_by_web == []
    assert worker_ready.status_code == 200
    assert worker_events == 404  # a worker answers no platform


def httpx_post(port: int, path: str) -> int:
    import httpx  # noqa: PLC0415

    return httpx.post(f"http://127.0.0.1:{port}{path}", content=b"{}", timeout=10).status_code


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        (["run", "--role", "boss"], "--role: 'boss' is not one of all, web and worker."),
        (["run", "--role", "web"], "--role web serves Slack or Teams: add --slack-http, --teams or both."),
        (["run", "--workers", "2"], "--workers serves HTTP from several processes"),
        (["run", "--speed", "60"], "--speed makes the clock given by --now run faster: give --now too."),
        (
            ["run", "--every", "1"],
            "--every: at least 5 seconds between rounds (fewer only with --now and --speed).",
        ),
    ],
)
def test_run_refuses_a_role_or_workers_that_cannot_work_and_says_why(
    cli: CliRun, arguments: list[str], said: str
) -> None:
    code, _, err = cli(*arguments)

    assert code == 1
    assert said in err


def test_a_log_levels_setting_that_is_not_module_equals_level_is_refused_naming_it(
    cli: CliRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDIBOT_LOG_LEVELS", "slack_bolt=LOUD")
    code, _, err = cli("plans")

    assert code == 1
    assert "EDIBOT_LOG_LEVELS: 'slack_bolt=LOUD' is not module=LEVEL" in err


@pytest.mark.parametrize("asked", [["import", "--help"], ["teams", "package", "--help"], ["run", "--help"]])
def test_a_commands_help_shows_even_when_a_setting_is_wrong(
    cli: CliRun, monkeypatch: pytest.MonkeyPatch, asked: list[str]
) -> None:
    monkeypatch.setenv("EDIBOT_LOG_LEVELS", "slack_bolt=LOUD")
    code, out, err = cli(*asked)

    assert code == 0, err
    assert f"Usage: edibot {' '.join(asked[:-1])} [OPTIONS]" in out


# -- the world -----------------------------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


SCHEDULED_ONCE = """
import logging, sys, threading
from apscheduler.schedulers.background import BackgroundScheduler
from bot.logs import configure_logging

configure_logging(sys.argv[1])
ran = threading.Event()
scheduler = BackgroundScheduler()
scheduler.add_job(ran.set, id="sweep")
scheduler.start()
ran.wait(10)
scheduler.shutdown()
logging.getLogger("schedules.runner").info("swept")
"""


@pytest.mark.parametrize(("level", "job_lines"), [("INFO", 0), ("DEBUG", 2)])
def test_the_scheduler_does_not_log_every_job_it_runs_unless_asked_for_debug(
    level: str, job_lines: int
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCHEDULED_ONCE, level], capture_output=True, text=True, timeout=60, check=True
    )
    lines = done.stderr.splitlines()

    assert "INFO swept" in lines  # edibot's own INFO lines still come through
    assert sum("Running job" in line or "executed successfully" in line for line in lines) == job_lines
