"""`edibot run --slack-http | --slack-socket`: the Slack app, with the reminder scheduler beside it."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from slack_bolt import App

from bot.config import Settings
from bot.slack.app import SlackNotConfigured, create_app, workspaces
from bot.slack.edibot import SlackBot
from bot.slack.people import match_people
from bot.slack.sender import SlackSender
from bot.slack.serve import request_threads, serve_http, serve_socket
from bot.slack.workspaces import Workspaces
from handlers.registry import command_layer
from schedules.runner import NudgeRound, schedule_rounds
from storage.db import Database
from storage.rules.clock import Clock

log = logging.getLogger(__name__)

PEOPLE_EVERY = timedelta(hours=6)


def slack_bot(database: Database, clock: Clock) -> SlackBot:
    return SlackBot(layer=command_layer(database, clock), database=database)


def run_slack(
    *, settings: Settings, database: Database, clock: Clock, zone: ZoneInfo, socket: bool, host: str,
    port: int, every: timedelta,
) -> None:  # fmt: skip
    """Serves Slack (Socket Mode or HTTP) and runs the reminder rounds and directory matching in the background."""
    bot = slack_bot(database, clock)
    app = create_app(bot, settings=settings)
    if socket and settings.slack_app_token is None:
        raise SlackNotConfigured(
            "SLACK_APP_TOKEN is not set: Socket Mode needs an app-level token (xapp-…) with connections:write, "
            "made under Basic Information → App-Level Tokens."
        )
    scheduler, round_ = _scheduler(
        app, settings=settings, database=database, clock=clock, zone=zone, every=every
    )
    bot.outbox = round_.deliver_now  # notices go out from the outbox straight after the answer
    scheduler.start()
    try:
        if socket:
            assert settings.slack_app_token is not None
            print("edibot is running on Slack (Socket Mode). Ctrl-C stops it.")
            serve_socket(
                app, app_token=settings.slack_app_token.get_secret_value(), api_url=settings.slack_api_url
            )
        else:
            assert settings.slack_signing_secret is not None  # create_app refuses to start without it
            print(f"edibot is running on Slack: http://{host}:{port}/slack/events. Ctrl-C stops it.")
            serve_http(
                app,
                signing_secret=settings.slack_signing_secret.get_secret_value(),
                threads=request_threads(database),
                host=host,
                port=port,
            )
    except KeyboardInterrupt:
        pass
    finally:
        scheduler.shutdown(wait=True)
        bot.close()


def _scheduler(
    app: App, *, settings: Settings, database: Database, clock: Clock, zone: ZoneInfo, every: timedelta
) -> tuple[BackgroundScheduler, NudgeRound]:
    scheduler = BackgroundScheduler(timezone=zone)
    reach = workspaces(database, settings)
    round_ = NudgeRound(database, clock=clock, zone=zone, send=SlackSender(clients=reach.client_for, team_clients=reach.client_for_team),
                        daily_cap=settings.daily_nudge_cap)  # fmt: skip
    schedule_rounds(scheduler, round_, every=every)
    scheduler.add_job(lambda: _match(database, reach), IntervalTrigger(seconds=PEOPLE_EVERY.total_seconds()),
                      max_instances=1, coalesce=True, next_run_time=datetime.now(zone), id="slack-people")  # fmt: skip
    return scheduler, round_


def _match(database: Database, reach: Workspaces) -> None:
    report = match_people(database, reach)
    if report.matched or report.not_found or report.stopped:
        log.info("Slack people: %d matched, %d not found%s", len(report.matched), len(report.not_found),
                 f"; {report.stopped}" if report.stopped else "")  # fmt: skip
