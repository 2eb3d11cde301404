"""edibot's log: lines on stderr, where the SDKs' debug lines keep their metadata and lose their bodies.

slack_sdk and slack_bolt log whole request and response bodies at DEBUG: what people wrote and what we
answered them (and, for a slash command, who typed it). httpcore (under httpx, which the Teams SDK uses) logs
every response's headers at DEBUG, and httpx logs each request's URL at INFO, which for the Bot Connector
names a person's 1:1 chat. An operator who turns DEBUG on to see what edibot is doing gets each SDK line up to
where its body or headers start (the method called, the status; the Teams SDK's whole activity up to its
first field), and an httpx line with its URL cut to the
host: nobody's words, nobody's chat, no response's Date. That matters most for anonymous feedback, whose
path must leave no line that says who sent it.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import TextIO

SDK_LOGGERS = ("slack_sdk", "slack_bolt", "httpcore", "microsoft_teams")
URL_LOGGERS = ("httpx",)
_URL = re.compile(r"(https?://[^/\s\"]+)/[^\s\"]*")


class BodiesLeftOut(logging.Filter):
    """Cuts an SDK's debug line at its first JSON object or list (what comes after is a body or headers), and
    an httpx line's URLs at their host."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith(URL_LOGGERS):
            record.msg, record.args = _URL.sub(r"\1/…", record.getMessage()), None
            return True
        if record.levelno > logging.DEBUG or not record.name.startswith(SDK_LOGGERS):
            return True
        message = record.getMessage()
        # The Teams SDK logs a whole activity as its model's repr ("Received activity: service_url=… from_=
        # Account(id=…, name=…)"): there a body starts at its first field.
        # "Received activity: message (ID: 1730…)": a Teams message id is the moment it was sent, in ms.
        marks = ("{", "[", "=", "(ID") if record.name.startswith("microsoft_teams") else ("{", "[")
        starts = [at for at in (message.find(mark) for mark in marks) if at >= 0]
        if starts:
            record.msg, record.args = message[: min(starts)].rstrip() + " … (body left out)", None
        return True


def log_handler(stream: TextIO) -> logging.Handler:
    """edibot's log handler: one line a record, no time, the SDKs' bodies left out."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(BodiesLeftOut())
    return handler


def configure_logging(level: str) -> None:
    """Logs at `level` and above to stderr, one line a record, Slack SDK bodies left out."""
    logging.basicConfig(level=level.upper(), handlers=[log_handler(sys.stderr)])
