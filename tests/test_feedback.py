"""Anonymous feedback in the console: sending it, the receipt code, follow-ups, the responders' side, batches
and the smallest group a count may show."""

from __future__ import annotations

import csv
import logging
import random
import re
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from bot.console import FakeClock
from handlers.core import Actor
from handlers.messages import reply_from_data
from schedules.feedback import forget_old_feedback, release_feedback
from storage import feedback as stored
from storage.db import Database
from storage.models import Feedback, FeedbackMessage, OutboxMessage
from storage.rules.anonymity import (
    CHECKS_FAILED_PER_DAY,
    SUBMISSIONS_PER_DAY,
    MalformedCode,
    counts_shown,
    read_code,
    read_release_times,
)
from storage.store import Store
from tests.conftest import CliRun
from tests.transcript import Transcript

LONDON = ZoneInfo("Europe/London")
CODE = re.compile(r"`([0-9A-Z]{6}(?:-[0-9A-Z]{4}){5})`")
RESPONDERS_CHANNEL = "C0FEEDBACK"


def set_up_feedback(
    store: Database, *, responders: tuple[str, ...] = ("Priya Shah",), publish: str | None = "C0ALLSTAFF"
) -> None:
    """Anonymous feedback set up as `edibot feedback setup` leaves it: a channel, responders, 09:00, 15:00."""
    with store.session() as session:
        settings, _ = stored.settings_or_new(
            session, channel=RESPONDERS_CHANNEL, channel_name="feedback-team"
        )
        settings.k, settings.retention_days, settings.release_times = 5, 365, ["09:00", "15:00"]
        if publish:
            settings.publish_channel, settings.publish_channel_name = publish, "all-staff"
        store_ = Store(session)
        people = [store_.person_by_identity(name=name) for name in responders]
        stored.set_responders(session, [p for p in people if p is not None])


def receipt(transcript: Transcript) -> str:
    found = CODE.search(transcript.reply)
    assert found, f"no receipt code in:\n{transcript.reply}"
    return found.group(1)


def kept(store: Database) -> list[Feedback]:
    with store.session() as session:
        found = list(session.scalars(select(Feedback)))
        for piece in found:
            _ = list(piece.messages)
        session.expunge_all()
        return found


def released_posts(store: Database) -> list[OutboxMessage]:
    with store.session() as session:
        found = list(
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.key.startswith("feedback:"))
                .order_by(OutboxMessage.id)
            )
        )
        session.expunge_all()
        return found


def test_feedback_sent_in_one_line_answers_with_a_receipt_code_and_keeps_only_the_words_and_day(
    transcript: Transcript, store: Database
) -> None:
    set_up_feedback(store)
    transcript.say("@Amina Khan", "/edi feedback Meetings at 8am exclude people with caring duties")
    transcript.expect_reply("Thank you", "Your receipt code", "shown only now")
    code = receipt(transcript)
    [piece] = kept(store)
    assert piece.text == "Meetings at 8am exclude people with caring duties"
    assert piece.received_on == date(2025, 11, 3)
    assert code.replace("-", "")[6:] not in piece.code_hash  # only a hash of the secret is kept
    assert piece.ref == code[:6]


def test_the_form_says_who_sees_what_and_that_writing_style_can_identify(
    transcript: Transcript, store: Database
) -> None:
    set_up_feedback(store)
    transcript.say("@Amina Khan", "/edi feedback")
    transcript.expect_reply("Who can see what", "never stores your name", "only the day", "way people write")
    transcript.expect_reply("Your feedback", "Topic (optional)", "specific incident")
    transcript.say("@Amina Khan", "The new flexible working policy is hard to find")
    transcript.expect_reply("Your receipt code")
    assert [piece.text for piece in kept(store)] == ["The new flexible working policy is hard to find"]


def test_bad_feedback_is_refused_in_words_and_nothing_is_kept(
    transcript: Transcript, store: Database
) -> None:
    transcript.say("@Amina Khan", "/edi feedback Please fix the lifts")
    transcript.expect_reply("isn't set up here yet", "haven't kept anything")
    set_up_feedback(store)
    transcript.say("@Amina Khan", "/edi feedback " + "x" * 3001)
    transcript.expect_reply("3,001 characters", "at most 3,000", "haven't kept anything")
    transcript.say("@Amina Khan", "/edi feedback")
    transcript.say("@Amina Khan", "   ")  # the form answered with nothing
    transcript.expect_reply("empty")
    transcript.say("@Amina Khan", "/edi feedback check")
    transcript.expect_reply("Which code?")
    transcript.say("@Amina Khan", "/edi feedback check not-a-code")
    transcript.expect_reply("isn't a receipt code", "26 letters and digits")
    transcript.say("@Amina Khan", "/edi feedback reply ABC")
    transcript.expect_reply("Give your code and what you want to add")
    assert kept(store) == []


def test_an_unknown_topic_is_refused_naming_the_topics(transcript: Transcript, store: Database) -> None:
    set_up_feedback(store)
    layer = transcript.layer
    outcome = layer.submit(
        Actor(surface="console", name="Amina Khan"), "feedback", "", {"text": "Hello", "topic": "Weather"}
    )
    shown = outcome.reply.plain_text()
    assert "'Weather' isn't one of the topics" in shown
    assert kept(store) == []


def test_the_receipt_code_reads_replies_and_adds_follow_ups_and_a_wrong_one_reveals_nothing(
    transcript: Transcript, store: Database
) -> None:
    set_up_feedback(store)
    transcript.say("@Sam Patel", "/edi feedback The staff survey isn't accessible to screen readers")
    code = receipt(transcript)
    transcript.say("@Sam Patel", f"/edi feedback check {code.lower()}")  # typed in lower case: forgiven
    transcript.expect_reply("Your feedback (3 November 2025)", "screen readers", "Not yet released")
    transcript.say("@Sam Patel", f"/edi feedback reply {code} It also times out after 10 minutes")
    transcript.expect_reply("Added to your feedback, anonymously")

    # The responders answer (after release), and the code shows it; the code works again and again.
    release_feedback(store, now=transcript.clock.now().replace(hour=9, minute=5), zone=LONDON)
    ref = code[:6]
    transcript.say("@Priya Shah", f"/edi responders answer FB-{ref} Thank you: we're fixing it this month")
    transcript.expect_reply(f"Replied to FB-{ref}")
    for _ in range(2):
        transcript.say("@Sam Patel", f"/edi feedback check {code}")
        transcript.expect_reply(
            "You added",
            "It also times out",
            "The responders replied",
            "Thank you: we're fixing it this month",
        )

    # A wrong secret and a reference that doesn't exist get the same answer, naming nothing.
    wrong = code[:-1] + ("A" if code[-1] != "A" else "B")
    transcript.say("@Sam Patel", f"/edi feedback check {wrong}")
    first = transcript.reply
    transcript.say("@Sam Patel", "/edi feedback check ZZZZZZ-AAAA-BBBB-CCCC-DDDD-EEEE")
    assert transcript.reply == first
    assert "No feedback matches that code" in first and ref not in first


def test_guessing_codes_is_capped_with_a_clear_answer(transcript: Transcript, store: Database) -> None:
    set_up_feedback(store)
    transcript.say("@Amina Khan", "/edi feedback Good work on the menopause policy")
    code = receipt(transcript)
    for number in range(CHECKS_FAILED_PER_DAY):
        transcript.say("@Dafydd Evans", f"/edi feedback check {number:06d}-AAAA-BBBB-CCCC-DDDD-EEEE")
        transcript.expect_reply("No feedback matches that code")
    transcript.say("@Dafydd Evans", f"/edi feedback check {code}")  # even the right code, now
    transcript.expect_reply("Too many codes that didn't match")
    transcript.expect_reply_not("menopause")
    transcript.say("@Amina Khan", f"/edi feedback check {code}")  # someone else is not held back
    transcript.expect_reply("menopause")
    transcript.at("2025-11-04T09:30")  # a new day, a new key: the count is gone
    transcript.say("@Dafydd Evans", f"/edi feedback check {code}")
    transcript.expect_reply("menopause")


def test_a_person_may_send_a_few_pieces_a_day_counted_without_knowing_who(
    transcript: Transcript, store: Database
) -> None:
    set_up_feedback(store)
    for number in range(SUBMISSIONS_PER_DAY):
        transcript.say("@Amina Khan", f"/edi feedback Point {number}")
        transcript.expect_reply("Your receipt code")
    transcript.say("@Amina Khan", "/edi feedback One more")
    transcript.expect_reply("the most I take from one person in a day", "haven't kept this one")
    transcript.say("@Sam Patel", "/edi feedback Someone else")
    transcript.expect_reply("Your receipt code")
    transcript.at("2025-11-04T08:00")
    transcript.say("@Amina Khan", "/edi feedback Next day")
    transcript.expect_reply("Your receipt code")
    assert len(kept(store)) == SUBMISSIONS_PER_DAY + 2


def test_feedback_is_released_in_shuffled_batches_at_the_release_times(
    transcript: Transcript, store: Database, clock: FakeClock
) -> None:
    set_up_feedback(store)
    assert release_feedback(store, now=clock.now().replace(hour=9, minute=0), zone=LONDON).posts == []
    transcript.at("2025-11-03T09:30")
    for number in range(6):
        transcript.say(
            "@Amina Khan" if number % 2 else "@Sam Patel", f"/edi feedback Thought number {number}"
        )
    if store.engine.dialect.name == "sqlite":  # no hidden rowid: the table's own order is by random reference
        refs_in_order = [piece.ref for piece in kept(store)]
        assert refs_in_order == sorted(refs_in_order)

    # Nothing goes before 15:00; at 15:00 all six go at once, in an order that isn't the order they came in.
    assert release_feedback(store, now=clock.now().replace(hour=14, minute=59), zone=LONDON).posts == []
    report = release_feedback(
        store, now=clock.now().replace(hour=15, minute=0), zone=LONDON, shuffle=random.Random(7)
    )
    assert report.slot == "2025-11-03 15:00" and len(report.posts) == 6
    posts = released_posts(store)
    assert all(post.channel == RESPONDERS_CHANNEL for post in posts)
    texts = [
        next(b["text"] for b in post.reply["blocks"] if "Thought" in b.get("text", "")) for post in posts
    ]
    assert sorted(texts) != texts or texts != [f"> Thought number {n}" for n in range(6)]
    assert sorted(texts) == sorted(f"> Thought number {n}" for n in range(6))
    # The same slot again (a second replica, a restart) releases nothing twice.
    assert release_feedback(store, now=clock.now().replace(hour=15, minute=1), zone=LONDON).posts == []
    # Each post carries the responders' buttons, and nothing of who sent it.
    assert {
        button["label"] for b in posts[0].reply["blocks"] if b["type"] == "Buttons" for button in b["buttons"]
    } == {
        "Reply",
        "You said, we did",
        "Link to an action",
    }


def test_follow_ups_wait_for_the_next_release_too(transcript: Transcript, store: Database) -> None:
    set_up_feedback(store)
    transcript.say("@Amina Khan", "/edi feedback The prayer room is always locked")
    code = receipt(transcript)
    release_feedback(store, now=transcript.clock.now().replace(hour=9, minute=35), zone=LONDON)
    transcript.at("2025-11-03T11:00")
    transcript.say("@Amina Khan", f"/edi feedback reply {code} Even on Fridays")
    assert len(released_posts(store)) == 1
    release_feedback(store, now=transcript.clock.now().replace(hour=15), zone=LONDON)
    posts = released_posts(store)
    assert (
        len(posts) == 2 and "Follow-up" in str(posts[-1].reply) and "Even on Fridays" in str(posts[-1].reply)
    )


def test_responders_publish_you_said_we_did_and_link_an_action(
    transcript: Transcript, store: Database
) -> None:
    set_up_feedback(store)
    transcript.say("@Amina Khan", "/edi feedback The intranet has no captions on videos")
    ref = receipt(transcript)[:6]
    transcript.say("@Amina Khan", f"/edi responders answer {ref} hello")
    transcript.expect_reply("Only the feedback responders can do that", "haven't changed anything")
    transcript.say(
        "@Priya Shah", f"/edi responders publish FB-{ref} You said videos lacked captions; we added them"
    )
    transcript.expect_reply("Published to #all-staff")
    transcript.say("@Priya Shah", f"/edi responders link FB-{ref} NO-2")
    transcript.expect_reply(f"FB-{ref} is marked as leading to NO-2")
    transcript.say(
        "@Priya Shah", f'/edi responders link FB-{ref} new plan:"Northbridge EDI Plan" Caption videos'
    )
    transcript.expect_reply("Added NO-16", f"Linked to anonymous feedback FB-{ref}")
    with store.session() as session:
        published = session.scalars(
            select(OutboxMessage).where(OutboxMessage.key.startswith("feedback-published:"))
        ).one()
        assert published.channel == "C0ALLSTAFF"
        assert "You said videos lacked captions; we added them" in str(published.reply)


def test_responders_buttons_open_forms_that_answer(transcript: Transcript, store: Database) -> None:
    set_up_feedback(store)
    transcript.say("@Amina Khan", "/edi feedback Please add pronouns to the staff directory")
    code = receipt(transcript)
    release_feedback(store, now=transcript.clock.now().replace(hour=9, minute=31), zone=LONDON)
    [post] = released_posts(store)
    transcript.console.reminded("Priya Shah", reply_from_data(post.reply))
    transcript.say("@Priya Shah", "1")  # [1] Reply
    transcript.expect_reply("Your reply")
    transcript.say("@Priya Shah", "Done: the directory has a pronouns field now")
    transcript.expect_reply("Replied to FB-")
    transcript.say("@Amina Khan", f"/edi feedback check {code}")
    transcript.expect_reply("Done: the directory has a pronouns field now")


def test_every_count_shows_only_groups_of_at_least_k(transcript: Transcript, store: Database) -> None:
    set_up_feedback(store)
    with store.session() as session:
        topics = stored.themes(session)
    assert len(topics) >= 2
    layer = transcript.layer
    for number in range(7):  # 6 on the first topic, 1 on the second: the second must not stand out
        who = Actor(surface="console", name=f"Person {number}")
        layer.submit(
            who, "feedback", "", {"text": f"Note {number}", "topic": topics[0] if number < 6 else topics[1]}
        )
    transcript.say("@Priya Shah", "/edi responders stats")
    transcript.expect_reply("In all: 7", f"{topics[0]}: fewer than 5")  # 6, hidden too: else 7 - 6 = 1
    reply = transcript.reply
    assert f"{topics[1]}: 1" not in reply and f"{topics[1]}: fewer than 5" in reply
    assert "2025-11: 7" in reply
    assert counts_shown({"a": 6, "b": 1}, k=5) == {"a": "fewer than 5", "b": "fewer than 5"}
    assert counts_shown({"a": 6, "b": 7, "c": 1, "d": 2}, k=5) == {
        "a": "6",
        "b": "7",
        "c": "fewer than 5",
        "d": "fewer than 5",
    }
    assert counts_shown({"a": 3}, k=5) == {"a": "fewer than 5"}


def test_old_feedback_is_deleted_after_the_retention_period(transcript: Transcript, store: Database) -> None:
    set_up_feedback(store)
    transcript.say("@Amina Khan", "/edi feedback Old thought")
    code = receipt(transcript)
    transcript.say("@Amina Khan", f"/edi feedback reply {code} And another")
    now = transcript.clock.now()
    assert forget_old_feedback(store, now=now.replace(year=2026, month=11, day=3), zone=LONDON) == 0
    assert forget_old_feedback(store, now=now.replace(year=2026, month=11, day=4), zone=LONDON) == 1
    assert kept(store) == []
    with store.session() as session:
        assert session.scalars(select(FeedbackMessage)).all() == []


def test_codes_forgive_case_and_confusable_letters() -> None:
    ref, secret = read_code("k7q3mz-abcd efgh-jkmn-pqrs-tvwO")
    assert (ref, secret) == ("K7Q3MZ", "ABCDEFGHJKMNPQRSTVW0")
    for bad in ("", "K7Q3MZ", "K7Q3MZ-ABCD-EFGH-JKMN-PQRS-TVWXY", "K7Q3MZ-ABCD-EFGH-JKMN-PQRS-TVW!"):
        try:
            read_code(bad)
        except MalformedCode:
            continue
        raise AssertionError(f"{bad!r} read as a code")
    assert read_release_times("15:00, 09:00") == read_release_times("09:00,15:00")


def test_cli_sets_up_feedback_and_only_a_responder_may_change_it(cli: CliRun, tmp_path: Path) -> None:
    code, _, err = cli(
        "people", "import", str(Path(__file__).parents[1] / "bot" / "samples" / "northbridge_people.csv")
    )
    assert code == 0, err
    code, _, err = cli("feedback", "setup", "--channel", "C0FB|feedback-team")
    assert code == 1 and "--responders" in err
    code, _, err = cli("feedback", "setup", "--channel", "C0FB|feedback-team", "--responders", "Nobody Here")
    assert code == 1 and "Nobody Here" in err
    code, out, err = cli(
        "feedback",
        "setup",
        "--channel",
        "C0FB|feedback-team",
        "--responders",
        "Priya Shah",
        "--k",
        "6",
        "--release",
        "08:30,16:00",
        "--retention-days",
        "180",
    )
    assert code == 0, err
    assert "#feedback-team" in out and "08:30 and 16:00" in out and "Priya Shah" in out and "6 or more" in out
    code, _, err = cli("feedback", "setup", "--k", "7")
    assert code == 1 and "only one of its responders may change it" in err
    code, _, err = cli("feedback", "setup", "--k", "7", "--as", "Amina Khan")
    assert code == 1 and "only one of its responders" in err
    code, out, err = cli("feedback", "setup", "--k", "1", "--as", "Priya Shah")
    assert code == 1 and "k is a whole number" in err
    code, out, err = cli("feedback", "setup", "--release", "25:00", "--as", "Priya Shah")
    assert code == 1 and "not a time of day" in err
    code, out, err = cli("--log-level", "DEBUG", "feedback", "setup", "--k", "7", "--as", "Priya Shah")
    assert code == 0 and "groups of 7" in out, err
    code, _, err = cli("--log-level", "LOUD", "feedback", "export")
    assert code == 1 and "--log-level" in err


def test_responders_change_the_settings_in_chat_and_no_one_else_may(
    transcript: Transcript, store: Database
) -> None:
    set_up_feedback(store)
    transcript.say("@Amina Khan", "/edi responders setup k 3")
    transcript.expect_reply("Only the feedback responders can do that", "haven't changed anything")
    transcript.say("@Priya Shah", "/edi responders setup k 1")
    transcript.expect_reply("k is a whole number from 2 to 50")
    transcript.say("@Priya Shah", "/edi responders setup release 9am")
    transcript.expect_reply("'9am' is not a time of day")
    transcript.say("@Priya Shah", "/edi responders setup retention 5")
    transcript.expect_reply("Retention is a number of days from 30 to 3650")
    transcript.say("@Priya Shah", "/edi responders setup loudly")
    transcript.expect_reply("I don't understand 'loudly'")
    transcript.say("@Priya Shah", '/edi responders setup responders "Nobody Here"')
    transcript.expect_reply("I don't know Nobody Here")
    with store.session() as session:
        settings = stored.feedback_settings(session)
        assert settings is not None and settings.k == 5 and settings.release_times == ["09:00", "15:00"]
    transcript.say(
        "@Priya Shah",
        '/edi responders setup #C0NEWFB|fb-team k 7 release 15:30,08:00 retention 90 responders "Priya Shah" '
        '"Sam Patel"',
    )
    transcript.expect_reply("#fb-team", "08:00 and 15:30", "90 days", "Priya Shah, Sam Patel", "7")
    transcript.say("@Sam Patel", "/edi responders settings")
    transcript.expect_reply("Anonymous feedback settings", "#fb-team")
    transcript.say("@Sam Patel", '/edi responders setup signposting "Call HR on 0123 for a formal report"')
    transcript.say("@Amina Khan", "/edi feedback")
    transcript.expect_reply("About a specific incident? Call HR on 0123")
    transcript.say("@Sam Patel", "/edi responders setup signposting off")
    transcript.say("@Amina Khan", "/edi feedback")
    transcript.expect_reply("Freedom to Speak Up guardian")


def test_export_gives_responders_an_anonymous_csv_whose_cells_never_run(
    cli: CliRun, store: Database, transcript: Transcript, tmp_path: Path
) -> None:
    code, _, err = cli("feedback", "export", "--out", str(tmp_path / "none.csv"))
    assert code == 1 and "isn't set up" in err
    set_up_feedback(store)
    transcript.say("@Amina Khan", '/edi feedback =HYPERLINK("http://evil.example","click")')
    code_ = receipt(transcript)
    transcript.say("@Amina Khan", f"/edi feedback reply {code_} @SUM(1+1) and more")
    transcript.say("@Priya Shah", f"/edi responders answer {code_[:6]} -We hear you")
    out = tmp_path / "feedback.csv"
    code, printed, err = cli("feedback", "export", "--out", str(out))
    assert code == 0, err
    assert "1 pieces of feedback written" in printed
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert rows[0] == [
        "reference",
        "received",
        "topic",
        "incident",
        "feedback",
        "follow-ups",
        "replies",
        "action",
        "published",
    ]
    [row] = rows[1:]
    assert row[0] == f"FB-{code_[:6]}" and row[1] == "2025-11-03"
    assert row[4].startswith("'=HYPERLINK")
    assert row[5] == "2025-11-03: @SUM(1+1) and more" and row[6] == "2025-11-03: -We hear you"
    assert "Amina" not in out.read_text(encoding="utf-8")


def test_a_failure_on_the_anonymous_path_is_logged_by_its_kind_alone(
    transcript: Transcript, store: Database, caplog: pytest.LogCaptureFixture
) -> None:
    set_up_feedback(store)
    with store.engine.begin() as connection:  # the feedback table is out of reach for a moment
        connection.execute(text("ALTER TABLE feedback RENAME TO feedback_away"))
    try:
        with caplog.at_level(logging.DEBUG):
            transcript.say("@Amina Khan", "/edi feedback My manager calls me by the wrong name")
    finally:
        with store.engine.begin() as connection:
            connection.execute(text("ALTER TABLE feedback_away RENAME TO feedback"))
    transcript.expect_reply("something went wrong on my side and nothing was kept")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "an anonymous feedback request failed: OperationalError" in logged or "ProgrammingError" in logged
    assert "Amina" not in logged and "wrong name" not in logged
    assert all(record.exc_info is None for record in caplog.records)
