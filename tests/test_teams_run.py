"""`edibot run --teams`, as an operator starts it: one process serving Teams and sending the reminders."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import update

from storage.db import Database
from storage.importing.service import import_plan
from storage.models import Person
from storage.people import import_people
from tests.conftest import SAMPLES
from tests.edibot_process import post_activity
from tests.nudging import settle
from tests.slack_workspace import _free_port
from tests.teams_standin import TENANT_ID, ConnectorStandIn, EntraStandIn, environment_for, member_activity
from tests.teams_tenant import texts_of

LONDON = ZoneInfo("Europe/London")


def test_edibot_run_teams_answers_in_the_chat_and_sends_the_mornings_reminders(
    store: Database, database_url: str, tmp_path: Path
) -> None:
    monday = datetime(2025, 11, 3, 9, 30, tzinfo=LONDON)
    import_plan(store, SAMPLES / "northbridge_edi_plan.csv", now=monday, plan_name="Northbridge EDI Plan")
    import_people(store, SAMPLES / "northbridge_people.csv", now=monday)
    settle(store, now=monday)  # in use a while: reminders, not day one's welcomes
    with EntraStandIn(tmp_path) as entra, ConnectorStandIn(entra) as connector:
        grace = connector.add_member("Grace Liu", email="grace.liu@northbridge.example")
        with store.session() as session:
            session.execute(
                update(Person).where(Person.name == "Grace Liu").values(teams_id=grace.aad_object_id)
            )
        port = _free_port()
        env = {
            **os.environ,
            **environment_for(entra),
            "EDIBOT_DATABASE_URL": database_url,
            "EDIBOT_TEAMS_SERVICE_URL": connector.url,
            "EDIBOT_TEAMS_TENANT_ID": TENANT_ID,
        }
        env.pop("EDIBOT_HOST", None)
        log = (tmp_path / "stderr.log").open("w+")  # a file, not a pipe: a full pipe would stall the server
        server = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("edibot")),
                "--now",
                monday.isoformat(),
                "run",
                "--teams",
                "--port",
                str(port),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        chat = connector.personal_chat(grace)
        try:
            activity = member_activity(
                "message_personal", grace, connector=connector, entra=entra, activity_id="1730626262001"
            )
            activity["text"] = "mine"
            token = entra.channel_token(service_url=connector.url)
            status = post_activity(port, activity, token)
            deadline = time.monotonic() + 60
            while len(connector.activities_in(chat)) < 2 and time.monotonic() < deadline:
                time.sleep(0.1)
            posted = connector.activities_in(chat)
        finally:
            server.send_signal(signal.SIGINT)
            out, _ = server.communicate(timeout=30)
            log.seek(0)
            err = log.read()
            log.close()

    assert status == 200, err
    shown = [texts_of(message) for message in posted]
    assert any("Your 1 open action, 1 overdue" in text for text in shown), (shown, err)
    assert any(text.startswith("Grace, 1 EDI action needs you") and "NO-4" in text for text in shown), (
        shown,
        err,
    )
    assert f"running on Teams: http://127.0.0.1:{port}/api/messages" in out
    assert server.returncode == 0, err
