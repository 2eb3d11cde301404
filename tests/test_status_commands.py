"""The `/edi` commands an action's owners use to say how it is going, in the console: green, amber, red, done
and reopen; a note, a new deadline, a snooze; "not mine"; and each refusal leaving the store alone.

The world is the `transcript` fixture's (tests/conftest.py): the Northbridge sample plan, who owns what in it,
and the day it is; a test that tries several variations of one thing tells them as one story, in a loop.
"""

from __future__ import annotations

from datetime import date

import pytest

from handlers.core import Actor
from storage.db import Database
from tests.transcript import Transcript, history, nothing_changes, snapshot

# -- green, amber, red, done, reopen --------------------------------------------------------------------


def test_green_with_or_without_a_note_and_again_when_already_green(
    transcript: Transcript, store: Database
) -> None:
    transcript.say("@Dafydd Evans", "/edi green NO-5")
    transcript.expect_reply("NO-5 is now Green (was Red), marked by Dafydd Evans.")
    assert transcript.outcome is not None and transcript.outcome.reply.private is False  # the team sees it
    assert snapshot(store, "NO-5")["progress_note"] == "Trainer not yet booked"
    assert [
        (r.actor, r.field, r.from_value, r.to_value, r.note, r.surface) for r in history(store, "NO-5")[:1]
    ] == [("Dafydd Evans", "rag", "red", "green", None, "console")]

    with nothing_changes(store):
        transcript.say("@Dafydd Evans", "/edi green NO-5")
    transcript.expect_reply("NO-5 is already Green.")

    transcript.say("@Dafydd Evans", "/edi green NO-5 trainer booked")
    transcript.expect_reply("NO-5 stays Green, noted by Dafydd Evans — “trainer booked”.")
    assert snapshot(store, "NO-5")["progress_note"] == "trainer booked"
    note = history(store, "NO-5")[0]
    assert (note.field, note.from_value, note.to_value) == (
        "note",
        "Trainer not yet booked",
        "trainer booked",
    )


def test_amber_with_a_reason_is_marked_at_once_with_the_reason_in_the_history(
    transcript: Transcript, store: Database
) -> None:
    transcript.say("@Amina Khan", "/edi amber NO-6 waiting on budget")
    transcript.expect_reply("NO-6 is now Amber (was Green), marked by Amina Khan — “waiting on budget”.")
    facts = snapshot(store, "NO-6")
    assert (facts["rag"], facts["progress_note"]) == ("amber", "waiting on budget")
    assert [
        (r.actor, r.field, r.from_value, r.to_value, r.note, r.surface) for r in history(store, "NO-6")[:2]
    ] == [
        ("Amina Khan", "note", None, "waiting on budget", None, "console"),
        ("Amina Khan", "rag", "green", "amber", "waiting on budget", "console"),
    ]


@pytest.mark.parametrize(
    ("status", "question"), [("amber", "What's putting it at risk?"), ("red", "What's blocking it?")]
)
def test_amber_or_red_without_a_reason_asks_why_and_the_answer_completes_it(
    transcript: Transcript, store: Database, status: str, question: str
) -> None:
    with nothing_changes(store):
        transcript.say("@Amina Khan", f"/edi {status} NO-6")
    transcript.expect_reply(f"NO-6 → {status.title()}: please say why", f"? {question}")
    assert transcript.outcome is not None
    form = transcript.outcome.reply.form
    assert form is not None and (form.form_id, form.state) == ("status", f"NO-6|{status}")

    transcript.say("@Amina Khan", "the agency is still rewriting the adverts")
    transcript.expect_reply(f"NO-6 is now {status.title()} (was Green), marked by Amina Khan")
    facts = snapshot(store, "NO-6")
    assert (facts["rag"], facts["progress_note"]) == (status, "the agency is still rewriting the adverts")
    assert history(store, "NO-6")[1].note == "the agency is still rewriting the adverts"


def test_the_reason_form_submitted_from_a_platform_completes_the_change_and_empty_asks_again(
    transcript: Transcript, store: Database
) -> None:
    amina = Actor(surface="slack", name="Amina Khan")
    with nothing_changes(store):
        empty = transcript.layer.submit(amina, "status", "NO-6|amber", {"reason": "   "})
    assert empty.reply.form is not None and empty.reply.form.state == "NO-6|amber"

    outcome = transcript.layer.submit(amina, "status", "NO-6|red", {"reason": "agency went bust"})
    assert (
        "NO-6 is now Red (was Green), marked by Amina Khan — “agency went bust”."
        in outcome.reply.plain_text()
    )
    assert snapshot(store, "NO-6")["rag"] == "red"
    assert (history(store, "NO-6")[1].surface, history(store, "NO-6")[1].note) == (
        "slack",
        "agency went bust",
    )


def test_a_reason_form_submitted_empty_says_on_the_field_that_a_reason_is_needed(
    transcript: Transcript,
) -> None:
    outcome = transcript.layer.submit(Actor(surface="slack", name="Amina Khan"), "status", "NO-6|amber", {})
    assert outcome.reply.form is not None
    assert outcome.reply.form.fields[0].error


def test_done_with_a_note_closes_it_blue_and_records_status_rag_and_note(
    transcript: Transcript, store: Database
) -> None:
    transcript.say("@Amina Khan", "/edi done NO-6 adverts rewritten and live")
    transcript.expect_reply(
        "NO-6 is now Done (was Green), marked by Amina Khan — “adverts rewritten and live”."
    )
    facts = snapshot(store, "NO-6")
    assert (facts["status"], facts["rag"], facts["progress_note"]) == (
        "done",
        "blue",
        "adverts rewritten and live",
    )
    assert [(r.field, r.from_value, r.to_value, r.note) for r in history(store, "NO-6")[:3]] == [
        ("note", None, "adverts rewritten and live", None),
        ("rag", "green", "blue", None),
        ("status", "open", "done", "adverts rewritten and live"),
    ]


def test_done_without_a_note_then_again_says_it_is_already_done(
    transcript: Transcript, store: Database
) -> None:
    transcript.say("@Amina Khan", "/edi done NO-9")
    transcript.expect_reply("NO-9 is now Done (was not rated), marked by Amina Khan.")
    facts = snapshot(store, "NO-9")
    assert (facts["status"], facts["rag"], facts["progress_note"]) == ("done", "blue", None)

    with nothing_changes(store):
        transcript.say("@Amina Khan", "/edi done NO-9")
    transcript.expect_reply("NO-9 is already done.")


def test_reopen_brings_a_done_action_back_with_the_rag_it_had_before_done(
    transcript: Transcript, store: Database
) -> None:
    with nothing_changes(store):
        transcript.say("@Amina Khan", "/edi reopen NO-6")
    transcript.expect_reply("NO-6 is already open.")
    before = snapshot(store, "NO-6")["rag"]
    assert before == "green"

    transcript.say("@Amina Khan", "/edi done NO-6")
    transcript.say("@Amina Khan", "/edi reopen NO-6")
    transcript.expect_reply("NO-6 is open again.")
    facts = snapshot(store, "NO-6")
    assert (facts["status"], facts["rag"]) == ("open", "green")
    assert [(r.field, r.from_value, r.to_value) for r in history(store, "NO-6")[:2]] == [
        ("rag", "blue", "green"),
        ("status", "done", "open"),
    ]


def test_reopen_of_an_action_that_was_unrated_before_done_leaves_it_unrated(
    transcript: Transcript, store: Database
) -> None:
    unrated = next(ref for ref in (f"NO-{n}" for n in range(1, 16)) if snapshot(store, ref)["rag"] is None)
    transcript.say("@Priya Shah", f"/edi done {unrated}")
    transcript.say("@Priya Shah", f"/edi reopen {unrated}")
    assert (snapshot(store, unrated)["status"], snapshot(store, unrated)["rag"]) == ("open", None)


# -- note, due, snooze ----------------------------------------------------------------------------------


def test_note_records_the_latest_progress_and_asks_for_it_when_left_out(
    transcript: Transcript, store: Database
) -> None:
    transcript.say("@Dafydd Evans", "/edi note NO-5 Trainer booked for 14 January")
    transcript.expect_reply("Noted on NO-5: “Trainer booked for 14 January”.")
    assert snapshot(store, "NO-5")["progress_note"] == "Trainer booked for 14 January"
    latest = history(store, "NO-5")[0]
    assert (latest.actor, latest.field, latest.from_value, latest.to_value) == (
        "Dafydd Evans",
        "note",
        "Trainer not yet booked",
        "Trainer booked for 14 January",
    )

    with nothing_changes(store):
        transcript.say("@Dafydd Evans", "/edi note NO-5")
    transcript.expect_reply("What's the latest on NO-5?", "? Progress note")
    transcript.say("@Dafydd Evans", "venue confirmed")
    transcript.expect_reply("Noted on NO-5: “venue confirmed”.")
    assert snapshot(store, "NO-5")["progress_note"] == "venue confirmed"


def test_a_note_is_kept_as_written_apostrophes_and_quotes_included(
    transcript: Transcript, store: Database
) -> None:
    transcript.say("@Amina Khan", """/edi note NO-6 it's the agency's call; they said "next week\"""")
    assert snapshot(store, "NO-6")["progress_note"] == """it's the agency's call; they said "next week\""""


def test_due_accepts_the_ways_people_write_a_date(transcript: Transcript, store: Database) -> None:
    ways = [
        ("31/3/26", date(2026, 3, 31)),
        ("March 2026", date(2026, 3, 31)),
        ("end of March", date(2026, 3, 31)),
        ("next Friday", date(2025, 11, 7)),
        ("in 2 weeks", date(2025, 11, 17)),
        ("31/3", date(2026, 3, 31)),
    ]
    previous = "Next staff survey"
    for written, due in ways:
        transcript.say("@Amina Khan", f"/edi due NO-9 {written}")
        transcript.expect_reply(f"NO-9 is now due {due:%-d %B %Y} (“{written}”).")
        facts = snapshot(store, "NO-9")
        assert (facts["due_date"], facts["deadline_text"], facts["deadline_kind"]) == (due, written, "dated")
        latest = history(store, "NO-9")[0]
        assert (latest.actor, latest.field, latest.from_value, latest.to_value) == (
            "Amina Khan",
            "deadline",
            previous,
            written,
        )
        previous = written


def test_snooze_holds_reminders_until_the_day_asked_and_the_card_shows_it(
    transcript: Transcript, store: Database
) -> None:
    previous = None
    for written, until in [
        ("1w", date(2025, 11, 10)),
        ("3d", date(2025, 11, 6)),
        ("until 3 March", date(2026, 3, 3)),
    ]:
        transcript.say("@Amina Khan", f"/edi snooze NO-6 {written}")
        transcript.expect_reply(f"I won't remind you about NO-6 until {until:%A %-d %B}.")
        assert snapshot(store, "NO-6")["snoozed_until"] == until
        latest = history(store, "NO-6")[0]
        assert (latest.field, latest.from_value, latest.to_value) == (
            "snoozed_until",
            previous,
            until.isoformat(),
        )
        previous = until.isoformat()

    transcript.say("@Amina Khan", "/edi show NO-6")
    transcript.expect_reply("Snoozed until: 3 Mar 2026")


# -- not mine -------------------------------------------------------------------------------------------


def test_notmine_tells_the_plan_admins_and_changes_nothing(transcript: Transcript, store: Database) -> None:
    with nothing_changes(store):
        transcript.say("@Sam Patel", "/edi notmine NO-7")
    transcript.expect_reply("Thanks, I've told the plan admins (Priya Shah) that NO-7 isn't yours.")
    transcript.expect_notice(
        to="Priya Shah",
        containing="Sam Patel says NO-7 is not theirs. It is owned by People Services",
    )
    transcript.expect_notice(
        to="Priya Shah", containing="*NO-7 · Publish the gender and ethnicity pay gap reports*"
    )


def test_notmine_from_the_only_admin_says_there_is_nobody_to_tell(
    transcript: Transcript, store: Database
) -> None:
    with nothing_changes(store):
        transcript.say("@Priya Shah", "/edi not-mine NO-3")
    transcript.expect_reply("Thanks — but there is no plan admin to tell yet. NO-3 is owned by EDI Lead")
    transcript.expect_no_notices()


# -- refusals: each one a clear sentence, and the store as it was ---------------------------------------


def test_a_due_date_that_is_not_a_date_is_refused(transcript: Transcript, store: Database) -> None:
    with nothing_changes(store):
        for written in ("banana", "Sept 32", "31/2/26"):
            transcript.say("@Amina Khan", f"/edi due NO-6 {written}")
            transcript.expect_reply(f"'{written}' is not a", "I haven't changed NO-6.", "`end of March`")
        transcript.say("@Amina Khan", "/edi due NO-6")
        transcript.expect_reply("When is NO-6 due? e.g. `/edi due NO-6 31/3/25` or `end of March`.")


def test_a_refused_due_date_does_not_claim_it_was_kept(transcript: Transcript) -> None:
    transcript.say("@Amina Khan", "/edi due NO-6 banana")
    transcript.expect_reply_not("kept as text")


def test_a_snooze_that_is_not_a_period_or_is_in_the_past_is_refused(
    transcript: Transcript, store: Database
) -> None:
    with nothing_changes(store):
        for written in ("forever", "0d", "until soon", ""):
            transcript.say("@Amina Khan", f"/edi snooze NO-6 {written}")
            transcript.expect_reply("is not a snooze I understand. Use `1w`, `3d`, `2w` or `until 3 March`.")
        transcript.say("@Amina Khan", "/edi snooze NO-6 until 1 November 2025")
        transcript.expect_reply("1 November 2025 has already come; snooze until a later day.")


def test_an_over_long_note_is_capped_at_1000_characters_and_says_so(
    transcript: Transcript, store: Database
) -> None:
    long_note = "The agency sent a long update. " * 50
    transcript.say("@Amina Khan", f"/edi note NO-6 {long_note}")
    transcript.expect_reply("Your note was 1,549 characters; I kept the first 1,000.")
    kept = long_note.strip()[:1000]
    assert snapshot(store, "NO-6")["progress_note"] == kept
    assert history(store, "NO-6")[0].to_value == kept

    transcript.say("@Amina Khan", "/edi red NO-6 " + "x" * 1200)
    transcript.expect_reply("NO-6 is now Red", "Your note was 1,200 characters; I kept the first 1,000.")
    assert history(store, "NO-6")[1].note == "x" * 1000
