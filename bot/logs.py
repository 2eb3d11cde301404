"""edibot's log: lines on stderr, where the Slack SDK's debug lines keep their metadata and lose their bodies.

slack_sdk and slack_bolt log whole request and response bodies at DEBUG: what people wrote and what we
answered them. An operator who turns DEBUG on to see what edibot is doing gets each line up to where its body
starts (the method called, the status, the ids), and nobody's words.
"""

from __future__ import annotations

import logging
import sys

SDK_LOGGERS = ("slack_sdk", "slack_bolt")


class BodiesLeftOut(logging.Filter):
    """Cuts a Slack SDK debug line at its first JSON object or list: what comes after is a body."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.DEBUG or not record.name.startswith(SDK_LOGGERS):
            return True
        message = record.getMessage()
        starts = [at for at in (message.find("{"), message.find("[")) if at >= 0]
        if starts:
            record.msg, record.args = message[: min(starts)].rstrip() + " … (body left out)", None
        return True


def configure_logging(level: str) -> None:
    """Logs at `level` and above to stderr, one line a record, Slack SDK bodies left out."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(BodiesLeftOut())
    logging.basicConfig(level=level.upper(), handlers=[handler])
