"""The newcomer's tour: import the bundled sample plan, re-import a revision, and show what changed."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from importlib.resources import as_file, files
from pathlib import Path

from rich.console import Console
from rich.rule import Rule

from bot.render import print_action, print_history, print_import
from storage.db import Database, sqlite_url
from storage.importing.service import import_plan
from storage.queries import action_by_ref, history_of

SAMPLE = "northbridge_edi_plan.csv"
REVISED = "northbridge_edi_plan_revised.csv"
PLAN = "Northbridge EDI Plan"


def run_demo(*, data_dir: Path, now: datetime, console: Console) -> None:
    """Runs on a fresh SQLite database in `data_dir`, so it shows the same story every time."""
    shutil.rmtree(data_dir, ignore_errors=True)
    database = Database.open(sqlite_url(data_dir))
    samples = files("bot") / "samples"
    try:
        console.print(Rule(f"1. Importing the sample plan ({SAMPLE})"))
        with as_file(samples / SAMPLE) as path:
            first = import_plan(database, path, now=now, plan_name=PLAN)
        print_import(console, first)

        later = now + timedelta(days=30)
        console.print(Rule(f"2. A month later the plan owner sends a revision ({REVISED})"))
        with as_file(samples / REVISED) as path:
            second = import_plan(database, path, now=later, plan_name=PLAN)
        summary = second.summary
        console.print(
            f"Re-import: {summary.added} added, {summary.changed} changed, {summary.unchanged} unchanged, "
            f"{summary.archived} archived — references stay the same, nothing is duplicated."
        )
        changed = next(a for a in second.actions if a["title"].startswith("Train report authors"))
        console.print(Rule(f"3. One action in full: edibot show {changed['ref']}"))
        with database.session() as session:
            action = action_by_ref(session, changed["ref"])
            assert action is not None
            print_action(console, action)
            print_history(console, history_of(session, action))
    finally:
        database.dispose()
    console.print(Rule("Try it yourself"))
    edibot = f"EDIBOT_DATA_DIR={data_dir} .venv/bin/edibot --now {later:%Y-%m-%dT%H:%M}"
    console.print(
        f"The demo database is in {data_dir}, and the demo's clock stopped at {later:%d %B %Y}. Explore it:\n"
        f"  {edibot} plans\n"
        f"  {edibot} actions --overdue\n"
        f"  {edibot} show {changed['ref']}\n"
        'Import your own plan with: .venv/bin/edibot import YOUR_PLAN.docx --plan "Our EDI plan" --dry-run',
        highlight=False,
    )
