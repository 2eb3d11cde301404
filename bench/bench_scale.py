"""Benchmark: edibot grown by processes, on PostgreSQL — `/edi mine` served by one web process and by two
(`--workers 2`), and an outbox delivered by two worker replicas against Slack's allowed rate.

1. Web. The 100,000-action store (bench_slack's, benchkit's builder) copied into a throwaway PostgreSQL schema
   (bench_sweep_load's copy). `edibot --now NOW run --slack-http --role web [--workers 2]` is started as an
   operator starts it, in a process of its own, against the Slack stand-in; it runs no reminders (role web),
   so only requests take its time. From another process, signed `/edi mine` slash commands (bench_slack's,
   sent by bench_sweep_load's load) go without pause, IN_FLIGHT at a time, for WARM_S then MEASURE_S; the
   answers in MEASURE_S are counted. Printed: p50, p99 and throughput for one process and for two, and the
   ratio. Target: two processes give at least TARGET_RATIO x the throughput of one. Beside each: the CPU time
   per answer of edibot's processes, of the PostgreSQL backends serving them (found by application_name,
   read from /proc: the server must be on this machine) and of the load generator, and the ceiling those
   set on this machine — each edibot process uses at most one core, all three together at most every core —
   so the ratio reached can be read against the ratio the machine allows.
2. Outbox. A store with MESSAGES people, each with an overdue action, in another throwaway schema; the
   stand-in allows ALLOWED_PER_S chat.postMessage calls a second (beyond that: 429, Retry-After 1). Two
   worker replicas (`edibot run --slack-http --role worker`) start together: one leads and sweeps, both
   deliver, each due message claimed by one (FOR UPDATE SKIP LOCKED). Printed: the rate reached against the
   rate allowed, the 429s, and any message posted twice (counted at the stand-in by its outbox key). Target:
   zero duplicates.

This machine has 2 cores shared with other work (the load generator among it): the figures are indicative;
the load average is printed beside them.

Run with the project's environment and a PostgreSQL database:
`EDIBOT_BENCH_POSTGRES_URL=postgresql+psycopg://… .venv/bin/python bench/bench_scale.py [--only web|outbox]`.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_slack import SIGNING_SECRET, build_store  # noqa: E402
from bench_sweep_load import Answer, answering, cpu_seconds, load, postgres_copy  # noqa: E402
from benchkit import LONDON, NOW, free_port, percentile, postgres_from_environment, postgres_schema  # noqa: E402
from results import record  # noqa: E402
from sqlalchemy import create_engine, func, make_url, select, text  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from bot.console import FakeClock  # noqa: E402
from bot.slack.manifest import bot_scopes  # noqa: E402
from bot.slack.sender import OUTBOX_EVENT  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import Base, OutboxMessage  # noqa: E402
from tests.edibot_process import EDIBOT, get  # noqa: E402
from tests.nudging import NudgeWorld, Row, Someone  # noqa: E402
from tests.slack_standin import SlackStandIn  # noqa: E402

IN_FLIGHT = 50
WARM_S, MEASURE_S = 5.0, 20.0
TARGET_RATIO = 1.6
MESSAGES = 300
ALLOWED_PER_S = 20.0
MONDAY = datetime(2025, 11, 3, 9, 30, tzinfo=LONDON)


@contextmanager
def edibot(
    url: str, api: SlackStandIn, arguments: Sequence[str], *, now: datetime, log: Path
) -> Iterator[tuple[int, int]]:
    """`edibot --now NOW run --port P ARGUMENTS` in a process group of its own; its port and the group's id.
    SIGTERM after."""
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PROMETHEUS_MULTIPROC_DIR")},
        "EDIBOT_DATABASE_URL": url,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_BOT_TOKEN": api.token,
        "EDIBOT_SLACK_API_URL": api.url,
        "EDIBOT_LOG_LEVEL": "WARNING",
        # This tree first; then whatever the caller had (a "before" run may hide httptools and uvloop there).
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
    }
    command = [EDIBOT, "--now", now.isoformat(), "run", "--port", str(port), *arguments]
    with log.open("w") as written:
        process = subprocess.Popen(
            command, env=env, stdout=written, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        get(port, "/healthz", wait=180)
        yield port, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# -- 1. web: one process, then two ---------------------------------------------------------------------------


@dataclass
class Cpu:
    """CPU seconds spent while the answers counted were sent: edibot's processes (all of `--workers N`),
    the PostgreSQL backends serving them, and the load generator."""

    server: float = 0.0
    postgres: float | None = None  # None: the server is not on this machine, its backends are not in /proc
    client: float = 0.0

    def __sub__(self, other: Cpu) -> Cpu:
        postgres = None if self.postgres is None or other.postgres is None else self.postgres - other.postgres
        return Cpu(self.server - other.server, postgres, self.client - other.client)


def web_run(
    url: str, api: SlackStandIn, slack_id: str, *, workers: int, folder: Path
) -> tuple[list[Answer], Cpu]:
    arguments = ["--slack-http", "--role", "web", "--workers", str(workers)]
    named = make_url(url).update_query_dict({"application_name": BACKENDS})
    named_url = named.render_as_string(hide_password=False)
    with (
        edibot(named_url, api, arguments, now=NOW, log=folder / f"web-{workers}.log") as (port, group),
        Backends(url) as backends,
    ):
        served = f"http://127.0.0.1:{port}"
        answering(served, slack_id)
        spawn = multiprocessing.get_context("spawn")
        with spawn.Manager() as manager, spawn.Pool(1) as client:
            client_pid = client.apply(os.getpid)

            def cpu() -> Cpu:
                return Cpu(group_cpu_seconds(group), backends.cpu_seconds(), cpu_seconds(client_pid))

            stop = manager.Event()
            sending = client.apply_async(load, (served, slack_id, IN_FLIGHT, stop))
            started = time.time()
            time.sleep(WARM_S)
            before = cpu()
            time.sleep(MEASURE_S)
            spent = cpu() - before
            stop.set()
            answers = sending.get(timeout=120)
    return [a for a in answers if started + WARM_S <= a.sent < started + WARM_S + MEASURE_S], spent


BACKENDS = "edibot-bench-web"  # the application_name edibot's connections carry, to find their backends


def group_cpu_seconds(group: int) -> float:
    """CPU seconds used so far by every live process of a process group (edibot and its --workers)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[2]) == group:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


class Backends:
    """The PostgreSQL backends serving edibot (by application_name), and the CPU they have used (/proc: the
    server must run on this machine)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.local = make_url(url).host in ("127.0.0.1", "localhost", "::1")
        self.engine = create_engine(url, poolclass=NullPool)
        self.seen: dict[int, float] = {}  # a backend that ended keeps what it used

    def __enter__(self) -> Backends:
        return self

    def __exit__(self, *_: object) -> None:
        self.engine.dispose()

    def cpu_seconds(self) -> float | None:
        if not self.local:
            return None
        with self.engine.connect() as connection:
            pids = connection.scalars(
                text("SELECT pid FROM pg_stat_activity WHERE application_name = :name"), {"name": BACKENDS}
            ).all()
        for pid in pids:
            try:
                self.seen[pid] = cpu_seconds(pid)
            except OSError:
                continue
        return sum(self.seen.values())


def ceiling(cpu: Cpu, answers: int, *, workers: int) -> tuple[float, str]:
    """The most answers a second this machine's cores allow at these CPU costs, and the sum that says so."""
    per = [cpu.server / answers, (cpu.postgres or 0.0) / answers, cpu.client / answers]
    total = sum(per)
    cores = os.cpu_count() or 1
    # edibot's processes use at most one core each; all three together at most the machine's cores.
    bound = min(workers / per[0], cores / total)
    why = (
        f"CPU per answer: edibot {per[0] * 1000:.2f} ms + PostgreSQL {per[1] * 1000:.2f} ms + client "
        f"{per[2] * 1000:.2f} ms = {total * 1000:.2f} ms; ceiling min({workers} x 1000/{per[0] * 1000:.2f}, "
        f"{cores} x 1000/{total * 1000:.2f}) = {bound:.0f} answers/s"
    )
    return bound, why


def wrong_note(bad: int) -> str:
    return f"   WRONG: {bad}" if bad else ""


def summary(answers: list[Answer]) -> tuple[float, float, float, int]:
    """p50, p99 (ms), right answers a second, wrong answers."""
    ms = [a.ms for a in answers]
    right = sum(a.right for a in answers)
    return statistics.median(ms), percentile(ms, 99), right / MEASURE_S, len(answers) - right


def measure_web(postgres: str, api: SlackStandIn, folder: Path) -> bool:
    database, slack_id = build_store(folder / "built")
    with postgres_copy(database, postgres) as url:
        database.dispose()
        # Planner statistics for the copied tables before anything is timed: without them the first run was
        # planned blind (a scan of 100,000 actions per request) until autovacuum happened to ANALYZE, and
        # one process and two were measured against different plans.
        analyzer = create_engine(url, poolclass=NullPool)
        with analyzer.begin() as connection:
            for table in Base.metadata.sorted_tables:
                connection.execute(text(f'ANALYZE "{table.name}"'))
        analyzer.dispose()
        rates: dict[int, float] = {}
        bounds: dict[int, float] = {}
        wrong = 0
        for workers in (1, 2):
            load_before = os.getloadavg()[0]
            answers, cpu = web_run(url, api, slack_id, workers=workers, folder=folder)
            p50, p99, rate, bad = summary(answers)
            rates[workers] = rate
            wrong += bad
            processes = f"{workers} web process{'es' if workers > 1 else ''}"
            print(
                f"  {processes}: p50 {p50:7.1f} ms   p99 {p99:7.1f} ms   {rate:6.1f} answers/s "
                f"at {IN_FLIGHT} in flight   (load average {load_before:.2f} before, "
                f"{os.getloadavg()[0]:.2f} after; {os.cpu_count()} cores){wrong_note(bad)}"
            )
            if answers and cpu.postgres is not None:
                bounds[workers], why = ceiling(cpu, len(answers), workers=workers)
                busy = cpu.server / MEASURE_S
                print(f"     {why}; edibot busy {busy:.2f} cores")
    ratio = rates[2] / rates[1] if rates[1] else 0.0
    ok = ratio >= TARGET_RATIO and wrong == 0
    print(f"  two processes / one: x{ratio:.2f} (target x{TARGET_RATIO}): {'PASS' if ok else 'FAIL'}")
    if len(bounds) == 2:
        print(f"  the ceilings' ratio at these CPU costs on this machine: x{bounds[2] / bounds[1]:.2f}")
    record(
        "/edi mine at 50 in flight, two web processes",
        rates[2],
        "answers/s",
        against=f"one web process ({rates[1]:.1f}/s)",
        ratio=ratio,
        target=f">= {TARGET_RATIO}x one process",
        passed=ok,
    )
    return ok


# -- 2. the outbox: two worker replicas against the allowed rate ---------------------------------------------


def measure_outbox(postgres: str, folder: Path) -> bool:
    with postgres_schema(postgres) as url, SlackStandIn(scopes=set(bot_scopes())) as api:
        store = Database.open(url)
        world = NudgeWorld(store, FakeClock(MONDAY))
        try:
            world.people(
                *[
                    Someone(f"Person {n}", f"Role {n}", slack_id=api.add_user(f"Person {n}").id)
                    for n in range(1, MESSAGES + 1)
                ]
            )
            world.plan(
                [Row(f"Action {n}", f"Role {n}", "31/10/25", "R") for n in range(1, MESSAGES + 1)],
                imported=MONDAY - timedelta(days=33),
            )
        finally:
            world.close()
        api.allow_rate("chat.postMessage", per_second=ALLOWED_PER_S)
        # The clock starts at Monday 09:30 and runs at the wall's pace (a stopped clock would never reach the
        # end of a Retry-After); both workers share it.
        clock = ["--speed", "1", "--speed-from", str(time.time())]
        arguments = ["--slack-http", "--role", "worker", "--every", "5", *clock]
        with (
            edibot(url, api, arguments, now=MONDAY, log=folder / "worker-1.log"),
            edibot(url, api, arguments, now=MONDAY, log=folder / "worker-2.log"),
        ):
            deadline = time.monotonic() + 600
            first = last = 0.0
            while time.monotonic() < deadline:
                count = sent(store)
                if count and not first:
                    first = time.monotonic()
                if count >= MESSAGES:
                    last = time.monotonic()
                    break
                time.sleep(0.1)
        posts = [c for c in api.calls if c.method == "chat.postMessage"]
        accepted = [c for c in posts if c.status == 200]
        limited = sum(c.status == 429 for c in posts)
        keys = api.keys_posted(OUTBOX_EVENT)
        twice = {key: n for key, n in keys.items() if n > 1}
        store.dispose()
    seconds = max(last - first, 0.1) if last else float("inf")
    rate = len(accepted) / seconds
    print(
        f"  {len(accepted)} of {MESSAGES} messages posted by 2 workers in {seconds:.1f} s: {rate:.1f}/s "
        f"against {ALLOWED_PER_S:.0f}/s allowed (x{rate / ALLOWED_PER_S:.2f}); {limited} answered 429; "
        f"posted twice: {len(twice)}"
    )
    ok = not twice and len(accepted) == MESSAGES and len(keys) == MESSAGES
    print(f"  every message once: {'PASS' if ok else 'FAIL'}")
    record(
        "two delivery workers, messages posted twice",
        len(twice),
        "messages",
        against=f"{rate:.1f}/s reached of {ALLOWED_PER_S:.0f}/s allowed",
        ratio=rate / ALLOWED_PER_S,
        target="0, every message sent",
        passed=ok,
    )
    return ok


def sent(store: Database) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).where(OutboxMessage.status == "sent")) or 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--only", choices=("web", "outbox"), help="only this part")
    args = parser.parse_args(argv)
    postgres = postgres_from_environment()
    if not postgres:
        return 0
    ok = True
    with tempfile.TemporaryDirectory() as folder:
        if args.only != "outbox":
            print(
                f"== /edi mine on 100,000 actions (PostgreSQL), {IN_FLIGHT} in flight: one web process vs two"
            )
            with SlackStandIn(scopes=set(bot_scopes())) as api:
                ok &= measure_web(postgres, api, Path(folder))
        if args.only != "web":
            print(f"== {MESSAGES} reminders delivered by two worker replicas (PostgreSQL, SKIP LOCKED)")
            ok &= measure_outbox(postgres, Path(folder))
    print(f"targets: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
