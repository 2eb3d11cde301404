"""Benchmark: `/edi mine` as Slack sees it — signed HTTP POSTs to the running app — beside both bare Bolt
set-ups that only ack, served the same way in one run; edibot in two processes; a slow request among others.

The apps, each under uvicorn with the options edibot is served with (bot/serving.py: the same HTTP parser and
event loop for all; an older tree without that module gets uvicorn's defaults for all):
- edibot: built as production builds it, `create_app(SlackBot(layer=command_layer(database, clock), ...))`
  served by `bot.slack.serve.uvicorn_server` (its ASGI front: App.dispatch on a thread pool as large as the
  database pool), in a thread of this process, on a SQLite file of 100,000 actions (benchkit's builder) where
  the requesting user answers for 50 open actions and is known by Slack id, so `/edi mine` is the real
  query. Its Web API client points at the local stand-in (tests/slack_standin.py), for Bolt's auth.test.
- edibot x2: the same in two worker processes accepting on one socket (as `edibot run --workers 2` and
  `uvicorn --workers 2` serve), on the same file.
- AsyncApp: `slack_bolt.async_app.AsyncApp(process_before_response=True)` whose /edi listener only awaits
  ack(), behind Bolt's own ASGI adapter for it: no thread hand-off, no polling for the ack, no database. The
  strongest anchor a Bolt app can be held to. In a thread of this process.
- App: Bolt's synchronous `App` with its defaults (the listener on Bolt's thread pool, the ack awaited),
  only acking, behind Bolt's stock ASGI adapter. In a thread of this process.
- AsyncApp doing the job (the floor): the same AsyncApp, served the same way, whose /edi listener gives
  edibot's answer with the least work any implementation must do for it: on the event loop, two SELECTs on
  the same SQLite file with the standard library's sqlite3 (who the Slack user is; their open actions),
  the lines worded by edibot's wording and the reply rendered by edibot's own Block Kit renderer
  (bot.slack.blocks.message_for), acked. No command layer, ORM, session or bookkeeping. Its answer is
  checked once to be edibot's, block for block. In a thread of this process.

Requests are `/edi mine` slash commands signed with Slack's v0 signature (X-Slack-Request-Timestamp,
X-Slack-Signature) just before each is sent, from another process (bench/httpload.py: keep-alive connections
on raw asyncio streams, one per request in flight, the same client for every app), so the load does not
compete with the apps for this process's GIL, and costs too little CPU to be what is measured. The apps take
turns, round by round, so load from elsewhere on the machine falls on all of them. Every edibot answer must
be HTTP 200 and say "Your 50 open actions"; every anchor answer must be HTTP 200. "server CPU" is the CPU
time of what served the round (this process, or edibot x2's two processes) per request, warm-up included.

Targets (issue 19), each also recorded for bench/summary.py's table (bench/results.py):
- one request at a time: edibot's p50 no worse than the sync App's;
- 50 in flight: edibot's throughput at least 0.5x the AsyncApp's from one process, at least 1x from two;
- one request held for 2 s (its users.info takes Slack 2 s to answer) while fast requests arrive, 10 in
  flight: the fast ones' p99 under 1 s (Bolt's stock synchronous adapter, shown for comparison, makes them
  wait out the slow one); and every answer right.

Targets of this benchmark's own (not issue 19's, which stay as they are), against the floor, since an anchor
that only acks measures the cost of an answer no implementation can give without its work:
- 50 in flight: edibot's throughput at least 0.5x the floor's from one process, at least 1x from two;
- printed beside them: the server CPU per answer issue 19's 0.5x leaves (twice the acking AsyncApp's, as
  throughput on one process is about one over the CPU an answer takes), and what the floor needs.

Run with the project's environment: `.venv/bin/python bench/bench_slack.py [--profile]`. `--profile` adds
cProfile's top functions of edibot's App.dispatch, and of its event loop thread while served. It exits
non-zero when a target is missed or any answer was wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import functools
import json
import multiprocessing
import os
import socket
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import date
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402
import uvicorn  # noqa: E402
from benchkit import (  # noqa: E402
    ACTIONS,
    MINE,
    NOW,
    PEOPLE,
    PERSON,
    PLAN_ACTIONS,
    SEED,
    FixedClock,
    built_store,
    free_port,
    make_world,
    percentile,
    print_profile,
)
from httpload import TRANSPORT_ERRORS, Connection  # noqa: E402
from pydantic import SecretStr  # noqa: E402
from results import record  # noqa: E402
from slack_bolt import App  # noqa: E402
from slack_bolt.adapter.asgi import SlackRequestHandler  # noqa: E402
from slack_bolt.adapter.asgi.async_handler import AsyncSlackRequestHandler  # noqa: E402
from slack_bolt.async_app import AsyncAck, AsyncApp  # noqa: E402
from slack_bolt.request import BoltRequest  # noqa: E402
from slack_sdk import WebClient  # noqa: E402
from slack_sdk.signature import SignatureVerifier  # noqa: E402
from slack_sdk.web.async_client import AsyncWebClient  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.slack.app import create_app  # noqa: E402
from bot.slack.blocks import message_for  # noqa: E402
from bot.slack.edibot import SlackBot  # noqa: E402
from bot.slack.manifest import bot_scopes  # noqa: E402
from bot.slack.serve import EVENTS_PATH, KEEP_ALIVE_SECONDS, request_threads, uvicorn_server  # noqa: E402
from handlers.cards import action_line  # noqa: E402
from handlers.commands.reading import LIST_LIMIT  # noqa: E402
from handlers.messages import Context, Heading, Reply, Text  # noqa: E402
from handlers.registry import command_layer  # noqa: E402
from storage.db import Database, sqlite_path, sqlite_url  # noqa: E402
from storage.models import Action  # noqa: E402
from storage.queries import ActionLine  # noqa: E402
from storage.rules.overdue import action_overdue  # noqa: E402
from storage.store import Store  # noqa: E402
from tests.slack_standin import TEAM_ID, SlackStandIn, payload  # noqa: E402

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
EXPECTED = f"Your {MINE} open actions"
APPS = ("edibot", "AsyncApp", "App")  # edibot, and the two bare Bolt apps it is held to
EDIBOT_2 = "edibot x2"  # edibot in two worker processes on one socket, measured beside them at 50 in flight
FLOOR = "AsyncApp doing the job"  # the floor: the AsyncApp giving the same answer with the least work
P50_TARGET = 1.0  # edibot's p50 one request at a time, at most this times the sync App's
ONE_PROCESS_TARGET, TWO_PROCESSES_TARGET = 0.5, 1.0  # edibot's throughput at 50 in flight / the AsyncApp's
# Ours, not issue 19's: edibot's throughput at 50 in flight / the floor's (the AsyncApp doing the job).
FLOOR_ONE_PROCESS_TARGET, FLOOR_TWO_PROCESSES_TARGET = 0.5, 1.0
SERIAL_ROUNDS, SERIAL_PER_ROUND, SERIAL_WARMUP = 3, 100, (30, 10)  # warm-up: first round, later rounds
CONCURRENT_ROUNDS, CONCURRENT_PER_ROUND, CONCURRENT_WARMUP = 2, 1_000, (100, 50)
IN_FLIGHT = 50
PROFILE_REQUESTS = 200
STEP_CALLS, STEP_REPEATS = 50, 10
WORKERS = 2  # edibot's processes for the --workers 2 figure
HOLD_SECONDS, FAST_REQUESTS, FAST_IN_FLIGHT = (
    2.0,
    200,
    10,
)  # the slow case: one request held, fast ones beside
SLOW_TARGET_MS = HOLD_SECONDS * 1000 / 2


# -- the load: signed slash commands, sent from another process -------------------------------------------


@dataclass
class Load:
    """What one app answered to some requests, as the client timed them."""

    latencies_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0  # wall time from the first measured request sent to the last answer read
    wrong: int = 0  # not HTTP 200, or (edibot) without the expected words
    first_wrong: str = ""
    server_cpu_ms: float = 0.0  # CPU time of the app's process while it was loaded, warm-up requests included
    sent: int = 0  # requests sent, warm-up included

    def add(self, other: Load) -> None:
        self.latencies_ms += other.latencies_ms
        self.seconds += other.seconds
        self.wrong += other.wrong
        self.first_wrong = self.first_wrong or other.first_wrong
        self.server_cpu_ms += other.server_cpu_ms
        self.sent += other.sent

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms)

    @property
    def p99(self) -> float:
        return percentile(self.latencies_ms, 99)

    @property
    def throughput(self) -> float:
        return len(self.latencies_ms) / self.seconds


@functools.cache
def _slash_command() -> dict[str, str]:
    loaded: dict[str, str] = payload("request_slash_command")
    return loaded


def command_form(user_id: str, number: int) -> dict[str, str]:
    """`/edi mine` as Slack posts it (tests/payloads/request_slash_command.json), from this Slack user."""
    form = dict(_slash_command())  # read once: the load generator's own work is not what is measured
    form.update(
        user_id=user_id,
        user_name="amina.khan",
        text="mine",
        team_id=TEAM_ID,
        trigger_id=f"{number}.7620112153541.bench",
        response_url=f"https://hooks.slack.com/commands/{TEAM_ID}/{number}/bench",
    )
    return form


def slack_headers(body: str) -> dict[str, str]:
    """The headers Slack signs a request with (v0: HMAC-SHA256 of "v0:timestamp:body"), stamped now."""
    stamp = str(int(time.time()))
    signature = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=stamp, body=body)
    assert signature is not None
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature,
    }


# One request of a load: its number in, (path, body, headers) out.
Request = Callable[[int], tuple[str, bytes, dict[str, str]]]


async def sent_in_turn(
    url: str, request: Request, load: Load, *, warmup: int, requests: int, in_flight: int, expect: str | None
) -> Load:
    """`warmup` then `requests` requests to url, `in_flight` at a time on keep-alive connections, timed into
    `load` (the measured ones only); an answer not HTTP 200, or without `expect`, counts as wrong."""
    load.sent += warmup + requests
    connections = [Connection(url) for _ in range(in_flight)]

    async def worker(connection: Connection, numbers: Iterator[int], *, measured: bool) -> None:
        for number in numbers:  # one iterator shared by the workers: each request is sent once
            path, body, headers = request(number)
            started = time.perf_counter()
            try:
                answer = await connection.post(path, body, headers)
                status, said = answer.status, answer.text
            except TRANSPORT_ERRORS as error:  # no answer at all: counted as a wrong one
                status, said = 0, f"{type(error).__name__} {error}"
            elapsed = (time.perf_counter() - started) * 1000
            if not measured:
                continue
            load.latencies_ms.append(elapsed)
            if status != 200 or (expect is not None and expect not in said):
                load.wrong += 1
                load.first_wrong = load.first_wrong or f"HTTP {status or '-'}: {said[:200]!r}"

    numbers = iter(range(warmup))
    await asyncio.gather(
        *(worker(connection, numbers, measured=False) for connection in connections[: min(in_flight, warmup)])
    )
    numbers = iter(range(warmup, warmup + requests))
    started = time.perf_counter()
    await asyncio.gather(*(worker(connection, numbers, measured=True) for connection in connections))
    load.seconds = time.perf_counter() - started
    for connection in connections:
        connection.close()
    return load


def _mine_from(user_id: str) -> Request:
    def request(number: int) -> tuple[str, bytes, dict[str, str]]:
        body = urlencode(command_form(user_id, number))
        return EVENTS_PATH, body.encode("utf-8"), slack_headers(body)

    return request


def send(url: str, user_id: str, *, warmup: int, requests: int, in_flight: int, expect: str | None) -> Load:
    """Runs in the client process: `requests` signed `/edi mine` POSTs to url, `in_flight` at a time."""
    return asyncio.run(
        sent_in_turn(
            url,
            _mine_from(user_id),
            Load(),
            warmup=warmup,
            requests=requests,
            in_flight=in_flight,
            expect=expect,
        )
    )


async def _beside_a_slow_one(url: str, user_id: str, slow_user_id: str) -> tuple[Load, float]:
    limits = httpx.Limits(max_connections=FAST_IN_FLIGHT + 1, max_keepalive_connections=FAST_IN_FLIGHT + 1)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:

        async def post(who: str, number: int) -> tuple[float, int, str]:
            body = urlencode(command_form(who, number))
            started = time.perf_counter()
            response = await client.post(
                EVENTS_PATH, content=body.encode("utf-8"), headers=slack_headers(body)
            )
            return (time.perf_counter() - started) * 1000, response.status_code, response.text

        for number in range(FAST_IN_FLIGHT):  # connections open and warm before the slow one is sent
            await post(user_id, number)
        slow = asyncio.create_task(post(slow_user_id, 0))
        await asyncio.sleep(0.1)  # the slow request is now waiting on Slack
        load = Load(sent=FAST_REQUESTS)
        numbers = iter(range(FAST_IN_FLIGHT, FAST_IN_FLIGHT + FAST_REQUESTS))

        async def worker() -> None:
            for number in numbers:
                elapsed, status, said = await post(user_id, number)
                load.latencies_ms.append(elapsed)
                if status != 200 or EXPECTED not in said:
                    load.wrong += 1
                    load.first_wrong = load.first_wrong or f"HTTP {status}: {said[:200]!r}"

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(FAST_IN_FLIGHT)))
        load.seconds = time.perf_counter() - started
        slow_ms, _, _ = await slow
    return load, slow_ms


def beside_a_slow_one(url: str, user_id: str, slow_user_id: str) -> tuple[Load, float]:
    """Runs in the client process: one request from `slow_user_id` (held by Slack), then fast ones beside it;
    returns the fast ones' load and the slow one's milliseconds."""
    return asyncio.run(_beside_a_slow_one(url, user_id, slow_user_id))


# -- the apps, served ---------------------------------------------------------------------------------------


@dataclass
class Served:
    url: str
    thread: threading.Thread | None = None
    pids: Sequence[int] = ()  # served by these processes, not by threads of this one

    def cpu_ms(self) -> float:
        """CPU time used so far by what serves: this process (the apps take turns, so a round's share is the
        loaded app's: its event loop and, for edibot, its request threads), or the processes serving."""
        if self.pids:
            return sum(process_cpu_ms(pid) for pid in self.pids)
        return time.process_time() * 1000


def process_cpu_ms(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def server_options(port: int) -> dict[str, Any]:
    """uvicorn's options as the tree under test serves edibot, so the bare Bolt apps get the same front (the
    HTTP parser and event loop most of all); an older tree without bot/serving.py had uvicorn's defaults."""
    try:
        from bot.serving import uvicorn_options  # noqa: PLC0415
    except ImportError:
        return {
            "host": "127.0.0.1",
            "port": port,
            "log_level": "warning",
            "access_log": False,
            "lifespan": "off",
            "timeout_keep_alive": KEEP_ALIVE_SECONDS,
        }
    return uvicorn_options(host="127.0.0.1", port=port)


@contextmanager
def serving(
    server: uvicorn.Server, name: str, *, around: Callable[[Callable[[], None]], None] | None = None
) -> Iterator[Served]:
    """The server running in a thread until the block ends; `around(run)` runs it (to profile that thread)."""
    target = (lambda: around(server.run)) if around else server.run
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise SystemExit(f"the {name} app did not start within 10 s")
        time.sleep(0.01)
    try:
        yield Served(f"http://127.0.0.1:{server.config.port}", thread)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def edibot_app(database: Database, *, api_url: str, token: str) -> tuple[App, SlackBot]:
    settings = Settings(
        SLACK_SIGNING_SECRET=SecretStr(SIGNING_SECRET),
        SLACK_BOT_TOKEN=SecretStr(token),
        slack_api_url=api_url,
    )
    bot = SlackBot(layer=command_layer(database, FixedClock(NOW)), database=database)
    return create_app(bot, settings=settings), bot


async def only_ack(ack: AsyncAck) -> None:
    await ack()


def anchor_server(api: SlackStandIn) -> uvicorn.Server:
    """AsyncApp(process_before_response=True) that only acks, behind Bolt's async ASGI adapter, in the uvicorn
    config edibot's server has; its client points at the stand-in only for the auth.test Bolt makes."""
    app = AsyncApp(
        signing_secret=SIGNING_SECRET,
        process_before_response=True,
        client=AsyncWebClient(token=api.token, base_url=api.url),
    )
    app.command("/edi")(only_ack)
    return uvicorn.Server(
        uvicorn.Config(AsyncSlackRequestHandler(app, path=EVENTS_PATH), **server_options(free_port()))
    )


def sync_anchor_server(api: SlackStandIn) -> uvicorn.Server:
    """Bolt's synchronous App with its defaults (the ack awaited from a listener thread, no
    process_before_response) that only acks, behind Bolt's stock ASGI adapter for it, in the same config."""
    app = App(signing_secret=SIGNING_SECRET, client=WebClient(token=api.token, base_url=api.url))
    app.command("/edi")(lambda ack: ack())
    return uvicorn.Server(
        uvicorn.Config(SlackRequestHandler(app, path=EVENTS_PATH), **server_options(free_port()))
    )


# -- the floor: an AsyncApp doing the job -------------------------------------------------------------------

# What any implementation must ask the store for this answer, written out as plain SQL on the same file: who
# the Slack user is, then their open, live actions (the ones their roles own, with whether they said "not
# mine"), soonest due first, undated last.
_WHO = "SELECT id FROM people WHERE slack_id = ?"
_OPEN_ACTIONS = """
SELECT a.id, a.ref, a.title, a.deadline_text, a.deadline_kind, a.start_date, a.due_date, a.recurrence, a.rag,
       a.status, d.person_id IS NOT NULL
FROM actions AS a
LEFT JOIN action_declines AS d ON d.action_id = a.id AND d.person_id = :person
WHERE a.id IN (SELECT ao.action_id FROM action_owners AS ao
               JOIN person_roles AS pr ON pr.owner_id = ao.owner_id WHERE pr.person_id = :person)
  AND a.archived = 0 AND a.status != 'done'
ORDER BY a.due_date IS NULL, a.due_date, a.ref
"""


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def open_actions_reply(connection: sqlite3.Connection, person_id: int, today: date) -> Reply:
    """The floor's job for `/edi mine` once it knows who asks, on any platform: one SELECT on the store's
    SQLite file with the standard library's driver, the lines worded by edibot's own wording
    (handlers.cards.action_line, storage.rules' overdue rule). No command layer, no ORM, no session, no
    bookkeeping: what any implementation must do for this answer."""
    lines = [
        ActionLine(id_, ref, title, text, kind, _day(start), _day(due), recurrence, rag, status, False)
        for id_, ref, title, text, kind, start, due, recurrence, rag, status, declined in connection.execute(
            _OPEN_ACTIONS, {"person": person_id}
        )
        if not declined  # none in the bench world; edibot's line naming them is left out
    ]
    overdue = sum(1 for line in lines if action_overdue(line, today))
    title = f"Your {len(lines)} open action{'s' if len(lines) != 1 else ''}" + (
        f", {overdue} overdue" if overdue else ""
    )
    reply = Reply([Heading(title), Text("\n".join(action_line(line, today) for line in lines[:LIST_LIMIT]))])
    if len(lines) > LIST_LIMIT:
        more = len(lines) - LIST_LIMIT
        reply.add(Context(f"…and {more} more. Narrow it with plan:, theme:, owner: or due:."))
    return reply


def my_open_actions(connection: sqlite3.Connection, user_id: str, today: date) -> dict[str, Any]:
    """The floor's whole job for `/edi mine` on Slack: who the Slack user is (a second SELECT), their open
    actions (open_actions_reply), rendered by edibot's own Block Kit renderer (bot.slack.blocks.message_for).
    The bench checks once that it answers exactly what edibot answers (blocks and text)."""
    found = connection.execute(_WHO, (user_id,)).fetchone()
    if found is None:
        return {"text": "I don't know you yet."}
    return message_for(open_actions_reply(connection, found[0], today))


def floor_server(api: SlackStandIn, store_file: Path) -> uvicorn.Server:
    """AsyncApp(process_before_response=True) whose /edi listener does the job (my_open_actions) on the
    event loop, with one sqlite3 connection to the store file, and acks with the answer; served as the bare
    AsyncApp is. The cheapest way a Bolt app can give this answer."""
    connection = sqlite3.connect(store_file, check_same_thread=False)  # used by the event loop's thread only
    today = NOW.date()
    app = AsyncApp(
        signing_secret=SIGNING_SECRET,
        process_before_response=True,
        client=AsyncWebClient(token=api.token, base_url=api.url),
    )

    async def doing_the_job(ack: AsyncAck, command: dict[str, Any]) -> None:
        await ack(response_type="ephemeral", **my_open_actions(connection, command["user_id"], today))

    app.command("/edi")(doing_the_job)
    return uvicorn.Server(
        uvicorn.Config(AsyncSlackRequestHandler(app, path=EVENTS_PATH), **server_options(free_port()))
    )


def floor_answers_as_edibot(edibot: App, slack_id: str, store_file: Path) -> None:
    """The floor's answer must be edibot's, block for block, or its figure means nothing: checked once."""
    answer = edibot.dispatch(signed_request(slack_id, 0))
    with closing(sqlite3.connect(store_file)) as connection:
        floor = {"response_type": "ephemeral", **my_open_actions(connection, slack_id, NOW.date())}
    if json.loads(answer.body) != floor:
        raise SystemExit(
            f"bench error: the floor anchor does not answer what edibot answers\n{answer.body[:400]}\n"
            f"{json.dumps(floor)[:400]}"
        )


def edibot_server(app: App, database: Database, *, stock: bool = False) -> uvicorn.Server:
    """edibot as `edibot run --slack-http` serves it; `stock`: behind Bolt's synchronous ASGI adapter instead
    (App.dispatch on the event loop), as it was served before, for comparison."""
    server = uvicorn_server(
        app,
        signing_secret=SIGNING_SECRET,
        threads=request_threads(database),
        host="127.0.0.1",
        port=free_port(),
    )
    if stock:
        server.config.app = SlackRequestHandler(app, path=EVENTS_PATH)
    return server


# -- edibot in worker processes, as `edibot run --workers N` serves -------------------------------------


def serve_worker(
    listening: socket.socket, folder: str, api_url: str, token: str, ready: Event, stop: Event
) -> None:  # as `edibot run --workers N` serves, but for its operator routes in front
    """One worker process (as `uvicorn --workers` starts them): edibot built as production builds it, on the
    store's SQLite file, serving the socket the parent bound until told to stop."""
    database = Database.open(sqlite_url(Path(folder) / "data"))
    app, bot = edibot_app(database, api_url=api_url, token=token)
    server = uvicorn_server(
        app,
        signing_secret=SIGNING_SECRET,
        threads=request_threads(database),
        host="127.0.0.1",
        port=listening.getsockname()[1],
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    ready.set()
    stop.wait()
    server.should_exit = True
    thread.join(timeout=10)
    bot.close()
    database.dispose()


@contextmanager
def worker_processes(folder: Path, api: SlackStandIn, count: int) -> Iterator[Served]:
    spawn = multiprocessing.get_context("spawn")
    listening = socket.socket()
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listening.bind(("127.0.0.1", 0))
    stop = spawn.Event()
    ready = [spawn.Event() for _ in range(count)]
    workers = [
        spawn.Process(target=serve_worker, args=(listening, str(folder), api.url, api.token, event, stop))
        for event in ready
    ]
    for worker in workers:
        worker.start()
    try:
        for event in ready:
            if not event.wait(60):
                raise SystemExit("a worker process did not start within 60 s")
        pids = [worker.pid for worker in workers if worker.pid is not None]
        yield Served(f"http://127.0.0.1:{listening.getsockname()[1]}", pids=pids)
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=15)
        listening.close()


# -- the store ---------------------------------------------------------------------------------------------


def build_store(folder: Path) -> tuple[Database, str]:
    """100,000 actions as the importer writes them (benchkit's builder); PERSON's Slack id."""
    started = time.perf_counter()
    world = make_world(plan_actions=PLAN_ACTIONS, people=PEOPLE, seed=SEED)
    database = built_store(sqlite_url(folder / "data"), world, analyze=False)
    with database.session() as session:
        store = Store(session)
        person = store.person_by_identity(name=PERSON)
        assert person is not None and person.slack_id
        slack_id = person.slack_id
        mine = len(store.actions_owned_by(person))
        actions = session.scalar(select(func.count()).select_from(Action))
    if mine != MINE or actions != ACTIONS:
        raise SystemExit(f"bench world error: {actions:,} actions, {PERSON} has {mine} open, not {MINE}")
    print(
        f"store: {actions:,} actions in a SQLite file, built in {time.perf_counter() - started:.1f} s; "
        f"{PERSON} ({slack_id}) answers for {mine} open actions and is known by that Slack id"
    )
    return database, slack_id


# -- measuring and reporting -------------------------------------------------------------------------------


class Client:
    """The load generator's process, and the rounds sent from it."""

    def __init__(self, user_id: str) -> None:
        self.user_id = user_id
        self.pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        self.pool.submit(int).result()  # started (and this module imported there) before anything is timed

    def round(
        self, served: Served | str, *, warmup: int, requests: int, in_flight: int, expect: str | None
    ) -> Load:
        url = served.url if isinstance(served, Served) else served
        cpu = served.cpu_ms() if isinstance(served, Served) else 0.0
        load = self.pool.submit(
            send, url, self.user_id, warmup=warmup, requests=requests, in_flight=in_flight, expect=expect
        ).result()
        if isinstance(served, Served):
            load.server_cpu_ms = served.cpu_ms() - cpu
        return load

    def beside_a_slow_one(self, url: str, slow_user_id: str) -> tuple[Load, float]:
        return self.pool.submit(beside_a_slow_one, url, self.user_id, slow_user_id).result()

    def close(self) -> None:
        self.pool.shutdown()


def measure(
    client: Client,
    served: dict[str, Served],
    *,
    rounds: int,
    per_round: int,
    warmup: tuple[int, int],
    in_flight: int,
) -> dict[str, Load]:
    """The apps in turn, round by round (the order reversed every other round), each round after its own
    warm-up."""
    loads = {name: Load() for name in served}
    for number in range(rounds):
        for name in list(served) if number % 2 == 0 else reversed(list(served)):
            loads[name].add(
                client.round(
                    served[name],
                    warmup=warmup[0 if number == 0 else 1],
                    requests=per_round,
                    in_flight=in_flight,
                    expect=EXPECTED if name.startswith("edibot") or name == FLOOR else None,
                )
            )
    return loads


def line(name: str, load: Load) -> str:
    cpu = f"   server CPU {load.server_cpu_ms / load.sent:5.2f} ms/request" if load.server_cpu_ms else ""
    wrong = f"   WRONG ANSWERS: {load.wrong} (first: {load.first_wrong})" if load.wrong else ""
    return (
        f"   {name:22} p50 {load.p50:8.2f} ms   p99 {load.p99:8.2f} ms   {load.throughput:6.1f} requests/s"
        f"   ({len(load.latencies_ms):,} requests){cpu}{wrong}"
    )


def signed_request(user_id: str, number: int) -> BoltRequest:
    body = urlencode(command_form(user_id, number))
    headers: dict[str, str | Sequence[str]] = {
        name.lower(): value for name, value in slack_headers(body).items()
    }
    return BoltRequest(body=body, headers=headers)


def where_time_goes(edibot: App, bot: SlackBot, slack_id: str, store_file: Path, *, profile: bool) -> None:
    """edibot's dispatch called in this process (no HTTP), the steps of its listener and the floor's whole
    job, each timed alone in CPU time; `profile`: then cProfile's top functions of edibot's dispatch."""
    actor = bot.actor(edibot.client, slack_id)
    reply = bot.layer.handle(actor, "/edi mine").reply
    today = NOW.date()
    with closing(sqlite3.connect(store_file)) as connection:
        steps: dict[str, Callable[[BoltRequest], object]] = {
            "edibot App.dispatch: Bolt and the whole /edi listener": edibot.dispatch,
            # As the listener asks it: the directory is asked once per Slack user, then the answer remembered.
            "  who the Slack user is (SlackBot.actor)": lambda _: bot.actor(edibot.client, slack_id),
            "  the command layer's /edi mine (layer.handle; the person found inside)": lambda _: (
                bot.layer.handle(actor, "/edi mine")
            ),
            "  Block Kit translation (bot.slack.blocks.message_for)": lambda _: message_for(reply),
            f"{FLOOR}: its whole job (two SELECTs, wording, Block Kit)": lambda _: my_open_actions(
                connection, slack_id, today
            ),
        }
        times: dict[str, list[float]] = {name: [] for name in steps}
        for number in range(STEP_CALLS):  # the steps in turn, so load from elsewhere falls on all of them
            for name, step in steps.items():
                request = signed_request(slack_id, number)  # a fresh one each time: dispatch keeps its ack
                started = time.process_time()
                for _ in range(STEP_REPEATS):
                    step(request)
                times[name].append((time.process_time() - started) * 1000 / STEP_REPEATS)
    print(
        f"-- where the time goes, in this process without HTTP (CPU time, median of {STEP_CALLS} turns of "
        f"{STEP_REPEATS} calls, the steps taken in turn):"
    )
    for name, taken in times.items():
        print(f"   {statistics.median(taken):6.2f} ms  {name}")
    if profile:
        profiler = cProfile.Profile()
        requests = [signed_request(slack_id, number) for number in range(PROFILE_REQUESTS)]
        profiler.enable()
        for request in requests:
            edibot.dispatch(request)
        profiler.disable()
        print(
            f"-- cProfile of edibot's App.dispatch in this process, {PROFILE_REQUESTS} requests (cumulative):"
        )
        print_profile(profiler, top=30)


def profiled(profiler: cProfile.Profile) -> Callable[[Callable[[], None]], None]:
    def around(run: Callable[[], None]) -> None:
        profiler.enable()
        try:
            run()
        finally:
            profiler.disable()

    return around


def profile_edibot(client: Client, app: App) -> None:
    profiler = cProfile.Profile()
    server = uvicorn_server(app, signing_secret=SIGNING_SECRET, threads=1, host="127.0.0.1", port=free_port())
    with serving(server, "edibot-profiled", around=profiled(profiler)) as served:
        client.round(served, warmup=0, requests=PROFILE_REQUESTS, in_flight=1, expect=EXPECTED)
    print(
        f"-- cProfile of edibot's event loop thread, {PROFILE_REQUESTS} requests one at a time (cumulative; "
        "App.dispatch runs on the request threads, not profiled here):"
    )
    print_profile(profiler, top=30)


def slow_case(client: Client, app: App, database: Database, api: SlackStandIn) -> bool:
    """One request held HOLD_SECONDS, fast ones beside it: edibot as served, then behind the stock adapter."""
    print(
        f"-- one request held {HOLD_SECONDS:.0f} s (Slack slow on its users.info), {FAST_REQUESTS} fast "
        f"ones beside it, {FAST_IN_FLIGHT} in flight"
    )
    ok = True
    for name, stock in (("edibot", False), ("stock", True)):
        with serving(edibot_server(app, database, stock=stock), f"edibot-{name}") as served:
            stranger = api.add_user(f"Slow Stranger {name}", email=f"slow.{name}@elsewhere.example")
            api.slow("users.info", seconds=HOLD_SECONDS)
            load, slow_ms = client.beside_a_slow_one(served.url, stranger.id)
        label = (
            "edibot as served (App.dispatch on request threads)"
            if not stock
            else ("for comparison: edibot behind Bolt's stock ASGI adapter (App.dispatch on the event loop)")
        )
        print(f"   {label}:\n{line('fast', load)}   the held one: {slow_ms:.0f} ms")
        if not stock:
            verdict = "PASS" if load.p99 < SLOW_TARGET_MS and load.wrong == 0 else "FAIL"
            ok &= verdict == "PASS"
            print(f"   fast p99 {load.p99:.0f} ms   target under {SLOW_TARGET_MS:.0f} ms: {verdict}")
            record(
                f"/edi mine p99 beside one request held {HOLD_SECONDS:.0f} s, {FAST_IN_FLIGHT} in flight",
                load.p99,
                "ms",
                against="the limit",
                ratio=load.p99 / SLOW_TARGET_MS,
                target=f"< {SLOW_TARGET_MS:.0f} ms, every answer right",
                passed=verdict == "PASS",
            )
    return ok


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--profile", action="store_true", help="cProfile edibot's event loop thread")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as folder, SlackStandIn(scopes=set(bot_scopes())) as api:
        database, slack_id = build_store(Path(folder))
        client = Client(slack_id)
        edibot, bot = edibot_app(database, api_url=api.url, token=api.token)
        store_file = sqlite_path(str(database.engine.url))
        assert store_file is not None
        floor_answers_as_edibot(edibot, slack_id, store_file)
        with (
            serving(edibot_server(edibot, database), "edibot") as edibot_served,
            serving(anchor_server(api), "AsyncApp") as async_served,
            serving(sync_anchor_server(api), "App") as sync_served,
            serving(floor_server(api, store_file), FLOOR) as floor_served,
            worker_processes(Path(folder), api, WORKERS) as workers_served,
        ):
            served = {
                "edibot": edibot_served,
                "AsyncApp": async_served,
                "App": sync_served,
                FLOOR: floor_served,
            }
            calls_before = len(api.calls)
            serial = measure(
                client,
                served,
                rounds=SERIAL_ROUNDS,
                per_round=SERIAL_PER_ROUND,
                warmup=SERIAL_WARMUP,
                in_flight=1,
            )
            concurrent = measure(
                client,
                {**served, EDIBOT_2: workers_served},
                rounds=CONCURRENT_ROUNDS,
                per_round=CONCURRENT_PER_ROUND,
                warmup=CONCURRENT_WARMUP,
                in_flight=IN_FLIGHT,
            )
            web_api = sorted({call.method for call in api.calls[calls_before:]})
        bot.settle()

        print(f"Web API calls the apps made while timed: {', '.join(web_api) or 'none'}")
        print(f"request threads for edibot: {request_threads(database)} (the database pool's size)")
        print(
            f"uvicorn: {uvicorn_choices()}; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"
        )
        print(
            f"-- one request at a time ({SERIAL_ROUNDS * SERIAL_PER_ROUND} in {SERIAL_ROUNDS} rounds per app)"
        )
        for name in (*APPS, FLOOR):
            print(line(name, serial[name]))
        ok = targets_one_at_a_time(serial)
        total = CONCURRENT_ROUNDS * CONCURRENT_PER_ROUND
        print(f"-- {IN_FLIGHT} in flight ({total:,} in {CONCURRENT_ROUNDS} rounds per app)")
        for name in (*APPS, FLOOR, EDIBOT_2):
            print(line(name, concurrent[name]))
        ok &= targets_in_flight(concurrent)
        ok &= targets_against_the_floor(concurrent)
        ok &= slow_case(client, edibot, database, api)
        wrong = sum(load.wrong for loads in (serial, concurrent) for load in loads.values())
        print(f"wrong answers: {wrong}")
        ok &= wrong == 0
        where_time_goes(edibot, bot, slack_id, store_file, profile=args.profile)

        if args.profile:
            profile_edibot(client, edibot)
        client.close()
        bot.close()
        database.dispose()
    print(f"targets: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


def targets_against_the_floor(concurrent: dict[str, Load]) -> bool:
    """Ours (this benchmark's, beside issue 19's, which stay as they are): edibot's throughput at 50 in flight
    at least half the floor's from one process, at least all of it from two; and what issue 19's target
    leaves for an answer, beside what the floor needs.

    On one process the throughput is about one over the server CPU an answer takes, so issue 19's 0.5x of an
    AsyncApp that only acks allows at most twice that app's CPU per answer (two processes can at best double
    a throughput, so its 1x with `--workers 2` allows the same, and only with a core each to spare).
    """
    floor = concurrent[FLOOR]
    ok = floor.wrong == 0
    for name, target, what in (
        ("edibot", FLOOR_ONE_PROCESS_TARGET, "one process"),
        (EDIBOT_2, FLOOR_TWO_PROCESSES_TARGET, "two processes (--workers 2)"),
    ):
        load = concurrent[name]
        ratio = load.throughput / floor.throughput
        passed = ratio >= target and load.wrong == 0 and floor.wrong == 0
        ok &= passed
        print(
            f"   {name} throughput / {FLOOR} throughput = {ratio:.2f}   (our target >= {target}: "
            f"{'PASS' if passed else 'FAIL'})"
        )
        record(
            f"/edi mine throughput at {IN_FLIGHT} in flight, {what}, against the floor",
            load.throughput,
            "requests/s",
            against=f"AsyncApp doing the job, the same answer ({floor.throughput:.0f}/s)",
            ratio=ratio,
            target=f">= {target}x",
            passed=passed,
        )
    acking = cpu_per_request(concurrent["AsyncApp"])
    ceiling = acking / ONE_PROCESS_TARGET
    print(
        f"   issue 19's target ({ONE_PROCESS_TARGET}x the AsyncApp that only acks, {acking:.2f} ms of server "
        f"CPU a request) leaves at most {ceiling:.2f} ms of server CPU per answer; the floor needs "
        f"{cpu_per_request(floor):.2f} ms ({cpu_per_request(floor) / ceiling:.1f}x that), edibot "
        f"{cpu_per_request(concurrent['edibot']):.2f} ms"
    )
    return ok


def cpu_per_request(load: Load) -> float:
    return load.server_cpu_ms / load.sent


def uvicorn_choices() -> str:
    options = server_options(0)
    return f"HTTP parser {options.get('http', 'auto')}, event loop {options.get('loop', 'auto')}"


def targets_one_at_a_time(serial: dict[str, Load]) -> bool:
    """Issue 19: edibot's p50 one request at a time no worse than Bolt's sync App with its defaults."""
    ratio = serial["edibot"].p50 / serial["App"].p50
    ok = ratio <= P50_TARGET and serial["edibot"].wrong == 0
    print(
        f"   edibot p50 / App p50 = {ratio:.2f}   (target <= {P50_TARGET:.1f}: {'PASS' if ok else 'FAIL'}); "
        f"edibot p50 / AsyncApp p50 = {serial['edibot'].p50 / serial['AsyncApp'].p50:.2f}"
    )
    record(
        "/edi mine p50, 1 in flight",
        serial["edibot"].p50,
        "ms",
        against=f"Bolt's sync App with defaults, only acking ({serial['App'].p50:.2f} ms)",
        ratio=ratio,
        target=f"<= {P50_TARGET:.1f}x",
        passed=ok,
    )
    return ok


def targets_in_flight(concurrent: dict[str, Load]) -> bool:
    """Issue 19: edibot's throughput at 50 in flight against AsyncApp(process_before_response=True): at least
    half of it from one process, at least all of it from two (`--workers 2`)."""
    anchor = concurrent["AsyncApp"].throughput
    ok = True
    for name, target, what in (
        ("edibot", ONE_PROCESS_TARGET, "one process"),
        (EDIBOT_2, TWO_PROCESSES_TARGET, "two processes (--workers 2)"),
    ):
        load = concurrent[name]
        ratio = load.throughput / anchor
        passed = ratio >= target and load.wrong == 0
        ok &= passed
        print(
            f"   {name} throughput / AsyncApp throughput = {ratio:.2f}   (target >= {target}: "
            f"{'PASS' if passed else 'FAIL'}; the anchor only acks: no query)"
        )
        record(
            f"/edi mine throughput at {IN_FLIGHT} in flight, {what}",
            load.throughput,
            "requests/s",
            against=f"AsyncApp(process_before_response=True), only acking ({anchor:.0f}/s)",
            ratio=ratio,
            target=f">= {target}x",
            passed=passed,
        )
    return ok


if __name__ == "__main__":
    raise SystemExit(main())
