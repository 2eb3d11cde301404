"""`edibot run --slack-http --teams`: Slack and Teams served by one process on one port, with one scheduler
whose reminders reach each person on the platform they are reminded on.

One server with both routes rather than two servers on two ports: one uvicorn, one event loop, one Ctrl-C
handler and one address to put behind the proxy (Slack's /slack/events and Teams' /api/messages never clash).
Each platform's front still checks its own requests (Slack's signature, Teams' JWT) before anything runs.
The scheduler is Slack's worker process (bot/slack/worker.py), given Teams' Sender beside Slack's: one lead,
one sweep, one outbox for both; notices a command causes go out from here, through the same pair.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.config import Settings
from bot.slack.app import create_app
from bot.slack.run import slack_bot
from bot.slack.serve import EVENTS_PATH, SlackHttp, request_threads
from bot.slack.worker import notices_now, schedule_for, scheduling
from bot.teams.app import teams_http
from bot.teams.edibot import TeamsBot
from bot.teams.run import teams_sender, threads_for
from bot.teams.serve import MESSAGES_PATH, Asgi, Receive, Scope, Send, TeamsHttp, uvicorn_server
from handlers.registry import command_layer
from storage.db import Database
from storage.rules.clock import Clock


class BothHttp:
    """The ASGI app: POST /api/messages to Teams' front; everything else to Slack's (which answers 404 for
    what it doesn't serve)."""

    def __init__(self, *, slack: SlackHttp, teams: TeamsHttp) -> None:
        self.slack = slack
        self.teams = teams

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        front: Asgi = self.teams if scope.get("path") == MESSAGES_PATH else self.slack
        await front(scope, receive, send)


def run_both(
    *,
    settings: Settings,
    database: Database,
    clock: Clock,
    zone: ZoneInfo,
    host: str,
    port: int,
    every: timedelta,
) -> None:
    """Serves Slack at http://host:port/slack/events and Teams at /api/messages until Ctrl-C; the reminder
    rounds run in a worker process and send through Slack or Teams, person by person."""
    slack = slack_bot(database, clock)
    app = create_app(slack, settings=settings)  # refuses to start without Slack's signing secret
    teams = TeamsBot(layer=command_layer(database, clock), database=database, threads=threads_for(database))
    assert settings.slack_signing_secret is not None
    slack_front = SlackHttp(
        app,
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        threads=request_threads(database),
    )
    front = BothHttp(slack=slack_front, teams=teams_http(teams, settings=settings))
    schedule = schedule_for(
        database, settings=settings, clock=clock, zone=zone, every=every, others={"teams": teams_sender}
    )
    slack.outbox = teams.outbox = notices_now(database, schedule).deliver_now  # notices straight after
    try:
        with scheduling(database, schedule):
            print(
                f"edibot is running on Slack and Teams: http://{host}:{port}{EVENTS_PATH} and "
                f"http://{host}:{port}{MESSAGES_PATH}. Ctrl-C stops it.",
                flush=True,
            )
            uvicorn_server(front, host=host, port=port).run()
    except KeyboardInterrupt:
        pass  # uvicorn has stopped serving; the worker is stopped in order as the block ends
    finally:
        slack_front.close()
        slack.close()
        teams.close()
