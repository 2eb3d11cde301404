"""Progress reports for boards and committees: the plan as it stood on any day, rebuilt from its history, with
RAG over time, progress by theme, overdue by owner and what changed — as HTML, XLSX, CSV or Markdown, from
`edibot report`.

The world is the `transcript` fixture's: the Northbridge sample plan (NO-1…NO-15) imported on Monday
3 November 2025 at 09:30 in London. Over four weeks on the fake clock its owners change it:

    10 Nov  Amina Khan rates NO-2 red ("budget frozen")          NO-2 was amber
    17 Nov  Dafydd Evans marks NO-5 done ("all trained")           NO-5 was red
    24 Nov  Amina Khan rates NO-2 green ("budget agreed")
    1 Dec   Priya Shah (admin) adds Comms & Events to NO-12's owners   it was Digital Services' alone
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from handlers.errors import CommandError
from handlers.reports import build_report, report_file
from storage.db import Database
from storage.importing.service import import_plan
from storage.queries import plan_named
from storage.reports import ReportFacts, report_facts
from tests.conftest import CliRun
from tests.transcript import Transcript, history, nothing_changes, snapshot

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2025, 12, 8, 9, 0, tzinfo=LONDON)
PLAN = "Northbridge EDI Plan"
ROOT = Path(__file__).resolve().parents[1]


def four_weeks(transcript: Transcript) -> None:
    transcript.at("2025-11-10T10:00")
    transcript.say("@Amina Khan", "/edi red NO-2 budget frozen")
    transcript.at("2025-11-17T10:00")
    transcript.say("@Dafydd Evans", "/edi done NO-5 all trained")
    transcript.at("2025-11-24T10:00")
    transcript.say("@Amina Khan", "/edi green NO-2 budget agreed")
    transcript.at("2025-12-01T10:00")
    transcript.say("@Priya Shah", '/edi owner NO-12 add "Comms & Events"')
    transcript.expect_reply("NO-12")


def facts_of(store: Database, *, as_of: datetime, theme: str | None = None) -> ReportFacts:
    with store.session() as session:
        plan = plan_named(session, PLAN)
        assert plan is not None
        return report_facts(session, plan, as_of=as_of, now=NOW, theme=theme)


def action(facts: ReportFacts, ref: str) -> object:
    return next(found for found in facts.actions if found.ref == ref)


# -- the plan as of a day ----------------------------------------------------------------------------------


def test_a_report_as_of_a_day_before_a_change_shows_the_plan_as_it_was_then(
    transcript: Transcript, store: Database
) -> None:
    four_weeks(transcript)
    now = facts_of(store, as_of=NOW)
    then = facts_of(store, as_of=datetime(2025, 11, 12, 17, 0, tzinfo=LONDON))

    no2_now, no2_then = action(now, "NO-2"), action(then, "NO-2")
    assert (no2_now.rag, no2_now.note) == ("green", "budget agreed")  # type: ignore[attr-defined]
    assert (no2_then.rag, no2_then.note) == ("red", "budget frozen")  # type: ignore[attr-defined]
    assert action(then, "NO-5").status == "open"  # type: ignore[attr-defined]
    assert action(now, "NO-5").bucket == "done"  # type: ignore[attr-defined]
    assert action(then, "NO-12").owners == ("Digital Services",)  # type: ignore[attr-defined]
    # (Owners added in chat all have position 0, so the store gives no order between them.)
    assert sorted(action(now, "NO-12").owners) == ["Comms & Events", "Digital Services"]  # type: ignore[attr-defined]
    # Overdue by the one rule, on the report's own day: NO-2 was due end of September 2025.
    assert action(then, "NO-2").overdue_days == 43  # type: ignore[attr-defined]
    assert then.counts == {"red": 2, "amber": 1, "green": 4, "done": 1, "unrated": 7}
    assert now.counts == {"red": 0, "amber": 1, "green": 5, "done": 2, "unrated": 7}


def test_rag_over_time_has_a_point_a_week_rebuilt_from_history(
    transcript: Transcript, store: Database
) -> None:
    four_weeks(transcript)
    facts = facts_of(store, as_of=NOW)
    red = {f"{day:%d %b}": counts["red"] for day, counts in facts.timeline}
    done = {f"{day:%d %b}": counts["done"] for day, counts in facts.timeline}
    # Weekly from as-of back to the plan's import (the 3 Nov point, 09:00, is before the 09:30 import).
    assert list(red) == ["10 Nov", "17 Nov", "24 Nov", "01 Dec", "08 Dec"]
    assert red == {"10 Nov": 1, "17 Nov": 2, "24 Nov": 1, "01 Dec": 0, "08 Dec": 0}
    assert done == {"10 Nov": 1, "17 Nov": 1, "24 Nov": 2, "01 Dec": 2, "08 Dec": 2}


def test_progress_by_theme_and_overdue_by_owner(transcript: Transcript, store: Database) -> None:
    four_weeks(transcript)
    facts = facts_of(store, as_of=NOW)
    themes = dict(facts.by_theme)
    assert list(themes) == ["Leadership and accountability", "Workforce", "Communities"]
    assert themes["Leadership and accountability"] == {
        "red": 0,
        "amber": 0,
        "green": 3,
        "done": 2,
        "unrated": 0,
    }
    owners = {owner: [a.ref for a in found] for owner, found in facts.overdue_by_owner}
    # NO-2 (Sept 25) has two owners and counts for each; NO-4 (31/10/25) and NO-13 (Oct 25) are overdue too.
    assert owners == {
        "Chief Executive": ["NO-2"],
        "HR Manager": ["NO-2"],
        "Comms & Events": ["NO-13"],
        "Legal Services": ["NO-4"],
        "Policy Team": ["NO-4"],
    }
    workforce = facts_of(store, as_of=NOW, theme="workforce")
    assert [a.ref for a in workforce.actions] == ["NO-6", "NO-7", "NO-8", "NO-9", "NO-10"]
    assert workforce.overdue_by_owner == ()


def test_what_changed_lists_each_thing_done_once_newest_first(
    transcript: Transcript, store: Database
) -> None:
    four_weeks(transcript)
    facts = facts_of(store, as_of=NOW)  # since: four weeks before, 10 Nov 09:00
    lines = [(c.ref, c.field, c.from_value, c.to_value, c.actor, c.note) for c in facts.changes]
    assert lines == [
        ("NO-12", "owners", "Digital Services", "Digital Services · Comms & Events", "Priya Shah", None),
        ("NO-2", "rating", "red", "green", "Amina Khan", "budget agreed"),
        ("NO-5", "status", "open", "done", "Dafydd Evans", "all trained"),
        ("NO-2", "rating", "amber", "red", "Amina Khan", "budget frozen"),
    ]
    earlier = facts_of(store, as_of=datetime(2025, 11, 20, 12, 0, tzinfo=LONDON))
    assert {c.ref for c in earlier.changes} >= {"NO-1", "NO-15"}  # the import on 3 Nov: every action added
    assert all(c.at <= earlier.as_of for c in earlier.changes)


# -- the formats -------------------------------------------------------------------------------------------


def test_html_has_every_section_escaped_text_and_accessible_charts(
    transcript: Transcript, store: Database
) -> None:
    four_weeks(transcript)
    transcript.at("2025-12-02T10:00")
    transcript.say("@Amina Khan", '/edi note NO-6 <script>alert("x")</script> & =HYPERLINK("http://evil")')
    page = report_file(facts_of(store, as_of=NOW), "html").content.decode()
    for heading in (
        "RAG over time",
        "Progress by theme",
        "Overdue by owner",
        "What changed since",
        "Actions",
    ):
        assert f">{heading}" in page
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; =HYPERLINK" in page
    assert page.count('<svg role="img"') == 3
    assert '<title id="chart-rag-title">RAG ratings over time</title>' in page
    assert "<desc id=" in page
    assert '<th scope="col" style="width: 11%">Rating</th>' in page and '<th scope="row">NO-1</th>' in page
    assert '<span class="rag rag-red">Red</span>' not in page  # nothing is red any more: words, not colour
    assert '<span class="rag rag-done">Done</span>' in page
    assert "@page { size: A4" in page and "break-inside: avoid" in page
    # Self-contained: nothing to fetch (the only addresses are XML namespaces and the note's own text).
    assert "src=" not in page and "<link" not in page and "url(http" not in page
    assert "http" not in page.replace("http://evil", "").replace('"http://www.w3.org/', "")


def hostile_plan(tmp_path: Path) -> Path:
    path = tmp_path / "hostile.csv"
    path.write_text(
        "Ref,Action,Lead,Deadline,RAG,Progress\n"
        'H-1,"=HYPERLINK(""http://evil"",""click"")",HR Manager,31/12/25,G,+cmd|calc\n'
        'H-2,@SUM(A1:A9) review,-2+3 Team,31/12/25,A,"\tdone"\n'
        "H-3,Plain action,Comms,31/12/25,R,fine\n",
        encoding="utf-8",
    )
    return path


def test_cells_that_start_like_a_formula_are_neutralised_in_csv_and_xlsx(
    store: Database, tmp_path: Path
) -> None:
    import_plan(store, hostile_plan(tmp_path), now=NOW, plan_name="Hostile")
    with store.session() as session:
        facts, made = build_report(session, plan_name="hostile", form="csv", as_of=NOW, now=NOW)
        workbook = report_file(facts, "xlsx")
    rows = list(csv.reader(io.StringIO(made.content.decode("utf-8-sig"))))
    cells = [cell for row in rows[1:] for cell in row]
    assert '\'=HYPERLINK("http://evil","click")' in cells
    assert "'+cmd|calc" in cells and "'@SUM(A1:A9) review" in cells and "'-2+3 Team" in cells
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)

    sheet = openpyxl.load_workbook(io.BytesIO(workbook.content))["Actions"]
    values = [cell for row in sheet.iter_rows(min_row=2) for cell in row if cell.value is not None]
    assert '\'=HYPERLINK("http://evil","click")' in [cell.value for cell in values]
    assert all(cell.data_type == "s" for cell in values)  # text, never a formula
    assert not any(str(cell.value).startswith(("=", "+", "-", "@")) for cell in values)


def test_a_reimported_hostile_export_keeps_the_plans_own_text(store: Database, tmp_path: Path) -> None:
    import_plan(store, hostile_plan(tmp_path), now=NOW, plan_name="Hostile")
    with store.session() as session:
        _, made = build_report(session, plan_name="Hostile", form="xlsx", as_of=NOW, now=NOW)
    exported = tmp_path / "hostile-report.xlsx"
    exported.write_bytes(made.content)
    with nothing_changes(store):
        result = import_plan(store, exported, now=NOW, plan_name="Hostile")
    assert (result.summary.added, result.summary.archived, result.summary.changed) == (0, 0, 0)
    titles = [a["title"] for a in result.actions]
    assert titles == ['=HYPERLINK("http://evil","click")', "@SUM(A1:A9) review", "Plain action"]


def test_the_workbook_is_formatted_with_a_native_chart_on_its_summary(
    transcript: Transcript, store: Database
) -> None:
    four_weeks(transcript)
    book = openpyxl.load_workbook(io.BytesIO(report_file(facts_of(store, as_of=NOW), "xlsx").content))
    assert book.sheetnames == ["Actions", "Changes", "Summary"]
    actions = book["Actions"]
    headers = [cell.value for cell in actions[1]]
    assert headers[:3] == ["Ref", "Theme", "Objective"]
    assert actions.freeze_panes == "A2"
    assert actions.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(headers))}16"
    assert actions["A1"].font.bold and actions.column_dimensions["D"].width == 50
    rag = headers.index("RAG") + 1
    title = headers.index("Action") + 1
    fills = {actions.cell(row=r, column=title).value: actions.cell(row=r, column=rag) for r in range(2, 17)}
    no2 = fills["Set EDI objectives for every director"]
    assert no2.value == "Green" and no2.fill.fgColor.rgb.endswith("DCFCE7")
    assert actions.max_row == 16
    assert len(book["Summary"]._charts) == 2


def test_csv_and_markdown_are_plain_for_committee_papers(transcript: Transcript, store: Database) -> None:
    four_weeks(transcript)
    facts = facts_of(store, as_of=NOW)
    rows = list(csv.DictReader(io.StringIO(report_file(facts, "csv").content.decode("utf-8-sig"))))
    assert len(rows) == 15
    assert rows[1]["Ref"] == "NO-2" and rows[1]["RAG"] == "Green" and rows[1]["Standing"] == "Overdue 69 days"
    markdown = report_file(facts, "md").content.decode()
    assert markdown.startswith("# Northbridge EDI Plan: progress report\n")
    assert "| NO-2 | Set EDI objectives for every director | Chief Executive; HR Manager |" in markdown
    assert "| Chief Executive | 1 | NO-2 (69d) |" in markdown


# -- the XLSX round trip -----------------------------------------------------------------------------------


def test_an_unedited_export_reimports_into_the_same_actions_changing_nothing(
    transcript: Transcript, store: Database, tmp_path: Path
) -> None:
    four_weeks(transcript)
    exported = tmp_path / "report.xlsx"
    exported.write_bytes(report_file(facts_of(store, as_of=NOW), "xlsx").content)
    with nothing_changes(store):
        result = import_plan(store, exported, now=NOW, plan_name=PLAN)
    assert (result.summary.added, result.summary.archived) == (0, 0)
    assert [a["ref"] for a in result.actions] == [f"NO-{n}" for n in range(1, 16)]


def test_an_edited_owner_status_or_deadline_cell_changes_exactly_that_action(
    transcript: Transcript, store: Database, tmp_path: Path
) -> None:
    four_weeks(transcript)
    exported = tmp_path / "report.xlsx"
    exported.write_bytes(report_file(facts_of(store, as_of=NOW), "xlsx").content)
    book = openpyxl.load_workbook(exported)
    sheet = book["Actions"]
    headers = [cell.value for cell in sheet[1]]
    rows = {sheet.cell(row=r, column=1).value: r for r in range(2, sheet.max_row + 1)}
    sheet.cell(row=rows["NO-3"], column=headers.index("Owner") + 1, value="Board Secretary")
    sheet.cell(row=rows["NO-6"], column=headers.index("RAG") + 1, value="Complete")
    sheet.cell(row=rows["NO-13"], column=headers.index("Deadline") + 1, value="31/1/26")
    book.save(exported)
    untouched = {ref: snapshot(store, ref) for ref in rows if ref not in ("NO-3", "NO-6", "NO-13")}

    result = import_plan(store, exported, now=NOW, plan_name=PLAN)

    assert (result.summary.added, result.summary.archived) == (0, 0)
    assert snapshot(store, "NO-3")["owners"] == ["Board Secretary"]
    assert snapshot(store, "NO-6")["status"] == "done"
    assert str(snapshot(store, "NO-13")["due_date"]) == "2026-01-31"
    assert {ref: snapshot(store, ref) for ref in untouched} == untouched
    assert history(store, "NO-13")[0].field == "deadline"


# -- the command line --------------------------------------------------------------------------------------


def test_report_writes_each_format_to_the_file_asked_for(
    transcript: Transcript, cli: CliRun, tmp_path: Path
) -> None:
    four_weeks(transcript)
    for form in ("html", "xlsx", "csv", "md"):
        target = tmp_path / f"board.{form}"
        code, out, err = cli(
            "--now",
            "2025-12-08T09:00",
            "report",
            PLAN,
            "--format",
            form,
            "--as-of",
            "2025-11-20",
            "--out",
            str(target),
        )
        assert code == 0, err
        assert f"Wrote {target}" in out and "as of 20 November 2025, 15 actions, 3 overdue" in out
        assert target.stat().st_size > 500
    code, out, _ = cli("--now", "2025-12-08T09:00", "report", "northbridge edi plan")
    assert code == 0
    assert (tmp_path / "northbridge-edi-plan-2025-12-08.html").exists()  # the default name, in the folder


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Nowhere Plan"], "No plan is called 'Nowhere Plan'. The plans are 'Northbridge EDI Plan'."),
        (
            [PLAN, "--format", "pdf"],
            "--format: 'pdf' is not a report format I make; choose one of html, xlsx",
        ),
        ([PLAN, "--as-of", "2026-01-01"], "1 January 2026 is in the future: a report can be as of today"),
        (
            [PLAN, "--as-of", "2025-10-31"],
            "'Northbridge EDI Plan' didn't exist on 31 October 2025: it was first",
        ),
        ([PLAN, "--as-of", "31/10/2025"], "--as-of: '31/10/2025' is not a date such as 2025-11-03."),
        (
            [PLAN, "--theme", "transport"],
            "No theme of 'Northbridge EDI Plan' has 'transport' in its name. Its ",
        ),
        (
            [PLAN, "--out", "/nonexistent/folder/report.html"],
            "There is nothing at /nonexistent/folder/report.html",
        ),
    ],
)
def test_a_report_that_cant_be_made_says_why_and_writes_nothing(
    transcript: Transcript, cli: CliRun, tmp_path: Path, args: list[str], message: str
) -> None:
    with nothing_changes(transcript.database):
        code, _, err = cli("--now", "2025-12-08T09:00", "report", *args)
    assert code == 1
    assert message in err
    assert not list(tmp_path.glob("*.html"))


def test_a_plan_with_no_actions_still_reports_saying_so(
    transcript: Transcript, cli: CliRun, tmp_path: Path
) -> None:
    code, _, err = cli("--now", "2025-11-04T09:00", "plan", "archive", PLAN)
    assert code == 0, err
    for form in ("html", "md", "csv", "xlsx"):
        code, out, err = cli("--now", "2025-11-05T09:00", "report", PLAN, "--format", form)
        assert code == 0, err
        assert "0 actions, 0 overdue" in out
    page = (tmp_path / "northbridge-edi-plan-2025-11-05.html").read_text()
    assert "Northbridge EDI Plan had no actions on 5 November 2025." in page and "<svg" not in page


def test_a_report_as_of_a_day_before_its_themes_actions_existed_is_empty_not_wrong(
    transcript: Transcript, store: Database
) -> None:
    transcript.at("2025-11-20T10:00")
    transcript.say(
        "@Priya Shah",
        f'/edi add plan:"{PLAN}" owner:"Communities Team" due:"31/3/26" Run a community open day',
    )
    transcript.expect_reply("NO-16")
    facts = facts_of(store, as_of=datetime(2025, 11, 10, 12, 0, tzinfo=LONDON))
    assert "Run a community open day" not in [a.title for a in facts.actions]
    assert len(facts.actions) == 15


def test_edibot_help_does_not_import_matplotlib() -> None:
    code = "import sys; from bot.cli import app; print('matplotlib' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == "False"


def test_unknown_plan_in_build_report_names_the_plans(store: Database) -> None:
    with store.session() as session, pytest.raises(CommandError, match=r"There are no plans yet\."):
        build_report(session, plan_name="Anything", form="md", as_of=NOW, now=NOW)
