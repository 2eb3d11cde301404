"""Serving the Teams app: our ASGI front, then the SDK's FastAPI app, under uvicorn.

The front lets through one thing only: a POST to /api/messages no larger than MAX_BODY, whose body is a JSON
activity and whose JWT `ChannelTokens` accepts for the serviceUrl that activity names. Anything else is
answered here (401 for a token, 413 for size, 400 for a body that isn't an activity, 404 for any other path:
FastAPI's own /docs and /openapi.json are not served) and logged in one line without the body, and nothing
reaches the SDK or the store. Checking the token costs microseconds once the keys are held; the keys are read
(the first time, and when Microsoft rolls them) on a thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import uvicorn

from bot import serving
from bot.teams.auth import ChannelTokens, Refused

log = logging.getLogger(__name__)

MESSAGES_PATH = "/api/messages"
MAX_BODY = 256 * 1024  # an activity is a few KB; Teams' own messages are at most about 28 KB
KEEP_ALIVE_SECONDS = serving.KEEP_ALIVE_SECONDS

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
Asgi = Callable[[Scope, Receive, Send], Awaitable[None]]


class TooLarge(Exception):
    pass


class TeamsHttp:
    """The ASGI app in front of the SDK's: see the module docstring."""

    def __init__(self, inner: Asgi, *, tokens: ChannelTokens) -> None:
        self.inner = inner
        self.tokens = tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if scope["method"] != "POST" or scope["path"] != MESSAGES_PATH:
            await _answer(send, 404)
            return
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]
        }
        where = scope.get("client")
        try:
            if int(headers.get("content-length") or 0) > MAX_BODY:
                raise TooLarge
            body = await _read_body(receive)
            activity = json.loads(body)
            if not isinstance(activity, dict) or not isinstance(activity.get("type"), str):
                raise ValueError("not an activity")
        except TooLarge:
            self._refused(where, f"a body over the {MAX_BODY:,} bytes accepted")
            await _answer(send, 413)
            return
        except (ValueError, UnicodeDecodeError):
            self._refused(where, "a body that is not a JSON activity")
            await _answer(send, 400)
            return
        service_url = activity.get("serviceUrl")
        try:
            await self._check(headers.get("authorization") or "", service_url)
        except Refused as refused:
            self._refused(where, str(refused))
            await _answer(send, 401)
            return
        await self.inner(scope, _replay(body), send)

    async def _check(self, authorization: str, service_url: Any) -> None:
        url = service_url if isinstance(service_url, str) else None
        # On a thread: the first request (and the first after Microsoft rolls its keys) reads the metadata.
        await asyncio.to_thread(self.tokens.check, authorization, service_url=url)

    @staticmethod
    def _refused(where: Any, reason: str) -> None:
        log.warning("refused a request to %s from %s: %s", MESSAGES_PATH, where[0] if where else "?", reason)


async def _read_body(receive: Receive) -> bytes:
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise ValueError("the client went away before its body was read")
        body += message.get("body", b"")
        if len(body) > MAX_BODY:
            raise TooLarge
        if not message.get("more_body", False):
            return bytes(body)


def _replay(body: bytes) -> Receive:
    """The body, read once here, handed to the SDK's app as if it came off the wire."""
    sent = False

    async def receive() -> MutableMapping[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _answer(send: Send, status: int) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})


def uvicorn_server(front: Asgi, *, host: str, port: int) -> uvicorn.Server:
    """A uvicorn server for the front (tests and benchmarks start it in a thread; `edibot run` runs it;
    `run --slack-http --teams` gives it a front for both)."""
    return serving.uvicorn_server(front, host=host, port=port)
