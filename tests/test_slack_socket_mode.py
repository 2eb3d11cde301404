"""Socket Mode: edibot's app takes Slack's requests over a WebSocket, with no public URL, as in development.

Slack's end is played by a local WebSocket server (the `websockets` library) speaking Socket Mode's protocol:
a `hello`, then an envelope carrying a slash command, which the app must acknowledge with its answer.
"""

from __future__ import annotations

import asyncio
import json
import queue
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr
from websockets.asyncio.server import ServerConnection, serve

from bot.config import Settings
from bot.console import FakeClock
from bot.slack.app import create_app
from bot.slack.edibot import SlackBot
from bot.slack.manifest import bot_scopes
from bot.slack.serve import socket_handler
from handlers.registry import command_layer
from storage.db import Database
from tests.conftest import sample_organisation
from tests.slack_standin import SlackStandIn, payload


class SocketModeEnd:
    """Slack's Socket Mode server: greets each connection, sends it the envelopes queued, collects the
    acks."""

    def __init__(self) -> None:
        self.envelopes: queue.Queue[dict[str, Any]] = queue.Queue()
        self.acks: queue.Queue[dict[str, Any]] = queue.Queue()
        self._ready = threading.Event()
        self._stop: asyncio.Future[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.port = 0
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _connection(self, websocket: ServerConnection) -> None:
        await websocket.send(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": 1,
                    "connection_info": {"app_id": "A0EDIBOT01"},
                    "debug_info": {"host": "applink-standin", "approximate_connection_time": 18060},
                }
            )
        )
        while True:
            envelope = await asyncio.to_thread(self.envelopes.get)
            await websocket.send(json.dumps(envelope))
            self.acks.put(json.loads(await websocket.recv()))

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = self._loop.create_future()
        async with serve(self._connection, "127.0.0.1", 0) as server:
            self.port = next(iter(server.sockets)).getsockname()[1]
            self._ready.set()
            await self._stop

    def __enter__(self) -> SocketModeEnd:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.envelopes.put({"type": "disconnect", "reason": "warning"})
        if self._loop and self._stop:
            self._loop.call_soon_threadsafe(self._stop.set_result, None)
        self._thread.join(timeout=5)


@pytest.fixture
def socket_end() -> Iterator[SocketModeEnd]:
    with SocketModeEnd() as end:
        yield end


def test_edi_mine_is_answered_over_socket_mode(
    store: Database, clock: FakeClock, socket_end: SocketModeEnd
) -> None:
    sample_organisation(store, now=clock.now())
    with SlackStandIn(scopes=set(bot_scopes())) as api:
        api.socket_url = f"ws://127.0.0.1:{socket_end.port}/link/?ticket=standin-ticket&app_id=A0EDIBOT01"
        amina = api.add_user("Amina Khan", email="amina.khan@northbridge.example")
        settings = Settings(
            SLACK_SIGNING_SECRET=SecretStr("unused-over-socket-mode"),
            SLACK_BOT_TOKEN=SecretStr(api.token),
            slack_api_url=api.url,
        )
        bot = SlackBot(layer=command_layer(store, clock), database=store)
        handler = socket_handler(create_app(bot, settings=settings), app_token=api.app_token, api_url=api.url)
        handler.connect()
        try:
            command = payload("request_slash_command")
            command.update(user_id=amina.id, text="mine")
            socket_end.envelopes.put(
                {
                    "envelope_id": "57d6a792-4d35-4d0b-b6aa-3361493e1caf",
                    "type": "slash_commands",
                    "accepts_response_payload": True,
                    "payload": command,
                }
            )
            ack = socket_end.acks.get(timeout=10)
        finally:
            handler.close()
            bot.close()

    assert ack["envelope_id"] == "57d6a792-4d35-4d0b-b6aa-3361493e1caf"
    assert ack["payload"]["response_type"] == "ephemeral"
    assert "Your 3 open actions" in ack["payload"]["text"]
