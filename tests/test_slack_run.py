"""`edibot run --slack-http`, as an operator starts it: one process serving Slack and sending reminders."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import httpx
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import update

from storage.db import Database
from storage.importing.service import import_plan
from storage.models import Person
from storage.people import import_people
from tests.conftest import SAMPLES
from tests.slack_standin import SlackStandIn, payload
from tests.slack_workspace import _free_port

LONDON = ZoneInfo("Europe/London")
SECRET = "a-signing-secret-for-this-test"


def test_edibot_run_slack_http_answers_slack_and_sends_the_mornings_reminders(
    store: Database, database_url: str
) -> None:
    monday = datetime(2025, 11, 3, 9, 30, tzinfo=LONDON)
    import_plan(store, SAMPLES / "northbridge_edi_plan.csv", now=monday, plan_name="Northbridge EDI Plan")
    import_people(store, SAMPLES / "northbridge_people.csv", now=monday)
    with SlackStandIn() as api:
        grace = api.add_user("Grace Liu", email="grace.liu@northbridge.example")
        with store.session() as session:
            session.execute(update(Person).where(Person.name == "Grace Liu").values(slack_id=grace.id))
        port = _free_port()
        env = {**os.environ, "EDIBOT_DATABASE_URL": database_url, "SLACK_BOT_TOKEN": api.token,
               "SLACK_SIGNING_SECRET": SECRET, "EDIBOT_SLACK_API_URL": api.url, "EDIBOT_LOG_LEVEL": "WARNING"}  # fmt: skip
        server = subprocess.Popen(
            [str(Path(sys.executable).with_name("edibot")), "--now", monday.isoformat(), "run", "--slack-http",
             "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            answer = _post_command(port, user_id=grace.id, text="mine")
            deadline = time.monotonic() + 20
            # The DM is opened (conversations.open) a moment before the reminder is posted in it.
            while not _posted_to(api, grace.id) and time.monotonic() < deadline:
                time.sleep(0.1)
            posted = _posted_to(api, grace.id)
            reminder = posted[0] if posted else None
        finally:
            server.send_signal(signal.SIGINT)
            out, err = server.communicate(timeout=20)

    assert answer.status_code == 200, err
    assert "Your 1 open action, 1 overdue" in answer.json()["text"]
    assert reminder is not None, f"no reminder reached Grace; edibot said: {out}\n{err}"
    assert "NO-4" in reminder["text"]
    assert "running on Slack" in out


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
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": stamp,
                   "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(timestamp=stamp, body=encoded)}  # fmt: skip
        try:
            return httpx.post(
                f"http://127.0.0.1:{port}/slack/events", content=encoded, headers=headers, timeout=10
            )
        except httpx.ConnectError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
