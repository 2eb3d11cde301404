"""`edibot console`: a scripted conversation run from the command line, on the real command layer and
store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from storage.db import Database
from tests.conftest import SAMPLES, imported_by_cli
from tests.transcript import history, snapshot

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def edibot(cli: Run, tmp_path: Path) -> Run:
    """Runs `edibot ARGS…` in-process on the test database, with the sample plan and people imported by the
    CLI."""
    run = cli

    imported_by_cli(run, now="2025-11-03T09:00")
    code, out, err = run("people", "import", str(SAMPLES / "northbridge_people.csv"))
    assert code == 0 and "7 people added" in out, err
    return run


def script(tmp_path: Path, text: str) -> str:
    path = tmp_path / "conversation.txt"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_script_prints_every_reply_and_changes_the_store(
    edibot: Run, tmp_path: Path, store: Database
) -> None:
    conversation = script(
        tmp_path,
        "# Monday morning\n"
        "\n"
        "@Amina Khan: /edi mine\n"
        "@Amina Khan: /edi amber NO-6\n"
        "@Amina Khan: the agency is still rewriting the adverts\n"
        "   # an indented comment\n"
        ":time 2025-11-04T10:00\n"
        "@Dafydd Evans: /edi show NO-5\n"
        "@Dafydd Evans: 1\n",
    )
    code, out, err = edibot("--now", "2025-11-03T09:30", "console", "--script", conversation)
    assert code == 0, err
    assert "Monday morning" not in out and "indented comment" not in out
    assert out.splitlines()[:5] == [
        "@Amina Khan: /edi mine",
        "  edibot: *Your 3 open actions, 1 overdue*",
        "  edibot: NO-2 · Set EDI objectives for every director · Sept 25 (due 30 Sep 2025) — overdue by 34 "
        "days · Amber",
        "  edibot: NO-6 · Review recruitment adverts for inclusive language · Nov 2025 & Ongoing "
        "(ongoing, first due 30 Nov 2025) · Green",
        "  edibot: NO-9 · Run the staff EDI survey · Next staff survey (no date yet) · not rated",
    ]
    for line in [
        "  edibot:   ? What's putting it at risk? — reply with your answer",
        "  edibot: NO-6 is now Amber (was Green), marked by Amina Khan — “the agency is still rewriting the "
        "adverts”.",
        "-- Tuesday 4 November 2025, 10:00",
        "  edibot:   [1] Green  [2] Amber  [3] Red  [4] Done  [5] Snooze 1 week  [6] Add note  [7] Not mine",
        "@Dafydd Evans: 1",
        "  edibot: NO-5 is now Green (was Red), marked by Dafydd Evans.",
    ]:
        assert line in out.splitlines(), f"{line!r} not in:\n{out}"

    assert snapshot(store, "NO-6")["rag"] == "amber"
    pressed = history(store, "NO-5")[0]
    assert (pressed.actor, pressed.field, pressed.to_value, pressed.surface) == (
        "Dafydd Evans",
        "rag",
        "green",
        "console",
    )
    assert (pressed.at.day, pressed.at.hour) == (4, 10)


def test_pressing_a_button_number_that_is_not_there_says_so_and_changes_nothing(
    edibot: Run, tmp_path: Path, store: Database
) -> None:
    conversation = script(tmp_path, "@Dafydd Evans: /edi show NO-5\n@Dafydd Evans: 9\n")
    code, out, err = edibot("--now", "2025-11-03T09:30", "console", "--script", conversation)
    assert code == 0, err
    assert "  edibot: There is no button 9; the last message had 7." in out.splitlines()
    assert snapshot(store, "NO-5")["rag"] == "red"


def test_a_bad_script_line_stops_the_run_naming_the_line(
    edibot: Run, tmp_path: Path, store: Database
) -> None:
    for text, complaint in [
        (
            "# one\n@Amina Khan: /edi mine\n@Zed Unknown: /edi done NO-6\n@Amina Khan: /edi done NO-6\n",
            "Line 3: nobody called 'Zed Unknown' is in the people directory.",
        ),
        (
            "@Amina Khan: /edi mine\nAmina Khan says /edi done NO-6\n@Amina Khan: /edi done NO-6\n",
            "Line 2: write '@Person Name: message', '# a comment' or ':time 2025-03-03T09:00' "
            "(got 'Amina Khan says /edi done NO-6').",
        ),
        ("@Amina Khan:\n@Amina Khan: /edi done NO-6\n", "Line 1: write '@Person Name: message'"),
        (
            "\n:time next Tuesday\n@Amina Khan: /edi done NO-6\n",
            "Line 2: 'next Tuesday' is not a time such as 2025-03-03T09:00.",
        ),
    ]:
        code, out, err = edibot("--now", "2025-11-03T09:30", "console", "--script", script(tmp_path, text))
        assert code == 1, out
        assert complaint in err, err
        assert "/edi done NO-6" not in out  # nothing after the bad line ran
    assert snapshot(store, "NO-6")["status"] == "open"


def test_console_refuses_to_start_without_knowing_who_you_are(edibot: Run, tmp_path: Path) -> None:
    code, _, err = edibot("console")
    assert code == 1 and 'Say who you are: edibot console --as "Amina Khan"' in err

    code, _, err = edibot("console", "--as", "Zed Unknown")
    assert code == 1 and "Nobody called 'Zed Unknown' is in the people directory" in err

    code, _, err = edibot("console", "--script", str(tmp_path / "missing.txt"))
    assert code == 1 and "I can't read the script" in err


def test_the_interactive_console_answers_what_you_type_and_presses_buttons_by_number(
    database_url: str, edibot: Run, store: Database
) -> None:
    runner = CliRunner(env={"EDIBOT_DATABASE_URL": database_url, "EDIBOT_TIMEZONE": "Europe/London"})
    result = runner.invoke(
        app, ["console", "--as", "Dafydd Evans"], input="/edi show NO-5\n2\ntrainer booked, dates not yet\n"
    )
    assert result.exit_code == 0, result.stderr
    assert "You are Dafydd Evans. Type /edi help, a number to press a button" in result.stdout
    assert "  edibot: *NO-5 · Train report authors on equality impact assessments*" in result.stdout
    assert "  edibot:   ? What's putting it at risk? — reply with your answer" in result.stdout  # 2 is Amber
    assert (
        "  edibot: NO-5 is now Amber (was Red), marked by Dafydd Evans — “trainer booked, dates not yet”."
        in (result.stdout)
    )
    assert snapshot(store, "NO-5")["rag"] == "amber"


def test_a_report_asked_for_in_the_console_is_saved_in_the_data_folder_and_the_reply_says_where(
    edibot: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDIBOT_DATA_DIR", str(tmp_path / "data"))
    conversation = script(tmp_path, "@Amina Khan: /edi report csv\n@Amina Khan: /edi report csv\n")

    code, out, err = edibot("--now", "2025-11-03T09:30", "console", "--script", conversation)

    assert code == 0, err
    folder = tmp_path / "data" / "reports"
    first, second = (
        folder / "northbridge-edi-plan-2025-11-03.csv",
        folder / "northbridge-edi-plan-2025-11-03-2.csv",
    )
    assert (
        f"saved as {first}]" in out and f"saved as {second}]" in out
    )  # the second never overwrites the first
    assert first.read_bytes() == second.read_bytes()
    assert "Set EDI objectives for every director" in first.read_text(encoding="utf-8-sig")
