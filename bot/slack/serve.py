"""Serving the Slack app: HTTP for production (our ASGI front under uvicorn), Socket Mode for development.

Bolt's stock ASGI adapter calls the synchronous `App.dispatch` on uvicorn's event loop, so one slow request
(Slack slow to answer a users.info, a database lock) held every other request behind it. Here the event loop
only reads the body and checks it (bot/slack/gate.py); `App.dispatch` runs on a pool of threads as large as
the database's connection pool, since each request holds at most one connection at a time. A slow request
holds one thread; the rest go on. The listeners, and Socket Mode, stay the same synchronous code.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import uvicorn
from slack_bolt import App, BoltResponse
from slack_bolt.adapter.asgi.http_response import AsgiHttpResponse
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from bot import serving
from bot.logs import in_this_context
from bot.slack.gate import MAX_BODY, Refused, declared_size, signed_by_slack, well_formed
from storage.db import Database

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"  # commands, buttons, modals and events all arrive here (as in manifest.yml)
DEFAULT_THREADS = 5  # SQLAlchemy's default pool size, for a pool that does not say
KEEP_ALIVE_SECONDS = serving.KEEP_ALIVE_SECONDS

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def request_threads(database: Database) -> int:
    """Threads for Slack's requests: one per connection the database pool keeps (its overflow is left for
    the reminder scheduler and the work done after answering)."""
    size = getattr(database.engine.pool, "size", None)
    return max(1, size()) if callable(size) else DEFAULT_THREADS


class SlackHttp:
    """The ASGI app: POST /slack/events, plus GET /slack/install and /slack/oauth_redirect with OAuth."""

    def __init__(self, app: App, *, signing_secret: str, threads: int) -> None:
        self.app = app
        self.signing_secret = signing_secret
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="edibot-slack-http")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # uvicorn_server turns lifespan events off; there are no websockets
            return
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]
        }
        method, path = scope["method"], scope["path"]
        flow = self.app.oauth_flow
        if method == "POST" and path == EVENTS_PATH:
            response = await self._event(receive, headers, client=scope.get("client"))
        elif method == "GET" and flow is not None and path in (flow.install_path, flow.redirect_uri_path):
            handle = flow.handle_installation if path == flow.install_path else flow.handle_callback
            query = scope["query_string"].decode("latin-1")
            response = await self._in_thread(
                handle, BoltRequest(body="", query=query, headers=_bolt(headers))
            )
        else:
            response = BoltResponse(status=404, body="Not Found", headers={"content-type": "text/plain"})
        answer = AsgiHttpResponse(status=response.status, headers=response.headers, body=response.body)
        await send(answer.get_response_start())
        await send(answer.get_response_body())

    async def _event(self, receive: Receive, headers: dict[str, str], *, client: Any) -> BoltResponse:
        try:
            declared_size(headers)
            body = await _read_body(receive)
            signed_by_slack(headers, body, secret=self.signing_secret, now=time.time())
            text = well_formed(headers, body)
        except Refused as refused:
            # One line, without the body: which rule it broke, and where it came from.
            where = f"{client[0]}" if client else "an unknown address"
            log.warning("refused a request to %s from %s: %s", EVENTS_PATH, where, refused.reason)
            return BoltResponse(status=refused.status, body="", headers={"content-type": "text/plain"})
        return await self._in_thread(self.app.dispatch, BoltRequest(body=text, headers=_bolt(headers)))

    async def _in_thread(
        self, work: Callable[[BoltRequest], BoltResponse], request: BoltRequest
    ) -> BoltResponse:
        # With this request's context (its id, for the log): run_in_executor does not carry it by itself.
        return await asyncio.get_running_loop().run_in_executor(self.pool, in_this_context(work), request)

    def close(self) -> None:
        self.pool.shutdown(wait=True)


def _bolt(headers: dict[str, str]) -> dict[str, str | Sequence[str]]:
    return dict(headers)


async def _read_body(receive: Receive) -> bytes:
    """The request's body, read no further than MAX_BODY (a chunked body declares no length up front)."""
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise Refused(400, "the client went away before its body was read")
        body += message.get("body", b"")
        if len(body) > MAX_BODY:
            raise Refused(413, f"a body over the {MAX_BODY:,} bytes accepted")
        if not message.get("more_body", False):
            return bytes(body)


def uvicorn_server(app: App, *, signing_secret: str, threads: int, host: str, port: int) -> uvicorn.Server:
    """A uvicorn server for the app (tests and benchmarks start it in a thread; serve_http runs it)."""
    return _server(SlackHttp(app, signing_secret=signing_secret, threads=threads), host=host, port=port)


def _server(front: SlackHttp, *, host: str, port: int) -> uvicorn.Server:
    return serving.uvicorn_server(front, host=host, port=port)


def serve_http(app: App, *, signing_secret: str, threads: int, host: str, port: int) -> None:
    """Blocks serving Slack's requests on http://host:port/slack/events until interrupted."""
    log.info("edibot is listening for Slack on http://%s:%d%s", host, port, EVENTS_PATH)
    front = SlackHttp(app, signing_secret=signing_secret, threads=threads)
    try:
        _server(front, host=host, port=port).run()
    finally:
        front.close()


def socket_handler(app: App, *, app_token: str, api_url: str) -> SocketModeHandler:
    """Socket Mode for the app: apps.connections.open (with the app-level token) at `api_url`, then a
    WebSocket."""
    return SocketModeHandler(app, app_token=app_token, web_client=WebClient(base_url=api_url))


def serve_socket(app: App, *, app_token: str, api_url: str) -> None:
    """Blocks, taking Slack's requests over a Socket Mode WebSocket: no public URL needed."""
    socket_handler(app, app_token=app_token, api_url=api_url).start()  # type: ignore[no-untyped-call]
