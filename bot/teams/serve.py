"""Serving the Teams app: our ASGI front, then the SDK's activity handler, under uvicorn.

The front lets through one thing only: a POST to /api/messages no larger than MAX_BODY, whose body is a JSON
activity and whose JWT `ChannelTokens` accepts for the serviceUrl that activity names. Anything else is
answered here (401 for a token, 413 for size, 400 for a body that isn't an activity, 404 for any other path:
FastAPI's own /docs and /openapi.json are not served) and logged in one line without the body, and nothing
reaches the SDK or the store. Checking the token costs a fraction of a millisecond once the keys are held, and
is done on the event loop then; when the keys must be read (the first time, and when Microsoft rolls them) it
is done on a thread, never on the event loop.

What passes is handed, already parsed, to the SDK's `HttpServer.handle_request` (the SDK's own entry for
an activity, below its FastAPI route), and its answer written back here: the SDK's FastAPI app would only
parse the same body again and wrap it in middleware that nothing here needs.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

import uvicorn

from bot import serving
from bot.teams.auth import ChannelTokens, Refused

if TYPE_CHECKING:
    from microsoft_teams.apps.http.adapter import HttpRequest, HttpResponse

log = logging.getLogger(__name__)

MESSAGES_PATH = "/api/messages"
MAX_BODY = 256 * 1024  # an activity is a few KB; Teams' own messages are at most about 28 KB
KEEP_ALIVE_SECONDS = serving.KEEP_ALIVE_SECONDS

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
Asgi = Callable[[Scope, Receive, Send], Awaitable[None]]
Activities = Callable[["HttpRequest"], Awaitable["HttpResponse"]]  # the SDK's HttpServer.handle_request


class OnFirstActivity:
    """The SDK's activity handler, made when the first checked activity arrives rather than at start: the
    Teams SDK and FastAPI under it are about 50 MB of every edibot process, and a Teams bot may wait hours
    for its first message. That first activity waits about a second longer."""

    def __init__(self, build: Callable[[], Awaitable[Activities]]) -> None:
        self._build = build
        self._made: Activities | None = None
        self._lock = asyncio.Lock()

    async def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._made is None:
            async with self._lock:
                if self._made is None:
                    self._made = await self._build()
        return await self._made(request)


class TooLarge(Exception):
    pass


class TeamsHttp:
    """The ASGI app in front of the SDK's activity handler: see the module docstring."""

    def __init__(self, activities: Activities, *, tokens: ChannelTokens) -> None:
        self.activities = activities
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
        authorization = headers.get("authorization") or ""
        where = scope.get("client")
        try:
            if int(headers.get("content-length") or 0) > MAX_BODY:
                raise TooLarge
            body = await _read_body(receive)
            activity = json.loads(body)
            if not isinstance(activity, dict) or not isinstance(activity.get("type"), str):
                raise ValueError("not an activity")
            headers.pop("authorization", None)  # checked below; the SDK has no use for it
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
            await self._check(authorization, service_url)
        except Refused as refused:
            self._refused(where, str(refused))
            await _answer(send, 401)
            return
        answer = await self.activities({"body": activity, "headers": headers})
        await _answer(send, answer["status"], answer.get("body"))

    async def _check(self, authorization: str, service_url: Any) -> None:
        url = service_url if isinstance(service_url, str) else None
        if self.tokens.check_with_held_keys(authorization, service_url=url) is None:
            # On a thread: the first request, and the first after Microsoft rolls its keys, reads the keys.
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


async def _answer(send: Send, status: int, body: object = None) -> None:
    """An answer with no body, or with `body` as JSON (as the SDK's FastAPI route would have written it)."""
    headers = [(b"content-length", b"0")]
    data = b""
    if body is not None:
        data = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")
        headers = [(b"content-length", str(len(data)).encode()), (b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


def uvicorn_server(front: Asgi, *, host: str, port: int) -> uvicorn.Server:
    """A uvicorn server for the front (tests and benchmarks start it in a thread; `edibot run` runs it;
    `run --slack-http --teams` gives it a front for both)."""
    return serving.uvicorn_server(front, host=host, port=port)
