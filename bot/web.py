"""`edibot run` over HTTP — Slack, Teams, or both on one port — as one process, as N (`--workers N`), or as a
replica with one role (`--role web|worker`).

What is served is built one way (`web_front`) wherever it runs: the platforms' fronts behind bot/ops.py's
/healthz, /readyz and /metrics, with the notices a command causes sent straight after its answer.

- `--role all` (the default): the server, and the reminder rounds beside it (Slack: in a worker process,
  bot/slack/worker.py; Teams alone: on threads).
- `--role web`: the server only. Any number of web replicas can run behind a load balancer on one
  PostgreSQL database; they share nothing else.
- `--role worker`: the reminder rounds only, and the three operator routes on the port. Any number can run:
  the sweep is led by one at a time (a lease, and a PostgreSQL advisory lock while it works), and every one
  delivers, each due message claimed by one worker (`FOR UPDATE SKIP LOCKED`).
- `--workers N`: uvicorn starts N processes that accept on one port; each builds the app from
  `create_web`, a factory uvicorn imports by name, and is told what to serve in the environment (WEB_ENV).
  The rounds (role all) run in the parent, which serves no request: one scheduler, however many workers.

On SIGTERM (a container stopping) or Ctrl-C: the server stops accepting and finishes its requests (at most
GRACE_SECONDS), the rounds stop claiming and hand back what they claimed and have not sent, and the lead is
given up; the process is gone well within the 10 s a container is given.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.config import Settings, load_settings
from bot.console import FakeClock, FastClock, SystemClock
from bot.logs import configure_from
from bot.ops import Asgi, OpsHttp, Readiness, TokenCheck
from bot.serving import uvicorn_options, uvicorn_server
from handlers.registry import command_layer
from schedules import metrics
from schedules.runner import NudgeRound, schedule_rounds
from storage.db import Database
from storage.rules.clock import Clock

if TYPE_CHECKING:
    import uvicorn

log = logging.getLogger(__name__)

WEB_ENV = "EDIBOT_WEB"  # what each of --workers N serves, as JSON (a WebSpec)
GRACE_SECONDS = 3  # requests under way when told to stop are given this long to finish
SLACK_PATH = "/slack/events"
TEAMS_PATH = "/api/messages"


@dataclass(frozen=True)
class WebSpec:
    """What to serve and by which clock, by value: a `--workers` process is given it in the environment."""

    slack: bool
    teams: bool
    every: float  # seconds between rounds
    now: str | None = None  # --now: the clock stands at this time…
    speed: float | None = None  # …or, with --speed, starts there and runs this many times as fast
    anchor: float | None = None  # from this wall-clock moment (seconds since the epoch)

    def clock(self, zone: ZoneInfo) -> Clock:
        if self.now is None:
            return SystemClock(zone)
        start = datetime.fromisoformat(self.now)
        if self.speed is None:
            return FakeClock(start)
        return FastClock(start, speed=self.speed, anchor=self.anchor or time.time())

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls) -> WebSpec:
        return cls(**json.loads(os.environ[WEB_ENV]))


@dataclass
class Web:
    """The app to serve, and what to close once it has stopped."""

    front: OpsHttp
    closers: list[Callable[[], None]]

    def close(self) -> None:
        for close in reversed(self.closers):
            close()


def web_front(spec: WebSpec, *, settings: Settings, database: Database, clock: Clock, zone: ZoneInfo) -> Web:
    """Slack's front, Teams', or both on one port, behind the operator routes; SlackNotConfigured or
    TeamsNotConfigured when their settings are missing."""
    from bot.both import BothHttp  # noqa: PLC0415 — the platforms load only when asked for
    from bot.slack.worker import notices_now, schedule_for  # noqa: PLC0415

    closers: list[Callable[[], None]] = []
    inner: Asgi
    others = {}
    if spec.teams:
        from bot.teams.edibot import TeamsBot  # noqa: PLC0415
        from bot.teams.run import teams_front, teams_sender, threads_for  # noqa: PLC0415

        teams = TeamsBot(
            layer=command_layer(database, clock), database=database, threads=threads_for(database)
        )
        teams.layer.counted = metrics.command_handled
        closers.append(teams.close)
        teams_http = teams_front(teams, settings=settings)
        inner = teams_http
        others["teams"] = teams_sender
    every = timedelta(seconds=spec.every)
    if spec.slack:
        from bot.slack.app import create_app  # noqa: PLC0415
        from bot.slack.run import slack_bot  # noqa: PLC0415
        from bot.slack.serve import SlackHttp, request_threads  # noqa: PLC0415

        slack = slack_bot(database, clock)
        slack.layer.counted = metrics.command_handled
        closers.append(slack.close)
        app = create_app(slack, settings=settings)  # refuses to start without Slack's signing secret
        assert settings.slack_signing_secret is not None
        slack_front = SlackHttp(
            app,
            signing_secret=settings.slack_signing_secret.get_secret_value(),
            threads=request_threads(database),
        )
        closers.append(slack_front.close)
        schedule = schedule_for(
            database, settings=settings, clock=clock, zone=zone, every=every, others=others
        )
        # Notices a command causes go out from here, straight after its answer, through Slack and Teams.
        slack.outbox = notices_now(database, schedule).deliver_now
        if spec.teams:
            teams.outbox = slack.outbox
            inner = BothHttp(slack=slack_front, teams=teams_http)
        else:
            inner = slack_front
    elif spec.teams:
        teams.outbox = teams_round(
            database, settings=settings, clock=clock, zone=zone, every=every
        ).deliver_now
    readiness = Readiness(database, tokens=token_checks(settings, slack=spec.slack, teams=spec.teams))
    return Web(OpsHttp(inner, readiness=readiness, database=database, clock=clock), closers)


def ops_front(spec: WebSpec, *, settings: Settings, database: Database, clock: Clock) -> OpsHttp:
    """A worker replica's HTTP: the operator routes only (its readiness, its metrics)."""
    readiness = Readiness(database, tokens=token_checks(settings, slack=spec.slack, teams=spec.teams))
    return OpsHttp(None, readiness=readiness, database=database, clock=clock)


def teams_round(
    database: Database, *, settings: Settings, clock: Clock, zone: ZoneInfo, every: timedelta
) -> NudgeRound:
    from bot.teams.run import teams_sender  # noqa: PLC0415

    return NudgeRound(
        database,
        clock=clock,
        zone=zone,
        send=teams_sender(database, settings=settings, clock=clock),
        daily_cap=settings.daily_nudge_cap,
        weekly_cap=settings.weekly_nudge_cap,
        every=every,
        speed=getattr(clock, "speed", 1.0),
        keep_delivering=True,
    )


def token_checks(settings: Settings, *, slack: bool, teams: bool) -> list[TokenCheck]:
    """/readyz's platform checks: Slack's bot token by auth.test (a single workspace's; with OAuth installs
    each workspace's token is checked as it is used), Teams' credentials by getting a token from Entra."""
    checks: list[TokenCheck] = []
    if slack and settings.slack_bot_token is not None and not settings.slack_client_id:
        checks.append(TokenCheck("slack", partial(_slack_token_accepted, settings)))
    if teams:
        checks.append(TokenCheck("teams", partial(_teams_token_given, settings)))
    return checks


def _slack_token_accepted(settings: Settings) -> str | None:
    from slack_sdk import WebClient  # noqa: PLC0415
    from slack_sdk.errors import SlackApiError  # noqa: PLC0415

    assert settings.slack_bot_token is not None
    client = WebClient(
        token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url, timeout=5
    )
    try:
        client.auth_test()
    except SlackApiError as error:
        return f"Slack refused the bot token: {error.response.get('error', 'no reason given')}"
    return None


def _teams_token_given(settings: Settings) -> str | None:
    from bot.teams.auth import connector_tokens  # noqa: PLC0415

    try:
        connector_tokens(settings).token()
    except Exception as error:
        return f"Entra gave no token for the Teams app: {type(error).__name__}"
    return None


def server(front: Asgi, *, host: str, port: int) -> uvicorn.Server:
    """A uvicorn server for one process, stopping within GRACE_SECONDS when told to."""
    return uvicorn_server(front, host=host, port=port, timeout_graceful_shutdown=GRACE_SECONDS)


def _uvicorn_options(*, host: str, port: int) -> dict[str, Any]:
    return {**uvicorn_options(host=host, port=port), "timeout_graceful_shutdown": GRACE_SECONDS}


@contextmanager
def rounds(
    spec: WebSpec,
    *,
    settings: Settings,
    database: Database,
    clock: Clock,
    zone: ZoneInfo,
    in_process: bool,
) -> Iterator[None]:
    """The reminder rounds run while the block runs: in a worker process of their own (Slack, `in_process`
    False), or on threads here."""
    from bot.slack.worker import schedule_for, scheduling, stop_rounds  # noqa: PLC0415

    every = timedelta(seconds=spec.every)
    if spec.slack:
        from bot.teams.run import teams_sender  # noqa: PLC0415

        others = {"teams": teams_sender} if spec.teams else None
        schedule = schedule_for(
            database, settings=settings, clock=clock, zone=zone, every=every, others=others
        )
        with scheduling(database, schedule, worker=not in_process):
            yield
        return
    from apscheduler.schedulers.background import BackgroundScheduler  # noqa: PLC0415

    round_ = teams_round(database, settings=settings, clock=clock, zone=zone, every=every)
    scheduler = BackgroundScheduler(timezone=zone)
    schedule_rounds(scheduler, round_, every=every)
    scheduler.start()
    try:
        yield
    finally:
        stop_rounds(scheduler, round_)


def running_line(spec: WebSpec, *, host: str, port: int) -> str:
    if spec.slack and spec.teams:
        return (
            f"edibot is running on Slack and Teams: http://{host}:{port}{SLACK_PATH} and "
            f"http://{host}:{port}{TEAMS_PATH}. Ctrl-C stops it."
        )
    if spec.slack:
        return f"edibot is running on Slack: http://{host}:{port}{SLACK_PATH}. Ctrl-C stops it."
    return f"edibot is running on Teams: http://{host}:{port}{TEAMS_PATH}. Ctrl-C stops it."


def run_web(
    spec: WebSpec,
    *,
    role: str,
    settings: Settings,
    database: Database,
    clock: Clock,
    zone: ZoneInfo,
    host: str,
    port: int,
) -> None:
    """One process: serves until SIGTERM or Ctrl-C (role all: with the rounds beside it)."""
    web = web_front(spec, settings=settings, database=database, clock=clock, zone=zone)
    try:
        if role == "web":
            print(running_line(spec, host=host, port=port).replace(". Ctrl", " (web only). Ctrl"), flush=True)
            server(web.front, host=host, port=port).run()
            return
        with rounds(
            spec, settings=settings, database=database, clock=clock, zone=zone, in_process=not spec.slack
        ):
            print(running_line(spec, host=host, port=port), flush=True)
            server(web.front, host=host, port=port).run()
    except KeyboardInterrupt:
        pass  # uvicorn has stopped serving and hands the signal on: the rounds stop next, in order
    finally:
        web.close()


def run_worker(
    spec: WebSpec,
    *,
    settings: Settings,
    database: Database,
    clock: Clock,
    zone: ZoneInfo,
    host: str,
    port: int,
) -> None:
    """A worker replica: the rounds on threads here, and /healthz, /readyz and /metrics on the port."""
    front = ops_front(spec, settings=settings, database=database, clock=clock)
    try:
        with rounds(spec, settings=settings, database=database, clock=clock, zone=zone, in_process=True):
            print(
                "edibot is running as a worker (reminders and delivery); "
                f"health at http://{host}:{port}/healthz. Ctrl-C stops it.",
                flush=True,
            )
            server(front, host=host, port=port).run()
    except KeyboardInterrupt:
        pass


def run_workers(
    spec: WebSpec,
    *,
    role: str,
    workers: int,
    settings: Settings,
    database: Database,
    clock: Clock,
    zone: ZoneInfo,
    host: str,
    port: int,
) -> None:
    """N processes serving one port (uvicorn's supervisor, here); role all: the rounds on threads here."""
    import uvicorn  # noqa: PLC0415

    os.environ[WEB_ENV] = spec.to_env()
    line = running_line(spec, host=host, port=port).replace(". Ctrl", f" ({workers} processes). Ctrl")
    try:
        if role == "web":
            print(line, flush=True)
            uvicorn.run(
                "bot.web:create_web", factory=True, workers=workers, **_uvicorn_options(host=host, port=port)
            )
            return
        with rounds(spec, settings=settings, database=database, clock=clock, zone=zone, in_process=True):
            print(line, flush=True)
            uvicorn.run(
                "bot.web:create_web", factory=True, workers=workers, **_uvicorn_options(host=host, port=port)
            )
    except KeyboardInterrupt:
        pass


def create_web() -> OpsHttp:
    """The app factory each of `--workers N` calls (uvicorn imports it by name): what WEB_ENV says to serve,
    with the settings from the environment, and no rounds (the parent runs them)."""
    spec = WebSpec.from_env()
    settings = load_settings()
    configure_from(settings)
    metrics.enable()
    zone = ZoneInfo(settings.timezone)
    database = Database.open(settings.effective_database_url, migrate=False, create="never")
    web = web_front(spec, settings=settings, database=database, clock=spec.clock(zone), zone=zone)
    log.info("web process %d serves", os.getpid())
    return web.front
