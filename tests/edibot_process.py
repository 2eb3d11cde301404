"""edibot in a process of its own, as an operator starts it against the Slack stand-in: its command line and
environment, the sample organisation it starts on, signed slash commands (and Teams activities) sent to it
over HTTP, and how a test waits on it, kills it (kill -9, as a crash would) and stops it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import update

from storage.db import Database
from storage.models import Person
from tests.slack_standin import SlackStandIn, payload
from tests.slack_workspace import _free_port

EDIBOT = str(Path(sys.executable).with_name("edibot"))
SECRET = "a-signing-secret-for-this-test"
# What a test's edibot must not inherit from the environment running the tests: it is given its own.
_NOT_INHERITED = ("DATABASE_URL", "EDIBOT_DATABASE_URL", "EDIBOT_HOST")
# A restart's clock starts this far past the killed process's, as a real restart's would: delivery's lease
# (and the scheduler's lead) is two minutes.
LEASE_RUN_OUT = timedelta(minutes=3)


def grace_on_slack(store: Database, api: SlackStandIn) -> str:
    """Grace Liu, of the sample people, with a Slack account edibot already knows: her Slack id."""
    grace = api.add_user("Grace Liu", email="grace.liu@northbridge.example")
    with store.session() as session:
        session.execute(update(Person).where(Person.name == "Grace Liu").values(slack_id=grace.id))
    return grace.id


def slack_environment(api: SlackStandIn, **settings: str) -> dict[str, str]:
    """The environment for an edibot talking to `api`: this one without its database and host settings,
    the stand-in's token, address and signing secret, and `settings` (its database among them)."""
    inherited = {name: value for name, value in os.environ.items() if name not in _NOT_INHERITED}
    return {
        **inherited,
        "SLACK_BOT_TOKEN": api.token,
        "SLACK_SIGNING_SECRET": SECRET,
        "EDIBOT_SLACK_API_URL": api.url,
        **settings,
    }


def start_slack_http(
    env: dict[str, str],
    *,
    now: datetime,
    port: int,
    options: Sequence[str] = (),
    stdout: int | IO[Any] | None,
    stderr: int | IO[Any] | None,
    start_new_session: bool = False,
) -> subprocess.Popen[str]:
    """`edibot --now NOW run --slack-http --port PORT [options]`, started and left running."""
    return subprocess.Popen(
        [EDIBOT, "--now", now.isoformat(), "run", "--slack-http", "--port", str(port), *options],
        env=env,
        stdout=stdout,
        stderr=stderr,
        text=True,
        start_new_session=start_new_session,
    )


@contextmanager
def running_on_slack(
    api: SlackStandIn,
    database_url: str,
    *,
    now: datetime,
    log: Path,
    options: Sequence[str] = ("--every", "5"),
) -> Iterator[subprocess.Popen[str]]:
    """`edibot --now <now> run --slack-http [options]` in a process group of its own, its output in `log`;
    stopped (if still alive) on leaving."""
    env = slack_environment(api, EDIBOT_DATABASE_URL=database_url, EDIBOT_LOG_LEVEL="INFO")
    with log.open("w") as written:  # a file, not a pipe: a full pipe would stall the process
        process = start_slack_http(
            env,
            now=now,
            port=_free_port(),
            options=options,
            stdout=written,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        with stopped_on_leaving(process):
            yield process


def posted_to(api: SlackStandIn, user_id: str) -> list[dict[str, Any]]:
    """What edibot posted in its direct messages with this user."""
    channel = api.dm_of(user_id)
    return api.posted(channel) if channel else []


def post_command(port: int, *, user_id: str, text: str) -> httpx.Response:
    """`/edi TEXT` from this user, signed as Slack signs it; retried while the server is still starting."""
    body = payload("request_slash_command")
    body.update(user_id=user_id, text=text)
    encoded = urlencode(body)
    deadline = time.monotonic() + 60  # a loaded CI machine may take a while to start it
    while True:
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(timestamp=stamp, body=encoded)
            or "",
        }
        try:
            return httpx.post(
                f"http://127.0.0.1:{port}/slack/events", content=encoded, headers=headers, timeout=10
            )
        except httpx.ConnectError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def post_activity(port: int, activity: dict[str, Any], token: str) -> int:
    """A Teams activity posted to /api/messages with this token: the status; retried while the server
    starts."""
    deadline = time.monotonic() + 60
    while True:
        try:
            response = httpx.post(
                f"http://127.0.0.1:{port}/api/messages",
                json=activity,
                headers={"Authorization": f"Bearer {token}"},
                timeout=20,
            )
            return response.status_code
        except httpx.ConnectError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def start_edibot(
    env: dict[str, str],
    arguments: Sequence[str],
    *,
    log: IO[Any],
    start_new_session: bool = True,
) -> subprocess.Popen[str]:
    """`edibot ARGUMENTS`, started and left running, its output (both streams) written to `log`."""
    return subprocess.Popen(
        [EDIBOT, *arguments],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=start_new_session,
    )


def get(port: int, path: str, *, wait: float = 60) -> httpx.Response:
    """GET http://127.0.0.1:PORT/PATH; retried while the server is still starting."""
    deadline = time.monotonic() + wait
    while True:
        try:
            return httpx.get(f"http://127.0.0.1:{port}{path}", timeout=20)
        except (httpx.ConnectError, httpx.RemoteProtocolError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def terminated(process: subprocess.Popen[str], *, within: float = 10.0) -> float:
    """SIGTERM to the process (as `docker stop` sends it): the seconds it took to exit, failing past
    `within`."""
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=within)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise AssertionError(f"edibot was still running {within:g} s after SIGTERM") from None
    return time.monotonic() - started


@contextmanager
def stopped_on_leaving(process: subprocess.Popen[str]) -> Iterator[subprocess.Popen[str]]:
    """The process (started in a process group of its own); on leaving, if still alive, SIGINT to the group
    as Ctrl-C would send it, then SIGKILL if it has not exited within 20 s."""
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=20)


def waited_for(
    condition: Callable[[], object], *, what: str, log: subprocess.Popen[str], seconds: float = 60
) -> None:
    """Until `condition` holds; failing if edibot stops first or `seconds` pass."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert log.poll() is None, f"edibot stopped (exit {log.returncode}) before {what}"
        assert time.monotonic() < deadline, f"waited {seconds:g} s for {what}"
        time.sleep(0.1)


def killed_when(
    process: subprocess.Popen[str], condition: Callable[[], object], *, what: str, seconds: float = 60
) -> None:
    """kill -9 to edibot's process group (the server and its worker, without a word) the moment `condition`
    holds: a point chosen by what a stand-in has counted, never by sleeping."""
    waited_for(condition, what=what, log=process, seconds=seconds)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=20)


def killed_if_running(processes: Iterable[subprocess.Popen[str]]) -> None:
    """kill -9 to each process group still running: a test's clean-up, whatever happened in it."""
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)
