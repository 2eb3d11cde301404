"""edibot's log: lines on stderr — readable in a terminal, or JSON objects for a log collector — each naming
the request it belongs to, with the Slack SDK's bodies and any token left out.

slack_sdk and slack_bolt log whole request and response bodies at DEBUG: what people wrote and what we
answered them. An operator who turns DEBUG on to see what edibot is doing gets each line up to where its body
starts (the method called, the status, the ids), and nobody's words. A token that reaches a line anyway (an
SDK's error quoting a header, a URL with a secret in it) is masked before the line is written.

httpcore (under httpx, which the Teams SDK uses) logs every response's headers at DEBUG, and httpx logs
each request's URL at INFO, which for the Bot Connector names a person's 1:1 chat: an SDK line is cut where
its body or headers start (the Teams SDK's whole activity at its first field), and an httpx line's URL at
its host — nobody's words, nobody's chat, no response's Date. That matters most for anonymous feedback,
whose path must leave no line that says who sent it.

`EDIBOT_LOG_FORMAT=json` writes one JSON object a line (structlog's renderer over the standard library's
records, so every library's lines are JSON too): time, level, logger, event, and the request id when the
line was written while answering a request (`REQUEST_ID`, set by bot/ops.py for each HTTP request, and
carried onto the threads that do the work). `EDIBOT_LOG_LEVELS` sets levels per module.
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any, ParamSpec, TextIO, TypeVar

from bot.config import Settings, parse_levels

SDK_LOGGERS = ("slack_sdk", "slack_bolt", "httpcore", "microsoft_teams")
URL_LOGGERS = ("httpx",)
_URL = re.compile(r"(https?://[^/\s\"]+)/[^\s\"]*")
P = ParamSpec("P")
R = TypeVar("R")

# The request a line is written for: an id made (or taken from X-Request-ID) when the request arrived.
REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("edibot_request_id", default=None)

# Slack's tokens (bot, user, app-level, refresh, config), a bearer token in a header, a secret in a query.
_TOKENS = re.compile(
    r"\bxox[a-z]-[A-Za-z0-9-]+|\bxapp-[A-Za-z0-9-]+|(?i:bearer)\s+[A-Za-z0-9._~+/=-]{8,}"
    r"|(?i:(?:client_secret|password|token)=)[^&\s\"']+"
)


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


class TokensLeftOut(logging.Filter):
    """Masks anything shaped like a token or a secret in a line (and in its exception's text)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_tokens(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = mask_tokens(logging.Formatter().formatException(record.exc_info))
        return True


class RequestStamp(logging.Filter):
    """Stamps each line with the request it was written for (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


def mask_tokens(text: str) -> str:
    return _TOKENS.sub(_mask, text)


def _mask(found: re.Match[str]) -> str:
    text = found.group(0)
    if "=" in text and not text.lower().startswith("bearer"):
        return text.split("=", 1)[0] + "=[token left out]"
    if text.lower().startswith("bearer"):
        return "Bearer [token left out]"
    return text[:5] + "[token left out]"


class _Readable(logging.Formatter):
    """LEVEL [request id] message: one line a record, as a person reads a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request = getattr(record, "request_id", None)
        return line.replace(" ", f" [{request}] ", 1) if request else line


def log_handler(stream: TextIO, *, json_lines: bool = False) -> logging.Handler:
    """edibot's log handler: one line a record — readable, or JSON — with request ids, the SDKs' bodies and
    tokens left out."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(_json_formatter() if json_lines else _Readable("%(levelname)s %(message)s"))
    handler.addFilter(BodiesLeftOut())
    handler.addFilter(TokensLeftOut())
    handler.addFilter(RequestStamp())
    return handler


# APScheduler writes two INFO lines for every job it runs ("Running job…", "…executed successfully"): two
# lines a minute, every minute, that say nothing an operator acts on. At DEBUG, or when EDIBOT_LOG_LEVELS
# names them, they speak again.
QUIET_LIBRARIES = {"apscheduler.executors": "WARNING"}


def configure_logging(
    level: str, *, json_lines: bool = False, levels: Mapping[str, str] | None = None
) -> None:
    """Logs at `level` and above to stderr (`levels`: other levels for some modules and libraries)."""
    logging.basicConfig(level=level.upper(), handlers=[log_handler(sys.stderr, json_lines=json_lines)])
    quiet = {} if level.upper() == "DEBUG" else QUIET_LIBRARIES
    for name, wanted in {**quiet, **(levels or {})}.items():
        logging.getLogger(name).setLevel(wanted.upper())


def configure_from(settings: Settings) -> None:
    """The log as the settings say: EDIBOT_LOG_LEVEL, EDIBOT_LOG_FORMAT and EDIBOT_LOG_LEVELS."""
    configure_logging(
        settings.log_level,
        json_lines=settings.log_format.lower() == "json",
        levels=parse_levels(settings.log_levels),
    )


def _json_formatter() -> logging.Formatter:
    import structlog  # noqa: PLC0415 — only a process that logs JSON loads it

    def request_id(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        record = event.get("_record")
        found = getattr(record, "request_id", None)
        if found:
            event["request_id"] = found
        return event

    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            request_id,
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
    )


def in_this_context(work: Callable[P, R]) -> Callable[P, R]:
    """`work`, to be run on another thread with this one's context (the request id): run_in_executor does
    not carry contextvars as asyncio.to_thread does."""
    context = contextvars.copy_context()

    def in_context(*args: P.args, **kwargs: P.kwargs) -> R:
        return context.run(work, *args, **kwargs)

    return in_context
