"""`/edi report [plan] [format]` in chat: the report arrives in the asker's direct message through the
outbox — in Slack as a file shared with files.uploadV2, in Teams as its Markdown in the message — and a
request that can't be met says why and queues nothing.

The outbox keeps what to make (plan, format, as-of), not the file: the file is made when the message is sent.
"""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

import handlers.reports
from storage.db import Database
from storage.importing.service import import_plan
from storage.models import OutboxMessage
from tests.builders import write_csv
from tests.conftest import SAMPLES
from tests.slack_workspace import SlackWorkspace, texts_of
from tests.teams_tenant import TeamsTenant
from tests.transcript import Transcript, nothing_changes


def outbox(store: Database) -> list[OutboxMessage]:
    with store.session() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_in_slack_the_report_is_a_file_in_the_askers_dm(slack: SlackWorkspace) -> None:
    amina = slack.person("Amina Khan")

    answer = slack.command(amina, "report Northbridge EDI Plan xlsx")
    slack.bot.settle()

    assert "I'm making the XLSX report of Northbridge EDI Plan; it comes as a direct message." in answer.shown
    dm = slack.api.dm_of(amina.id)
    [shared] = slack.api.files_shared(dm)
    assert shared["filename"] == "northbridge-edi-plan-2025-11-03.xlsx"
    assert shared["title"] == "Northbridge EDI Plan: progress report, 3 November 2025"
    book = openpyxl.load_workbook(io.BytesIO(shared["content"]))
    assert book["Actions"].max_row == 16  # the header and the fifteen actions
    # files.uploadV2's three steps, then the message saying what it is (the one the outbox tags and finds).
    [asked] = slack.api.calls_to("files.getUploadURLExternal")
    assert asked.params["filename"] == shared["filename"] and int(asked.params["length"]) == len(
        shared["content"]
    )
    assert len(slack.api.calls_to("files.completeUploadExternal")) == 1
    messages = slack.api.posted(dm)
    assert [bool(m.get("files")) for m in messages] == [True, False]
    assert "Your progress report. *Northbridge EDI Plan* as of 3 November 2025" in texts_of(
        messages[1]["blocks"]
    )
    # The outbox row holds the recipe, a few hundred bytes, not the file.
    [row] = [m for m in outbox(slack.store) if m.key.startswith("notice:")]
    assert row.status == "sent"
    assert row.reply is not None and row.reply["report"]["form"] == "xlsx" and "content" not in str(row.reply)


def test_one_plan_and_no_format_is_that_plans_html_report(transcript: Transcript) -> None:
    transcript.say("@Amina Khan", "/edi report")
    transcript.expect_reply("I'm making the HTML report of Northbridge EDI Plan")
    assert "[file: northbridge-edi-plan-2025-11-03.html" in transcript.answer


def test_a_report_too_large_for_chat_says_how_to_make_it_instead(
    transcript: Transcript, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(handlers.reports, "MAX_CHAT_REPORT_BYTES", 1_000)  # the sample's report is ~50 KB
    transcript.say("@Amina Khan", "/edi report html")
    assert "KB, more than the 1 KB I send in chat; an admin can make it with" in transcript.answer
    assert '`edibot report "Northbridge EDI Plan" --format html --as-of 2025-11-03`' in transcript.answer
    assert "[file:" not in transcript.answer


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        (
            "/edi report Nowhere Plan",
            "No plan you can see is called 'Nowhere Plan'. The plans you can see: 'Northbridge EDI Plan'.",
        ),
        (
            "/edi report Northbridge EDI Plan pdf",
            "'pdf' is not a report format I make; choose one of html, xlsx, csv, md.",
        ),
    ],
)
def test_a_report_that_cant_be_made_says_why_and_queues_nothing(
    transcript: Transcript, store: Database, typed: str, said: str
) -> None:
    before = len(outbox(store))
    with nothing_changes(store):
        transcript.say("@Amina Khan", typed)
    transcript.expect_reply(said)
    assert len(outbox(store)) == before


def test_with_several_plans_the_report_asks_which(
    transcript: Transcript, store: Database, tmp_path: Path
) -> None:
    import_plan(
        store, SAMPLES / "northbridge_edi_plan.csv", now=transcript.clock.now(), plan_name="Second Plan"
    )
    transcript.say("@Amina Khan", "/edi report")
    transcript.expect_reply(
        "Which plan? Usage: `/edi report [plan] [html|xlsx|csv|md]`. The plans you can see: "
        "'Northbridge EDI Plan', 'Second Plan'."
    )


def test_in_teams_the_report_is_its_markdown_in_the_message(teams: TeamsTenant) -> None:
    amina = teams.person("Amina Khan", matched=True)

    answer = teams.say(amina, "/edi report xlsx")
    teams.deliver()

    assert "Teams gets reports as Markdown in the message; the XLSX file comes in Slack." in answer.shown
    posted = teams.connector.activities_in(teams.connector.personal_chat(amina))
    [report] = [a for a in posted if "progress report" in str(a.get("text"))]
    assert "# Northbridge EDI Plan: progress report" in report["text"]
    assert "| NO-2 | Set EDI objectives for every director |" in report["text"]


def test_a_restricted_plan_is_not_reported_to_someone_outside_it(
    transcript: Transcript, store: Database, tmp_path: Path
) -> None:
    board = write_csv(
        tmp_path / "board.csv", [["Action", "Lead", "Timescale"], ["Review pay", "Board", "2026"]]
    )
    import_plan(store, board, now=transcript.clock.now(), plan_name="Board Plan")
    transcript.say("@Priya Shah", "/edi plan restrict Board Plan")
    before = len(outbox(store))
    transcript.say("@Sam Patel", "/edi report Board Plan")  # Sam answers for nothing in it
    transcript.expect_reply(
        "No plan you can see is called 'Board Plan'. The plans you can see: 'Northbridge EDI Plan'."
    )
    assert len(outbox(store)) == before
