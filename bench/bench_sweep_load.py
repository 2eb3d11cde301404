"""Benchmark: `/edi mine` answered while the first reminder sweep of a 100,000-action store runs beside it.

edibot is started as `edibot run --slack-http` starts it (bot.slack.run.run_slack, in a process of its own:
our HTTP front, and the reminder scheduler in its worker process), on a copy of bench_slack's store (100,000
actions, benchkit's builder) that has never been swept, so its first round looks at every open action.
Its Web API client points at the local stand-in (tests/slack_standin.py). From another process, signed `/edi
mine` slash commands (bench_slack's) are sent without pause, IN_FLIGHT at a time, from the moment edibot
answers until AFTER_S after the sweep has finished. This process watches the database: the sweep has started
once the scheduler holds the lead (its lease row is written just before it sweeps) and has finished once its
nudges are committed (the sweep writes them all in its one transaction, at its end).

Each request is counted by when it was sent: during the sweep, or after it (once the round's delivery has had
SETTLE_S). Printed, for 50 in flight and for 1 in flight (a fresh copy of the store and a fresh edibot each):
p50, p99 and throughput during the sweep and after it; and the same with the scheduler on threads of the
serving process (`run_slack(worker=False)`), as edibot ran before, for comparison.

Target: with the worker, p99 under 1 s at 50 in flight during the sweep (Slack gives up at 3 s), and every
answer HTTP 200 saying "Your 50 open actions". Exits non-zero when it is missed.

Run with the project's environment: `.venv/bin/python bench/bench_sweep_load.py [--only worker|threads]`.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from multiprocessing.synchronize import Event
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402
from bench_slack import (  # noqa: E402
    EXPECTED,
    SIGNING_SECRET,
    build_store,
    command_form,
    slack_headers,
)
from benchkit import LONDON, NOW, free_port, percentile  # noqa: E402
from pydantic import SecretStr  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.console import FakeClock  # noqa: E402
from bot.slack.manifest import bot_scopes  # noqa: E402
from bot.slack.run import run_slack  # noqa: E402
from bot.slack.serve import EVENTS_PATH  # noqa: E402
from storage.db import Database, sqlite_url  # noqa: E402
from storage.models import Leadership, Nudge  # noqa: E402
from tests.slack_standin import SlackStandIn  # noqa: E402

TARGET_MS = 1_000.0
IN_FLIGHTS = (50, 1)
AFTER_S = 15.0  # load kept up this long after the sweep has finished
SETTLE_S = 3.0  # after the sweep, the round delivers what it queued: requests sent then count in neither
START_S = 180.0  # edibot answering; the sweep starting; the sweep finishing (x 4)
MODES = {"threads": False, "worker": True}  # run_slack's `worker`


# -- edibot, served -----------------------------------------------------------------------------------------


def serve(folder: str, api_url: str, token: str, port: int, worker: bool) -> None:
    """The edibot process: `edibot --now NOW run --slack-http` as the command line starts it (run_slack)."""
    settings = Settings(
        SLACK_SIGNING_SECRET=SecretStr(SIGNING_SECRET),
        SLACK_BOT_TOKEN=SecretStr(token),
        slack_api_url=api_url,
        log_level="ERROR",
    )
    database = Database.open(sqlite_url(Path(folder)), create="never")
    run_slack(
        settings=settings,
        database=database,
        clock=FakeClock(NOW),
        zone=LONDON,
        socket=False,
        host="127.0.0.1",
        port=port,
        every=timedelta(hours=1),
        worker=worker,
    )


@contextmanager
def edibot(folder: Path, api: SlackStandIn, *, worker: bool) -> Iterator[str]:
    port = free_port()
    process = multiprocessing.get_context("spawn").Process(
        target=serve, args=(str(folder), api.url, api.token, port, worker), name="edibot"
    )
    process.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        if process.pid is not None and process.is_alive():
            os.kill(process.pid, signal.SIGINT)  # Ctrl-C: uvicorn stops, then the scheduler
        process.join(120)
        if process.is_alive():
            process.kill()


# -- the load: signed `/edi mine`, without pause, from another process --------------------------------------


@dataclass(frozen=True)
class Answer:
    sent: float  # time.time() when sent
    ms: float
    right: bool


async def _load(url: str, user_id: str, in_flight: int, stop: Event) -> list[Answer]:
    answers: list[Answer] = []
    limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:

        async def worker(first: int) -> None:
            number = first
            while not stop.is_set():
                number += in_flight
                body = urlencode(command_form(user_id, number))
                sent, started = time.time(), time.perf_counter()
                try:
                    response = await client.post(
                        EVENTS_PATH, content=body.encode(), headers=slack_headers(body)
                    )
                    right = response.status_code == 200 and EXPECTED in response.text
                except httpx.TransportError:
                    right = False
                answers.append(Answer(sent, (time.perf_counter() - started) * 1000, right))

        await asyncio.gather(*(worker(first) for first in range(in_flight)))
    return answers


def load(url: str, user_id: str, in_flight: int, stop: Event) -> list[Answer]:
    """Runs in the client process: `/edi mine` from user_id, in_flight at a time, until `stop` is set."""
    return asyncio.run(_load(url, user_id, in_flight, stop))


def answering(url: str, user_id: str) -> None:
    """Waits until edibot answers `/edi mine` right."""
    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline:
        body = urlencode(command_form(user_id, 0))
        try:
            response = httpx.post(url + EVENTS_PATH, content=body.encode(), headers=slack_headers(body))
            if response.status_code == 200 and EXPECTED in response.text:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit("edibot did not answer within the time allowed")


# -- one run: a fresh store, a fresh edibot, load across its first sweep ------------------------------------


@dataclass
class Figures:
    sweep_s: float
    loaded_s: float = 0.0  # the part of the sweep under load
    during: list[Answer] = field(default_factory=list)
    after: list[Answer] = field(default_factory=list)
    wrong: int = 0

    @staticmethod
    def line(name: str, answers: list[Answer], seconds: float) -> str:
        if len(answers) < 2:
            return f"   {name:7} too few answers to measure ({len(answers)})"
        ms = [answer.ms for answer in answers]
        return (
            f"   {name:7} p50 {statistics.median(ms):8.1f} ms   p99 {percentile(ms, 99):8.1f} ms   "
            f"{len(ms) / seconds:6.1f} requests/s   ({len(ms):,} requests)"
        )


def watch(database: Database, *, counting: type[Leadership] | type[Nudge], deadline: float) -> float:
    """Waits until a row of `counting` is in the database; returns when it was seen (time.time())."""
    while time.monotonic() < deadline:
        with database.session() as session:
            if session.scalar(select(func.count()).select_from(counting)):
                return time.time()
        time.sleep(0.05)
    raise SystemExit(f"no {counting.__tablename__} row within the time allowed")


def one_run(built: Path, api: SlackStandIn, user_id: str, *, worker: bool, in_flight: int) -> Figures:
    with tempfile.TemporaryDirectory(dir=built.parent) as folder:
        data = Path(folder) / "data"
        shutil.copytree(built, data)
        database = Database.open(sqlite_url(data), migrate=False, create="never")
        spawn = multiprocessing.get_context("spawn")
        with edibot(data, api, worker=worker) as url, spawn.Manager() as manager:
            answering(url, user_id)
            stop = manager.Event()
            with spawn.Pool(1) as client:
                sending = client.apply_async(load, (url, user_id, in_flight, stop))
                deadline = time.monotonic() + 4 * START_S
                started = watch(database, counting=Leadership, deadline=deadline)
                finished = watch(database, counting=Nudge, deadline=deadline)
                time.sleep(SETTLE_S + AFTER_S)
                stop.set()
                answers = sending.get(timeout=120)
        database.dispose()
    figures = Figures(sweep_s=finished - started)
    figures.during = [a for a in answers if started <= a.sent < finished]
    # The load starts once edibot answers: with threads, the sweep has already begun by then.
    figures.loaded_s = finished - max(started, min((a.sent for a in answers), default=started))
    figures.after = [a for a in answers if a.sent >= finished + SETTLE_S]
    figures.wrong = sum(not a.right for a in answers if a.sent >= started)
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--only", choices=sorted(MODES), help="only the worker, or only threads (before)")
    args = parser.parse_args(argv)
    modes = [args.only] if args.only else list(MODES)

    ok = True
    with tempfile.TemporaryDirectory() as folder, SlackStandIn(scopes=set(bot_scopes())) as api:
        database, slack_id = build_store(Path(folder) / "built")
        database.dispose()
        built = Path(folder) / "built" / "data"
        for mode in modes:
            label = (
                "the scheduler in its worker process (as edibot runs now)"
                if MODES[mode]
                else "the scheduler on threads of the serving process (as before)"
            )
            print(f"-- {label}")
            for in_flight in IN_FLIGHTS:
                figures = one_run(built, api, slack_id, worker=MODES[mode], in_flight=in_flight)
                print(f"  {in_flight} in flight; the first sweep took {figures.sweep_s:.1f} s")
                print(Figures.line("during", figures.during, figures.loaded_s))
                print(Figures.line("after", figures.after, AFTER_S))
                if figures.wrong:
                    print(f"   WRONG ANSWERS: {figures.wrong}")
                if MODES[mode] and in_flight == 50:
                    during = [a.ms for a in figures.during]
                    p99 = percentile(during, 99) if len(during) >= 2 else float("inf")
                    verdict = p99 < TARGET_MS and figures.wrong == 0
                    ok &= verdict
                    print(
                        f"   p99 during the sweep {p99:.0f} ms, target under {TARGET_MS:.0f} ms: "
                        f"{'PASS' if verdict else 'FAIL'}"
                    )
    print(f"targets: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
