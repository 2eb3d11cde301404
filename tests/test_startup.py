"""`edibot --help` answers at once: the command line's modules load only typer, rich and the standard
library, and the database, the importer, settings, the calendar and the platforms' SDKs load in the command
that uses them. `edibot run` waiting for work holds no report, import or migration library in any of its
processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from storage.db import Database
from tests.conftest import sample_organisation
from tests.edibot_process import grace_on_slack, posted_to, slack_environment
from tests.slack_standin import SlackStandIn
from tests.slack_workspace import _free_port
from tests.teams_standin import TENANT_ID, ConnectorStandIn, EntraStandIn, environment_for

ROOT = Path(__file__).resolve().parents[1]

# Each of these takes a noticeable part of a second to import on a busy machine.
HEAVY = (
    "sqlalchemy",
    "alembic",
    "openpyxl",
    "matplotlib",
    "numpy",
    "slack_bolt",
    "slack_sdk",
    "microsoft_teams",
    "pydantic_settings",
    "pydantic",
    "icalendar",
    "holidays",
    "cryptography",
)
# Prints, as JSON, which of them the code before it loaded (an atexit hook runs it after typer has exited).
LOADED = f"""
import json, sys
def loaded(): print(json.dumps([name for name in {HEAVY!r} if name in sys.modules]))
"""


def python(code: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """A fresh interpreter, as a person's shell starts one."""
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT, check=False, env=env
    )


def test_importing_the_command_line_loads_no_heavy_library() -> None:
    done = python(f"{LOADED}\nimport bot.cli\nloaded()")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_edibot_help_lists_every_command_without_loading_them() -> None:
    done = python(
        f"{LOADED}\nimport atexit\natexit.register(loaded)\nfrom bot.cli import app\napp()", "--help"
    )
    assert done.returncode == 0, done.stderr
    *help_lines, loaded = done.stdout.strip().splitlines()
    help_text = "\n".join(help_lines)
    for command in ("import", "actions", "show", "run", "calendar", "feedback", "report", "backup", "doctor"):
        assert command in help_text
    assert json.loads(loaded) == []


@pytest.mark.parametrize(
    "group", ["calendar", "calendar list", "feedback", "report", "backup", "people", "run", "slack", "teams"]
)
def test_a_command_groups_help_loads_only_the_settings(group: str, tmp_path: Path) -> None:
    # edibot reads its settings (pydantic) before any command, as it always has; nothing more loads for help.
    environment = {**os.environ, "EDIBOT_DATA_DIR": str(tmp_path)}
    code = f"{LOADED}\nimport atexit\natexit.register(loaded)\nfrom bot.cli import app\napp()"
    done = python(code, *group.split(), "--help", env=environment)
    assert done.returncode == 0, done.stderr
    *help_lines, loaded = done.stdout.strip().splitlines()
    assert "Usage: " in "\n".join(help_lines)
    assert set(json.loads(loaded)) <= {"pydantic", "pydantic_settings"}
    assert not list(tmp_path.iterdir())  # and nothing was made in the data folder


# Used by one command each (`edibot import`, `report`, `calendar import`, a schema upgrade, JSON logs), never
# by a server waiting for work: each is megabytes in every process that imports it. The Teams SDK (and the
# FastAPI under it) loads with the first Teams activity, which this test never sends.
NOT_WHILE_RUNNING = (
    "microsoft_teams",
    "fastapi",
    "openpyxl",
    "docx",
    "pdfplumber",
    "pdfminer",
    "matplotlib",
    "numpy",
    "pandas",
    "PIL",
    "lxml",
    "icalendar",
    "alembic",
    "mako",
    "structlog",
    "playwright",
)
# `edibot run`, as the command line starts it, that writes the names of the modules it has loaded into the
# folder MODULES_TO names when it gets SIGUSR1 (its worker, forked from it, does the same).
RUN_TELLING_ITS_MODULES = """
import json, os, signal, sys
def tell(*_):
    with open(os.path.join(os.environ["MODULES_TO"], f"modules-{os.getpid()}.json"), "w") as out:
        json.dump(sorted(sys.modules), out)
signal.signal(signal.SIGUSR1, tell)
from bot.cli import app
app()
"""
MONDAY = datetime(2025, 11, 3, 9, 30, tzinfo=ZoneInfo("Europe/London"))


def children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError):
            continue
    return found


@pytest.mark.skipif(sys.platform != "linux", reason="the worker is forked on Linux only; /proc is read")
def test_edibot_run_on_slack_and_teams_holds_no_report_or_import_library_while_it_waits(
    store: Database, database_url: str, tmp_path: Path
) -> None:
    sample_organisation(store, now=MONDAY)
    with SlackStandIn() as api, EntraStandIn(tmp_path) as entra, ConnectorStandIn(entra) as connector:
        grace = grace_on_slack(store, api)
        env = slack_environment(
            api,
            EDIBOT_DATABASE_URL=database_url,
            EDIBOT_TEAMS_SERVICE_URL=connector.url,
            EDIBOT_TEAMS_TENANT_ID=TENANT_ID,
            EDIBOT_LOG_LEVEL="INFO",
            **environment_for(entra),
        )
        command = ["--now", MONDAY.isoformat(), "run", "--slack-http", "--teams", "--port", str(_free_port())]
        log = (tmp_path / "stderr.log").open("w+")
        server = subprocess.Popen(
            [sys.executable, "-c", RUN_TELLING_ITS_MODULES, *command],
            env={**env, "PYTHONPATH": str(ROOT), "MODULES_TO": str(tmp_path)},
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            deadline = time.monotonic() + 90  # its first round has run once Grace has her reminder
            while time.monotonic() < deadline and not posted_to(api, grace):
                assert server.poll() is None, (tmp_path / "stderr.log").read_text()
                time.sleep(0.2)
            workers = children_of(server.pid)
            for pid in [server.pid, *workers]:
                os.kill(pid, signal.SIGUSR1)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and len(list(tmp_path.glob("modules-*.json"))) < 1 + len(
                workers
            ):
                time.sleep(0.1)
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=30)
            log.close()
    err = (tmp_path / "stderr.log").read_text()
    assert posted_to(api, grace), err
    assert "(fork)" in err  # the scheduler's worker was forked from the server, so it shares its modules
    assert len(workers) == 1, err
    for pid in [server.pid, *workers]:
        loaded = set(json.loads((tmp_path / f"modules-{pid}.json").read_text()))
        assert "bot.teams.serve" in loaded and "slack_bolt" in loaded  # it is the server indeed
        assert sorted(name for name in NOT_WHILE_RUNNING if name in loaded) == [], pid
