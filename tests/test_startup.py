"""`edibot --help` answers at once: the command line's modules load only typer, rich and the standard
library, and the database, the importer, settings, the calendar and the platforms' SDKs load in the command
that uses them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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


def python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    """A fresh interpreter, as a person's shell starts one."""
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT, check=False
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
