"""The HTML report in a real browser: headless Chromium (Debian's `chromium`, which .ci/run installs)
renders it, takes a screenshot on a desk and on a phone and prints it to an A4 PDF, and the tests assert on
what it drew — charts of a real size with bars in them, one table row per action, no sideways scrolling on a
phone, a page count that fits the plan.

Playwright drives the system's browser by its path (no `playwright install`). Where there is no Chromium (a
developer's machine) the tests skip, saying so; CI has one, so they run there. The screenshots and PDF are
left in the test's folder (pytest prints it on failure) for a person to look at.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pdfplumber
import pytest

from bot.console import FakeClock
from handlers.reports import report_file
from storage.db import Database
from storage.importing.service import import_plan
from storage.people import import_people
from storage.queries import plan_named
from storage.reports import report_facts
from tests.builders import write_csv
from tests.conftest import SAMPLES
from tests.transcript import Transcript

LONDON = ZoneInfo("Europe/London")
CHROMIUM = next(
    (p for p in ("/usr/bin/chromium", shutil.which("chromium") or "") if p and Path(p).exists()), None
)
PHONE = {"width": 375, "height": 812}
DESK = {"width": 1280, "height": 900}

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (the [test] extra) is not installed")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium at /usr/bin/chromium to draw the report in (CI installs it with apt-get)",
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


def plan_of(size: int) -> list[list[str]]:
    """A plan of `size` actions over three themes, a third of them overdue, owners shared out."""
    themes = ["Leadership and accountability", "Workforce", "Communities"]
    owners = ["HR Manager", "EDI Lead", "Comms & Events", "Digital Services", "Policy Team"]
    rags = ["G", "A", "R", "", "B"]
    rows = [["Theme", "Action", "Lead", "Timescale", "RAG", "Progress update"]]
    for n in range(size):
        rows.append(
            [
                themes[n * 3 // size],
                f"Action {n + 1}: review how the council does thing {n + 1} and publish what it finds",
                owners[n % 5],
                "Sept 25" if n % 3 == 0 else "June 2026",
                rags[n % 5],
                f"Progress note {n + 1}: met the team, agreed the next steps and wrote them up",
            ]
        )
    return rows


def rendered_report(store: Database, tmp_path: Path, *, size: int) -> tuple[Path, int]:
    """The plan imported on 3 Nov 2025, some weeks of changes, and its HTML report as of 8 Dec written out."""
    clock = FakeClock(datetime(2025, 11, 3, 9, 30, tzinfo=LONDON))
    import_plan(store, write_csv(tmp_path / "plan.csv", plan_of(size)), now=clock.now(), plan_name="Big Plan")
    import_people(store, SAMPLES / "northbridge_people.csv", now=clock.now())  # Priya Shah, a plan admin
    transcript = Transcript(store, clock)
    for week, ref in enumerate(("BI-1", "BI-2", "BI-4"), start=1):
        transcript.at(f"2025-11-{3 + 7 * week:02d}T10:00")
        transcript.say("@Priya Shah", f"/edi red {ref} stuck in week {week}")
        transcript.expect_reply(f"{ref} is now Red")
    now = datetime(2025, 12, 8, 9, 0, tzinfo=LONDON)
    with store.session() as session:
        plan = plan_named(session, "Big Plan")
        assert plan is not None
        facts = report_facts(session, plan, as_of=now, now=now)
    path = tmp_path / "report.html"
    path.write_bytes(report_file(facts, "html").content)
    return path, len(facts.actions)


def test_the_report_renders_with_charts_every_action_and_fits_a_phone(
    browser: Any, store: Database, tmp_path: Path
) -> None:
    path, actions = rendered_report(store, tmp_path, size=40)
    page = browser.new_page(viewport=DESK)
    page.goto(path.as_uri())
    page.screenshot(path=tmp_path / "desk.png", full_page=True)

    charts = page.evaluate(
        """[...document.querySelectorAll('svg.chart')].map(svg => {
            const box = svg.getBoundingClientRect();
            return {title: svg.querySelector('title').textContent, width: box.width, height: box.height,
                    bars: [...svg.querySelectorAll('g[id^=patch] path')].filter(p => {
                        const b = p.getBoundingClientRect(); return b.width > 0 && b.height > 0; }).length};
        })"""
    )
    assert [chart["title"] for chart in charts] == [
        "RAG ratings over time",
        "Progress by theme",
        "Overdue actions by owner",
    ]
    for chart in charts:
        assert chart["width"] > 600 and chart["height"] > 150, chart
        assert chart["bars"] >= 3, chart  # drawn marks, not an empty frame
    assert page.locator("table.actions tbody tr").count() == actions == 40
    assert page.locator("table.actions thead th[scope=col]").count() == 7
    assert page.get_by_role("heading", name="Overdue by owner").is_visible()

    page.set_viewport_size(PHONE)
    page.screenshot(path=tmp_path / "phone.png", full_page=True)
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page scrolls sideways on a phone: {width}"
    first_row = page.locator("table.actions tbody tr").first.bounding_box()
    assert first_row is not None and first_row["width"] <= PHONE["width"]
    page.close()


# The charts and the sections above the table take about three pages; the table adds a page per few actions.
@pytest.mark.parametrize(("size", "fewest", "most"), [(12, 2, 6), (120, 10, 40)])
def test_the_report_prints_on_a4_with_a_page_count_that_fits_the_plan(
    browser: Any, store: Database, tmp_path: Path, size: int, fewest: int, most: int
) -> None:
    path, _ = rendered_report(store, tmp_path, size=size)
    page = browser.new_page()
    page.goto(path.as_uri())
    pdf = tmp_path / "report.pdf"
    page.pdf(path=pdf, prefer_css_page_size=True, print_background=True)
    page.close()
    with pdfplumber.open(pdf) as document:
        pages = len(document.pages)
        first = document.pages[0]
        assert (round(first.width), round(first.height)) == (595, 842)  # A4 in points
        text = "\n".join(p.extract_text() or "" for p in document.pages)
        # Each page of the action table repeats its header row.
        headed = sum("Ref Action Theme Owners" in (p.extract_text() or "") for p in document.pages)
    assert fewest <= pages <= most, f"{pages} pages for {size} actions"
    assert "Big Plan: progress report" in text
    assert f"Action {size}:" in text  # the last row is printed, not cut off
    if size > 12:
        assert headed >= 2
