"""`edibot run --slack-http | --slack-socket`: the Slack app, with the reminder scheduler in a worker
process."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.config import Settings
from bot.slack.app import SlackNotConfigured, create_app
from bot.slack.edibot import SlackBot
from bot.slack.serve import request_threads, serve_http, serve_socket
from bot.slack.worker import notices_now, schedule_for, scheduling
from handlers.registry import command_layer
from storage.db import Database
from storage.rules.clock import Clock


def slack_bot(database: Database, clock: Clock) -> SlackBot:
    return SlackBot(layer=command_layer(database, clock), database=database)


def run_slack(
    *,
    settings: Settings,
    database: Database,
    clock: Clock,
    zone: ZoneInfo,
    socket: bool,
    host: str,
    port: int,
    every: timedelta,
    worker: bool = True,
    rounds: bool = True,
) -> None:
    """Serves Slack (Socket Mode or HTTP) here, and runs the reminder rounds and directory matching in a
    worker process (bot/slack/worker.py; `worker` False: on threads of this process, for comparison; `rounds`
    False: not here at all, `--role web`)."""
    bot = slack_bot(database, clock)
    app = create_app(bot, settings=settings)
    if socket and settings.slack_app_token is None:
        raise SlackNotConfigured(
            "SLACK_APP_TOKEN is not set: Socket Mode needs an app-level token (xapp-…) with "
            "connections:write, made under Basic Information → App-Level Tokens."
        )
    schedule = schedule_for(database, settings=settings, clock=clock, zone=zone, every=every)
    bot.outbox = notices_now(database, schedule).deliver_now  # notices go out straight after the answer
    try:
        with scheduling(database, schedule, worker=worker) if rounds else nullcontext():
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
        bot.close()
