"""The `edibot` command line as a plan owner uses it: import, list, show, and every bad input refused
plainly."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy import func, select
from typer.testing import CliRunner

from bot.cli import app
from storage.db import Database
from storage.models import Action, Plan
from tests.builders import write_csv, write_password_protected_office_file, write_sized_file
from tests.edibot_process import EDIBOT

Run = Callable[..., tuple[int, str, str]]

PLAN = [
    ["Theme", "Action", "Lead", "Timescale", "RAG"],
    ["Leadership", "Publish the action plan", "Policy, Communities and Engagement", "Complete", "B"],
    ["", "Set EDI objectives for directors", "Chief Executive / HR Manager", "Sept 23", "A"],
    ["Workforce", "Review recruitment adverts", "HR Manager", "Nov 2022 & Ongoing", "G"],
    ["", "Run the staff survey", "HR Manager", "Next staff survey", ""],
]


@pytest.fixture
def edibot(cli: Run, tmp_path: Path) -> Run:
    """Runs `edibot ARGS…` in-process against the test database; returns (exit code, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        return cli("--now", "2024-01-15T09:30", *args)

    return run


@pytest.fixture
def plan_csv(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "plan.csv", PLAN)


def counts(url: str) -> tuple[int, int]:
    database = Database.open(url, migrate=False)
    with database.session() as session:
        plans = session.scalar(select(func.count()).select_from(Plan)) or 0
        actions = session.scalar(select(func.count()).select_from(Action)) or 0
    database.dispose()
    return plans, actions


def test_import_json_prints_exactly_the_documented_shape_and_nothing_else(
    edibot: Run, plan_csv: Path
) -> None:
    code, out, err = edibot("import", str(plan_csv), "--plan", "Local Trust", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert set(data) == {"plan", "actions", "problems", "summary"}
    assert data["summary"] == {
        "added": 4,
        "changed": 0,
        "unchanged": 0,
        "archived": 0,
        "rows": 4,
        "rows_as_actions": 4,
        "rows_as_headings": 0,
        "rows_reported": 0,
        "not_used": [],
    }
    first = data["actions"][0]
    assert set(first) == {
        "ref",
        "theme",
        "title",
        "description",
        "owners",
        "deadline_text",
        "start_date",
        "due_date",
        "kind",
        "recurrence",
        "rag",
        "warnings",
    }
    ongoing = data["actions"][2]
    assert (ongoing["kind"], ongoing["due_date"], ongoing["theme"]) == ("ongoing", "2022-11-30", "Workforce")
    assert data["problems"] == [
        {
            "row": 5,
            "column": "Timescale",
            "text": "Next staff survey",
            "message": (
                "'Next staff survey' is not a date I understand; kept as text; the owner will be "
                "asked to set a date."
            ),
        }
    ]


def test_import_shows_a_readable_table_and_the_cells_that_need_a_look(edibot: Run, plan_csv: Path) -> None:
    code, out, _ = edibot("import", str(plan_csv), "--plan", "Local Trust")
    assert code == 0
    assert "Local Trust: 4 actions" in out and "LT-1" in out and "Leadership" in out
    assert "4 added, 0 changed, 0 unchanged, 0 archived" in out
    assert "Row 5, Timescale: 'Next staff survey' is not a date I understand" in out


def test_a_dry_run_saves_nothing(edibot: Run, plan_csv: Path, database_url: str) -> None:
    code, out, _ = edibot("import", str(plan_csv), "--dry-run")
    assert code == 0 and "dry run: nothing was saved" in out
    assert counts(database_url) == (0, 0)


def test_plans_actions_and_show_answer_from_the_store(edibot: Run, plan_csv: Path) -> None:
    edibot("import", str(plan_csv), "--plan", "Local Trust")
    code, out, _ = edibot("plans")
    assert code == 0 and "Local Trust" in out and "LT" in out
    code, out, _ = edibot("actions", "--owner", "hr manager", "--json")
    assert [a["ref"] for a in json.loads(out)["actions"]] == ["LT-2", "LT-3", "LT-4"]
    code, out, _ = edibot("actions", "--overdue", "--json")
    # LT-3 is "Nov 2022 & Ongoing": ongoing after November 2022, checked in on, not overdue.
    assert [a["ref"] for a in json.loads(out)["actions"]] == ["LT-2"]
    code, out, _ = edibot("actions", "--due-before", "2023-10-01", "--json")
    assert [a["ref"] for a in json.loads(out)["actions"]] == ["LT-2", "LT-3"]
    code, out, _ = edibot("show", "lt-2")
    assert code == 0
    assert "Set EDI objectives for directors" in out and "Chief Executive · HR Manager" in out
    assert "due 30 Sep 2023" in out and "History" in out


def bad_files(tmp_path: Path) -> dict[str, Path]:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    corrupt = tmp_path / "corrupt.docx"
    corrupt.write_bytes(b"PK\x03\x04 this is not really a Word document")
    utf32 = tmp_path / "utf32.csv"
    utf32.write_bytes("Action,Owner\nReview,HR\n".encode("utf-32-le"))
    folder = tmp_path / "folder.xlsx"
    folder.mkdir()
    odd = tmp_path / "plan.pages"
    odd.write_text("x")
    return {
        "missing": tmp_path / "nowhere.docx",
        "empty": empty,
        "directory": folder,
        "unsupported": odd,
        "corrupt docx": corrupt,
        "password xlsx": write_password_protected_office_file(tmp_path / "locked.xlsx"),
        "encoding": utf32,
        "no columns": write_csv(tmp_path / "people.csv", [["Name", "Email"], ["Amina", "amina@example.org"]]),
        "50 MB": write_sized_file(tmp_path / "huge.xlsx", 50 * 1024 * 1024),
    }


@pytest.mark.parametrize(
    ("case", "says"),
    [
        ("missing", "nowhere.docx"),
        ("empty", "empty"),
        ("directory", "folder"),
        ("unsupported", ".pages"),
        ("corrupt docx", "corrupt.docx"),
        ("password xlsx", "password-protected"),
        ("encoding", "UTF-8"),
        ("no columns", "Name | Email"),
        ("50 MB", "50 MB"),
    ],
)
def test_a_bad_file_gets_one_clear_sentence_a_failure_status_and_changes_nothing(
    edibot: Run,
    tmp_path: Path,
    database_url: str,
    case: str,
    says: str,
) -> None:
    path = bad_files(tmp_path)[case]
    code, out, err = edibot("import", str(path), "--json")
    assert code != 0
    assert out == ""  # nothing on stdout for a script to mistake for JSON
    assert says in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert counts(database_url) == (0, 0)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["import", "{plan}", "--map", "owner"], "write it as COLUMN=Header"),
        (["import", "{plan}", "--map", "colour=Lead"], "not a kind of column"),
        (["import", "{plan}", "--map", "owner=Officer"], "no column in plan.csv is headed 'Officer'"),
        (["actions", "--due-before", "next week"], "is not a date"),
        (["show", "XX-99"], "No action has the reference 'XX-99'"),
    ],
)
def test_a_wrong_option_or_reference_is_refused_plainly(
    edibot: Run,
    plan_csv: Path,
    database_url: str,
    args: list[str],
    says: str,
) -> None:
    code, _, err = edibot(*[arg.replace("{plan}", str(plan_csv)) for arg in args])
    assert code != 0 and says in err
    assert counts(database_url) == (0, 0)


def test_a_wrong_setting_stops_edibot_naming_the_variable(tmp_path: Path) -> None:
    runner = CliRunner(env={"EDIBOT_TIMEZONE": "Mars/Olympus", "EDIBOT_DATA_DIR": str(tmp_path)})
    result = runner.invoke(app, ["plans"])
    assert result.exit_code != 0
    assert "EDIBOT_TIMEZONE" in result.stderr and "Mars/Olympus" in result.stderr


def installed_demo(folder: Path) -> subprocess.CompletedProcess[str]:
    """`edibot demo --data-dir FOLDER/demo`, as a newcomer runs the installed command, from FOLDER."""
    return subprocess.run(
        [EDIBOT, "demo", "--data-dir", str(folder / "demo")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=folder,
        check=False,
    )


def test_the_installed_command_runs_the_demo_end_to_end(tmp_path: Path) -> None:
    result = installed_demo(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "15 added, 0 changed, 0 unchanged, 0 archived" in result.stdout
    assert "1 added, 4 changed, 10 unchanged, 1 archived" in result.stdout
    assert "Only NO-6's owners (HR Manager) or a plan admin can change it" in result.stdout
    assert "rag: green → amber (from northbridge_edi_plan_revised.csv)" in result.stdout


def test_the_demo_runs_again_in_the_folder_it_made_last_time(tmp_path: Path) -> None:
    # A newcomer's second `make demo` must start afresh, not trip over the demo's own files (its scheduler
    # lock).
    runs = [installed_demo(tmp_path) for _ in range(2)]
    assert [run.returncode for run in runs] == [0, 0], runs[1].stderr + runs[1].stdout
    assert "15 added, 0 changed, 0 unchanged, 0 archived" in runs[1].stdout


def test_the_demo_shows_why_each_reminder_goes_and_what_an_escalation_says(tmp_path: Path) -> None:
    result = installed_demo(tmp_path)
    assert result.returncode == 0, result.stderr
    reminders = result.stdout.split("Two months pass", 1)[1]
    # The first round after the import: one welcome per owner, one summary for the plan admin
    assert "Thu 4 Dec 09:31 → Tom Okafor: Welcome to edibot, Tom — with buttons for NO-2" in reminders
    assert "Thu 4 Dec 09:31 → Priya Shah: Northbridge EDI Plan is on edibot — " in reminders
    assert "Sam Patel: Sam, 1 EDI action needs you — NO-10 monthly check-in" in reminders
    # A plain reply answers the message it follows, as in a Slack or Teams thread: Amina's welcome asked
    # for NO-9's date (its only step that day), so her reply dates NO-9, not the first card shown.
    assert (
        "Thu 4 Dec @Amina Khan: new date end of February\n"
        "  edibot: NO-9 is now due 28 February 2026 (“end of February”)." in reminders
    )
    # The quarterly NO-3 is due Tuesday 3 February: its 3-days-before step, a Saturday, goes on Monday.
    assert "Mon 2 Feb 09:31 → Priya Shah: Priya, 1 EDI action needs you — NO-3 due in 1 day" in reminders
    # due Wed 31 Dec; overdue reminders come on the owners' reminder day, Monday
    assert "— NO-2 overdue by 5 days" in reminders and "— NO-2 due in 14 days" in reminders
    # Tom and Dafydd had their overdue reminders on 5 and 12 January and said nothing since
    assert (
        "Mon 19 Jan 09:31 → Priya Shah: NO-2 escalated: owned by Chief Executive · HR Manager, last said "
        "“objectives go to SMT in January”" in reminders
    )
    assert "admin note: 5 owner roles have nobody to remind\n" in reminders
    # The working group's channel gets the weekly digest through the outbox, the first in full
    assert "@Priya Shah: /edi digest subscribe #edi-working-group plan:Northbridge" in reminders
    assert "→ #edi-working-group: Weekly digest · Northbridge EDI Plan · week of 4 Dec 2025" in reminders
    assert "*Overdue, oldest first (1)*" in reminders
    assert "Mon 26 Jan 09:31 → #edi-working-group: Weekly digest" in reminders  # and every Monday


def _connections_to(url: str) -> int:
    """How many connections this process holds to the database: PostgreSQL's own count, or SQLite files."""
    if url.startswith("sqlite"):
        path = os.path.realpath(url.removeprefix("sqlite:///"))
        return sum(os.path.realpath(fd.path) == path for fd in os.scandir("/proc/self/fd") if fd.is_symlink())
    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
    with engine.connect() as connection:
        count = connection.execute(
            sqlalchemy.text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        ).scalar_one()
    engine.dispose()
    return int(count) - 1  # not the one asking


def test_commands_give_their_database_connections_back(edibot: Run, database_url: str) -> None:
    edibot("plans")
    before = _connections_to(database_url)
    for _ in range(8):
        edibot("plans")
    assert _connections_to(database_url) == before


def run_from(folder: Path, *args: str, **environment: str) -> subprocess.CompletedProcess[str]:
    """The installed `edibot`, started in FOLDER (where a .env may be) with these extra environment values."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("EDIBOT_")}
    return subprocess.run(
        [EDIBOT, *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=folder,
        env=env | environment,
        check=False,
    )


def test_run_options_written_in_dotenv_are_taken_as_the_other_settings_are(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("EDIBOT_WORKERS=99\n", encoding="utf-8")

    refused = run_from(tmp_path, "run", "--slack-http")

    assert refused.returncode == 2  # taken from .env and checked: 99 is beyond --workers' 64
    assert "EDIBOT_WORKERS" in refused.stderr and "less than or equal to 64" in refused.stderr


def test_the_environment_wins_over_dotenv_for_run_options(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("EDIBOT_WORKERS=0\n", encoding="utf-8")  # refused as under 1

    refused = run_from(tmp_path, "run", "--slack-http", EDIBOT_WORKERS="70")

    assert refused.returncode == 2  # refused for the environment's 70, not the file's 0
    assert "less than or equal to 64" in refused.stderr and "greater than" not in refused.stderr


def test_a_reader_that_stops_early_stops_edibot_quietly(tmp_path: Path) -> None:
    # `edibot … | head`: the reader goes once it has its lines, while edibot is still writing. Five times,
    # as the moment the pipe closes varies (before the fix, 9 runs in 10 said "Broken pipe").
    for _ in range(5):
        piped = subprocess.run(
            ["bash", "-c", f"'{EDIBOT}' teams --help | head -12 >/dev/null"],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
            check=False,
        )
        assert piped.stderr == ""
