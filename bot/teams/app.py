"""The Teams app: one Teams SDK `App`, its handlers registered in order, authenticated by msal.

    app = create_app(bot, settings=settings, tokens=connector_tokens(settings))
    await app.initialize()  # registers POST /api/messages on the app's FastAPI (bot/teams/serve.py serves it)

The SDK receives the activity, routes it by type (a message, an install, a card's button) and posts our
answers to the Bot Connector at the activity's serviceUrl. Two things are ours rather than the SDK's:
edibot's token for the Connector comes from `ConnectorTokens` (msal, pointed at the configured Entra login
host, which the SDK's own msal set-up cannot be), and every request's JWT is checked in front of the SDK by
`ChannelTokens` (keys from the OpenID metadata) before the SDK checks it again itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from microsoft_teams.api.activities.message import MessageActivity, MessageActivityInput
from microsoft_teams.api.auth.cloud_environment import PUBLIC, CloudEnvironment, with_overrides
from microsoft_teams.apps import ActivityContext, App
from microsoft_teams.apps.http import FastAPIAdapter

from bot.config import Settings
from bot.teams.auth import ChannelTokens, ConnectorTokens
from bot.teams.cards import message_for
from bot.teams.edibot import TeamsBot, actor, as_command, plain_text_of
from bot.teams.serve import TeamsHttp
from handlers.core import Actor
from handlers.errors import DATA_UNREACHABLE
from handlers.messages import Reply
from storage.db import DatabaseGone

log = logging.getLogger(__name__)

SORRY = (
    "Sorry, something went wrong on my side and I couldn't finish that. Try again in a moment; if it keeps "
    "happening, tell your EDI lead."
)


class TeamsNotConfigured(Exception):
    """A Teams setting is missing; the message says which and where to find it."""


def connector_tokens(settings: Settings) -> ConnectorTokens:
    """edibot's msal client for the Bot Connector, from the settings; TeamsNotConfigured if they are
    missing."""
    if not settings.teams_app_id:
        raise TeamsNotConfigured(
            "EDIBOT_TEAMS_APP_ID is not set: it is the Microsoft App ID of your Azure Bot (Configuration page), "
            "the Application (client) ID of its Entra app registration."
        )
    if settings.teams_app_password is None:
        raise TeamsNotConfigured(
            "EDIBOT_TEAMS_APP_PASSWORD is not set: make a client secret under the Entra app registration's "
            "Certificates & secrets and copy its Value."
        )
    return ConnectorTokens(
        app_id=settings.teams_app_id,
        password=settings.teams_app_password.get_secret_value(),
        login_url=settings.teams_login_url,
        tenant=settings.teams_tenant_id,
    )


def cloud_of(settings: Settings) -> CloudEnvironment:
    """Microsoft's public cloud, with the login host and OpenID metadata the settings name."""
    return with_overrides(
        PUBLIC, login_endpoint=settings.teams_login_url, openid_metadata_url=settings.teams_openid_url
    )


def teams_http(bot: TeamsBot, *, settings: Settings) -> TeamsHttp:
    """What `edibot run --teams` serves: our front (bot/teams/serve.py) before the SDK app with edibot's
    handlers."""
    tokens = connector_tokens(settings)
    adapter = FastAPIAdapter()
    app = create_app(bot, settings=settings, tokens=tokens, adapter=adapter)
    # Registers POST /api/messages on the adapter's FastAPI app; no request is made, no loop is kept.
    asyncio.run(app.initialize())
    channel = ChannelTokens(app_id=tokens.app_id, openid_url=settings.teams_openid_url)
    return TeamsHttp(adapter.app, tokens=channel)


def create_app(
    bot: TeamsBot, *, settings: Settings, tokens: ConnectorTokens, adapter: FastAPIAdapter | None = None
) -> App:
    """The SDK app with edibot's handlers; its FastAPI app (the adapter's) answers /api/messages."""

    async def token(scope: str | list[str], tenant_id: str | None = None) -> str:
        wanted = scope if isinstance(scope, str) else scope[0]
        return await asyncio.to_thread(tokens.token, wanted)

    app = App(
        client_id=tokens.app_id,
        tenant_id=settings.teams_tenant_id,
        token=token,
        cloud=cloud_of(settings),
        http_server_adapter=adapter or FastAPIAdapter(),
        state=False,
        telemetry={"agent365": False},
    )
    register(app, bot)
    return app


def register(app: App, bot: TeamsBot) -> None:
    """The handlers, in order: chat messages (commands, and replies to reminders)."""

    async def message(ctx: ActivityContext[MessageActivity]) -> None:
        async with answering(ctx):
            await _message(ctx)

    async def _message(ctx: ActivityContext[MessageActivity]) -> None:
        activity = ctx.activity
        text = plain_text_of(activity.text or "")
        who = await _actor_of(ctx, bot)
        said = as_command(text, bot.layer.commands.keys() | _aliases(bot))
        if said is not None:
            outcome = await bot.call(bot.layer.handle, who, said, replay_id=activity.id)
        else:
            outcome = await bot.call(bot.layer.handle, who, text, delivery_id=activity.id)
        if outcome.duplicate:
            return
        await _say(ctx, outcome.reply)
        bot.send_notices(outcome)

    app.on_message(message)


@asynccontextmanager
async def answering(ctx: ActivityContext[Any]) -> AsyncIterator[None]:
    """The edge of every handler: a failure (a bug, the Connector refusing us, the database file gone) is
    logged with the activity's type and ids, never its text, and the person is told, rather than left
    waiting."""
    try:
        yield
    except Exception as error:
        activity = ctx.activity
        who = activity.from_.aad_object_id or activity.from_.id
        if isinstance(error, DatabaseGone):
            log.error("Teams %s activity refused: %s", activity.type, error)
            text = DATA_UNREACHABLE
        else:
            log.error(
                "Teams %s activity %s from %s failed: %s",
                activity.type,
                activity.id,
                who,
                error,
                exc_info=error,
            )
            text = SORRY
        await _say(ctx, Reply.say(text))


def _aliases(bot: TeamsBot) -> set[str]:
    return {alias for spec in bot.layer.commands.values() for alias in spec.aliases}


async def _say(ctx: ActivityContext[Any], reply: Reply) -> None:
    await ctx.send(MessageActivityInput.model_validate(message_for(reply)))


async def _actor_of(ctx: ActivityContext[Any], bot: TeamsBot) -> Actor:
    """The sender as the command layer knows people: by AAD object id; someone the directory has only by
    email is looked up once in the conversation's roster (the Connector knows their email), and their AAD
    object id is remembered from then on."""
    sender = ctx.activity.from_
    aad = sender.aad_object_id
    if aad and await bot.call(bot.knows, aad):
        return actor(aad)
    email = None
    try:
        member = await ctx.api.conversations.get_member_by_id(ctx.activity.conversation.id, sender.id)
        email = member.email or member.user_principal_name
    except httpx.HTTPError as error:  # the roster is a convenience: without it, they are asked to be added
        log.warning("could not read the roster entry of %s: %s", sender.id, error)
    return actor(aad, email=email)
