"""`edibot run --slack-http`, as an operator starts it: one process serving Slack and sending reminders."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from handlers.errors import DATA_UNREACHABLE
from storage.db import Database, sqlite_url
from tests.conftest import sample_organisation
from tests.edibot_process import (
    EDIBOT,
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


def test_edibot_run_slack_http_answers_slack_and_sends_the_mornings_reminders(
    store: Database, database_url: str, tmp_path: Path
) -> None:
    sample_organisation(store, now=MONDAY)
    with SlackStandIn() as api:
        grace = grace_on_slack(store, api)
        port = _free_port()
        # At DEBUG, slack_sdk and slack_bolt would log every body they send and receive.
        env = slack_environment(api, EDIBOT_DATABASE_URL=database_url, EDIBOT_LOG_LEVEL="DEBUG")
        log = (tmp_path / "stderr.log").open("w+")  # a file, not a pipe: a full pipe would stall the server
        server = start_slack_http(env, now=MONDAY, port=port, stdout=subprocess.PIPE, stderr=log)
        try:
            answer = post_command(port, user_id=grace, text="mine")
            deadline = time.monotonic() + 60  # the scheduler's worker process starts first, on a busy machine
            # The DM is opened (conversations.open) a moment before the reminder is posted in it.
            while not posted_to(api, grace) and time.monotonic() < deadline:
                time.sleep(0.1)
            posted = posted_to(api, grace)
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
    sample_organisation(store, now=MONDAY)
    file = data / "edibot.sqlite3"
    with SlackStandIn() as api:
        grace = grace_on_slack(store, api)
        sam = api.add_user("Sam Patel", email="sam.patel@northbridge.example").id  # not seen by edibot yet
        store.dispose()
        port = _free_port()
        env = slack_environment(api, EDIBOT_DATA_DIR=str(data))
        where = ["--host", "127.0.0.1"]
        server = start_slack_http(
            env,
            now=MONDAY,
            port=port,
            options=[*where, "--every", "5"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        log: list[str] = []  # its stderr, line by line, as it runs
        reader = threading.Thread(target=lambda: log.extend(server.stderr or ()), daemon=True)
        reader.start()
        try:
            before = post_command(port, user_id=grace, text="mine")
            file.unlink()  # an operator's slip, a clean-up script, a volume gone
            after = post_command(port, user_id=grace, text="note NO-4 draft is with Legal")
            newcomer = post_command(port, user_id=sam, text="mine")
            deadline = time.monotonic() + 60
            while not any("no reminders this round" in line for line in log) and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=20)
            reader.join(timeout=5)
        restart = subprocess.run(
            [EDIBOT, "--now", MONDAY.isoformat(), "run", "--slack-http", *where, "--port", str(port)],
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
