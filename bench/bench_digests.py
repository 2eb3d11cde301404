"""Benchmark: building 1,000 channels' weekly digests from a store of 100,000 actions (target: at most 2 s).

The store is benchkit's (eight organisations' plans as the importer would write them), with a week of changes
on top: WEEK_CHANGES ratings changed in the seven days before the benchmark's clock, each with its history
row and a note. SUBSCRIPTIONS channels subscribe: a plan each, a plan and a theme, an owner's actions, or
every open plan, at a mix of stale thresholds. Timed, as a round of the scheduler builds them: reading the
store once (storage.digests.DigestSource) and building each channel's digest (handlers.digests.build_digest)
into the reply that would be queued. Printed: the total, the read and the build apart, per digest, and the
whole round with the outbox writes (schedules.digests.queue_digests) for comparison.

Run with the project's environment: `.venv/bin/python bench/bench_digests.py [--profile]`. Set
EDIBOT_BENCH_POSTGRES_URL to time PostgreSQL too (a throwaway schema). Exits non-zero when the target is
missed.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from benchkit import (  # noqa: E402
    ACTIONS,
    LONDON,
    NOW,
    PEOPLE,
    PLAN_ACTIONS,
    SEED,
    THEMES,
    World,
    built_store,
    make_world,
    postgres_from_environment,
    postgres_label,
    postgres_schema,
    print_profile,
)
from results import record  # noqa: E402
from sqlalchemy import func, insert, select, update  # noqa: E402

from handlers.digests import build_digest  # noqa: E402
from handlers.messages import reply_as_data  # noqa: E402
from schedules.digests import queue_digests  # noqa: E402
from storage.db import Database, sqlite_url  # noqa: E402
from storage.digests import DigestSource, digest_subscriptions  # noqa: E402
from storage.models import Action, DigestSubscription, HistoryEntry, Owner, Plan  # noqa: E402

TARGET_S = 2.0
SUBSCRIPTIONS = 1_000
WEEK_CHANGES = 3_000
RATINGS = ("red", "amber", "green", "blue")


def add_a_week_of_changes(database: Database, *, seed: int) -> None:
    """WEEK_CHANGES ratings changed in the week before NOW, each recorded in the history as a person would."""
    rng = random.Random(seed)
    with database.session() as session:
        ids = list(session.scalars(select(Action.id).order_by(Action.id)))
        rows = []
        for action_id in rng.sample(ids, WEEK_CHANGES):
            to = rng.choice(RATINGS)
            at = NOW - timedelta(minutes=rng.randrange(1, 7 * 24 * 60))
            session.execute(
                update(Action)
                .where(Action.id == action_id)
                .values(rag=to, status="done" if to == "blue" else "open", updated_at=at, answered_at=at)
            )
            rows.append(
                {
                    "action_id": action_id,
                    "at": at,
                    "actor": "Amina Khan",
                    "surface": "slack",
                    "field": "rag",
                    "from_value": "amber",
                    "to_value": to,
                    "note": "moved on at the working group",
                }
            )
        session.execute(insert(HistoryEntry), rows)


def subscribe_channels(database: Database, *, seed: int) -> None:
    """SUBSCRIPTIONS channels: by plan, plan and theme, an owner's actions, or every plan, due at NOW."""
    rng = random.Random(seed)
    with database.session() as session:
        plans = list(session.scalars(select(Plan.id)))
        owners = list(session.scalars(select(Owner.name).order_by(Owner.id).limit(200)))
        for number in range(SUBSCRIPTIONS):
            kind = number % 10
            session.add(
                DigestSubscription(
                    channel=f"C{number:05d}",
                    channel_name=f"edi-group-{number}",
                    plan_id=rng.choice(plans) if kind < 8 else None,
                    theme=rng.choice(THEMES).split()[0] if kind in (4, 5, 6, 7) else None,
                    owner=rng.choice(owners) if kind == 9 else None,
                    weekday=NOW.weekday(),
                    send_time=f"{NOW:%H:%M}",
                    nation="england",
                    skip_quiet=False,
                    stale_weeks=rng.choice((2, 4, 8)),
                    created_by="bench",
                    created_at=NOW - timedelta(days=30),
                )
            )


def time_digests(database: Database, *, profile: bool) -> tuple[float, float, float, int]:
    """(read s, build s, total s, blocks in all) for every subscription's digest at NOW."""
    profiler = cProfile.Profile() if profile else None
    with database.session() as session:
        subscriptions = list(digest_subscriptions(session))
        session.expunge_all()
    with database.session() as session:
        if profiler:
            profiler.enable()
        started, cpu = time.perf_counter(), time.process_time()
        source = DigestSource(session, now=NOW)
        read = time.perf_counter() - started
        blocks = 0
        for subscription in subscriptions:
            digest = build_digest(source, subscription, today=NOW.date())
            blocks += len(reply_as_data(digest.reply)["blocks"])
        total = time.perf_counter() - started
        print(f"   CPU time of this process for it: {time.process_time() - cpu:.2f} s")
        if profiler:
            profiler.disable()
    if profiler:
        print_profile(profiler, top=20)
    return read, total - read, total, blocks


def run_on(url: str, world: World, label: str, *, analyze: bool, profile: bool) -> bool:
    started = time.perf_counter()
    database = built_store(url, world, analyze=False)
    add_a_week_of_changes(database, seed=SEED)
    subscribe_channels(database, seed=SEED)
    if analyze:
        with database.engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
    print(f"-- {label}: store built in {time.perf_counter() - started:.1f} s")
    # The machine's load, since the figures below are wall-clock times of one process on a shared machine.
    print(f"   load average: {' '.join(f'{load:.1f}' for load in os.getloadavg())} on {os.cpu_count()} CPUs")
    try:
        with database.session() as session:
            actions = session.scalar(select(func.count()).select_from(Action))
        read, build, total, blocks = time_digests(database, profile=profile)
        print(
            f"   {SUBSCRIPTIONS:,} digests from {actions:,} actions: {total:.2f} s "
            f"(read {read:.2f} s, build {build:.2f} s; {total / SUBSCRIPTIONS * 1000:.2f} ms a digest, "
            f"{blocks / SUBSCRIPTIONS:.1f} blocks each)"
        )
        record(
            f"{SUBSCRIPTIONS:,} digests from {actions:,} actions ({label.split(' ', maxsplit=1)[0]})",
            total,
            "s",
            target=f"≤ {TARGET_S:.0f} s",
            passed=total <= TARGET_S,
        )
        started = time.perf_counter()
        report = queue_digests(database, now=NOW, zone=LONDON)
        round_s = time.perf_counter() - started
        print(
            f"   the scheduler's round, queuing them in the outbox too: {round_s:.2f} s "
            f"({len(report.queued):,} queued)"
        )
        return total <= TARGET_S and len(report.queued) == SUBSCRIPTIONS
    finally:
        database.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--profile", action="store_true", help="cProfile's top functions while building")
    args = parser.parse_args(argv)
    world = make_world(plan_actions=PLAN_ACTIONS, people=PEOPLE, seed=SEED)
    assert sum(len(plan.rows) for plan in world.plans) == ACTIONS
    with tempfile.TemporaryDirectory() as folder:
        ok = run_on(
            sqlite_url(Path(folder) / "data"),
            world,
            "SQLite (file, WAL)",
            analyze=False,
            profile=args.profile,
        )
    postgres = postgres_from_environment()
    if postgres:
        with postgres_schema(postgres) as url:
            ok &= run_on(url, world, postgres_label(url), analyze=True, profile=args.profile)
    print(f"target: {SUBSCRIPTIONS:,} digests in at most {TARGET_S:.0f} s: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
