"""`edibot run --teams`: the Teams messaging endpoint, with the reminder scheduler on threads beside it."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler

from bot.config import Settings
from bot.teams.app import connector_tokens, teams_http
from bot.teams.edibot import TeamsBot
from bot.teams.sender import TeamsSender
from bot.teams.serve import MESSAGES_PATH, uvicorn_server
from handlers.registry import command_layer
from schedules.runner import NudgeRound, schedule_rounds
from storage.db import Database
from storage.rules.clock import Clock

DEFAULT_PORT = 3978  # the Bot Framework's usual port for a bot's messaging endpoint


def teams_sender(database: Database, *, settings: Settings, clock: Clock) -> TeamsSender:
    """The outbox's Teams end, with the settings' credentials, service URL and tenant."""
    return TeamsSender(
        tokens=connector_tokens(settings),
        database=database,
        clock=clock,
        service_url=settings.teams_service_url,
        tenant_id=settings.teams_tenant_id,
    )


def threads_for(database: Database) -> int:
    """Threads for the command layer: one per connection the database pool keeps."""
    size = getattr(database.engine.pool, "size", None)
    return max(1, size()) if callable(size) else 5


def run_teams(
    *,
    settings: Settings,
    database: Database,
    clock: Clock,
    zone: ZoneInfo,
    host: str,
    port: int,
    every: timedelta,
) -> None:
    """Serves Teams on http://host:port/api/messages and runs the reminder rounds until Ctrl-C."""
    bot = TeamsBot(layer=command_layer(database, clock), database=database, threads=threads_for(database))
    front = teams_http(bot, settings=settings)
    round_ = NudgeRound(
        database,
        clock=clock,
        zone=zone,
        send=teams_sender(database, settings=settings, clock=clock),
        daily_cap=settings.daily_nudge_cap,
        weekly_cap=settings.weekly_nudge_cap,
    )
    bot.outbox = round_.deliver_now  # notices go out straight after the answer
    scheduler = BackgroundScheduler(timezone=zone)
    schedule_rounds(scheduler, round_, every=every)
    scheduler.start()
    try:
        print(
            f"edibot is running on Teams: http://{host}:{port}{MESSAGES_PATH}. Ctrl-C stops it.", flush=True
        )
        uvicorn_server(front, host=host, port=port).run()
    except KeyboardInterrupt:
        pass  # uvicorn has stopped serving and hands Ctrl-C on: the scheduler stops next, in order
    finally:
        scheduler.shutdown(wait=True)
        round_.step_down()
        bot.close()
