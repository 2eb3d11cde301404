"""Benchmark: import a 10,000-row XLSX plan into a fresh SQLite store (target: at most 3 s). Prints its
figures."""

from __future__ import annotations

import random
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import Workbook

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from results import record  # noqa: E402

from storage.db import Database, sqlite_url  # noqa: E402
from storage.importing.readers import read_plan_file  # noqa: E402
from storage.importing.service import import_plan  # noqa: E402
from storage.importing.tables import interpret_document  # noqa: E402
from storage.rules.deadlines import clear_deadline_cache  # noqa: E402

ROWS = 10_000
TARGET_SECONDS = 3.0
THEMES = ["Leadership", "Workforce", "Communities", "Service delivery", "Data and insight"]
OWNERS = [
    "HR Manager",
    "Policy, Communities and Engagement",
    "Health & Safety",
    "Equalities Team",
    "Director of Delivery / Head of Research",
    "People Services; Internal Comms",
    "Digital Services",
]
WHEN = [
    "June 23",
    "Sept 24",
    "31/3/25",
    "Q3 2024",
    "Q1 2024/25",
    "Q1 2024 - Q2 2024",
    "Ongoing",
    "Annually",
    "Nov 2022 & Ongoing",
    "From April 2025",
    "Complete",
    "Next staff survey",
    "",
    "June/July 2024",
    "2025",
]
VERBS = [
    "Review",
    "Publish",
    "Train",
    "Launch",
    "Embed",
    "Survey",
    "Refresh",
    "Audit",
    "Support",
    "Report on",
]
OBJECTS = [
    "recruitment adverts",
    "the pay gap report",
    "staff networks",
    "equality impact assessments",
    "the website's accessibility",
    "hate crime reporting",
    "the induction process",
    "board diversity",
]


def build(path: Path) -> None:
    rng = random.Random(2024)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Action plan"
    sheet.append(["Northbridge Council EDI Action Plan 2024-27"])
    sheet.append([])
    sheet.append(["Theme", "Action", "Lead", "Timescale", "RAG", "Progress update"])
    for number in range(ROWS):
        theme = THEMES[number * len(THEMES) // ROWS] if number % (ROWS // len(THEMES)) == 0 else None
        title = f"{rng.choice(VERBS)} {rng.choice(OBJECTS)} ({number + 1})"
        sheet.append([theme, title, rng.choice(OWNERS), rng.choice(WHEN), rng.choice("RAGB "), "On track"])
    book.save(path)


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        plan = Path(folder) / "big_plan.xlsx"
        build(plan)
        size_mb = plan.stat().st_size / 1_000_000
        database = Database.open(sqlite_url(Path(folder) / "data"))
        now = datetime(2024, 1, 15, 9, 30, tzinfo=ZoneInfo("Europe/London"))

        clear_deadline_cache()
        started = time.perf_counter()
        document = read_plan_file(plan)
        read_s = time.perf_counter() - started
        parsed = interpret_document(document)
        interpret_s = time.perf_counter() - started - read_s

        clear_deadline_cache()
        started = time.perf_counter()
        result = import_plan(database, plan, now=now, plan_name="Big plan")
        first_s = time.perf_counter() - started
        started = time.perf_counter()
        again = import_plan(database, plan, now=now, plan_name="Big plan")
        second_s = time.perf_counter() - started
        database.dispose()

    verdict = "PASS" if first_s <= TARGET_SECONDS else "FAIL"
    print(f"rows in the workbook:       {ROWS:,} ({size_mb:.1f} MB)")
    print(f"read XLSX:                  {read_s:.2f} s")
    print(
        f"interpret rows:             {interpret_s:.2f} s ({len(parsed.actions):,} actions, "
        f"{len(parsed.problems):,} problems)"
    )
    print(f"first import, end to end:   {first_s:.2f} s ({result.summary.added:,} added)")
    print(f"re-import, end to end:      {second_s:.2f} s ({again.summary.unchanged:,} unchanged)")
    print(f"target {TARGET_SECONDS:.0f} s for the first import: {verdict}")
    record(
        f"import of a {ROWS:,}-row XLSX plan",
        first_s,
        "s",
        target=f"≤ {TARGET_SECONDS:.0f} s",
        passed=verdict == "PASS",
    )
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    raise SystemExit(main())
