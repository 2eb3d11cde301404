"""edibot's Slack endpoint as the internet reaches it: slow requests, huge or garbled bodies, replays, logs.

The app is the one `edibot run --slack-http` serves, under uvicorn, reached over real HTTP (and a raw socket
where a well-behaved client could not send what an attacker would).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import socket
import threading
import time
from urllib.parse import urlencode

import pytest
from sqlalchemy import text

from tests.slack_standin import payload
from tests.slack_workspace import SIGNING_SECRET, SlackWorkspace
from tests.transcript import history

SECRET_WORDS = "the budget holder is off sick"  # what a person typed: it must never reach the log


# -- one slow request ----------------------------------------------------------------------------------------


def test_a_request_waiting_on_a_slow_slack_does_not_hold_up_anyone_else(slack: SlackWorkspace) -> None:
    amina = slack.person("Amina Khan")
    slack.command(amina, "mine")  # Amina is known by her Slack id from now on: no users.info for her
    stranger = slack.api.add_user("Jo Bloggs", email="jo.bloggs@elsewhere.example")
    slack.api.slow("users.info", seconds=2)  # who is Jo? Slack takes two seconds to say
    slow = threading.Thread(target=slack.command, args=(stranger, "mine"))
    slow.start()
    time.sleep(0.5)  # Jo's request is now waiting on Slack

    started = time.monotonic()
    answer = slack.command(amina, "mine")
    waited = time.monotonic() - started
    slow.join()

    assert "Your 3 open actions" in answer.shown
    assert waited < 1.0, f"Amina waited {waited:.1f} s behind Jo's slow request"


# -- bodies: too large, garbled, unsigned --------------------------------------------------------------------


def _raw_request(port: int, head: str, body: bytes) -> str:
    """Sends a request's head and the start of its body on a raw socket; returns the status line it gets."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        raw.sendall(head.encode("latin-1") + body)
        try:
            answer = raw.recv(4096).decode("latin-1")
        except TimeoutError:
            return "no answer within 5 s"
    return answer.split("\r\n", 1)[0]


def test_a_body_declared_over_a_megabyte_is_refused_before_it_is_sent(
    slack: SlackWorkspace, caplog: pytest.LogCaptureFixture
) -> None:
    head = (
        "POST /slack/events HTTP/1.1\r\nHost: edibot\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {300 * 1024 * 1024}\r\n\r\n"
    )

    status = _raw_request(slack.port, head, b"payload=" + b"A" * 1000)  # 300 MB promised, 1 kB sent

    assert status == "HTTP/1.1 413 Request Entity Too Large"
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == [
        "refused a request to /slack/events from 127.0.0.1: a body of 314,572,800 bytes declared, over the "
        "1,048,576 accepted"
    ]


def test_a_chunked_body_is_read_no_further_than_a_megabyte(slack: SlackWorkspace) -> None:
    chunk = b"A" * 65536
    head = (
        "POST /slack/events HTTP/1.1\r\nHost: edibot\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    )
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(17))  # 1.06 MB, and no end

    assert _raw_request(slack.port, head, chunks) == "HTTP/1.1 413 Request Entity Too Large"


def _signed(body: bytes) -> dict[str, str]:
    """Slack's v0 signature of these exact bytes, stamped now."""
    stamp = str(int(time.time()))
    base = b"v0:" + stamp.encode() + b":" + body
    signature = "v0=" + hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}


FORM = "application/x-www-form-urlencoded"
GARBAGE = {
    "a payload that is not JSON": (FORM, f"payload={SECRET_WORDS}".encode()),
    "a payload that is a JSON list": (FORM, urlencode({"payload": json.dumps([SECRET_WORDS])}).encode()),
    "a payload that is a JSON string": (FORM, urlencode({"payload": json.dumps(SECRET_WORDS)}).encode()),
    "a body that is not a form": ("text/plain", SECRET_WORDS.encode()),
    "a JSON body that is a list": ("application/json", json.dumps([SECRET_WORDS]).encode()),
    "a body that is not UTF-8": (FORM, b"command=%2Fedi&text=" + SECRET_WORDS.encode() + b"\xff\xfe"),
}


@pytest.mark.parametrize("garbage", GARBAGE, ids=list(GARBAGE))
def test_a_signed_but_garbled_body_gets_400_and_one_warning_without_its_words(
    slack: SlackWorkspace, garbage: str, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    content_type, body = GARBAGE[garbage]

    answer = slack.http.post(
        "/slack/events", content=body, headers={"Content-Type": content_type, **_signed(body)}
    )

    assert answer.status_code == 400
    _one_warning_without(caplog, capfd, SECRET_WORDS)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Slack-Request-Timestamp": "yesterday", "X-Slack-Signature": "v0=garbage"},
        {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=garbage"},
    ],
    ids=["no signature", "a timestamp that is not a number", "a signature that does not match"],
)
def test_an_unsigned_body_gets_401_and_one_warning_without_its_words(
    slack: SlackWorkspace,
    headers: dict[str, str],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    body = urlencode({"payload": json.dumps([SECRET_WORDS])}).encode()

    answer = slack.http.post("/slack/events", content=body, headers={"Content-Type": FORM, **headers})

    assert answer.status_code == 401
    assert "Sorry" not in answer.text
    _one_warning_without(caplog, capfd, SECRET_WORDS)


def _one_warning_without(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str], words: str
) -> None:
    logged = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.levelname for r in logged] == ["WARNING"], [r.getMessage() for r in logged]
    assert logged[0].exc_info is None
    assert words not in logged[0].getMessage()
    printed = capfd.readouterr()
    assert "Traceback" not in printed.err and words not in printed.err


def test_a_signed_request_from_slack_still_gets_through(slack: SlackWorkspace) -> None:
    amina = slack.person("Amina Khan")
    body = urlencode({**payload("request_slash_command"), "user_id": amina.id, "text": "help"})

    answer = slack.http.post(
        "/slack/events", content=body, headers={"Content-Type": FORM, **_signed(body.encode())}
    )

    assert answer.status_code == 200 and "/edi" in answer.text


# -- replays -------------------------------------------------------------------------------------------------


def _notes(slack: SlackWorkspace, ref: str) -> list[str | None]:
    return [row.note or row.to_value for row in history(slack.store, ref) if row.field == "note"]


def test_a_replayed_slash_command_is_applied_once(slack: SlackWorkspace) -> None:
    amina = slack.person("Amina Khan")
    first = slack.command(amina, "note NO-2 appraisal dates agreed")

    again = [slack.replay(), slack.replay()]

    assert first.status == 200 and [answer.status for answer in again] == [200, 200]
    assert _notes(slack, "NO-2") == ["appraisal dates agreed"]


def test_a_replayed_question_is_answered_again_as_it_changes_nothing(slack: SlackWorkspace) -> None:
    amina = slack.person("Amina Khan")
    slack.command(amina, "mine")

    again = slack.replay()

    assert "Your 3 open actions" in again.shown  # remembering every read would cost each one a write


def test_a_replayed_form_submission_is_applied_once(slack: SlackWorkspace) -> None:
    amina = slack.person("Amina Khan")
    slack.command(amina, "note NO-9")
    slack.submit(amina, slack.last_modal(), {"note": "room booked"})

    again = [slack.replay(), slack.replay()]

    assert [answer.status for answer in again] == [200, 200]
    assert _notes(slack, "NO-9") == ["room booked"]


# -- what reaches the log ------------------------------------------------------------------------------------


def test_a_database_failure_is_logged_without_what_the_person_wrote(
    slack: SlackWorkspace, caplog: pytest.LogCaptureFixture
) -> None:
    amina = slack.person("Amina Khan")
    slack.command(amina, "mine")
    with (
        slack.store.engine.begin() as connection
    ):  # the database refuses to keep history (a broken disk, say)
        connection.execute(text("ALTER TABLE history RENAME TO history_away"))
    try:
        answer = slack.command(amina, f"note NO-2 {SECRET_WORDS}")
    finally:
        with slack.store.engine.begin() as connection:
            connection.execute(text("ALTER TABLE history_away RENAME TO history"))

    assert "Sorry, something went wrong" in answer.shown
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors, "the failure was logged"
    assert SECRET_WORDS not in caplog.text
