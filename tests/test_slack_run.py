"""`edibot run --slack-http`, as an operator starts it: one process serving Slack and sending reminders."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import httpx
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import update

from handlers.errors import DATA_UNREACHABLE
from storage.db import Database, sqlite_url
from storage.importing.service import import_plan
from storage.models import Person
from storage.people import import_people
from tests.conftest import SAMPLES
from tests.slack_standin import SlackStandIn, payload
from tests.slack_workspace import _free_port

LONDON = ZoneInfo("Europe/London")
SECRET = "a-signing-secret-for-this-test"


def test_edibot_run_slack_http_answers_slack_and_sends_the_mornings_reminders(
    store: Database, database_url: str, tmp_path: Path
) -> None:
    monday = datetime(2025, 11, 3, 9, 30, tzinfo=LONDON)
    import_plan(store, SAMPLES / "northbridge_edi_plan.csv", now=monday, plan_name="Northbridge EDI Plan")
    import_people(store, SAMPLES / "northbridge_people.csv", now=monday)
    with SlackStandIn() as api:
        grace = api.add_user("Grace Liu", email="grace.liu@northbridge.example")
        with store.session() as session:
            session.execute(update(Person).where(Person.name == "Grace Liu").values(slack_id=grace.id))
        port = _free_port()
        # At DEBUG, slack_sdk and slack_bolt would log every body they send and receive.
        env = {
            **os.environ,
            "EDIBOT_DATABASE_URL": database_url,
            "SLACK_BOT_TOKEN": api.token,
            "SLACK_SIGNING_SECRET": SECRET,
            "EDIBOT_SLACK_API_URL": api.url,
            "EDIBOT_LOG_LEVEL": "DEBUG",
        }
        env.pop("EDIBOT_HOST", None)
        log = (tmp_path / "stderr.log").open("w+")  # a file, not a pipe: a full pipe would stall the server
        server = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("edibot")),
                "--now",
                monday.isoformat(),
                "run",
                "--slack-http",
                "--port",
                str(port),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        try:
            answer = _post_command(port, user_id=grace.id, text="mine")
            deadline = time.monotonic() + 60  # the scheduler's worker process starts first, on a busy machine
            # The DM is opened (conversations.open) a moment before the reminder is posted in it.
            while not _posted_to(api, grace.id) and time.monotonic() < deadline:
                time.sleep(0.1)
            posted = _posted_to(api, grace.id)
            reminder = posted[0] if posted else None
        finally:
            server.send_signal(signal.SIGINT)
            out, _ = server.communicate(timeout=20)
            log.seek(0)
            err = log.read()
            log.close()

    assert answer.status_code == 200, err
    assert "Your 1 open action, 1 overdue" in answer.json()["text"]
    assert reminder is not None, f"no reminder reached Grace; edibot said: {out}\n{err}"
    assert "NO-4" in reminder["text"]
    assert f"running on Slack: http://127.0.0.1:{port}/slack/events" in out  # this machine only, unless asked
    assert "DEBUG Sending a request - url: " in err  # the debug lines are there, to their bodies
    assert "Refresh the equality impact assessment template" not in err  # NO-4's title, in the answer and DM


def test_when_the_database_file_is_deleted_edibot_refuses_says_why_and_will_not_restart_on_an_empty_one(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    store = Database.open(sqlite_url(data))
    monday = datetime(2025, 11, 3, 9, 30, tzinfo=LONDON)
    import_plan(store, SAMPLES / "northbridge_edi_plan.csv", now=monday, plan_name="Northbridge EDI Plan")
    import_people(store, SAMPLES / "northbridge_people.csv", now=monday)
    file = data / "edibot.sqlite3"
    with SlackStandIn() as api:
        grace = api.add_user("Grace Liu", email="grace.liu@northbridge.example")
        sam = api.add_user("Sam Patel", email="sam.patel@northbridge.example")  # not seen by edibot yet
        with store.session() as session:
            session.execute(update(Person).where(Person.name == "Grace Liu").values(slack_id=grace.id))
        store.dispose()
        port = _free_port()
        env = {
            **_without_database_settings(os.environ),
            "EDIBOT_DATA_DIR": str(data),
            "SLACK_BOT_TOKEN": api.token,
            "SLACK_SIGNING_SECRET": SECRET,
            "EDIBOT_SLACK_API_URL": api.url,
        }
        edibot = [str(Path(sys.executable).with_name("edibot")), "--now", monday.isoformat()]
        server = subprocess.Popen(
            [*edibot, "run", "--slack-http", "--host", "127.0.0.1", "--port", str(port), "--every", "5"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        log: list[str] = []  # its stderr, line by line, as it runs
        reader = threading.Thread(target=lambda: log.extend(server.stderr or ()), daemon=True)
        reader.start()
        try:
            before = _post_command(port, user_id=grace.id, text="mine")
            file.unlink()  # an operator's slip, a clean-up script, a volume gone
            after = _post_command(port, user_id=grace.id, text="note NO-4 draft is with Legal")
            newcomer = _post_command(port, user_id=sam.id, text="mine")
            deadline = time.monotonic() + 60
            while not any("no reminders this round" in line for line in log) and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=20)
            reader.join(timeout=5)
        restart = subprocess.run(
            [*edibot, "run", "--slack-http", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert "Your 1 open action" in before.json()["text"], log
    assert after.json()["text"] == DATA_UNREACHABLE  # not "Noted on NO-4", written into a deleted file
    assert newcomer.json()["text"] == DATA_UNREACHABLE  # not "I don't know you yet"
    errors = [line for line in log if line.startswith("ERROR")]
    assert any(f"database file {file} was deleted" in line for line in errors), log
    assert any("no reminders this round" in line for line in errors), log
    assert restart.returncode != 0 and "running on Slack" not in restart.stdout
    assert f"edibot's database {file} is missing" in restart.stderr
    assert "to start afresh with an empty database, run `edibot init`" in restart.stderr
    assert not file.exists()  # no empty database made in its place


def _without_database_settings(environ: dict[str, str] | os._Environ[str]) -> dict[str, str]:
    return {
        name: value for name, value in environ.items() if name not in ("DATABASE_URL", "EDIBOT_DATABASE_URL")
    }


def _posted_to(api: SlackStandIn, user_id: str) -> list[dict[str, Any]]:
    channel = api.dm_of(user_id)
    return api.posted(channel) if channel else []


def _post_command(port: int, *, user_id: str, text: str) -> httpx.Response:
    body = payload("request_slash_command")
    body.update(user_id=user_id, text=text)
    encoded = urlencode(body)
    deadline = time.monotonic() + 20
    while True:
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(timestamp=stamp, body=encoded),
        }
        try:
            return httpx.post(
                f"http://127.0.0.1:{port}/slack/events", content=encoded, headers=headers, timeout=10
            )
        except httpx.ConnectError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
