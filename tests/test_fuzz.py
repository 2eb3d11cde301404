"""Whatever anyone types, edibot answers in words and never falls over: commands, thread replies and people
files made up by hypothesis, from near-misses of real input to arbitrary text.

An answer that says nothing was changed must mean exactly that: the store is compared before and after.
(The deadline interpreter and the plan readers have their own properties in test_deadlines and
test_readers.)
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.core import Actor
from storage.db import Database
from storage.importing.errors import PlanFileError
from storage.people import import_people
from storage.textfiles import TextEncodingError
from tests.transcript import Transcript, store_state

FUZZ = settings(
    max_examples=120,
    deadline=None,
    # One store for all the examples: state carried from one to the next is part of what is tried.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
NOTHING_CHANGED = ("I haven't changed", "I didn't change anything", "I haven't told anyone")
BROKEN = "Sorry, something went wrong"

# The words real commands are made of, and the things careless or hostile people put between them.
WORDS = st.sampled_from(
    [
        *("help", "mine", "list", "show", "history", "green", "amber", "red", "done", "note", "due"),
        *("snooze", "reopen", "notmine", "away", "quiet", "reminders", "add", "owner", "people", "admins"),
        *("plan", "calendar", "digest", "map", "unmapped", "pause", "resume"),
        *("NO-6", "NO-2", "no-6", "NO-", "NO-999", "SC-SP1", "6", "#6", "NO-6,NO-2"),
        *("31/3/26", "Q1 2026", "end of March", "in 2 weeks", "1w", "3d", "until", "off", "18:00-08:00"),
        *('plan:"Northbridge EDI Plan"', "owner:HR", "theme:", "due:30d", "overdue", "plan:", 'owner:"'),
        *("@Amina Khan", "<@U0AMINA>", "<!channel>", "#edi", "<#C0EDI|edi>", "&amp;", "<script>", "'", '"'),
        *("\u202e", "\u0000", "\t", "é", "🟥", "—", "=1+1", "@SUM(A1)", "x" * 300, "9" * 40),
    ]
)
TYPED = st.lists(st.one_of(WORDS, st.text(max_size=20)), max_size=8).map(" ".join)


def answer_to(transcript: Transcript, store: Database, who: str, text: str, **where: str) -> str:
    before = store_state(store)
    outcome = transcript.layer.handle(Actor(surface="slack", name=who), text, **where)
    said = outcome.reply.plain_text()
    assert said.strip(), f"{text!r} got an empty answer"
    assert BROKEN not in said
    if any(phrase in said for phrase in NOTHING_CHANGED):
        assert store_state(store) == before, f"{text!r} said nothing changed, but the store did: {said!r}"
    return said


@FUZZ
@given(typed=TYPED, who=st.sampled_from(["Amina Khan", "Dafydd Evans", "Priya Shah", "Zed Stranger"]))
def test_any_command_is_answered_in_words_and_a_refusal_changes_nothing(
    transcript: Transcript, store: Database, typed: str, who: str
) -> None:
    answer_to(transcript, store, who, "/edi " + typed)


@FUZZ
@given(typed=st.one_of(TYPED, st.text(max_size=200)))
def test_any_reply_in_a_reminders_thread_is_answered_and_changes_nothing_unless_it_was_understood(
    transcript: Transcript, store: Database, typed: str
) -> None:
    answer_to(transcript, store, "Amina Khan", typed or "?", thread_ref="NO-6")


PEOPLE_COLUMNS = st.sampled_from(
    [
        *("owner", "name", "email", "timezone", "slack_id", "teams_id", "admin", "nation", "working_days"),
        *("send_time", "quiet_hours", "reminder_day", "Owner ", "EMAIL", "", "owner"),
    ]
)
CELLS = st.one_of(
    st.sampled_from(["HR Manager", "Amina Khan", "amina@x.example", "Europe/London", "U0AMINA", "yes"]),
    st.sampled_from(["Mon-Thu", "scotland", "25:00", "18:00-08:00", "Funday", "=HYPERLINK()", '"', "\r"]),
    st.text(max_size=30),
)


@FUZZ
@given(
    header=st.lists(PEOPLE_COLUMNS, min_size=0, max_size=8),
    rows=st.lists(st.lists(CELLS, max_size=9), max_size=6),
)
def test_any_people_file_is_imported_or_refused_with_a_reason(
    store: Database, tmp_path: Path, now: datetime, header: list[str], rows: list[list[str]]
) -> None:
    path = tmp_path / "people.csv"
    lines = [",".join(header), *(",".join(cell.replace("\n", " ") for cell in row) for row in rows)]
    path.write_text("\n".join(lines), encoding="utf-8", errors="surrogatepass")
    try:
        summary = import_people(store, path, now=now)
    except (PlanFileError, TextEncodingError) as refused:
        assert str(refused).strip()
    else:
        assert summary is not None


@FUZZ
@given(content=st.binary(max_size=600))
def test_any_bytes_as_a_people_file_are_imported_or_refused_with_a_reason(
    store: Database, tmp_path: Path, now: datetime, content: bytes
) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes(content)
    try:
        import_people(store, path, now=now)
    except (PlanFileError, TextEncodingError) as refused:
        assert str(refused).strip()
