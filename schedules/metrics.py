"""What /metrics shows (prometheus-client): counts and timings kept once `edibot run` turns them on, and the
outbox's backlog read from the database when scraped.

Every other command (and `edibot --help`) neither imports prometheus_client nor counts: until `enable()`,
each function here returns at once. No label carries anything a person wrote or who they are: the labels
are a surface ("slack", "teams"), an outcome, or a route from a fixed list (tests/test_operations.py checks
them against an allow-list).

`edibot run` may be several processes (the Slack server and its scheduler worker; `--workers N`), so
prometheus_client's multiprocess mode is always on: each process writes its counts to files in
PROMETHEUS_MULTIPROC_DIR (a fresh private folder when the operator names none), and whichever process
answers a scrape adds them up.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from storage import outbox
from storage.db import DATABASE_DOWN, Database

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
SURFACES = ("slack", "teams", "console", "cli")
OUTCOMES = ("queued", "sent", "failed", "retried")
ROUTES = ("slack_events", "teams_messages", "slack_oauth", "healthz", "readyz", "metrics", "other")
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)


class _Metrics:
    def __init__(self) -> None:
        from prometheus_client import Counter, Histogram  # noqa: PLC0415 — only `edibot run` pays for it

        self.commands = Counter(
            "edibot_commands_total", "Commands and replies handled, by surface.", ["surface"]
        )
        self.nudges = Counter(
            "edibot_nudges_total", "Outbox messages queued, sent, failed for good, or retried.", ["outcome"]
        )
        self.rate_limited = Counter(
            "edibot_platform_rate_limited_total", "Times a chat platform answered 429 (wait and retry)."
        )
        self.sweep = Histogram(
            "edibot_sweep_seconds",
            "How long one sweep (planning the reminders due) took.",
            buckets=LATENCY_BUCKETS,
        )
        self.requests = Histogram(
            "edibot_http_request_seconds",
            "Time to answer an HTTP request, by route.",
            ["route"],
            buckets=LATENCY_BUCKETS,
        )
        for surface in ("slack", "teams"):
            self.commands.labels(surface=surface)
        for outcome in OUTCOMES:
            self.nudges.labels(outcome=outcome)


_on: _Metrics | None = None


def prepare_folder() -> Path:
    """The folder where this run's processes keep their counts, emptied; made (private) when none is named.

    Called once by `edibot run` before any process counts: the processes it starts inherit the variable.
    """
    named = os.environ.get(MULTIPROC_ENV)
    if named:
        folder = Path(named)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):  # counts left by an earlier run would be added to this one's
            stale.unlink(missing_ok=True)
    else:
        folder = Path(tempfile.mkdtemp(prefix="edibot-metrics-"))
        os.environ[MULTIPROC_ENV] = str(folder)
    return folder


def remove_folder(folder: Path) -> None:
    """The folder `prepare_folder` made, removed as `edibot run` stops (one the operator named is kept)."""
    if folder.name.startswith("edibot-metrics-") and folder.parent == Path(tempfile.gettempdir()):
        shutil.rmtree(folder, ignore_errors=True)


def enable() -> None:
    """Counting starts in this process (`edibot run` and the processes it starts)."""
    global _on  # noqa: PLW0603 — one set of metrics a process, as prometheus_client has one registry
    if _on is None and os.environ.get(MULTIPROC_ENV):
        _on = _Metrics()


def enabled() -> bool:
    return _on is not None


def command_handled(surface: str) -> None:
    if _on is not None:
        _on.commands.labels(surface=surface if surface in SURFACES else "other").inc()


def nudges(*, queued: int = 0, sent: int = 0, failed: int = 0, retried: int = 0) -> None:
    if _on is None:
        return
    for outcome, count in (("queued", queued), ("sent", sent), ("failed", failed), ("retried", retried)):
        if count:
            _on.nudges.labels(outcome=outcome).inc(count)


def rate_limited() -> None:
    if _on is not None:
        _on.rate_limited.inc()


def sweep_took(seconds: float) -> None:
    if _on is not None:
        _on.sweep.observe(seconds)


def request_took(route: str, seconds: float) -> None:
    if _on is not None:
        _on.requests.labels(route=route if route in ROUTES else "other").observe(seconds)


class _Backlog:
    """The outbox's depth and the age of its oldest due message, read when scraped (any process may answer,
    and the database is what they share)."""

    def __init__(self, database: Database, now: datetime) -> None:
        self.database = database
        self.now = now

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily  # noqa: PLC0415

        with self.database.session() as session:
            depth, oldest = outbox.backlog(session, now=self.now)
        yield GaugeMetricFamily("edibot_outbox_depth", "Messages waiting in the outbox.", value=depth)
        age = max(0.0, (self.now - oldest).total_seconds()) if oldest is not None else 0.0
        yield GaugeMetricFamily(
            "edibot_outbox_oldest_due_seconds",
            "How long the oldest due message has waited to be sent.",
            value=age,
        )


def exposition(database: Database | None, *, now: datetime) -> tuple[bytes, str]:
    """The text /metrics answers, and its content type: every process's counts, and the outbox's backlog
    (left out when the database can't be read: /readyz says so)."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest  # noqa: PLC0415
    from prometheus_client.multiprocess import MultiProcessCollector  # noqa: PLC0415

    registry = CollectorRegistry()
    if os.environ.get(MULTIPROC_ENV):
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    text = generate_latest(registry)
    if database is not None:
        backlog = CollectorRegistry()
        backlog.register(_Backlog(database, now))
        # The database down: the counts are still worth answering, and /readyz says the rest.
        with contextlib.suppress(*DATABASE_DOWN):
            text += generate_latest(backlog)
    return text, CONTENT_TYPE_LATEST
