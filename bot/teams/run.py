"""`edibot run --teams`: the Teams outbox sender and the command layer's threads (bot/web.py serves them,
with the reminder scheduler on threads beside it)."""

from __future__ import annotations

from bot.config import Settings
from bot.teams.app import connector_tokens
from bot.teams.sender import TeamsSender
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
