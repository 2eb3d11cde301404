"""What an operator's tools ask a running edibot over HTTP, on the port it serves: /healthz, /readyz and
/metrics; and, around every request, its id (for the log) and its time (for the latency histogram).

- /healthz: 200 while the process serves. Its container is restarted when it fails; nothing else is looked
  at, so a database outage does not restart every replica at once.
- /readyz: 200 when this replica can do its work — the database answers, its schema is at the newest
  migration, and the platform's tokens are accepted (auth.test for Slack, a token from Entra for Teams) —
  503 otherwise, with each check's result as JSON. The platform's answer is kept for TOKEN_CHECK_EVERY:
  a load balancer polls every few seconds, and Slack rate-limits auth.test.
- /metrics: prometheus-client's text format (schedules/metrics.py).

Everything else goes to the platform's front (Slack's, Teams', or both), unchanged.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from bot.logs import REQUEST_ID
from schedules import metrics
from storage.db import DATABASE_DOWN, Database, schema_current
from storage.rules.clock import Clock

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
Asgi = Callable[[Scope, Receive, Send], Awaitable[None]]

TOKEN_CHECK_EVERY = 300.0  # seconds a platform's answer to "is this token good?" is kept
ROUTES = {
    "/slack/events": "slack_events",
    "/api/messages": "teams_messages",
    "/slack/install": "slack_oauth",
    "/slack/oauth_redirect": "slack_oauth",
    "/healthz": "healthz",
    "/readyz": "readyz",
    "/metrics": "metrics",
}
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")  # one a proxy sends is kept only when it is plainly an id


@dataclass
class TokenCheck:
    """A platform's "is this token good?" (None: yes; else what is wrong), asked at most once a period."""

    name: str
    ask: Callable[[], str | None]
    every: float = TOKEN_CHECK_EVERY
    _answer: str | None = None
    _asked_at: float | None = None

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def __call__(self) -> str | None:
        with self._lock:
            if self._asked_at is None or time.monotonic() - self._asked_at >= self.every:
                try:
                    self._answer = self.ask()
                except Exception as error:
                    self._answer = f"could not ask: {type(error).__name__}"
                self._asked_at = time.monotonic()
            return self._answer


class Readiness:
    """The checks /readyz runs: the database, its schema, and each platform's token."""

    def __init__(self, database: Database, *, tokens: list[TokenCheck] | None = None) -> None:
        self.database = database
        self.tokens = tokens or []

    def __call__(self) -> dict[str, str]:
        """Each check's result: "ok", or what is wrong (one line, no secret)."""
        results: dict[str, str] = {}
        try:
            self.database.check()
            with self.database.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            results["database"] = "ok"
        except DATABASE_DOWN as error:
            results["database"] = f"unreachable: {type(error).__name__}"
            results["migrations"] = "not checked"
        else:
            try:
                current = schema_current(self.database.engine)
            except DATABASE_DOWN as error:
                results["migrations"] = f"not checked: {type(error).__name__}"
            else:
                results["migrations"] = "ok" if current else "behind: run edibot once without --role web"
        for check in self.tokens:
            problem = check()
            results[check.name] = "ok" if problem is None else problem
        return results


class OpsHttp:
    """The ASGI app in front of a platform's: the three operator routes, a request id and a timing for all."""

    def __init__(self, inner: Asgi | None, *, readiness: Readiness, database: Database, clock: Clock) -> None:
        self.inner = inner
        self.readiness = readiness
        self.database = database
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path = scope.get("path", "")
        route = ROUTES.get(path, "other")
        token = REQUEST_ID.set(_request_id(scope))
        started = time.perf_counter()
        try:
            if scope["method"] == "GET" and path == "/healthz":
                await _answer(send, 200, b"ok\n", "text/plain; charset=utf-8")
            elif scope["method"] == "GET" and path == "/readyz":
                results = await asyncio.to_thread(self.readiness)
                ready = all(result == "ok" for result in results.values())
                body = json.dumps({"ready": ready, "checks": results}).encode()
                await _answer(send, 200 if ready else 503, body, "application/json")
            elif scope["method"] == "GET" and path == "/metrics":
                body, kind = await asyncio.to_thread(metrics.exposition, self.database, now=self.clock.now())
                await _answer(send, 200, body, kind)
            elif self.inner is not None:
                await self.inner(scope, receive, send)
            else:
                await _answer(send, 404, b"", "text/plain")
        finally:
            metrics.request_took(route, time.perf_counter() - started)
            REQUEST_ID.reset(token)


def _request_id(scope: Scope) -> str:
    """The proxy's X-Request-ID when it sent a plain one, else a new id."""
    for name, value in scope.get("headers", ()):
        if name.lower() == b"x-request-id":
            given = bytes(value).decode("latin-1")
            if _REQUEST_ID.match(given):
                return given
    return uuid.uuid4().hex[:16]


async def _answer(send: Send, status: int, body: bytes, kind: str) -> None:
    headers = [(b"content-type", kind.encode()), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
