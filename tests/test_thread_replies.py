"""Plain replies in the thread of a reminder ("amber - waiting on budget", "Done ✅"), acted on only when
clear.

In the console the "thread" is the action last shown to that person, as a reminder would show it.
"""

from __future__ import annotations

from datetime import date

import pytest

from handlers.replies import Understood, understand
from storage.db import Database
from tests.transcript import Transcript, history, nothing_changes, snapshot


@pytest.fixture
def reminded(transcript: Transcript) -> Transcript:
    """Amina has just been shown NO-6 (Review recruitment adverts, Green), as a reminder would show it."""
    transcript.say("@Amina Khan", "/edi show NO-6")
    return transcript


def test_amber_with_a_reason_in_the_thread_marks_it_amber(reminded: Transcript, store: Database) -> None:
    reminded.say("@Amina Khan", "amber - waiting on budget")
    reminded.expect_reply("NO-6 is now Amber (was Green), marked by Amina Khan — “waiting on budget”.")
    facts = snapshot(store, "NO-6")
    assert (facts["rag"], facts["progress_note"]) == ("amber", "waiting on budget")
    rag = history(store, "NO-6")[1]
    assert (rag.actor, rag.field, rag.from_value, rag.to_value, rag.note, rag.surface) == (
        "Amina Khan",
        "rag",
        "green",
        "amber",
        "waiting on budget",
        "console",
    )


def test_amber_alone_in_the_thread_asks_why_and_the_next_reply_is_the_reason(
    reminded: Transcript, store: Database
) -> None:
    with nothing_changes(store):
        reminded.say("@Amina Khan", "Amber")
    reminded.expect_reply("NO-6 → Amber: please say why", "? What's putting it at risk?")
    reminded.say("@Amina Khan", "the agency is behind")
    reminded.expect_reply("NO-6 is now Amber (was Green), marked by Amina Khan — “the agency is behind”.")
    assert snapshot(store, "NO-6")["rag"] == "amber"


def test_done_with_a_tick_or_just_a_tick_marks_it_done(reminded: Transcript, store: Database) -> None:
    reminded.say("@Amina Khan", "Done ✅")
    reminded.expect_reply("NO-6 is now Done (was Green), marked by Amina Khan.")
    assert snapshot(store, "NO-6")["status"] == "done"

    reminded.say("@Amina Khan", "/edi show NO-9")
    reminded.say("@Amina Khan", "✅")
    reminded.expect_reply("NO-9 is now Done (was not rated), marked by Amina Khan.")
    assert snapshot(store, "NO-9")["status"] == "done"
    assert [(r.field, r.from_value, r.to_value) for r in history(store, "NO-9")[:2]] == [
        ("rag", None, "blue"),
        ("status", "open", "done"),
    ]


def test_green_with_a_note_in_the_thread_keeps_the_note(transcript: Transcript, store: Database) -> None:
    transcript.say("@Ewan Campbell", "/edi show NO-12")
    transcript.say("@Ewan Campbell", "green, on track")
    transcript.expect_reply("NO-12 is now Green (was Amber), marked by Ewan Campbell — “on track”.")
    facts = snapshot(store, "NO-12")
    assert (facts["rag"], facts["progress_note"]) == ("green", "on track")


def test_snooze_two_weeks_in_the_thread_holds_reminders(reminded: Transcript, store: Database) -> None:
    reminded.say("@Amina Khan", "snooze 2 weeks")
    reminded.expect_reply("I won't remind you about NO-6 until Monday 17 November.")
    assert snapshot(store, "NO-6")["snoozed_until"] == date(2025, 11, 17)
    assert history(store, "NO-6")[0].to_value == "2025-11-17"


def test_a_new_date_in_the_thread_moves_the_deadline(reminded: Transcript, store: Database) -> None:
    reminded.say("@Amina Khan", "new date 30 June")
    reminded.expect_reply("NO-6 is now due 30 June 2026 (“30 June”).")
    facts = snapshot(store, "NO-6")
    assert (facts["due_date"], facts["deadline_text"]) == (date(2026, 6, 30), "30 June")
    latest = history(store, "NO-6")[0]
    assert (latest.field, latest.from_value, latest.to_value) == ("deadline", "Nov 2025 & Ongoing", "30 June")


def test_not_mine_in_the_thread_tells_the_admins_and_changes_nothing(
    transcript: Transcript, store: Database
) -> None:
    transcript.say("@Sam Patel", "/edi show NO-7")
    with nothing_changes(store):
        transcript.say("@Sam Patel", "not mine")
    transcript.expect_reply("Thanks, I've told the plan admins (Priya Shah) that NO-7 isn't yours.")
    transcript.expect_notice(to="Priya Shah", containing="Sam Patel says NO-7 is not theirs.")


def test_a_note_in_the_thread_is_recorded(reminded: Transcript, store: Database) -> None:
    reminded.say("@Amina Khan", "note: spoke to legal")
    reminded.expect_reply("Noted on NO-6: “spoke to legal”.")
    assert snapshot(store, "NO-6")["progress_note"] == "spoke to legal"
    assert history(store, "NO-6")[0].to_value == "spoke to legal"


def test_a_reply_that_is_not_understood_says_nothing_changed_and_nothing_does(
    reminded: Transcript, store: Database
) -> None:
    with nothing_changes(store):
        for text in ("thanks!", "a review is under way"):
            reminded.say("@Amina Khan", text)
            reminded.expect_reply(
                f"I didn't change anything on NO-6: I couldn't tell what you meant by “{text}”.",
                "“amber - waiting on budget”",
                "`/edi note NO-6 TEXT`",
            )


def test_a_plain_reply_with_no_reminder_to_answer_is_refused_plainly(
    transcript: Transcript, store: Database
) -> None:
    with nothing_changes(store):
        transcript.say("@Amina Khan", "done")
    transcript.expect_reply(
        "I only understand plain replies in the thread of a reminder. For anything else, start with `/edi`"
    )


def test_a_thread_reply_from_someone_who_does_not_own_the_action_is_refused(
    transcript: Transcript, store: Database
) -> None:
    transcript.say("@Ewan Campbell", "/edi show NO-6")
    with nothing_changes(store):
        transcript.say("@Ewan Campbell", "done ✅")
    transcript.expect_reply("Only NO-6's owners (HR Manager) or a plan admin can change it, so I haven't.")


def test_a_thread_reply_is_about_the_action_last_shown(reminded: Transcript, store: Database) -> None:
    reminded.say("@Amina Khan", "/edi show NO-9")
    reminded.say("@Amina Khan", "red - no survey budget this year")
    reminded.expect_reply("NO-9 is now Red (was not rated)")
    assert (snapshot(store, "NO-9")["rag"], snapshot(store, "NO-6")["rag"]) == ("red", "green")


def test_progress_that_starts_with_completed_does_not_mark_the_action_done(
    reminded: Transcript, store: Database
) -> None:
    with nothing_changes(store):
        reminded.say("@Amina Khan", "Completed the first of three workshops")


# -- understand(), the reading of a reply, on its own ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "command", "arguments"),
    [
        ("amber - waiting on budget", "amber", ["waiting on budget"]),
        ("a - waiting on budget", "amber", ["waiting on budget"]),
        ("At risk: budget frozen", "amber", ["budget frozen"]),
        ("Amber", "amber", []),
        ("red", "red", []),
        ("R", "red", []),
        ("Done ✅", "done", []),
        ("✅", "done", []),
        ("done ✅ published on the intranet", "done", ["published on the intranet"]),
        (":white_check_mark: all published", "done", ["all published"]),
        ("DONE!", "done", []),
        ("finished - report sent", "done", ["report sent"]),
        ("green, on track", "green", ["on track"]),
        ("on track", "green", []),
        ("G", "green", []),
        ("snooze 2 weeks", "snooze", ["2w"]),
        ("snooze for 1 week", "snooze", ["1w"]),
        ("snooze 10 days", "snooze", ["10d"]),
        ("remind me in 3 days", "snooze", ["3d"]),
        ("snooze until 3 March", "snooze", ["until 3 March"]),
        ("new date 30 June", "due", ["30 June"]),
        ("moved to 30 June", "due", ["30 June"]),
        ("deadline: end of March", "due", ["end of March"]),
        ("not mine", "notmine", []),
        ("Not my area", "notmine", []),
        ("wrong person", "notmine", []),
        ("note: spoke to legal", "note", ["spoke to legal"]),
        ("Update - draft sent", "note", ["draft sent"]),
    ],
)
def test_understand_reads_a_clear_reply_as_the_command_it_means(
    text: str, command: str, arguments: list[str]
) -> None:
    meant = understand(text)
    assert isinstance(meant, Understood)
    assert (meant.command, meant.arguments) == (command, arguments)


@pytest.mark.parametrize(
    "text",
    ["thanks!", "a review is under way", "I am not sure", "b", "", "Will do", "see you at the meeting"],
)
def test_understand_leaves_an_unclear_reply_alone(text: str) -> None:
    assert understand(text) is None
