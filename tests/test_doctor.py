"""`edibot doctor` as an IT team meets it: on a healthy set-up every line is ok and the exit status 0; each
thing wrong (settings, data folder, database, schema, Slack's or Teams' credentials, the clock) is one
PROBLEM line saying what was found and how to fix it, and the exit status is 1.

Slack and Entra are the local stand-ins (tests/slack_standin.py, tests/teams_standin.py), reached over real
HTTP(S) as the real ones would be.
"""

from __future__ import annotations

import getpass
import os
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from alembic import command
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import text
from typer.testing import CliRunner

from bot.cli import app
from bot.slack.installations import Cipher, EncryptedInstallationStore, new_key
from schedules.leader import Leader
from storage.db import Database, alembic_config
from storage.models import SLACK_BOTS, SLACK_INSTALLATIONS
from tests.conftest import LONDON, POSTGRES_URL, SAMPLES
from tests.slack_standin import SlackStandIn
from tests.teams_standin import TENANT_ID, EntraStandIn

Doctor = Callable[..., tuple[int, dict[str, str], str]]


@pytest.fixture
def doctor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Doctor:
    """Runs `edibot [--now T] doctor` with these settings (a SQLite data folder in tmp_path unless told);
    returns (exit code, {check: its line(s)}, the whole output)."""
    monkeypatch.chdir(tmp_path)  # no stray .env is read

    def run(env: dict[str, str] | None = None, now: str | None = None) -> tuple[int, dict[str, str], str]:
        settings = {
            "EDIBOT_DATA_DIR": str(tmp_path / "data"),
            "EDIBOT_TIMEZONE": "Europe/London",
            **(env or {}),
        }
        result = CliRunner(env=settings).invoke(app, [*(["--now", now] if now else []), "doctor"])
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        checks: dict[str, str] = {}
        name = ""
        for line in result.stdout.splitlines():
            if line.startswith(("ok ", "PROBLEM ", "skipped ")):
                status, rest = line.split(maxsplit=1)
                name = next(n for n in CHECKS if rest.startswith(n))
                checks[name] = f"{status} {rest[len(name) :].strip()}"
            elif line.startswith(" ") and name:
                checks[name] += "\n" + line.strip()
        return result.exit_code, checks, result.stdout

    return run


CHECKS = (
    "Configuration",
    "Data folder",
    "Database",
    "Schema",
    "Slack",
    "Teams",
    "Scheduler lock",
    "Clock and time zones",
)


def initialised(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'data' / 'edibot.sqlite3'}"
    Database.open(url, create="if-missing").dispose()
    return url


# -- healthy -----------------------------------------------------------------------------------------------


def test_a_console_only_set_up_is_healthy_and_says_what_it_checked(doctor: Doctor, tmp_path: Path) -> None:
    initialised(tmp_path)
    code, checks, out = doctor()
    assert code == 0, out
    assert list(checks) == list(CHECKS)
    assert checks["Configuration"] == (
        f"ok settings read: database SQLite in {tmp_path / 'data'}, time zone Europe/London, platforms: none "
        "(console only)"
    )
    assert checks["Data folder"] == f"ok {tmp_path / 'data'} is writable"
    assert checks["Database"] == f"ok sqlite at {tmp_path / 'data' / 'edibot.sqlite3'} answers"
    assert checks["Schema"] == "ok at revision 0018, the newest this edibot knows"
    assert checks["Slack"] == "skipped not configured (no SLACK_BOT_TOKEN or SLACK_CLIENT_ID)"
    assert checks["Teams"] == "skipped not configured (no EDIBOT_TEAMS_APP_ID)"
    assert checks["Scheduler lock"] == "ok free: no edibot has run the scheduler on this database yet"
    assert checks["Clock and time zones"].startswith("ok time zone data present; it is ")
    assert out.rstrip().endswith("Everything configured works.")


def test_doctor_changes_nothing_not_even_an_old_schema(doctor: Doctor, tmp_path: Path) -> None:
    url = initialised(tmp_path)
    database = Database.open(url, migrate=False)
    command.downgrade(alembic_config(database.engine), "0012")
    database.dispose()

    code, checks, _ = doctor()

    assert code == 1
    assert checks["Schema"] == (
        "PROBLEM at revision 0012; this edibot needs 0018\n"
        "Fix: Back it up (`edibot backup FILE`), then run `edibot init`, which upgrades it to the newest "
        "revision and changes nothing else (`edibot run` also upgrades it when it starts)."
    )
    database = Database.open(url, migrate=False)
    with database.engine.connect() as connection:
        assert connection.scalar(text("SELECT version_num FROM alembic_version")) == "0012"
    database.dispose()


def test_the_scheduler_lock_says_who_holds_it(doctor: Doctor, tmp_path: Path) -> None:
    database = Database.open(initialised(tmp_path), migrate=False)
    leader = Leader(database)
    assert leader.acquire(datetime(2025, 11, 3, 9, 30, tzinfo=LONDON))
    database.dispose()

    code, checks, _ = doctor(now="2025-11-03T09:31")
    assert code == 0
    assert checks["Scheduler lock"] == (
        f"ok held by process {leader.holder} until 09:32:00 (a running edibot leads the reminders)"
    )
    code, checks, _ = doctor(now="2025-11-03T10:00")
    assert checks["Scheduler lock"] == (
        f"ok free: the last leader ({leader.holder}) let it go at 3 Nov 2025 09:32; if edibot should be "
        "running now, it has stopped"
    )


# -- settings, folder, database ------------------------------------------------------------------------------


def test_a_wrong_setting_is_reported_by_name_and_the_rest_waits_for_it(doctor: Doctor) -> None:
    code, checks, _ = doctor({"EDIBOT_TIMEZONE": "Mars/Olympus", "EDIBOT_DAILY_NUDGE_CAP": "many"})
    assert code == 1
    assert checks["Configuration"].startswith(
        "PROBLEM Setting problem — EDIBOT_TIMEZONE: 'Mars/Olympus' is not an IANA time zone"
    )
    assert "EDIBOT_DAILY_NUDGE_CAP" in checks["Configuration"]
    assert "Fix: Correct the variables named" in checks["Configuration"]
    assert checks["Database"] == "skipped the configuration must be fixed first"


def test_a_missing_data_folder_and_database_say_to_run_init(doctor: Doctor, tmp_path: Path) -> None:
    code, checks, _ = doctor()
    assert code == 1
    assert checks["Data folder"].startswith(f"PROBLEM {tmp_path / 'data'} does not exist")
    assert "Fix: Run `edibot init`" in checks["Data folder"]
    assert checks["Database"].startswith(
        f"PROBLEM edibot has no database at {tmp_path / 'data' / 'edibot.sqlite3'}"
    )
    assert checks["Schema"] == "skipped the database must be reachable first"
    assert not (tmp_path / "data").exists()  # doctor made nothing


def test_a_data_folder_edibot_cannot_write_is_a_problem(doctor: Doctor, tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the data folder should be", encoding="utf-8")
    code, checks, _ = doctor({"EDIBOT_DATA_DIR": str(blocked)})
    assert code == 1
    assert checks["Data folder"].startswith(f"PROBLEM edibot can't write in {blocked}: {blocked} is a file")
    assert "Fix: Give the user edibot runs as write access" in checks["Data folder"]


def test_a_folder_this_user_may_not_write_in_is_a_problem(doctor: Doctor, tmp_path: Path) -> None:
    read_only = tmp_path / "read-only"
    read_only.mkdir()
    read_only.chmod(0o500)
    try:
        (read_only / "probe").touch()
    except PermissionError:
        pass
    else:  # root writes anywhere its permissions are concerned; a read-only mount still stops it
        read_only = Path("/sys")
        if os.access(read_only, os.W_OK) and not _refuses_files(read_only):
            pytest.skip("no folder here refuses this user (root, and /sys is writable)")
    code, checks, _ = doctor({"EDIBOT_DATA_DIR": str(read_only)})
    assert code == 1
    assert checks["Data folder"].startswith(
        f"PROBLEM edibot can't write in {read_only}: this user ({getpass.getuser()}) may not write in it"
    )


def _refuses_files(folder: Path) -> bool:
    try:
        with tempfile.TemporaryFile(dir=folder):
            return False
    except OSError:
        return True


def test_an_unreachable_database_server_is_a_problem_with_its_address(doctor: Doctor) -> None:
    code, checks, _ = doctor({"DATABASE_URL": "postgresql://edibot:secret@127.0.0.1:9/edibot"})
    assert code == 1
    assert checks["Database"].startswith(
        "PROBLEM edibot can't reach its database at postgresql://edibot:***@127.0.0.1:9/edibot ("
    )
    assert "secret" not in checks["Database"]
    assert "Fix: Check that the server is running" in checks["Database"]
    assert checks["Data folder"].startswith("ok ")  # with PostgreSQL, no data folder is needed


def test_an_empty_database_and_one_a_newer_edibot_upgraded_are_problems(
    doctor: Doctor, tmp_path: Path
) -> None:
    url = initialised(tmp_path)
    database = Database.open(url, migrate=False)
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0042'"))
    code, checks, _ = doctor()
    assert code == 1
    assert checks["Schema"].startswith(
        "PROBLEM at revision 0042, which this edibot (revisions up to 0018) does not know: a newer edibot "
        "has upgraded it"
    )
    with database.engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))
    database.dispose()
    code, checks, _ = doctor()
    assert code == 1 and checks["Schema"].startswith("PROBLEM the database is empty: it has no edibot tables")


@pytest.mark.db
@pytest.mark.skipif(not POSTGRES_URL, reason="needs EDIBOT_TEST_DATABASE_URL on PostgreSQL")
def test_a_postgresql_database_is_checked_too(doctor: Doctor, postgres_schema: Callable[[], str]) -> None:
    url = postgres_schema()
    code, checks, out = doctor({"DATABASE_URL": url})
    assert code == 1 and checks["Schema"].startswith("PROBLEM the database is empty")
    Database.open(url).dispose()
    code, checks, out = doctor({"DATABASE_URL": url})
    assert code == 0, out
    assert checks["Database"].startswith("ok postgresql at postgresql+psycopg://")


# -- the clock -----------------------------------------------------------------------------------------------


def test_a_clock_behind_the_data_already_written_is_a_problem(doctor: Doctor, tmp_path: Path) -> None:
    from storage.importing.service import import_plan  # noqa: PLC0415

    database = Database.open(initialised(tmp_path), migrate=False)
    import_plan(
        database, SAMPLES / "northbridge_edi_plan.csv", now=datetime(2025, 11, 3, 9, 30, tzinfo=LONDON)
    )
    database.dispose()
    code, checks, _ = doctor(now="2025-11-10T09:00")
    assert code == 0
    code, checks, _ = doctor(now="2024-11-03T09:00")
    assert code == 1
    assert checks["Clock and time zones"] == (
        "PROBLEM this system's clock says 3 Nov 2024 09:00, but the database holds changes made at "
        "3 Nov 2025 09:30: the clock is behind\n"
        "Fix: Set the system clock right (enable NTP: timedatectl set-ntp true)."
    )


# -- Slack ---------------------------------------------------------------------------------------------------


def test_slack_accepting_the_bot_token_is_ok_and_refusing_it_is_a_problem(
    doctor: Doctor, tmp_path: Path
) -> None:
    initialised(tmp_path)
    with SlackStandIn() as api:
        slack = {"SLACK_SIGNING_SECRET": "8f742231b10e8888abcd99yyyzzz85a5", "EDIBOT_SLACK_API_URL": api.url}
        code, checks, out = doctor({**slack, "SLACK_BOT_TOKEN": api.token})
        assert code == 0, out
        assert checks["Slack"] == "ok Slack accepts the token of Northbridge (T0NORTHBR1) as @edibot"
        assert [call.method for call in api.calls] == ["auth.test"]

        code, checks, _ = doctor({**slack, "SLACK_BOT_TOKEN": "xoxb-revoked-or-mistyped"})
        assert code == 1
        assert checks["Slack"] == (
            "PROBLEM Slack refused SLACK_BOT_TOKEN (invalid_auth)\n"
            "Fix: Copy the Bot User OAuth Token (xoxb-…) again from your app's OAuth & Permissions page; if "
            "the app was uninstalled or its token revoked, reinstall it."
        )

        code, checks, _ = doctor({"SLACK_BOT_TOKEN": api.token, "EDIBOT_SLACK_API_URL": api.url})
        assert code == 1
        assert checks["Slack"].startswith("PROBLEM SLACK_SIGNING_SECRET is not set")
        assert len(api.calls) == 2  # no call when a setting is missing
    code, checks, _ = doctor({**slack, "SLACK_BOT_TOKEN": api.token})  # the stand-in has stopped
    assert code == 1 and checks["Slack"].startswith(f"PROBLEM Slack's API at {api.url} could not be reached")


def test_each_workspace_installed_by_oauth_is_asked(doctor: Doctor, tmp_path: Path) -> None:
    key = new_key()
    database = Database.open(initialised(tmp_path), migrate=False)
    with SlackStandIn() as api:
        EncryptedInstallationStore(
            cipher=Cipher([key]),
            client_id="1234.5678",
            engine=database.engine,
            bots_table_name=SLACK_BOTS,
            installations_table_name=SLACK_INSTALLATIONS,
        ).save(
            Installation(
                app_id="A0EDIBOT01",
                team_id="T0NORTHBR1",
                bot_token=api.token,
                bot_id="B0EDIBOT01",
                bot_user_id="U0EDIBOT01",
                user_id="U00000001",
                installed_at=time.time(),
            )
        )
        database.dispose()
        oauth = {
            "SLACK_SIGNING_SECRET": "8f742231b10e8888abcd99yyyzzz85a5",
            "EDIBOT_SLACK_API_URL": api.url,
            "SLACK_CLIENT_ID": "1234.5678",
            "SLACK_CLIENT_SECRET": "client-secret",
        }
        code, checks, _ = doctor({**oauth, "EDIBOT_SECRET_KEY": key})
        assert code == 0
        assert checks["Slack"] == "ok Slack accepts the token of Northbridge (T0NORTHBR1) as @edibot"

        code, checks, _ = doctor({**oauth, "EDIBOT_SECRET_KEY": new_key()})
        assert code == 1 and checks["Slack"].startswith("PROBLEM ")
        assert "EDIBOT_SECRET_KEY" in checks["Slack"]
        code, checks, _ = doctor(oauth)
        assert code == 1 and checks["Slack"].startswith("PROBLEM EDIBOT_SECRET_KEY is not set")


# -- Teams ---------------------------------------------------------------------------------------------------


def test_teams_credentials_entra_accepts_are_ok_and_a_wrong_secret_is_a_problem(
    doctor: Doctor, tmp_path: Path
) -> None:
    initialised(tmp_path)
    with EntraStandIn(tmp_path) as entra:
        teams = {
            **entra.trust(),
            "EDIBOT_TEAMS_APP_ID": entra.app_id,
            "EDIBOT_TEAMS_LOGIN_URL": entra.login_url,
            "EDIBOT_TEAMS_TENANT_ID": TENANT_ID,
        }
        code, checks, out = doctor({**teams, "EDIBOT_TEAMS_APP_PASSWORD": entra.password})
        assert code == 0, out
        assert checks["Teams"] == f"ok Entra gives edibot (app {entra.app_id}) a token for the Bot Connector"
        assert entra.tokens_issued == 1

        code, checks, _ = doctor({**teams, "EDIBOT_TEAMS_APP_PASSWORD": "an-expired-secret"})
        assert code == 1
        assert checks["Teams"].startswith("PROBLEM Entra refused edibot's Teams credentials (invalid_client)")
        assert "Fix: Make a new client secret" in checks["Teams"]

        code, checks, _ = doctor(teams)
        assert code == 1 and checks["Teams"].startswith("PROBLEM EDIBOT_TEAMS_APP_PASSWORD is not set")
        assert entra.tokens_issued == 1
