"""edibot's SQLite file as an operator meets it: made once and private, and never quietly swapped for an empty
one."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from handlers.errors import DATA_UNREACHABLE
from storage.db import MARKER, Database, sqlite_url
from tests.conftest import LONDON, SAMPLES, CliRun, sample_organisation
from tests.edibot_process import EDIBOT


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The data folder an operator points edibot at; nothing is in it yet."""
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    return tmp_path / "data"


def edibot_in(data: Path, *args: str) -> tuple[int, str, str]:
    """`edibot ARGS…` in-process with EDIBOT_DATA_DIR=data; returns (exit code, stdout, stderr)."""
    runner = CliRunner(env={"EDIBOT_DATA_DIR": str(data), "DATABASE_URL": None, "EDIBOT_DATABASE_URL": None})
    result = runner.invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_the_first_command_makes_a_database_only_its_owner_can_read_and_says_where(data: Path) -> None:
    code, out, err = edibot_in(data, "plans")

    file = data / "edibot.sqlite3"
    assert code == 0 and "No plans yet" in out
    assert f"Created an empty edibot database at {file}" in err
    assert file.stat().st_mode & 0o777 == 0o600
    assert data.stat().st_mode & 0o777 == 0o700
    assert (data / MARKER).exists()


def test_edibot_run_never_starts_on_a_database_of_its_own_making(data: Path) -> None:
    code, out, err = edibot_in(data, "run", "--once")

    assert code != 0 and out == ""
    assert f"edibot has no database at {data / 'edibot.sqlite3'} yet" in err and "`edibot init`" in err
    assert not data.exists()


def test_a_lost_database_is_not_replaced_by_an_empty_one_until_the_operator_runs_edibot_init(
    data: Path, tmp_path: Path
) -> None:
    plan = tmp_path / "plan.csv"
    shutil.copy(SAMPLES / "northbridge_edi_plan.csv", plan)
    edibot_in(data, "import", str(plan), "--plan", "Northbridge EDI Plan")
    file = data / "edibot.sqlite3"
    file.unlink()

    code, out, err = edibot_in(data, "plans")
    assert code != 0 and out == ""
    assert f"edibot's database {file} is missing, though this folder has held one" in err
    assert "Put the file back (from a backup)" in err and "run `edibot init`" in err
    assert not file.exists()

    code, out, _ = edibot_in(data, "init")
    assert code == 0
    assert f"Created an empty edibot database at {file}" in out
    assert "The database that was here before is not in it" in out
    assert file.stat().st_mode & 0o777 == 0o600
    assert "No plans yet" in edibot_in(data, "plans")[1]
    assert "is there and up to date; nothing was changed" in edibot_in(data, "init")[1]


def test_edibot_init_leaves_a_working_database_as_it_is(cli: CliRun) -> None:
    code, out, _ = cli("init")

    assert code == 0 and "is there and up to date; nothing was changed" in out
    assert ":edibot@" not in out  # a PostgreSQL password is never printed


def test_a_database_file_replaced_mid_conversation_is_refused_until_edibot_restarts(data: Path) -> None:
    store = Database.open(sqlite_url(data))
    morning = datetime(2025, 11, 3, 9, 30, tzinfo=LONDON)
    sample_organisation(store, now=morning)
    store.dispose()
    file = data / "edibot.sqlite3"
    backup = data.parent / "backup.sqlite3"
    shutil.copy(file, backup)
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("DATABASE_URL", "EDIBOT_DATABASE_URL")
    }
    env.update(EDIBOT_DATA_DIR=str(data), PYTHONUNBUFFERED="1")
    console = subprocess.Popen(
        [EDIBOT, "console", "--as", "Grace Liu"],
        env=env,
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert console.stdin is not None
    said: list[str] = []  # what edibot prints, line by line, as it runs
    reader = threading.Thread(target=lambda: said.extend(console.stdout or ()), daemon=True)
    reader.start()
    try:
        console.stdin.write("/edi mine\n")
        console.stdin.flush()
        deadline = time.monotonic() + 30
        while not any("open action" in line for line in said) and time.monotonic() < deadline:
            time.sleep(0.1)
        backup.replace(file)  # a backup restored under the running edibot
        console.stdin.write("/edi note NO-4 Legal signed it off on Tuesday\n")
        console.stdin.close()
        console.wait(timeout=30)
    finally:
        console.kill()
        reader.join(timeout=5)
    log = console.stderr.read() if console.stderr else ""
    restarted = subprocess.run(
        [EDIBOT, "show", "NO-4"], env=env, capture_output=True, text=True, timeout=60, check=False
    )

    assert any("open action" in line for line in said), said
    assert DATA_UNREACHABLE in "".join(said).replace("\n", " ")
    assert "Noted" not in "".join(said)
    assert f"ERROR refused a request: edibot's database file {file} was replaced by another file" in log
    assert "Restart edibot to use the file that is there now" in log
    assert restarted.returncode == 0, restarted.stderr
    assert "Refresh the equality impact assessment template" in restarted.stdout
    assert "signed it off" not in restarted.stdout  # the note went nowhere: neither file has it
