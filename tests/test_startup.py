"""`edibot --help` answers at once: the command line's modules load only typer, rich and the standard
library, and the database, the importer, settings, the calendar and the platforms' SDKs load in the command
that uses them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

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
