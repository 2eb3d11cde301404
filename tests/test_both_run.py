"""`edibot run --slack-http --teams`, as an operator starts it: one process, one port, answering Slack and
Teams, and one scheduler sending each person's reminders on their platform."""

from __future__ import annotations

import signal
import subprocess
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import update

from storage.db import Database
from storage.models import Person
from tests.conftest import sample_organisation
from tests.edibot_process import (
    grace_on_slack,
    post_activity,
    post_command,
    posted_to,
    slack_environment,
    start_slack_http,
)
from tests.nudging import settle
from tests.slack_standin import SlackStandIn
from tests.slack_workspace import _free_port
from tests.teams_standin import TENANT_ID, ConnectorStandIn, EntraStandIn, environment_for, member_activity
from tests.teams_tenant import texts_of

LONDON = ZoneInfo("Europe/London")
MONDAY = datetime(2025, 11, 3, 9, 30, tzinfo=LONDON)


def test_edibot_run_slack_http_teams_answers_both_and_reminds_each_person_on_their_platform(
    store: Database, database_url: str, tmp_path: Path
) -> None:
    sample_organisation(store, now=MONDAY)
    settle(store, now=MONDAY)  # in use a while: reminders, not day one's welcomes
    with SlackStandIn() as api, EntraStandIn(tmp_path) as entra, ConnectorStandIn(entra) as connector:
        grace = grace_on_slack(store, api)  # Grace is on Slack only
        amina = connector.add_member("Amina Khan", email="amina.khan@northbridge.example")  # Amina on Teams
        with store.session() as session:
            session.execute(
                update(Person).where(Person.name == "Amina Khan").values(teams_id=amina.aad_object_id)
            )
        port = _free_port()
        env = slack_environment(
            api,
            EDIBOT_DATABASE_URL=database_url,
            EDIBOT_TEAMS_SERVICE_URL=connector.url,
            EDIBOT_TEAMS_TENANT_ID=TENANT_ID,
            **environment_for(entra),
        )
        log = (tmp_path / "stderr.log").open("w+")  # a file, not a pipe: a full pipe would stall the server
        server = start_slack_http(
            env, now=MONDAY, port=port, options=["--teams"], stdout=subprocess.PIPE, stderr=log
        )
        chat = connector.personal_chat(amina)
        try:
            activity = member_activity(
                "message_personal", amina, connector=connector, entra=entra, activity_id="1730626262001"
            )
            activity["text"] = "mine"
            # Teams first: its 60 s of retries cover the start of a process loading both SDKs.
            status = post_activity(port, activity, entra.channel_token(service_url=connector.url))
            answer = post_command(port, user_id=grace, text="mine")
            deadline = time.monotonic() + 90  # the scheduler's worker process starts first, on a busy machine
            while time.monotonic() < deadline and not (
                posted_to(api, grace) and len(connector.activities_in(chat)) >= 2
            ):
                time.sleep(0.1)
            in_slack = posted_to(api, grace)
            in_teams = [texts_of(activity) for activity in connector.activities_in(chat)]
        finally:
            server.send_signal(signal.SIGINT)
            out, _ = server.communicate(timeout=30)
            log.seek(0)
            err = log.read()
            log.close()

    assert answer.status_code == 200, err
    assert "Your 1 open action, 1 overdue" in answer.json()["text"]
    assert status == 200, err
    assert any("Your 3 open actions" in text for text in in_teams), (in_teams, err)
    assert any("NO-4" in post["text"] for post in in_slack), (in_slack, out, err)
    assert any(text.startswith("Amina, ") for text in in_teams), (in_teams, out, err)
    assert f"http://127.0.0.1:{port}/slack/events and http://127.0.0.1:{port}/api/messages" in out
    assert server.returncode == 0, err
