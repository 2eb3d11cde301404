"""Benchmark: the nudge sweep and the outbox delivery worker. Prints its figures, PASS/FAIL for each target.

1. Sweep cost. A store of 100,000 actions, built as the importer writes it (benchkit's builder, checked
   row for row against the real importer), where every action is due far in the future except cohorts of 1,000
   that reach a reminder step on a given morning. One sweep at setup fills next_nudge_on for all of them; then
   the clock moves to the morning when exactly 1,000 actions reach their first step (14 days before their
   deadline) and one sweep (schedules.planning.sweep) is timed. Target: at most 1 s (median of 5, after one
   warm-up), and no growth with the store: the same is timed on a 20,000-action store with the same 1,000 due.
   Each timed sweep is undone afterwards (its nudges and outbox rows deleted, next_nudge_on put back), so
   every repeat does exactly the same work. Also printed: the Monday sweep (which adds the weekly note to
   admins about unmapped roles), and the Tuesday sweep again once the store holds a year of sent reminders, as
   a store in use does (nudges and outbox rows the product never deletes).

2. Outbox delivery rate. A stand-in chat platform on 127.0.0.1 (http.server in a thread) admits RATE messages
   a second (a token bucket of BURST) and answers 429 with Retry-After when over it. A sender POSTs each
   reminder (its outbox key, recipient and reply.plain_text() as JSON) with urllib, raises
   RateLimited(Retry-After) on 429 and returns the id from the JSON answer. The morning's messages (about
   1,000, queued by a real sweep) are delivered by schedules.delivery.deliver in a loop on a real clock (the
   scenario's morning plus wall time) until the outbox has nothing pending, or 2 minutes pass. Target: at
   least 90 % of the allowed rate, with zero lost and zero duplicated (counted at the stand-in by outbox key;
   every queued message must be marked sent with the id the stand-in gave it). To put the outbox key in the
   request, the bench wraps schedules.delivery.render_message in this process (it tags the Reply it returns);
   nothing else is touched.

Run with the project's environment: `.venv/bin/python bench/bench_nudges.py [--explain] [--profile]`.
`--explain` prints where a sweep's time goes statement by statement, the query plans, and the delivery's
breakdown (printed anyway on FAIL); `--profile` adds cProfile's top functions. Set EDIBOT_BENCH_POSTGRES_URL
to time the sweep on PostgreSQL too (a throwaway schema, dropped afterwards). It exits non-zero when a target
is missed.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import math
import random
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchkit import (
    LONDON,
    PEOPLE,
    SEED,
    Stopwatch,
    World,
    built_store,
    check_builder,
    make_world,
    postgres_from_environment,
    postgres_label,
    postgres_schema,
    print_profile,
)
from results import record
from sqlalchemy import delete, func, insert, select, text, update

from handlers.messages import Reply
from schedules import delivery
from schedules.delivery import deliver
from schedules.planning import SweepReport, sweep
from schedules.sending import RateLimited, Recipient, RetryLater
from storage.db import Database, sqlite_url
from storage.models import (
    Action,
    Nudge,
    OutboxMessage,
    Person,
    action_owners,
    person_roles,
)
from storage.reminding import ids_to_look_at_statement
from storage.rules.deadlines import interpret_deadline

SWEEP_TARGET_S = 1.0
GROWTH_LIMIT = 1.3  # the 100,000-action sweep may take at most this many times the 20,000-action one
DUE = 1_000  # actions reaching a step at the timed moment
SIZES = (20_000, 100_000)  # eight plans each
REPEATS = 5  # timed sweeps per moment, after one warm-up
RATE = 50.0  # messages a second the stand-in admits
BURST = 50  # its token bucket's size: one second's worth
RATE_TARGET = 0.90
DELIVERY_GIVE_UP_S = 120.0
DELIVERY_DUE = 1_350  # the delivery store's morning cohort: about 1,000 people, so about 1,000 messages
HISTORY_STEPS = 4  # a year of use: each open action's owners had one deadline's ladder of reminders

SETUP_AT = datetime(2025, 2, 28, 18, 0, tzinfo=LONDON)  # Friday evening: the sweep that fills next_nudge_on
MONDAY = datetime(2025, 3, 3, 10, 0, tzinfo=LONDON)
TUESDAY = datetime(2025, 3, 4, 10, 0, tzinfo=LONDON)  # the moment of the headline figure
LEAD_DAYS = 14  # a cohort's deadline is this far after its morning: it reaches "before-14" that day
# Far-future timescales as plans write them; none reaches a step before 2027.
FAR = [
    "31/12/2027",
    "June 2028",
    "Q3 2028",
    "March 2029",
    "30/09/2028",
    "Dec 2027",
    "April 2029",
    "Q1 2028/29",
    "31/03/2029",
    "By end of 2028",
    "Autumn 2028",
    "January 2029",
]


# -- the store -----------------------------------------------------------------------------------------------


def nudge_world(actions: int, mornings: Sequence[datetime], *, seed: int, due: int = DUE) -> World:
    """benchkit's organisations and people, with every timescale far off except a cohort per morning.

    Each cohort's `due` rows (1,000) are open (not rated Blue), led by one owner role that the people
    directory maps to somebody, and due LEAD_DAYS after their morning, written as plans write dates
    ("18/03/2025")."""
    world = make_world(plan_actions=actions // 8, people=PEOPLE, seed=seed)
    rng = random.Random(seed + 1)
    mapped = sorted({row[0] for row in world.people_rows if row[0]})
    for far in FAR:
        reading = interpret_deadline(far)
        assert reading.kind == "dated" and reading.due and reading.due.year >= 2027, (far, reading)
    for plan in world.plans:
        column = plan.headers.index("Timescale")
        for row in plan.rows:
            row[column] = rng.choice(FAR)
    slots = rng.sample(
        [(p, r) for p, plan in enumerate(world.plans) for r in range(len(plan.rows))], due * len(mornings)
    )
    for number, (p, r) in enumerate(slots):
        plan = world.plans[p]
        row = plan.rows[r]
        morning = mornings[number // due]
        row[plan.headers.index("Timescale")] = (morning.date() + timedelta(days=LEAD_DAYS)).strftime(
            "%d/%m/%Y"
        )
        row[plan.headers.index("Lead")] = rng.choice(mapped)
        rag = plan.headers.index("RAG")
        if row[rag] in ("Blue", ""):
            row[rag] = rng.choice(["Red", "Amber", "Green"])
    return world


@dataclass
class Store:
    label: str
    database: Database
    actions: int
    cohorts: dict[date, list[int]]  # morning -> ids of the actions reaching a step then
    due: int  # how many each
    notes: list[str] = field(default_factory=list)


def open_store(
    url: str, actions: int, mornings: Sequence[datetime], label: str, *, analyze: bool, due: int = DUE
) -> Store:
    started = time.perf_counter()
    world = nudge_world(actions, mornings, seed=SEED, due=due)
    database = built_store(url, world, analyze=analyze)
    built = time.perf_counter() - started
    cohorts: dict[date, list[int]] = {}
    with database.session() as session:
        total = session.scalar(select(func.count()).select_from(Action))
        open_ = session.scalar(select(func.count()).where(Action.status != "done"))
        people = session.scalar(select(func.count()).select_from(Person))
        for morning in mornings:
            deadline = morning.date() + timedelta(days=LEAD_DAYS)
            ids = list(
                session.scalars(select(Action.id).where(Action.due_date == deadline, Action.status != "done"))
            )
            reachable = session.scalar(
                select(func.count(func.distinct(action_owners.c.action_id)))
                .join(person_roles, person_roles.c.owner_id == action_owners.c.owner_id)
                .where(action_owners.c.action_id.in_(ids))
            )
            if len(ids) != due or reachable != due:
                raise SystemExit(
                    f"bench world error: {len(ids)} actions due {deadline}, {reachable} with an owner person"
                )
            cohorts[morning.date()] = ids
    store = Store(label, database, int(total or 0), cohorts, due)
    store.notes.append(f"{total:,} actions ({open_:,} open), {people:,} people; built in {built:.1f} s")
    started = time.perf_counter()
    report = sweep(database, now=SETUP_AT, zone=LONDON)
    elapsed = time.perf_counter() - started
    with database.session() as session:
        unset = session.scalar(
            select(func.count()).where(Action.next_nudge_on.is_(None), Action.status != "done")
        )
    if report.nudges_planned or unset:
        raise SystemExit(
            f"setup sweep planned {report.nudges_planned} nudges and left {unset} open actions unset"
        )
    store.notes.append(
        f"setup sweep {SETUP_AT:%a %d %b %H:%M} filled next_nudge_on for {report.actions_looked_at:,} "
        f"actions in {elapsed:.1f} s, planning nothing"
    )
    return store


# -- timing the sweep --------------------------------------------------------------------------------------


def undo_sweep(database: Database, now: datetime, ids: Sequence[int]) -> None:
    """Put the store back as it was before the sweep at `now`: its nudges and messages gone, next_nudge_on
    reset."""
    with database.engine.begin() as connection:
        connection.execute(delete(Nudge).where(Nudge.created_at == now))
        connection.execute(delete(OutboxMessage).where(OutboxMessage.created_at == now))
        for start in range(0, len(ids), 500):
            connection.execute(
                update(Action).where(Action.id.in_(ids[start : start + 500])).values(next_nudge_on=now.date())
            )


def counts(database: Database) -> tuple[int, int]:
    with database.session() as session:
        return (
            int(session.scalar(select(func.count()).select_from(Nudge)) or 0),
            int(session.scalar(select(func.count()).select_from(OutboxMessage)) or 0),
        )


@dataclass
class SweepFigures:
    what: str
    seconds: list[float]
    report: SweepReport
    cpu: list[float] = field(
        default_factory=list
    )  # this process's CPU time per sweep (SQLite's work included)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    def line(self) -> str:
        r = self.report
        return (
            f"{self.what:44} median {self.median * 1000:7.0f} ms  min {min(self.seconds) * 1000:6.0f}  "
            f"max {max(self.seconds) * 1000:6.0f}   ({r.actions_looked_at:,} actions looked at, "
            f"{r.nudges_planned:,} nudges planned, {r.messages_queued:,} messages queued)"
        )


def time_sweep(store: Store, now: datetime, what: str, *, keep_last: bool = False) -> SweepFigures:
    ids = store.cohorts[now.date()]
    before = counts(store.database)
    seconds: list[float] = []
    reports: list[SweepReport] = []
    cpu: list[float] = []
    for run in range(1 + REPEATS):
        started, cpu_started = time.perf_counter(), time.process_time()
        report = sweep(store.database, now=now, zone=LONDON)
        elapsed, cpu_used = time.perf_counter() - started, time.process_time() - cpu_started
        if report.actions_looked_at != store.due:
            raise SystemExit(
                f"{what}: the sweep looked at {report.actions_looked_at} actions, not {store.due}"
            )
        if run:
            seconds.append(elapsed)
            cpu.append(cpu_used)
            reports.append(report)
        if run < REPEATS or not keep_last:
            undo_sweep(store.database, now, ids)
            if counts(store.database) != before:
                raise SystemExit(f"{what}: undoing the sweep left {counts(store.database)}, not {before}")
    if any(r != reports[0] for r in reports):
        raise SystemExit(f"{what}: repeats did different work: {reports}")
    return SweepFigures(what, seconds, reports[0], cpu)


def add_history(store: Store) -> str:
    """A year of sent reminders, as sweep and deliver would have left them: for each open action with an owner
    person, one deadline's ladder (before-14, before-3, due, overdue) for its first owner person, each in that
    person's one message of the day, marked sent."""
    rng = random.Random(SEED + 2)
    with store.database.engine.begin() as connection:
        pairs = connection.execute(
            select(action_owners.c.action_id, func.min(person_roles.c.person_id))
            .join(person_roles, person_roles.c.owner_id == action_owners.c.owner_id)
            .join(Action, Action.id == action_owners.c.action_id)
            .where(Action.status != "done")
            .group_by(action_owners.c.action_id)
        ).all()
        messages: dict[tuple[int, date], int] = {}
        nudge_rows: list[dict[str, Any]] = []
        for action_id, person_id in pairs:
            deadline = date(2024, 5, 1) + timedelta(days=rng.randrange(280))  # May 2024 to early Feb 2025
            for step, on in (
                ("before-14", deadline - timedelta(days=14)),
                ("before-3", deadline - timedelta(days=3)),
                ("due", deadline),
                ("overdue", deadline + timedelta(days=1)),
            ):
                while on.weekday() >= 5:
                    on += timedelta(days=1)
                sent = datetime(on.year, on.month, on.day, 9, 30, tzinfo=LONDON)
                message = messages.setdefault((person_id, on), len(messages) + 1)
                nudge_rows.append(
                    {
                        "key": f"{action_id}:{step}:{deadline.isoformat()}:{person_id}",
                        "action_id": action_id,
                        "person_id": person_id,
                        "step": step,
                        "occurrence": deadline.isoformat(),
                        "step_on": on,
                        "send_at": sent,
                        "message_id": message,
                        "created_at": sent - timedelta(hours=9),
                    }
                )
        offset = int(connection.scalar(select(func.coalesce(func.max(OutboxMessage.id), 0))) or 0)
        outbox_rows = [
            {
                "id": offset + number,
                "key": f"{person_id}:{on.isoformat()}:1",
                "person_id": person_id,
                "send_at": datetime(on.year, on.month, on.day, 9, 30, tzinfo=LONDON),
                "status": "sent",
                "attempts": 1,
                "sent_at": datetime(on.year, on.month, on.day, 9, 30, 2, tzinfo=LONDON),
                "platform": "slack",
                "platform_message_id": f"hist-{number}",
                "created_at": datetime(on.year, on.month, on.day, 9, 30, tzinfo=LONDON),
            }
            for (person_id, on), number in messages.items()
        ]
        for row in nudge_rows:
            row["message_id"] += offset
        for start in range(0, len(outbox_rows), 20_000):
            connection.execute(insert(OutboxMessage), outbox_rows[start : start + 20_000])
        if store.database.engine.dialect.name == "postgresql":
            # The rows were given their ids: the sequence must follow, or the next sweep's messages collide.
            connection.execute(
                text("SELECT setval(pg_get_serial_sequence('outbox', 'id'), max(id)) FROM outbox")
            )
        for start in range(0, len(nudge_rows), 20_000):
            connection.execute(insert(Nudge), nudge_rows[start : start + 20_000])
        if store.database.engine.dialect.name != "sqlite":
            connection.execute(text("ANALYZE"))
    return f"{len(nudge_rows):,} sent nudges in {len(outbox_rows):,} sent messages"


# -- where a sweep's time goes -------------------------------------------------------------------------------


def query_plans(store: Store, now: datetime) -> list[str]:
    """How the database answers the sweep's questions whose cost could follow the store's size."""
    database = store.database
    today = now.date()
    ids = store.cohorts[today][:500]
    questions = {
        "candidates (reminding.action_ids_to_look_at)": ids_to_look_at_statement(today),
        "existing keys (outbox.planned_nudge_keys)": select(Nudge.key).where(
            Nudge.key.in_([f"{i}:due:{today.isoformat()}:1" for i in ids])
        ),
        "held nudges (outbox.nudges_waiting)": select(Nudge).where(
            Nudge.message_id.is_(None), Nudge.send_at <= now
        ),
        "sent today (outbox.message_keys_taken)": select(OutboxMessage.key).where(
            OutboxMessage.key.in_([f"{p}:{today.isoformat()}:1" for p in range(1, 501)])
        ),
    }
    lines = []
    with database.engine.connect() as connection:
        for name, query in questions.items():
            compiled = query.compile(database.engine, compile_kwargs={"literal_binds": True})
            if database.engine.dialect.name == "sqlite":
                plan = "; ".join(
                    row[-1] for row in connection.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
                )
            else:
                rows = connection.execute(text(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) {compiled}"))
                plan = "; ".join(" ".join(row[0].split()) for row in rows)
            lines.append(f"{name}: {plan}")
    return lines


def explain_sweep(store: Store, now: datetime, *, profile: bool) -> None:
    ids = store.cohorts[now.date()]
    profiler = cProfile.Profile() if profile else None
    with Stopwatch(store.database) as watch:
        if profiler:
            profiler.enable()
        total = watch.time(lambda: (sweep(store.database, now=now, zone=LONDON), 0.0)[1])
        if profiler:
            profiler.disable()
    undo_sweep(store.database, now, ids)
    statements = sum(len(t) for label, t in watch.spent.items() if not label.startswith(("(", "COMMIT")))
    print(
        f"   where one sweep's time goes ({store.label}, {now:%a %d %b %H:%M}): {total:.0f} ms, "
        f"{statements:,} statements; by statement (statement + fetch + ORM + Python until the next one):"
    )
    for label, times in sorted(watch.spent.items(), key=lambda item: -sum(item[1]))[:10]:
        print(f"     {sum(times):7.1f} ms  x{len(times):<5} {label[:200]}")
    for line in query_plans(store, now):
        print(f"     plan: {line[:400]}")
    if profiler:
        print_profile(profiler, top=25)


def sweep_part(
    url_for: Callable[[int], str], label: str, *, analyze: bool, show: bool, profile: bool
) -> bool:
    ok = True
    figures: dict[int, SweepFigures] = {}
    for actions in SIZES:
        store = open_store(
            url_for(actions), actions, [MONDAY, TUESDAY], f"{label}, {actions:,} actions", analyze=analyze
        )
        try:
            print(f"-- sweep, {store.label}")
            for note in store.notes:
                print(f"   {note}")
            monday = time_sweep(
                store, MONDAY, f"{MONDAY:%a %d %b %H:%M} (weekly admin note too)", keep_last=True
            )
            print(f"   {monday.line()}")
            tuesday = time_sweep(store, TUESDAY, f"{TUESDAY:%a %d %b %H:%M}")
            verdict = "PASS" if tuesday.median <= SWEEP_TARGET_S else "FAIL"
            print(f"   {tuesday.line()}   target {SWEEP_TARGET_S:.0f} s: {verdict}")
            record(
                f"sweep, {actions:,} actions ({label.split(' ', maxsplit=1)[0]})",
                tuesday.median,
                "s",
                target=f"≤ {SWEEP_TARGET_S:.0f} s",
                passed=verdict == "PASS",
            )
            ok &= verdict == "PASS"
            figures[actions] = tuesday
            late_ok = True
            if actions == max(SIZES):
                late_ok &= monday.median <= SWEEP_TARGET_S
                print(f"   {'':44} Monday within {SWEEP_TARGET_S:.0f} s: {'PASS' if late_ok else 'FAIL'}")
            if show or verdict == "FAIL":
                explain_sweep(store, TUESDAY, profile=profile)
            history = add_history(store)
            lived = time_sweep(store, TUESDAY, f"{TUESDAY:%a %d %b %H:%M}, after a year of reminders")
            lived_verdict = "PASS" if lived.median <= SWEEP_TARGET_S else "FAIL"
            print(f"   store now also holds {history}")
            print(f"   {lived.line()}   target {SWEEP_TARGET_S:.0f} s: {lived_verdict}")
            ok &= lived_verdict == "PASS" and late_ok
            figures[-actions] = lived
            if show or lived_verdict == "FAIL" or not late_ok:
                explain_sweep(store, TUESDAY, profile=profile)
        finally:
            store.database.dispose()
    small, large = min(SIZES), max(SIZES)
    for sign, what in ((1, "as built"), (-1, "with a year of reminders")):
        ratio = figures[sign * large].median / figures[sign * small].median
        verdict = "PASS" if ratio <= GROWTH_LIMIT else "FAIL"
        ok &= verdict == "PASS"
        record(
            f"sweep growth {small:,} → {large:,} actions, {what} ({label.split(' ', maxsplit=1)[0]})",
            ratio,
            "×",
            against=f"the {small:,}-action sweep",
            ratio=ratio,
            target=f"≤ {GROWTH_LIMIT}×",
            passed=verdict == "PASS",
        )
        print(
            f"-- growth ({label}, {what}): {small:,} actions {figures[sign * small].median * 1000:.0f} ms, "
            f"{large:,} actions {figures[sign * large].median * 1000:.0f} ms: x{ratio:.2f} for a store "
            f"x{large // small} as large (limit x{GROWTH_LIMIT}): {verdict}"
        )
    return ok


# -- the stand-in platform -----------------------------------------------------------------------------------


class StandIn:
    """A chat platform's message endpoint on loopback: a token bucket of `burst` refilled at `rate` a
    second."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self.tokens = float(burst)
        self.refilled = time.monotonic()
        self.lock = threading.Lock()
        self.accepted: Counter[str] = Counter()
        self.ids: dict[str, list[str]] = {}
        self.accepted_at: list[float] = []
        self.refused = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="stand-in", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        assert isinstance(host, str)  # an AF_INET server's address: typeshed allows bytes for other families
        return f"http://{host}:{port}/chat.postMessage"

    def admit(self, key: str) -> tuple[int, dict[str, Any], float]:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.refilled) * self.rate)
            self.refilled = now
            if self.tokens < 1:
                self.refused += 1
                return 429, {"ok": False, "error": "ratelimited"}, (1 - self.tokens) / self.rate
            self.tokens -= 1
            self.accepted[key] += 1
            message_id = f"M{sum(self.accepted.values()):06d}"
            self.ids.setdefault(key, []).append(message_id)
            self.accepted_at.append(now)
            return 200, {"ok": True, "ts": message_id}, 0.0

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                status, answer, wait = stand_in.admit(str(body["key"]))
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if status == 429:
                    self.send_header("Retry-After", str(max(1, math.ceil(wait))))  # HTTP says whole seconds
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: Any) -> None:
                pass

        return Handler

    def __enter__(self) -> StandIn:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class HttpSender:
    """What an adapter does: POST the reply, 429 -> RateLimited(Retry-After), else the platform's message
    id."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.calls = 0
        self.limited = 0
        self.http_s = 0.0

    def __call__(self, person: Recipient, reply: Reply) -> str:
        key = getattr(reply, "outbox_key", None)
        assert key is not None, "render_message was not wrapped"
        body = json.dumps({"key": key, "channel": person.slack_id or person.name, "text": reply.plain_text()})
        request = urllib.request.Request(
            self.url, data=body.encode(), headers={"Content-Type": "application/json"}, method="POST"
        )
        self.calls += 1
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return str(json.load(answer)["ts"])
        except urllib.error.HTTPError as error:
            if error.code == 429:
                self.limited += 1
                seconds = float(error.headers.get("Retry-After") or 1)
                raise RateLimited(seconds, f"429 Too Many Requests; retry after {seconds:g} s") from None
            raise RetryLater(1, f"HTTP {error.code}") from None
        except (urllib.error.URLError, TimeoutError) as error:
            raise RetryLater(1, f"connection error: {error}") from None
        finally:
            self.http_s += time.perf_counter() - started


@contextmanager
def keyed_replies() -> Iterator[None]:
    """Tag each Reply render_message builds with its outbox key, so the sender can put the key in the
    request."""
    original = delivery.render_message

    def render(session: Any, message: OutboxMessage, *, today: date, **more: Any) -> Reply:
        reply = original(session, message, today=today, **more)
        reply.outbox_key = message.key  # type: ignore[attr-defined]
        return reply

    delivery.render_message = render
    try:
        yield
    finally:
        delivery.render_message = original


class RunningClock:
    """The scenario's morning, running at wall-clock speed."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.started = time.monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.started)


def pending(database: Database) -> tuple[int, datetime | None]:
    with database.session() as session:
        count, first = session.execute(
            select(func.count(), func.min(OutboxMessage.send_at)).where(OutboxMessage.status == "pending")
        ).one()
    return int(count), first


@dataclass
class Delivery:
    """One run of the delivery loop against a fresh stand-in, and what each side saw."""

    queued: dict[str, int]  # outbox key -> id, as queued
    elapsed: float = 0.0
    idle_s: float = 0.0
    deliver_s: float = 0.0
    http_s: float = 0.0
    rounds: int = 0
    posts: int = 0
    refused: int = 0
    gave_up: bool = False
    failures: list[str] = field(default_factory=list)
    received: Counter[str] = field(default_factory=Counter)
    ids: dict[str, list[str]] = field(default_factory=dict)
    accepted_at: list[float] = field(default_factory=list)
    rows: dict[str, tuple[Any, ...]] = field(
        default_factory=dict
    )  # key -> status, platform id, attempts, error

    @property
    def lost(self) -> list[str]:
        return [key for key in self.queued if self.received[key] == 0]

    @property
    def duplicated(self) -> int:
        return sum(n - 1 for n in self.received.values() if n > 1)

    @property
    def unknown(self) -> list[str]:
        return [key for key in self.received if key not in self.queued]

    @property
    def mismatched(self) -> list[str]:
        return [
            key
            for key in self.queued
            if self.received[key] and (self.rows[key][0] != "sent" or self.rows[key][1] not in self.ids[key])
        ]

    @property
    def delivered(self) -> int:
        return sum(1 for key in self.queued if self.received[key])

    @property
    def rate(self) -> float:
        return self.delivered / self.elapsed if self.elapsed else 0.0

    @property
    def share(self) -> float:
        """Of the most the bucket could admit in that time (its burst included)."""
        return self.delivered / (BURST + RATE * self.elapsed) if self.elapsed else 0.0


def run_delivery(
    database: Database, make_sender: Callable[[str], Callable[[Recipient, Reply], str]]
) -> Delivery:
    """deliver() in a loop on a running clock until nothing is pending (or DELIVERY_GIVE_UP_S passes)."""
    with database.session() as session:
        run = Delivery(dict(session.execute(select(OutboxMessage.key, OutboxMessage.id)).all()))
    clock = RunningClock(TUESDAY)
    with StandIn(RATE, BURST) as stand_in, keyed_replies():
        sender = make_sender(stand_in.url)
        started = time.perf_counter()
        while True:
            left, first = pending(database)
            if not left:
                break
            if time.perf_counter() - started > DELIVERY_GIVE_UP_S:
                run.gave_up = True
                break
            now = clock.now()
            if first is not None and first > now:  # nothing due until a retry's time comes
                pause = min((first - now).total_seconds(), DELIVERY_GIVE_UP_S)
                time.sleep(pause)
                run.idle_s += pause
                continue
            began = time.perf_counter()
            report = deliver(database, now=now, zone=LONDON, send=sender, clock=clock.now)
            run.deliver_s += time.perf_counter() - began
            run.rounds += 1
            run.failures.extend(report.failed)
        run.elapsed = time.perf_counter() - started
    run.received, run.ids, run.accepted_at = stand_in.accepted, stand_in.ids, stand_in.accepted_at
    run.refused = stand_in.refused
    run.posts, run.http_s = getattr(sender, "calls", 0), getattr(sender, "http_s", 0.0)
    with database.session() as session:
        run.rows = {
            key: (status, platform_id, attempts, error, failures)
            for key, status, platform_id, attempts, error, failures in session.execute(
                select(
                    OutboxMessage.key,
                    OutboxMessage.status,
                    OutboxMessage.platform_message_id,
                    OutboxMessage.attempts,
                    OutboxMessage.last_error,
                    OutboxMessage.failures,
                )
            )
        }
    return run


def reset_outbox(database: Database) -> None:
    """Every message pending again, never tried: for the what-if run on the same queue."""
    with database.engine.begin() as connection:
        connection.execute(
            update(OutboxMessage).values(
                status="pending",
                attempts=0,
                failures=0,
                lease_until=None,
                sent_at=None,
                send_at=TUESDAY,
                platform_message_id=None,
                last_error=None,
            )
        )


class PatientSender(HttpSender):
    """What-if only: a sender that waits out Retry-After itself and posts again, so deliver never sees a
    429."""

    def __call__(self, person: Recipient, reply: Reply) -> str:
        while True:
            try:
                return super().__call__(person, reply)
            except RetryLater as error:
                time.sleep(error.seconds)


def delivery_part(folder: Path, *, show: bool) -> bool:
    store = open_store(
        sqlite_url(folder / "delivery"),
        min(SIZES),
        [TUESDAY],
        f"SQLite, {min(SIZES):,} actions",
        analyze=False,
        due=DELIVERY_DUE,
    )
    database = store.database
    queued_report = sweep(database, now=TUESDAY, zone=LONDON)
    try:
        run = run_delivery(database, HttpSender)
        print(
            f"-- delivery: {len(run.queued):,} messages queued by the {TUESDAY:%a %d %b %H:%M} sweep "
            f"({queued_report.nudges_planned:,} nudges for {queued_report.actions_looked_at:,} actions) in "
            f"the {min(SIZES):,}-action store; stand-in on loopback admits {RATE:g}/s "
            f"(token bucket of {BURST})"
        )
        rate_ok = run.share >= RATE_TARGET and not run.gave_up
        exact_ok = not (run.lost or run.duplicated or run.unknown or run.mismatched)
        record(
            "outbox delivery rate",
            run.rate,
            "messages/s",
            against=f"the allowed {RATE:g}/s",
            ratio=run.share,
            target=f"≥ {RATE_TARGET:.0%} of the rate",
            passed=rate_ok,
        )
        record(
            "outbox lost + duplicated",
            len(run.lost) + run.duplicated,
            "messages",
            target="0",
            passed=exact_ok,
        )
        print(
            f"   delivered {run.delivered:,} of {len(run.queued):,} in {run.elapsed:.1f} s: {run.rate:.1f} "
            f"messages/s against {RATE:g}/s allowed = {run.rate / RATE:.0%} of the rate "
            f"({run.share:.0%} of what the bucket could admit in that time, burst included); target "
            f"{RATE_TARGET:.0%}: {'PASS' if rate_ok else 'FAIL'}"
            + ("  (gave up after 2 minutes)" if run.gave_up else "")
        )
        print(
            f"   lost {len(run.lost)}, duplicated {run.duplicated} (counted at the stand-in by outbox key); "
            f"unknown keys {len(run.unknown)}, rows not marked sent with the stand-in's id "
            f"{len(run.mismatched)}: {'PASS' if exact_ok else 'FAIL'}"
        )
        print(
            f"   {run.posts:,} POSTs, {run.refused:,} answered 429; deliver called {run.rounds} times "
            f"({run.deliver_s:.1f} s in it, {run.http_s:.1f} s of that in HTTP), {run.idle_s:.1f} s with "
            "nothing due (every pending message waiting out its retry time)"
        )
        attempts = Counter(run.rows[key][2] for key in run.queued)
        failures = Counter(run.rows[key][4] for key in run.queued)
        print(
            "   claims per message (a rate-limited try, or one handed back untried when the platform said "
            f"wait): {dict(sorted(attempts.items()))}; failed tries per message, counted against "
            f"MAX_ATTEMPTS={delivery.MAX_ATTEMPTS}: {dict(sorted(failures.items()))}"
        )
        if run.failures:
            print(f"   {len(run.failures)} marked failed by deliver, e.g. {run.failures[0]}")
        if show or not (rate_ok and exact_ok):
            explain_delivery(run)
            control(len(run.queued))
            reset_outbox(database)
            patient = run_delivery(database, PatientSender)
            print(
                "   what-if, the same deliver loop and queue with a sender that waits out Retry-After "
                f"itself (so deliver never sees a 429): {patient.delivered:,} in {patient.elapsed:.1f} s = "
                f"{patient.rate:.1f}/s, {patient.rate / RATE:.0%} of the rate; lost {len(patient.lost)}, "
                f"duplicated {patient.duplicated}, {patient.refused} answered 429"
            )
    finally:
        database.dispose()
    return rate_ok and exact_ok


def explain_delivery(run: Delivery) -> None:
    if run.accepted_at:
        origin = run.accepted_at[0]
        per_second = Counter(int(t - origin) for t in run.accepted_at)
        seconds = range(int(run.accepted_at[-1] - origin) + 1)
        print(
            "   accepted in each second of the run: " + " ".join(str(per_second.get(s, 0)) for s in seconds)
        )
    posts = max(run.posts, 1)
    print(
        f"   per POST: {run.deliver_s / posts * 1000:.1f} ms in deliver, {run.http_s / posts * 1000:.1f} ms "
        f"of it HTTP (so deliver alone could try {posts / max(run.deliver_s, 1e-9):.0f} messages/s)"
    )
    for key in run.lost[:5]:
        status, _, attempts, error, _ = run.rows[key]
        print(f"   lost {key}: {status} after {attempts} attempts, last error {error!r}")


def control(count: int) -> None:
    """The same sender and stand-in without the outbox: post in turn, and on 429 wait Retry-After and post
    again.

    What a client that simply honours Retry-After gets from this stand-in; it shows the ceiling is not the
    stand-in, HTTP or the sender."""
    with StandIn(RATE, BURST) as stand_in:
        sender = HttpSender(stand_in.url)
        started = time.perf_counter()
        for number in range(count):
            reply = Reply.say(f"control message {number}")
            reply.outbox_key = f"control:{number}"  # type: ignore[attr-defined]
            while True:
                try:
                    sender(Recipient(id=0, name="Control", slack_id="UCONTROL"), reply)
                    break
                except RetryLater as error:
                    time.sleep(error.seconds)
        elapsed = time.perf_counter() - started
    rate = count / elapsed
    print(
        f"   control, without the outbox (post; on 429 wait Retry-After, post again): {count:,} in "
        f"{elapsed:.1f} s = {rate:.1f}/s, {rate / RATE:.0%} of the rate; {stand_in.refused} answered 429"
    )


# -- main ----------------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--explain", action="store_true", help="print where the time goes even on PASS")
    parser.add_argument(
        "--profile", action="store_true", help="with the explanation, cProfile's top functions"
    )
    parser.add_argument("--only", choices=["sweep", "delivery"], help="run one part")
    args = parser.parse_args(argv)
    show = args.explain or args.profile
    ok = True
    with tempfile.TemporaryDirectory() as folder:
        if args.only != "delivery":
            print(f"builder check against the real importer: {check_builder(Path(folder))}")
            ok &= sweep_part(
                lambda actions: sqlite_url(Path(folder) / f"sweep{actions}"),
                "SQLite (file, WAL)",
                analyze=False,
                show=show,
                profile=args.profile,
            )
            postgres = postgres_from_environment()
            if postgres:
                with postgres_schema(postgres) as first, postgres_schema(postgres) as second:
                    urls = dict(zip(SIZES, (first, second), strict=True))
                    ok &= sweep_part(
                        urls.__getitem__, postgres_label(first), analyze=True, show=show, profile=args.profile
                    )
        if args.only != "sweep":
            ok &= delivery_part(Path(folder), show=show)
    print(
        f"targets: sweep at most {SWEEP_TARGET_S:.0f} s with {DUE:,} due, not growing with the store; "
        f"delivery at least {RATE_TARGET:.0%} of the allowed rate, none lost or duplicated: "
        f"{'PASS' if ok else 'FAIL'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
