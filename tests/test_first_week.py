"""A newcomer's first week with a real plan: nothing they type destroys data, no traceback reaches them, bad
input is refused at the door with a sentence, and the words edibot uses read right."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.console import ConsoleSession, FakeClock, render
from bot.demo import DEMO_MARK
from handlers.core import Actor
from handlers.errors import DATA_UNREACHABLE
from handlers.registry import command_layer
from storage.db import Database, make_engine
from storage.people import import_people
from tests.builders import write_csv
from tests.conftest import LONDON, SAMPLES, CliRun
from tests.edibot_process import EDIBOT
from tests.transcript import Transcript, history, nothing_changes, snapshot

PLAN = [
    ["Theme", "Action", "Lead", "Timescale", "RAG"],
    ["Leadership", "Publish the action plan", "Policy, Communities and Engagement", "Complete", "B"],
    ["", "Set EDI objectives for directors", "Chief Executive / HR Manager", "Sept 23", "A"],
    ["Workforce", "Review recruitment adverts", "HR Manager", "Nov 2022 & Ongoing", "G"],
    ["", "Run the staff survey", "HR Manager", "March 2024", ""],
]
OTHER_PLAN = [
    ["Theme", "Action", "Lead", "Timescale"],
    ["Estates", "Audit step-free access", "Estates Manager", "June 2024"],
    ["Estates", "Fit hearing loops", "Estates Manager", "Sept 2024"],
]


@pytest.fixture
def edibot(cli: CliRun) -> CliRun:
    def run(*args: str) -> tuple[int, str, str]:
        return cli("--now", "2024-01-15T09:30", *args)

    return run


@pytest.fixture
def plan_csv(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "plan.csv", PLAN)


def shell(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """The installed `edibot ARGS…` in a subprocess, as a person runs it: a real traceback would show here."""
    keep = {name: os.environ[name] for name in ("PATH", "PYTHONPATH", "HOME") if name in os.environ}
    return subprocess.run(
        [EDIBOT, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={**keep, **env},
        check=False,
    )


def one_sentence(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# -- nothing a user types destroys data -------------------------------------------------------------------


def demo_in(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    runner = CliRunner(
        env={"EDIBOT_DATA_DIR": str(tmp_path / "live"), "DATABASE_URL": None, "EDIBOT_DATABASE_URL": None}
    )
    result = runner.invoke(app, ["demo", *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_the_demo_refuses_a_folder_holding_other_files_and_leaves_them_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "budget.xlsx").write_text("precious")
    code, _, err = demo_in(tmp_path, "--data-dir", str(folder))
    assert code == 1
    assert f"{folder} holds files the demo did not make (budget.xlsx), so the demo won't touch it" in err
    assert sorted(p.name for p in folder.iterdir()) == ["budget.xlsx"]


def test_the_demo_refuses_the_live_data_folder_and_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = demo_in(tmp_path, "--data-dir", str(tmp_path / "live"))
    assert code == 1 and "is edibot's live data folder (EDIBOT_DATA_DIR), so the demo won't use it" in err
    (tmp_path / "notes.txt").write_text("keep me")
    code, _, err = demo_in(tmp_path, "--data-dir", str(tmp_path / "notes.txt"))
    assert code == 1 and "notes.txt is a file, not a folder" in err
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_the_demo_uses_its_own_folder_inside_the_data_folder_and_marks_it(tmp_path: Path) -> None:
    live = tmp_path / "live"
    result = shell("demo", env={"EDIBOT_DATA_DIR": str(live)}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (live / "demo" / DEMO_MARK).exists() and (live / "demo" / "edibot.sqlite3").exists()
    assert sorted(p.name for p in live.iterdir()) == ["demo"]  # the live database is not made or touched


def test_a_file_that_would_archive_most_of_a_plan_asks_for_replace_and_names_what(
    edibot: CliRun, plan_csv: Path, tmp_path: Path, store: Database
) -> None:
    assert edibot("import", str(plan_csv), "--plan", "Local Trust")[0] == 0
    other = write_csv(tmp_path / "estates.csv", OTHER_PLAN)
    with nothing_changes(store):
        code, _, err = edibot("import", str(other), "--plan", "Local Trust")
    assert code == 1
    assert "estates.csv would archive 4 of the 4 actions in 'Local Trust' (LT-1, LT-2, LT-3, LT-4)" in err
    assert "import it again with --replace" in err

    code, out, _ = edibot("import", str(other), "--plan", "Local Trust", "--replace")
    assert code == 0 and "2 added, 0 changed, 0 unchanged, 4 archived" in out


def test_a_re_import_without_plan_goes_back_into_the_plan_it_matched_and_says_so(
    edibot: CliRun, plan_csv: Path
) -> None:
    assert edibot("import", str(plan_csv), "--plan", "Local Trust")[0] == 0
    code, out, err = edibot("import", str(plan_csv))
    assert code == 0
    assert "plan.csv was imported into 'Local Trust' before, so it updates that plan" in err
    assert "0 added, 0 changed, 4 unchanged, 0 archived" in out
    code, out, _ = edibot("plans")
    assert "Local Trust" in out and "│ plan " not in out


# -- no traceback reaches a user -----------------------------------------------------------------------


def test_a_people_csv_with_an_unquoted_comma_is_reported_by_line(edibot: CliRun, tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_text(
        "owner,name,email\n"
        "HR Manager,Amina Khan,amina@example.org\n"
        "Policy, Communities and Engagement,Sam Patel,sam@example.org\n"
    )
    code, out, err = edibot("people", "import", str(people))
    assert code == 0, err
    assert "1 people added" in out
    assert "Line 3: more cells than columns" in out and 'needs quotes ("Policy, Communities' in out


@pytest.mark.parametrize(
    ("setup", "says"),
    [
        ("file", "data is a file, not a folder."),
        ("under-a-file", "data is a file, not a folder."),
        ("sys", "this user may not write in /sys"),
    ],
)
def test_a_data_folder_edibot_cannot_use_is_one_sentence_not_a_traceback(
    tmp_path: Path, setup: str, says: str
) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("not a folder")
    data = {"file": blocker, "under-a-file": blocker / "edibot", "sys": Path("/sys/edibot-test")}[setup]
    for command in (["init"], ["plans"], ["demo", "--data-dir", str(data / "demo")]):
        result = shell(*command, env={"EDIBOT_DATA_DIR": str(data)}, cwd=tmp_path)
        said = one_sentence(result)
        assert says in said and "a folder this user can write" in said, (command, said)


def test_a_database_server_that_is_down_is_one_sentence_without_the_password(tmp_path: Path) -> None:
    url = "postgresql://edibot:secret@127.0.0.1:9/edibot"  # port 9 (discard): nothing listens there
    for command in (["plans"], ["init"], ["run", "--once"]):
        said = one_sentence(shell(*command, env={"DATABASE_URL": url}, cwd=tmp_path))
        assert said.startswith(
            "edibot can't reach its database at postgresql://edibot:***@127.0.0.1:9/edibot"
        )
        assert "Check that the database server is running" in said and "secret" not in said


def test_a_wrong_database_url_names_the_variable_once(tmp_path: Path) -> None:
    said = one_sentence(shell("plans", env={"EDIBOT_DATABASE_URL": "mysql://x/y"}, cwd=tmp_path))
    assert said == "Setting problem — EDIBOT_DATABASE_URL: use a sqlite:/// or postgresql:// URL"


# -- validation at the door ------------------------------------------------------------------------------


def test_bad_emails_working_days_and_time_zones_in_the_people_csv_are_reported_by_line(
    edibot: CliRun, tmp_path: Path
) -> None:
    people = write_csv(
        tmp_path / "people.csv",
        [
            ["owner", "name", "email", "timezone", "working_days", "nation", "send_time"],
            ["HR Manager", "Amina Khan", "amina@example.org", "Europe/London", "Monday to Thursday", "", ""],
            ["Estates", "Sam Patel", "sam.example.org", "", "", "", ""],
            ["Comms", "Grace Liu", "grace@example.org", "Mars/Olympus", "", "", ""],
            ["Legal", "Tom Okafor", "tom@example.org", "", "Funday to Blursday", "Atlantis", "25:00"],
        ],
    )
    code, out, err = edibot("people", "import", str(people))
    assert code == 0, err
    assert "2 people added" in out
    assert "Line 3: 'sam.example.org' is not an email address" in out and "Sam Patel skipped" in out
    assert "Line 4: 'Mars/Olympus' is not a time zone such as Europe/London; Grace Liu skipped." in out
    assert "Line 5: working_days 'Funday to Blursday' names no days" in out and "kept Mon-Fri" in out
    assert "Line 5: nation 'Atlantis' should be one of" in out and "Line 5: send_time" in out
    code, out, _ = edibot("people", "list")
    assert "Amina Khan" in out and "Tom Okafor" in out and "Sam Patel" not in out


def test_the_people_csv_sets_each_persons_reminder_day_and_reports_a_bad_one_by_line(
    edibot: CliRun, tmp_path: Path, store: Database
) -> None:
    people = write_csv(
        tmp_path / "people.csv",
        [
            ["owner", "name", "email", "working_days", "reminder_day"],
            ["HR Manager", "Amina Khan", "amina@example.org", "Mon-Fri", "Wednesday"],
            ["Estates", "Sam Patel", "sam@example.org", "Mon-Thu", "Fri"],
            ["Comms", "Grace Liu", "grace@example.org", "", "someday"],
            ["Legal", "Tom Okafor", "tom@example.org", "Tue-Fri", ""],
        ],
    )
    code, out, err = edibot("people", "import", str(people))

    assert code == 0, err
    assert "4 people added" in out
    assert (
        "Line 3: reminder_day Friday isn't one of their working days (Mon-Thu); kept Monday for Sam Patel."
        in out
    )
    assert (
        "Line 4: reminder_day 'someday' is not a day of the week (write Monday, Tue, …); kept Monday" in out
    )
    layer = command_layer(store, FakeClock(datetime(2025, 11, 3, 9, tzinfo=LONDON)))
    said = {
        name: "\n".join(render(layer.handle(Actor(surface="console", name=name), "/edi reminders").reply))
        for name in ("Amina Khan", "Sam Patel", "Tom Okafor")
    }
    assert "come together on Wednesdays" in said["Amina Khan"]  # as `/edi reminders wednesday` sets it
    assert "come together on Mondays" in said["Sam Patel"]
    assert "come together on Tuesdays" in said["Tom Okafor"]  # the first of his working days


def test_a_deadline_before_2000_is_refused_in_chat_and_pointed_out_on_import(
    transcript: Transcript, store: Database, edibot: CliRun, tmp_path: Path
) -> None:
    with nothing_changes(store):
        transcript.say("@Amina Khan", "/edi due NO-6 1/1/1900")
    transcript.expect_reply(
        "'1/1/1900' reads as 1 Jan 1900, before 2000: check the year. I haven't changed NO-6."
    )
    with nothing_changes(store):
        transcript.say("@Amina Khan", "/edi due NO-6 31/12/2150")
    transcript.expect_reply("after 2100: check the year")

    old = write_csv(
        tmp_path / "old.csv", [PLAN[0], ["Leadership", "Publish the plan", "HR Manager", "1/1/1900", ""]]
    )
    code, out, _ = edibot("import", str(old), "--plan", "Old")
    assert (
        code == 0 and "Row 2, Timescale: '1/1/1900' reads as 1 Jan 1900, before 2000: check the year." in out
    )


def test_a_blank_owner_is_refused(transcript: Transcript, store: Database) -> None:
    with nothing_changes(store):
        transcript.say("@Priya Shah", '/edi owner NO-6 add ""')
    transcript.expect_reply(
        'Name the owner: `/edi owner NO-6 add "HR Manager"`. I haven\'t changed anything.'
    )


def test_switching_to_somebody_unknown_in_the_console_is_refused(database_url: str, tmp_path: Path) -> None:
    database = Database.open(database_url, migrate=False)
    import_people(
        database, SAMPLES / "northbridge_people.csv", now=datetime(2025, 11, 3, 9, 30, tzinfo=LONDON)
    )
    database.dispose()
    result = subprocess.run(
        [EDIBOT, "console", "--as", "Amina Khan"],
        input=":as Nobody\n/edi help\n",
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={**os.environ, "EDIBOT_DATABASE_URL": database_url},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Nobody called 'Nobody' is in the people directory; you are still Amina Khan." in result.stdout
    assert "Nobody>" not in result.stdout and "Amina Khan> " in result.stdout


def test_a_script_with_a_bad_line_runs_nothing_at_all(
    cli: CliRun, tmp_path: Path, store: Database, transcript: Transcript
) -> None:
    script = tmp_path / "week.txt"
    script.write_text(
        "@Amina Khan: /edi done NO-6\n@Amina Khan: /edi green NO-9\nAmina says hello\n:time soon\n"
    )
    with nothing_changes(store):
        code, out, err = cli("--now", "2025-11-03T09:30", "console", "--script", str(script))
    assert code == 1 and out == ""
    assert "Line 3: write '@Person Name: message'" in err and "Line 4: 'soon' is not a time" in err
    assert "Nothing in the script was run: every line is checked first." in err


# -- housekeeping ---------------------------------------------------------------------------------------


def test_version_people_list_and_unmapped_roles(edibot: CliRun, plan_csv: Path) -> None:
    code, out, _ = edibot("--version")
    assert code == 0 and out.startswith("edibot ")
    assert edibot("import", str(plan_csv), "--plan", "Local Trust")[0] == 0
    code, out, _ = edibot("people", "list")
    assert code == 0 and "Nobody yet" in out
    code, out, _ = edibot("people", "list", "--unmapped")
    assert "2 owner roles with nobody to remind:" in out and "HR Manager" in out and "Chief Executive" in out
    assert edibot("people", "import", str(SAMPLES / "northbridge_people.csv"))[0] == 0
    code, out, _ = edibot("people", "list")
    assert "Amina Khan" in out and "Internal Comms" in out and "amina.khan@northbridge.example" in out
    code, out, _ = edibot("people", "list", "--unmapped")
    assert out.strip() == "Every owner on an open action is mapped to someone."


def test_a_plan_is_renamed_and_archived_with_its_history_kept(
    edibot: CliRun, plan_csv: Path, store: Database
) -> None:
    assert edibot("import", str(plan_csv), "--plan", "Local Trust")[0] == 0
    code, out, _ = edibot("plan", "rename", "local trust", "Local Trust 2024-27")
    assert (
        code == 0
        and "'Local Trust' is now called 'Local Trust 2024-27'; its actions keep their references" in out
    )
    with nothing_changes(store):
        code, _, err = edibot("plan", "archive", "Nope")
    assert code == 1 and "No plan is called 'Nope'. The plans are 'Local Trust 2024-27'." in err
    code, out, _ = edibot("plan", "archive", "Local Trust 2024-27")
    assert code == 0 and "4 actions archived and its reminders stopped" in out
    assert edibot("actions")[1].strip() == "No actions match."
    assert snapshot(store, "LT-2")["archived"] is True
    assert [(r.field, r.to_value, r.note) for r in history(store, "LT-2")[:1]] == [
        ("archived", "yes", "plan Local Trust 2024-27 archived")
    ]
    code, out, _ = edibot("show", "LT-2")
    assert code == 0 and "archived" in out


def test_the_actions_list_reads_at_80_columns_and_wide_gives_everything(
    database_url: str, plan_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = {"EDIBOT_DATABASE_URL": database_url, "EDIBOT_TIMEZONE": "Europe/London", "COLUMNS": "80"}
    runner = CliRunner(env=env)
    runner.invoke(app, ["--now", "2024-01-15T09:30", "import", str(plan_csv), "--plan", "Local Trust"])
    out = runner.invoke(app, ["--now", "2024-01-15T09:30", "actions"]).stdout
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "Policy, Communities" in out and "Engagement" in out  # whole words, wrapped
    assert "Set EDI objectives for" in out and "overdue" in out and "4 actions" in out
    wide = runner.invoke(app, ["--now", "2024-01-15T09:30", "actions", "--wide"]).stdout
    assert "Nov 2022 & Ongoing" in wide and "When (as written)" in wide


# -- the right words ------------------------------------------------------------------------------------


def test_one_action_is_one_action_and_owners_are_told_apart(edibot: CliRun, tmp_path: Path) -> None:
    single = write_csv(tmp_path / "one.csv", [PLAN[0], PLAN[1]])
    code, out, _ = edibot("import", str(single), "--plan", "Tiny")
    assert code == 0 and "Tiny: 1 action" in out and "1 actions" not in out
    two = write_csv(
        tmp_path / "two.csv",
        [
            PLAN[0],
            ["Leadership", "Publish it", "Policy, Communities and Engagement; Human Resources", "2024", ""],
        ],
    )
    edibot("import", str(two), "--plan", "Two")
    code, out, _ = edibot("show", "TW-1")
    assert "Owners: Policy, Communities and Engagement · Human Resources" in out
    assert "the plan file: created" in out and "import via import" not in out


def test_the_manifest_takes_the_events_address_or_the_base_address_alike(edibot: CliRun) -> None:
    for url in ("https://h.example", "https://h.example/", "https://h.example/slack/events"):
        code, out, _ = edibot("slack", "manifest", "--url", url)
        assert (
            code == 0 and "https://h.example/slack/events" in out and "/slack/events/slack/events" not in out
        )


def test_run_once_says_when_nothing_was_due(edibot: CliRun, plan_csv: Path) -> None:
    edibot("import", str(plan_csv), "--plan", "Local Trust")
    code, out, err = edibot("run", "--once")
    assert code == 0, err
    assert out.strip().splitlines()[-1] == "Nothing was due at 15 January 2024 09:30: no reminders sent."


def test_import_json_is_unchanged_by_the_new_checks(edibot: CliRun, plan_csv: Path) -> None:
    code, out, _ = edibot("import", str(plan_csv), "--plan", "Local Trust", "--json")
    assert code == 0 and set(json.loads(out)) == {"plan", "actions", "problems", "summary"}


def test_a_chat_message_while_the_database_server_is_down_gets_an_apology_not_a_traceback(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    down = Database(make_engine("postgresql://edibot:secret@127.0.0.1:9/edibot"))  # nothing listens on port 9
    said: list[str] = []
    session = ConsoleSession(command_layer(down, clock), write=said.append)
    session.say("Amina Khan", "/edi mine")
    assert said == [f"  edibot: {DATA_UNREACHABLE}"]
    assert "refused a request" in caplog.text
