"""Anonymous feedback leaves no trace of who sent it: sent by a known person through the real Slack app, the
real Teams app and the console, with logging at DEBUG, and then looked for everywhere edibot writes.

Each story searches three places for the sender's platform ids, name and email and for the exact moment they
sent it (the test clock's, and the wall clock's that Slack signs its requests with): every row the database
gained (on SQLite the raw file too), every log line edibot's handler wrote at DEBUG (slack-bolt's, slack_sdk's
and the Teams SDK's own included), and every call the Slack and Bot Connector stand-ins received.
"""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from slack_bolt import BoltResponse
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from bot.console import FakeClock
from bot.logs import log_handler
from bot.slack.app import _on_error
from schedules.feedback import release_feedback
from storage.db import Database
from tests.conftest import LONDON, SAMPLES, CliRun, imported_by_cli
from tests.slack_workspace import SlackWorkspace
from tests.teams_tenant import TeamsTenant, texts_of
from tests.test_feedback import CODE, set_up_feedback

SENT_AT = datetime(2025, 11, 3, 10, 17, 43, tzinfo=LONDON)  # the test clock when the feedback is sent


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    """Everything logged, at DEBUG, through edibot's own handler (as `edibot --log-level DEBUG` logs)."""
    written = io.StringIO()
    handler = log_handler(written)
    root = logging.getLogger()
    before = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    quiet = [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger) and not logger.propagate
    ]
    for logger in quiet:  # a library logger that doesn't pass its lines up still gets written here
        logger.addHandler(handler)
    yield written
    for logger in quiet:
        logger.removeHandler(handler)
    root.removeHandler(handler)
    root.setLevel(before)


def database_rows(store: Database) -> set[str]:
    """Every row of every table, as text: the database's whole content, on SQLite or PostgreSQL."""
    rows: set[str] = set()
    with store.engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                rows.add(f"{table}: {tuple(row)!r}")
    return rows


def raw_database(store: Database) -> str:
    """The SQLite file and its journal as bytes read as text (deleted rows linger in free pages); PostgreSQL
    is read through its rows."""
    url = make_url(str(store.engine.url))
    if url.get_backend_name() != "sqlite" or not url.database:
        return ""
    found = ""
    for path in (Path(url.database), Path(url.database + "-wal"), Path(url.database + "-journal")):
        if path.exists():
            found += path.read_bytes().decode("latin-1")
    return found


def moments(*, wall: float) -> list[str]:
    """The ways the moment of sending could be written: the test clock's, and the wall clock's."""
    local, utc = SENT_AT, SENT_AT.astimezone(UTC)
    written = [
        f"{local:%H:%M:%S}",
        f"{local:%Y-%m-%d %H:%M}",
        f"{local:%Y-%m-%dT%H:%M}",
        f"{utc:%Y-%m-%d %H:%M}",
        f"{utc:%Y-%m-%dT%H:%M}",
        str(int(SENT_AT.timestamp())),
    ]
    for second in (int(wall) - 1, int(wall), int(wall) + 1):
        real = datetime.fromtimestamp(second, UTC)
        written += [str(second), f"{real:%H:%M:%S}", f"{real.astimezone(LONDON):%H:%M:%S}"]
    return written


def assert_untraceable(where: str, found: str, *, secrets: list[str]) -> None:
    for secret in secrets:
        assert secret not in found, f"{secret!r} is in {where}:\n" + _around(found, secret)


def _around(found: str, secret: str) -> str:
    at = found.find(secret)
    return found[max(0, at - 300) : at + 300]


# -- Slack --------------------------------------------------------------------------------------------------


def test_feedback_over_slack_leaves_no_trace_of_who_sent_it(
    store: Database, clock: FakeClock, slack: SlackWorkspace, debug_log: io.StringIO
) -> None:
    set_up_feedback(store)
    amina = slack.person("Amina Khan")
    before = database_rows(store)
    clock.set(SENT_AT)
    wall = time.time()

    # Straight away, in one line; then through the form; then reading replies and following up.
    answer = slack.command(amina, "feedback Promotions panels are always all-white men")
    assert answer.status == 200 and "Your receipt code" in answer.shown
    assert answer.body.get("response_type") == "ephemeral"  # seen by the sender alone
    code = CODE.search(answer.shown)
    assert code is not None
    slack.command(amina, "feedback")
    modal = slack.last_modal()
    assert "Who can see what" in json.dumps(modal) and "way people write" in json.dumps(modal)
    submitted = slack.submit(amina, modal, {"text": "Exit interviews are never acted on"})
    assert "Your receipt code" in json.dumps(submitted.body)
    slack.command(amina, f"feedback reply {code.group(1)} And the panel never explains its decisions")
    checked = slack.command(amina, f"feedback check {code.group(1)}")
    assert "all-white men" in checked.shown and "never explains" in checked.shown
    slack.command(amina, "feedback check 000000-AAAA-BBBB-CCCC-DDDD-EEEE")

    # Released to the responders, through the outbox and the Slack sender.
    clock.set(SENT_AT.replace(hour=15, minute=1))
    released = release_feedback(store, now=clock.now(), zone=LONDON)
    slack.api.add_channel("C0FEEDBACK", private=True)
    slack.round.deliver_now(released.posts)
    posted = slack.api.posted("C0FEEDBACK")
    assert len(posted) == 2 and "all-white men" in json.dumps(posted)

    secrets = [amina.id, amina.name, amina.email, amina.email.split("@")[0], *moments(wall=wall)]
    gained = "\n".join(sorted(database_rows(store) - before))
    assert "all-white men" in gained  # the feedback itself is kept, of course
    assert_untraceable("the rows the database gained", gained, secrets=secrets)
    assert_untraceable("the database file", raw_database(store), secrets=[amina.id])
    logged = debug_log.getvalue()
    assert "DEBUG" in logged  # slack-bolt and slack_sdk did log at DEBUG: their lines were searched too
    assert_untraceable("the log", logged, secrets=secrets)
    calls = json.dumps([[call.method, call.params] for call in slack.api.calls], default=str)
    calls += json.dumps(slack.api.responses, default=str)
    assert slack.api.calls_to("users.info") == []  # nobody was looked up
    assert_untraceable("the calls edibot made to Slack", calls, secrets=secrets)


def test_the_home_button_opens_the_form_without_saying_who_pressed_it(
    store: Database, clock: FakeClock, slack: SlackWorkspace, debug_log: io.StringIO
) -> None:
    set_up_feedback(store)
    amina = slack.person("Amina Khan")
    slack.open_home(amina)  # her own Home tab: edibot knows her there, as it should
    assert "Give anonymous feedback" in json.dumps(slack.api.home_of(amina.id))
    calls_before, before, debug_log_before = (
        len(slack.api.calls),
        database_rows(store),
        len(debug_log.getvalue()),
    )
    clock.set(SENT_AT)
    wall = time.time()
    slack.press_in_home(amina, "Give anonymous feedback")
    modal = slack.last_modal()
    submitted = slack.submit(amina, modal, {"text": "The carers' network needs a budget"})
    assert "Your receipt code" in json.dumps(submitted.body)
    secrets = [amina.id, amina.name, amina.email, *moments(wall=wall)]
    gained = "\n".join(sorted(database_rows(store) - before))
    assert "carers' network" in gained
    assert_untraceable("the rows the database gained", gained, secrets=secrets)
    assert_untraceable("the log", debug_log.getvalue()[debug_log_before:], secrets=secrets)
    calls = json.dumps([[c.method, c.params] for c in slack.api.calls[calls_before:]], default=str)
    assert_untraceable("the calls edibot made to Slack", calls, secrets=secrets)


def test_responders_answer_from_the_post_in_their_channel_and_the_sender_reads_it(
    store: Database, clock: FakeClock, slack: SlackWorkspace
) -> None:
    set_up_feedback(store)
    amina, priya = slack.person("Amina Khan"), slack.person("Priya Shah")
    code = CODE.search(slack.command(amina, "feedback Night shifts never hear about EDI events").shown)
    assert code is not None
    slack.api.add_channel("C0FEEDBACK", private=True)
    slack.round.deliver_now(release_feedback(store, now=clock.now(), zone=LONDON).posts)
    [post] = slack.api.posted("C0FEEDBACK")
    assert "Night shifts" in json.dumps(post)
    slack.press(priya, post, "Reply", channel="C0FEEDBACK")
    answered = slack.submit(priya, slack.last_modal(), {"text": "We'll record every event from now on"})
    assert "Replied to FB-" in json.dumps(answered.body)
    # Someone who isn't a responder gets the form no further than a refusal.
    slack.press(amina, post, "Reply", channel="C0FEEDBACK")
    refused = slack.api.responses[-1]
    assert "Only the feedback responders" in json.dumps(refused)
    checked = slack.command(amina, f"feedback check {code.group(1)}")
    assert "We'll record every event from now on" in checked.shown


def test_an_empty_form_is_refused_on_the_form_and_nothing_is_kept(
    store: Database, slack: SlackWorkspace
) -> None:
    set_up_feedback(store)
    amina = slack.person("Amina Khan")
    slack.command(amina, "feedback")
    answer = slack.submit(amina, slack.last_modal(), {"text": "   "})
    assert answer.body.get("response_action") == "errors" and "empty" in json.dumps(answer.body)


# -- Teams --------------------------------------------------------------------------------------------------


def test_feedback_over_teams_leaves_no_trace_of_who_sent_it(
    store: Database, clock: FakeClock, teams: TeamsTenant, debug_log: io.StringIO
) -> None:
    set_up_feedback(store)
    amina = teams.person("Amina Khan", matched=True)  # the directory knows her Teams id: a known person
    before = database_rows(store)
    clock.set(SENT_AT)
    wall = time.time()
    answer = teams.say(amina, "feedback Nobody uses the accessibility room booking")
    assert "Your receipt code" in answer.shown
    code = CODE.search(answer.shown)
    assert code is not None
    form = teams.say(amina, "feedback")
    assert "Who can see what" in form.shown
    card = form.activities[-1]["attachments"][0]["content"]
    pressed = teams.press(
        amina, card, "Send anonymously", typed={"text": "Hybrid meetings leave out deaf staff"}
    )
    assert "Your receipt code" in json.dumps(pressed)
    checked = teams.say(amina, f"feedback check {code.group(1)}")
    assert "accessibility room" in checked.shown

    secrets = [amina.id, amina.aad_object_id, amina.name, amina.email, *moments(wall=wall)]
    # Her 1:1 chat's id names her too, to anyone who can look it up, and her messages' ids (in Teams, the
    # moment each was sent): no row or log line may carry them either.
    message_ids = [f"17306{number:08d}" for number in range(1, 6)]
    gained = "\n".join(sorted(database_rows(store) - before))
    assert "accessibility room" in gained
    assert_untraceable(
        "the rows the database gained",
        gained,
        secrets=[*secrets, *message_ids, teams.connector.personal_chat(amina)],
    )
    logged = debug_log.getvalue()
    assert_untraceable(
        "the log", logged, secrets=[*secrets, *message_ids, teams.connector.personal_chat(amina)]
    )
    calls = json.dumps([[c.method, c.path, c.body] for c in teams.connector.calls], default=str)
    assert_untraceable("the calls edibot made to the Bot Connector", calls, secrets=secrets)


def test_teams_refuses_feedback_in_a_channel_where_everyone_would_see_the_code(
    store: Database, teams: TeamsTenant
) -> None:
    set_up_feedback(store)
    amina = teams.person("Amina Khan", matched=True)
    channel = teams.connector.channel("General")
    activity = teams.activity("message_personal", amina, conversation=channel)
    activity["conversation"]["conversationType"] = "channel"
    activity["text"] = "feedback Our team lead mocks accents"
    teams.post(activity)
    said = "\n".join(texts_of(a) for a in teams.connector.activities_in(channel))
    assert "1:1 chat" in said and "haven't kept anything" in said
    with store.session() as session:
        assert session.execute(text("SELECT count(*) FROM feedback")).scalar() == 0


# -- the console, as `edibot --log-level DEBUG console --script` runs it ---------------------------------


def test_feedback_in_the_console_leaves_no_trace_of_who_sent_it(
    cli: CliRun, store: Database, tmp_path: Path, debug_log: io.StringIO
) -> None:
    imported_by_cli(cli, now="2025-11-03T09:00")
    code, _, err = cli("people", "import", str(SAMPLES / "northbridge_people.csv"))
    assert code == 0, err
    set_up_feedback(store)
    before = database_rows(store)
    script = tmp_path / "feedback.txt"
    script.write_text(
        f":time {SENT_AT.isoformat()}\n"
        "@Amina Khan: /edi feedback Job adverts ask for 'native English speakers'\n"
    )
    wall = time.time()
    code, out, err = cli(
        "--log-level", "DEBUG", "--now", SENT_AT.isoformat(), "console", "--script", str(script)
    )
    assert code == 0, err
    assert "Your receipt code" in out
    secrets = ["Amina Khan", "amina", *moments(wall=wall)]
    gained = "\n".join(sorted(database_rows(store) - before))
    assert "native English speakers" in gained
    assert_untraceable("the rows the database gained", gained, secrets=secrets)
    assert_untraceable("the log", debug_log.getvalue() + err, secrets=secrets)


def test_a_slack_failure_on_the_feedback_path_is_logged_without_who_or_what(
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = {
        "command": "/edi",
        "text": "feedback my manager is unfair",
        "user_id": "U0AMINA01",
        "team_id": "T1",
    }
    with caplog.at_level(logging.DEBUG):
        answer = _on_error(RuntimeError("boom for U0AMINA01: my manager"), body, BoltResponse(status=500))
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "anonymous feedback failed: RuntimeError" in logged
    assert "U0AMINA01" not in logged and "manager" not in logged
    assert all(record.exc_info is None for record in caplog.records)
    assert answer is not None and "nothing was kept" in json.dumps(answer.body)
