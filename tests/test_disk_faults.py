"""A full disk and a read-only database, on SQLite: a write is refused in one sentence that says which and
what to do, an import is all or nothing, and whatever can still be read is still answered.

The disk is made full or read-only for every SQLite connection opened meanwhile by SQLite itself (a page
limit at the file's current size; `query_only`), which answers exactly as a full disk or a read-only file
does: SQLITE_FULL and SQLITE_READONLY.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bot.console import FakeClock
from handlers.core import Actor
from handlers.registry import command_layer
from storage.db import Database
from storage.rules.anonymity import SUBMISSIONS_PER_DAY
from tests.builders import write_csv
from tests.conftest import SAMPLES, CliRun, sample_organisation
from tests.test_feedback import set_up_feedback
from tests.transcript import nothing_changes

DISKS = {"full": "is full", "read-only": "is read-only"}


@contextmanager
def sqlite_disk(trouble: str) -> Iterator[None]:
    """Every SQLite connection opened in the block finds its disk full or its file read-only."""

    def on_connect(connection: Any, _record: Any) -> None:
        if trouble == "full":
            pages = connection.execute("PRAGMA page_count").fetchone()[0]
            connection.execute(f"PRAGMA max_page_count = {pages}")
        else:
            connection.execute("PRAGMA query_only = ON")

    event.listen(Engine, "connect", on_connect)
    try:
        yield
    finally:
        event.remove(Engine, "connect", on_connect)


@pytest.fixture
def sqlite_only(database_url: str) -> str:
    if not database_url.startswith("sqlite"):
        pytest.skip("a full disk and a read-only file are simulated through SQLite itself")
    return database_url


@pytest.mark.parametrize("trouble", list(DISKS))
def test_an_import_onto_a_full_or_read_only_database_is_refused_in_a_sentence_and_changes_nothing(
    trouble: str, sqlite_only: str, cli: CliRun, tmp_path: Path
) -> None:
    assert cli("--now", "2025-11-03T09:00", "import", str(SAMPLES / "northbridge_edi_plan.csv"))[0] == 0
    bigger = write_csv(
        tmp_path / "workforce.csv",
        [["Ref", "Action", "Owner", "Deadline"]]
        + [[f"W{n}", f"Action number {n} " + "x" * 200, "HR Manager", "31/3/26"] for n in range(400)],
    )
    _, listed_before, _ = cli("actions", "--json")

    with sqlite_disk(trouble):
        code, out, err = cli("--now", "2025-11-04T09:00", "import", str(bigger), "--plan", "Workforce")
        assert code == 1
        assert f"edibot's database {DISKS[trouble]}" in err and "nothing was changed" in err
        assert "Traceback" not in err + out
        code, listed_during, _ = cli("actions", "--json")  # reading still works
        assert code == 0 and listed_during == listed_before

    assert cli("actions", "--json")[1] == listed_before  # no half-written plan once the disk is back


def test_in_chat_reads_are_answered_and_a_change_is_refused_in_words_on_a_read_only_database(
    sqlite_only: str, clock: FakeClock
) -> None:
    setup = Database.open(sqlite_only, migrate=False)
    sample_organisation(setup, now=clock.now())
    amina = Actor(surface="slack", name="Amina Khan")
    command_layer(setup, clock).handle(amina, "/edi mine")  # she has used edibot on Slack before
    setup.dispose()

    with sqlite_disk("read-only"):
        store = Database.open(sqlite_only, migrate=False)
        layer = command_layer(store, clock)
        mine = layer.handle(amina, "/edi mine").reply.plain_text()
        with nothing_changes(store):
            refused = layer.handle(amina, "/edi amber NO-6 waiting on budget").reply.plain_text()
        store.dispose()

    assert mine.startswith("Your 3 open actions")
    assert refused.startswith("I can't save changes just now: my database is read-only.")
    assert "I haven't changed anything" in refused


def test_someone_using_edibot_for_the_first_time_on_a_read_only_database_still_gets_their_list(
    sqlite_only: str, clock: FakeClock
) -> None:
    setup = Database.open(sqlite_only, migrate=False)
    sample_organisation(setup, now=clock.now())
    setup.dispose()
    # Never seen on Slack: edibot would remember her Slack id and that she spoke there, but can't write.
    amina = Actor(surface="slack", name="Amina Khan", slack_id="U0AMINA")

    with sqlite_disk("read-only"):
        store = Database.open(sqlite_only, migrate=False)
        with nothing_changes(store):
            mine = command_layer(store, clock).handle(amina, "/edi mine").reply.plain_text()
        store.dispose()

    assert mine.startswith("Your 3 open actions")


def test_anonymous_feedback_on_a_read_only_database_is_refused_in_words_and_nothing_is_kept(
    sqlite_only: str, clock: FakeClock
) -> None:
    setup = Database.open(sqlite_only, migrate=False)
    sample_organisation(setup, now=clock.now())
    set_up_feedback(setup)
    setup.dispose()

    with sqlite_disk("read-only"):
        store = Database.open(sqlite_only, migrate=False)
        layer = command_layer(store, clock)
        refused = layer.handle(Actor(surface="slack", slack_id="U0AMINA01"), "/edi feedback Lifts broken")
        store.dispose()

    said = refused.reply.plain_text()
    assert said.startswith("I can't save changes just now: my database is read-only.")
    assert "Your receipt code" not in said


def test_feedback_refused_on_a_read_only_database_does_not_use_up_the_days_allowance(
    sqlite_only: str, clock: FakeClock
) -> None:
    setup = Database.open(sqlite_only, migrate=False)
    sample_organisation(setup, now=clock.now())
    set_up_feedback(setup)
    setup.dispose()
    someone = Actor(surface="slack", slack_id="U0AMINA01")
    store = Database.open(sqlite_only, migrate=False)
    layer = command_layer(store, clock)

    with sqlite_disk("read-only"):
        refused = [
            layer.handle(someone, f"/edi feedback The lifts are broken, try {n}", delivery_id=f"Ev{n}")
            for n in range(SUBMISSIONS_PER_DAY)
        ]
        store.dispose()  # the read-only connections go; the next are writable again
    kept = layer.handle(someone, "/edi feedback The lifts are broken, try 0", delivery_id="Ev0")
    store.dispose()

    assert all(r.reply.plain_text().startswith("I can't save changes just now") for r in refused)
    assert "Your receipt code" in kept.reply.plain_text()  # Slack's retry of the first is taken, too
