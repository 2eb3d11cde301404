"""`edibot run --teams`: the Teams outbox sender and the command layer's threads (bot/web.py serves them,
with the reminder scheduler on threads beside it)."""

from __future__ import annotations

from bot.config import Settings
from bot.teams.auth import ChannelTokens, connector_tokens
from bot.teams.edibot import TeamsBot
from bot.teams.sender import TeamsSender
from bot.teams.serve import Activities, OnFirstActivity, TeamsHttp
from storage.db import Database
from storage.rules.clock import Clock

DEFAULT_PORT = 3978  # the Bot Framework's usual port for a bot's messaging endpoint


def teams_front(bot: TeamsBot, *, settings: Settings) -> TeamsHttp:
    """What `edibot run --teams` serves: our front, which checks every request's JWT, before the SDK app with
    edibot's handlers, made with the first activity (OnFirstActivity). Missing settings are refused now."""
    tokens = connector_tokens(settings)

    async def build() -> Activities:
        from bot.teams.app import sdk_activities  # noqa: PLC0415 — the Teams SDK loads with the first activity

        return await sdk_activities(bot, settings=settings, tokens=tokens)

    channel = ChannelTokens(app_id=tokens.app_id, openid_url=settings.teams_openid_url)
    return TeamsHttp(OnFirstActivity(build), tokens=channel)


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
