"""How edibot's calls reach the Bot Connector: a pool of keep-alive connections, and a call sent again on a
fresh connection only when it provably never reached Microsoft.

Both ends use it: the Teams SDK app's answers (`ctx.send`, `ctx.api`: `use_for_answers`) and the outbox's
reminders and notices (`TeamsSender`: `connector_client`).

What is sent again, at once and on a fresh connection, without the caller knowing:
- a connection that could not be made (refused, reset or timed out while connecting: httpx's `ConnectError`
  and `ConnectTimeout`): no byte of the request left us. httpx's own transport does it (`retries`: after 0 s,
  0.5 s and 1 s).
- a pooled connection the Connector closed while it sat idle (Microsoft's front ends close idle keep-alive
  connections, as any server does): httpcore looks at an idle connection before it reuses one, and when the
  server's close has arrived (the socket reads as end-of-file) it drops it and opens another, again before a
  byte of the request is written.

What is not: a request that was written, and then the connection was reset or closed before any answer came.
From our end, a server that closed an idle connection just as the request arrived can't be told apart from one
that read the request, posted the message and then failed; the Bot Connector takes no idempotency key, so
posting again could show the person the same answer twice. It is raised instead: a person's answer is
followed by "something went wrong" (bot/teams/app.py), and the outbox tries again later (at least once, as
schedules/delivery.py promises). That window is kept small rather than retried: our end closes a connection
idle for KEEPALIVE_SECONDS, well before a server's own idle timeout (Azure's load balancers wait 4 minutes),
so it is almost never the server that closes one under us.

At most CONCURRENT_CALLS answers are in httpx's pool at once; the rest wait their turn in a queue of our
own. httpx's pool looks over every connection it has (a system call for each idle one) and every request
waiting in it each time a request comes or goes: with 50 answers at once that was most of an answer's CPU.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from microsoft_teams.apps import App

TIMEOUT = httpx.Timeout(20.0, connect=5.0)
CONNECT_RETRIES = 3
KEEPALIVE_SECONDS = 5.0
CONCURRENT_CALLS = 10  # the SDK's calls in httpx's pool at once (the outbox makes one at a time)
# As many kept-alive connections as may be open: with httpx's default (20 kept of 100), 50 answers at once
# closed 30 connections after every burst and opened them again for the next.
LIMITS = httpx.Limits(
    max_connections=CONCURRENT_CALLS,
    max_keepalive_connections=CONCURRENT_CALLS,
    keepalive_expiry=KEEPALIVE_SECONDS,
)


def connector_client() -> httpx.Client:
    """The outbox's client for the Connector (its calls are made on the delivery worker's thread)."""
    return httpx.Client(
        timeout=TIMEOUT, transport=httpx.HTTPTransport(retries=CONNECT_RETRIES, limits=LIMITS)
    )


def use_for_answers(app: App) -> None:
    """The SDK app's calls to the Connector go through this module's pool, with the SDK's own headers.

    The SDK makes its httpx client itself (a `Client` passed to `App` is copied without its transport), so it
    is replaced here, before the app serves anything: every activity's API client shares `app.http_client`'s
    `http`. Its default also has no timeout at all; this one has TIMEOUT."""
    sdk = app.http_client
    made = sdk.http
    sdk.http = httpx.AsyncClient(
        base_url=made.base_url,
        headers=made.headers,
        event_hooks=made.event_hooks,
        timeout=TIMEOUT,
        transport=_InTurn(httpx.AsyncHTTPTransport(retries=CONNECT_RETRIES, limits=LIMITS)),
    )


class _InTurn(httpx.AsyncBaseTransport):
    """A transport that lets CONCURRENT_CALLS requests into `inner` at once: a turn is taken when a request
    is sent and given back when its response is closed (httpx closes it once the body is read)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self._turns = asyncio.Semaphore(CONCURRENT_CALLS)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await self._turns.acquire()
        try:
            response = await self.inner.handle_async_request(request)
        except BaseException:
            self._turns.release()
            raise
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_GivesBack(response.stream, self._turns),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self.inner.aclose()


class _GivesBack(httpx.AsyncByteStream):
    def __init__(self, stream: httpx.AsyncByteStream, turns: asyncio.Semaphore) -> None:
        self.stream = stream
        self.turns: asyncio.Semaphore | None = turns

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self.stream.aclose()
        finally:
            turns, self.turns = self.turns, None
            if turns is not None:
                turns.release()
