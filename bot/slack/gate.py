"""What reaches Bolt over HTTP: a body of at most 1 MB, signed by Slack in the last 5 minutes, that parses.

Bolt reads a whole body and parses it before it checks the signature, so an unsigned 300 MB POST filled memory
and an unsigned or malformed one (invalid UTF-8, `payload=` that is not a JSON object) ended in a 500 and a
traceback. Here the checks run in the order that costs least: the declared size, the size actually read, the
signature (an HMAC of the raw bytes), and only then the shape, parsed the way Bolt will parse it. A refusal
names the rule it broke, never the body, so it can be logged on one line.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from urllib.parse import parse_qsl

MAX_BODY = (
    1024 * 1024
)  # Slack's payloads are a few kilobytes; a modal full of answers is still far below this
REPLAY_WINDOW = 5 * 60  # seconds: Slack's own rule for how old a signed request may be


class Refused(Exception):
    """A request that never reaches Bolt: the HTTP status it gets and why, in words fit for a log line."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def declared_size(headers: Mapping[str, str]) -> None:
    """Refuses a body too large by its Content-Length, before a byte of it is read."""
    length = headers.get("content-length")
    if length is not None and length.strip().isdigit() and int(length) > MAX_BODY:
        raise Refused(413, f"a body of {int(length):,} bytes declared, over the {MAX_BODY:,} accepted")


def signed_by_slack(headers: Mapping[str, str], body: bytes, *, secret: str, now: float) -> None:
    """Refuses a request without Slack's v0 signature of this body, or signed more than 5 minutes from now."""
    stamp = headers.get("x-slack-request-timestamp", "")
    signature = headers.get("x-slack-signature", "")
    if not stamp or not signature:
        raise Refused(401, "no Slack signature")
    if not stamp.isdigit():
        raise Refused(401, "a Slack timestamp that is not a number")
    if abs(now - int(stamp)) > REPLAY_WINDOW:
        raise Refused(401, "a Slack timestamp more than 5 minutes away")
    expected = (
        "v0=" + hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    )
    if not hmac.compare_digest(expected, signature):
        raise Refused(401, "a Slack signature that does not match")


def well_formed(headers: Mapping[str, str], body: bytes) -> str:
    """The body as text, if it is what Slack sends: a JSON object, or a form with a command or a JSON payload.

    JSON or form is decided as Bolt decides it (content type application/json, or a body starting with "{"),
    so what is checked here is what Bolt parses.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "a body that is not UTF-8") from None
    content_type = headers.get("content-type", "").split(";")[0]
    if content_type == "application/json" or text.startswith("{"):
        _json_object(text, "a JSON body")
        return text
    form = dict(parse_qsl(text, keep_blank_values=True))
    if "payload" in form:
        _json_object(form["payload"], "a form payload")
    elif "command" not in form and "ssl_check" not in form:
        raise Refused(400, "a body that is neither JSON nor a Slack form")
    return text


def _json_object(text: str, what: str) -> None:
    try:
        parsed = json.loads(text)
    except ValueError:
        raise Refused(400, f"{what} that is not JSON") from None
    if not isinstance(parsed, dict):
        raise Refused(400, f"{what} that is not a JSON object")


def signed_delivery(headers: Mapping[str, Sequence[str]]) -> str | None:
    """A signed request's identity, for the command layer's de-duplication: its timestamp and signature.

    Slack signs every delivery afresh, so only a replay of the same bytes repeats both; a replay inside the
    5-minute window then changes nothing twice. None over Socket Mode, where requests are not signed.
    """
    stamp = next(iter(headers.get("x-slack-request-timestamp") or ()), "")
    signature = next(iter(headers.get("x-slack-signature") or ()), "")
    return f"signed:{stamp}:{signature}" if stamp and signature else None
