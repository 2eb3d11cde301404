"""Odd text and outsized arguments, as people would meet them: a note with a NUL byte, a right-to-left
override or a zero-width space is kept and echoed without them; a command, a filter, a snooze or a leave too
long is refused in a sentence that says the bound, and nothing changes.

The world is the Northbridge sample plan (NO-1…NO-15) and its people; Amina Khan owns NO-6 (HR Manager).
It is Monday 3 November 2025, 09:30 in London. These run on PostgreSQL too, which refuses NUL in text.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from handlers.core import Actor
from storage.db import Database
from storage.importing.errors import PlanFileError
from storage.importing.service import import_plan
from storage.people import import_people
from storage.rules.bounds import COMMAND_LIMIT, FILTER_LIMIT, TITLE_LIMIT
from storage.store import Store
from tests.transcript import Transcript, history, nothing_changes, snapshot

SPOOFS = "\x00\u202e\u2066\u200b\ufeff\u200e"  # NUL, an override, an isolate, zero-width space, BOM, a mark


def test_a_note_with_hidden_or_control_characters_is_kept_and_shown_without_them(
    transcript: Transcript, store: Database
) -> None:
    transcript.say("@Amina Khan", "/edi note NO-6 spoke to\x00 legal \u202eeulb si ti")
    transcript.expect_reply("Noted on NO-6: “spoke to legal eulb si ti”.")
    assert snapshot(store, "NO-6")["progress_note"] == "spoke to legal eulb si ti"

    transcript.say("@Amina Khan", f"/edi amber NO\u200b-6 waiting{SPOOFS} on budget 👩\u200d💻")
    transcript.expect_reply(
        "NO-6 is now Amber (was Green), marked by Amina Khan — “waiting on budget 👩\u200d💻”."
    )

    transcript.say("@Amina Khan", f"green{SPOOFS} - back\x00 on track")  # in the thread of NO-6
    transcript.expect_reply("NO-6 is now Green (was Amber), marked by Amina Khan — “back on track”.")

    amina = Actor(surface="slack", name="Amina Khan")
    transcript.layer.press(amina, "status\u200b", f"NO-6{SPOOFS}|red")  # a button's value
    outcome = transcript.layer.submit(amina, "status", "NO-6|red", {"reason": f"no\x00 budget{SPOOFS} yet"})
    assert (
        "NO-6 is now Red (was Green), marked by Amina Khan — “no budget yet”." in outcome.reply.plain_text()
    )
    outcome = transcript.layer.submit(
        amina, "note", f"NO\u200b-6{SPOOFS}", {"note": "line one\r\nline\x00 two"}
    )
    assert snapshot(store, "NO-6")["progress_note"] == "line one\nline two"
    assert all(ch not in (entry.note or "") for entry in history(store, "NO-6") for ch in SPOOFS)


def test_a_command_or_answer_too_long_to_read_is_refused_in_words(
    transcript: Transcript, store: Database
) -> None:
    huge = "x" * 100_000
    with nothing_changes(store):
        transcript.say("@Amina Khan", f"/edi list owner:{huge}")
        transcript.expect_reply(
            f"That is {len('list owner:') + 100_000:,} characters; I read at most {COMMAND_LIMIT:,} in one "
            "command or reply. Put detail in a note (up to 1,000 characters). I haven't changed anything."
        )
        transcript.say("@Amina Khan", "/edi show NO-6")
        transcript.say("@Amina Khan", f"note: {huge}")  # in the thread
        transcript.expect_reply(f"I read at most {COMMAND_LIMIT:,} in one command or reply.")
        outcome = transcript.layer.submit(
            Actor(surface="slack", name="Amina Khan"), "status", "NO-6|red", {"reason": huge}
        )
        assert "Your answer is 100,000 characters; I read at most 4,000. I haven't changed anything." in (
            outcome.reply.plain_text()
        )
        outcome = transcript.layer.press(Actor(surface="slack", name="Amina Khan"), "snooze", f"NO-6|{huge}")
        assert "That button carried more than I read (2,000 characters); I haven't changed anything." in (
            outcome.reply.plain_text()
        )


def test_list_filters_are_bounded_and_read_literally(transcript: Transcript, store: Database) -> None:
    with nothing_changes(store):
        transcript.say("@Amina Khan", f"/edi list owner:{'y' * 300}")
        transcript.expect_reply(
            f"A list filter may be at most {FILTER_LIMIT} characters; owner: was 300. I haven't listed "
            "anything."
        )
        transcript.say("@Amina Khan", "/edi list owner:%")  # a SQL wildcard is a character like any other
        transcript.expect_reply("No actions match owner:%.")
        transcript.say("@Amina Khan", "/edi list owner:_R_Manager")
        transcript.expect_reply("No actions match owner:_R_Manager.")


def test_a_snooze_longer_than_six_months_is_refused_and_points_to_a_new_due_date(
    transcript: Transcript, store: Database
) -> None:
    with nothing_changes(store):
        for spec in ("999m", "7m", "27w", "200d", "until 31 December 2026"):
            transcript.say("@Amina Khan", f"/edi snooze NO-6 {spec}")
            transcript.expect_reply(
                "Snooze for at most 6 months (26 weeks), until Monday 4 May 2026; for longer, change the due "
                "date with `/edi due NO-6 WHEN`. I haven't changed NO-6."
            )
    for spec, until in (("6m", "Sunday 3 May"), ("26w", "Monday 4 May")):
        transcript.say("@Amina Khan", f"/edi snooze NO-6 {spec}")
        transcript.expect_reply(f"I won't remind you about NO-6 until {until}.")


def test_away_more_than_a_year_ahead_is_refused(transcript: Transcript, store: Database) -> None:
    transcript.say("@Amina Khan", "/edi away until 31/12/2030")
    transcript.expect_reply(
        "You can be away for at most a year ahead, until Tuesday 3 November 2026. Give your last day away "
        "before then. I haven't changed anything."
    )
    with store.session() as session:
        amina = Store(session).person_mentioned("Amina Khan")
        assert amina is not None and amina.away_until is None
    transcript.say("@Amina Khan", "/edi away until 3 November 2026")
    transcript.expect_reply("No reminders until after Tuesday 3 November")
    with store.session() as session:
        amina = Store(session).person_mentioned("Amina Khan")
        assert amina is not None and amina.away_until == date(2026, 11, 3)


def test_deadlines_owners_and_channels_too_long_to_keep_are_refused(
    transcript: Transcript, store: Database
) -> None:
    with nothing_changes(store):
        transcript.say("@Amina Khan", f"/edi due NO-6 {'end of March ' * 10}")
        transcript.expect_reply(
            "A deadline may be at most 100 characters as written; that one is 129. I haven't changed NO-6."
        )
        transcript.say("@Priya Shah", f'/edi owner NO-6 add "{"Head of " * 40}People"')
        transcript.expect_reply("An owner's name may be at most 300 characters; that one is 326.")
        transcript.say("@Priya Shah", f'/edi add owner:"{"Head of " * 40}People" Review the adverts again')
        transcript.expect_reply("An owner's name may be at most 300 characters; that one is 326.")
        transcript.say("@Priya Shah", f'/edi plan escalate "Northbridge EDI Plan" #{"c" * 81}')
        transcript.expect_reply("A channel's name may be at most 80 characters; that one is 81.")


def test_a_long_message_still_becomes_a_new_action_form_with_its_title_cut(transcript: Transcript) -> None:
    message = "Review the adverts\u202e " + "and much more besides " * 500  # 11,000 characters
    outcome = transcript.layer.new_action_form(Actor(surface="slack", name="Priya Shah"), text=message)
    form = outcome.reply.form
    assert form is not None, outcome.reply.plain_text()
    title = next(field for field in form.fields if field.name == "title")
    assert title.initial.startswith("Review the adverts and much more besides")
    assert len(title.initial) == TITLE_LIMIT


def test_a_plan_cell_and_a_people_row_with_hidden_characters_are_imported_without_them(
    store: Database, tmp_path: Path
) -> None:
    """Plan files and the people CSV come in by the importer, not the command layer: the same cleaning, or a
    channel would show the override. A NUL can't come in this way at all: a text file holding one is refused
    as undecodable, XML (DOCX, XLSX) can't hold one, and a PDF's is read as "(cid:0)"."""
    hidden = "\x1b\x07\u202e\u200b\ufeff"  # an escape, a bell, an override, a zero-width space, a BOM
    plan = tmp_path / "plan.csv"
    plan.write_text(
        "Action,Lead,Timescale,Progress update\n"
        f"Review{hidden} recruitment adverts \u202eeulb si ti,HR\u202e Manager,31/3/26,"
        f"on\u200b track{hidden}\n",
        encoding="utf-8",
    )
    people = tmp_path / "people.csv"
    people.write_text(
        "owner,name,email,timezone,slack_id,teams_id\n"
        f"HR Manager{hidden},Amina{hidden} Khan\u202e,"
        "amina.khan@northbridge.example,Europe/London,U0AMINA,\n",
        encoding="utf-8",
    )
    moment = datetime(2025, 11, 3, 9, 30, tzinfo=ZoneInfo("Europe/London"))

    import_plan(store, plan, now=moment, plan_name="Odd plan")
    summary = import_people(store, people, now=moment)

    assert not summary.problems
    with store.session() as session:
        directory = Store(session)
        [action] = directory.actions_matching()
        assert action.title == "Review recruitment adverts eulb si ti"
        assert action.progress_note == "on track"
        assert [owner.name for owner in action.owners] == ["HR Manager"]
        assert set(action.raw_cells.values()) == {
            "Review recruitment adverts eulb si ti",
            "HR Manager",
            "31/3/26",
            "on track",
        }
        amina = directory.person_mentioned("Amina Khan")
        assert amina is not None and amina.name == "Amina Khan"
        assert directory.is_owner(amina, action)  # the role she answers for is the action's, written cleanly

    nul = tmp_path / "nul.csv"
    nul.write_bytes(b"Action,Lead,Timescale\nReview\x00 adverts,HR Manager,31/3/26\n")
    with nothing_changes(store), pytest.raises(PlanFileError, match="not in a text encoding I can read"):
        import_plan(store, nul, now=moment, plan_name="Odd plan")
