"""The Teams app: one Teams SDK `App`, its handlers registered in order, authenticated by msal.

    front = teams_front(TeamsBot(layer=command_layer(database, clock), database=database), settings=settings)
    uvicorn_server(front, host="127.0.0.1", port=3978).run()  # bot/teams/serve.py: our front, then the SDK

The SDK receives the activity, routes it by type (a message, an install, a card's button) and posts our
answers to the Bot Connector at the activity's serviceUrl. Three things are ours rather than the SDK's:
edibot's token for the Connector comes from `ConnectorTokens` (msal, pointed at the configured Entra login
host, which the SDK's own msal set-up cannot be); the answers go through bot/teams/connector.py's pool (a
fresh connection when one provably never reached the Connector); and every request's JWT is checked once, in
front of the SDK, by `ChannelTokens` (issuer, audience, keys from the OpenID metadata, expiry, serviceurl).

The SDK's own check is turned off: it would check the same token a second time (a millisecond a request, on
the event loop: its key client parses the JWK afresh each time), and it is the weaker of the two (its keys'
address is guessed from the metadata's, and it also admits Entra tokens for Agent 365). That is safe only
because the SDK app is never served without the front: `_sdk_app` is private, and `teams_front`
(bot/teams/run.py) is the one way to serve it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import httpx
from microsoft_teams.api.activities.conversation import ConversationUpdateActivity
from microsoft_teams.api.activities.install_update import InstalledActivity
from microsoft_teams.api.activities.invoke.adaptive_card import AdaptiveCardInvokeActivity
from microsoft_teams.api.activities.message import MessageActivity, MessageActivityInput
from microsoft_teams.api.auth.cloud_environment import PUBLIC, CloudEnvironment, with_overrides
from microsoft_teams.api.auth.json_web_token import JsonWebToken
from microsoft_teams.apps import ActivityContext, App
from microsoft_teams.apps.http import FastAPIAdapter

from bot.config import Settings
from bot.teams.auth import ConnectorTokens
from bot.teams.cards import ADAPTIVE, CARD_REFS, FORM, FORM_VERB, OURS, STATE, VALUE, card_for, message_for
from bot.teams.connector import use_for_answers
from bot.teams.edibot import TeamsBot, actor, as_command, picking_this_channel, plain_text_of
from bot.teams.serve import Activities
from handlers.core import ANONYMOUS_SORRY, Actor
from handlers.errors import DATA_UNREACHABLE
from handlers.messages import Outcome, Reply, Text
from storage.conversations import TEAMS_MESSAGE_SEPARATOR, Conversation
from storage.db import DatabaseGone

log = logging.getLogger(__name__)

SORRY = (
    "Sorry, something went wrong on my side and I couldn't finish that. Try again in a moment; if it keeps "
    "happening, tell your EDI lead."
)


def cloud_of(settings: Settings) -> CloudEnvironment:
    """Microsoft's public cloud, with the login host and OpenID metadata the settings name."""
    return with_overrides(
        PUBLIC, login_endpoint=settings.teams_login_url, openid_metadata_url=settings.teams_openid_url
    )


async def sdk_activities(bot: TeamsBot, *, settings: Settings, tokens: ConnectorTokens) -> Activities:
    """The SDK app's activity handler, with edibot's handlers registered: what `TeamsHttp` hands a checked
    activity to."""
    app = _sdk_app(bot, settings=settings, tokens=tokens, adapter=FastAPIAdapter())
    # Registers POST /api/messages on the adapter's FastAPI app; no request is made.
    await app.initialize()
    return app.server.handle_request


def _sdk_app(bot: TeamsBot, *, settings: Settings, tokens: ConnectorTokens, adapter: FastAPIAdapter) -> App:
    """The SDK app with edibot's handlers; its FastAPI app (the adapter's) answers /api/messages. It trusts
    its caller (the front has checked the JWT): never served but behind `TeamsHttp`."""

    app = App(
        client_id=tokens.app_id,
        tenant_id=settings.teams_tenant_id,
        token=token_provider(tokens),
        cloud=cloud_of(settings),
        http_server_adapter=adapter,
        state=False,
        telemetry={"agent365": False},
        # Checked once, in front (TeamsHttp: see the module docstring), not a second time here.
        dangerously_allow_unauthenticated_requests=True,
    )
    use_for_answers(app)
    register(app, bot)
    return app


def token_provider(tokens: ConnectorTokens) -> Callable[..., Awaitable[JsonWebToken]]:
    """edibot's token for the Connector as the SDK asks for it before each call: the one held, on the event
    loop, while it is good for five more minutes; else msal's, on a thread (msal may ask Entra). Handed over
    as the SDK's own token object, made once per token (the SDK would decode a plain string every call)."""
    made: dict[str, JsonWebToken] = {}

    async def token(scope: str | list[str], tenant_id: str | None = None) -> JsonWebToken:
        wanted = scope if isinstance(scope, str) else scope[0]
        value = tokens.held(wanted)
        if value is None:
            value = await asyncio.to_thread(tokens.token, wanted)
        found = made.get(wanted)
        if found is None or str(found) != value:
            found = made[wanted] = JsonWebToken(value)
        return found

    return token


def register(app: App, bot: TeamsBot) -> None:
    """The handlers, in order: chat messages, card buttons, and the app being installed or added."""

    async def message(ctx: ActivityContext[MessageActivity]) -> None:
        said = as_command(plain_text_of(ctx.activity.text or ""), bot.layer.commands.keys() | _aliases(bot))
        if said is not None and bot.layer.anonymous_text(said):
            async with answering(ctx, anonymous=True):
                await _anonymous_message(ctx, bot, said)
            return
        async with answering(ctx):
            await _message(ctx, bot)

    async def card_action(ctx: ActivityContext[AdaptiveCardInvokeActivity]) -> dict[str, Any]:
        try:
            return await _card_action(ctx, bot)
        except Exception as error:
            log.error("Teams card action %s failed: %s", ctx.activity.id, error, exc_info=error)
            return _message_response(DATA_UNREACHABLE if isinstance(error, DatabaseGone) else SORRY)

    async def installed(ctx: ActivityContext[InstalledActivity]) -> None:
        await _remember_chat(ctx, bot)

    async def conversation_update(ctx: ActivityContext[ConversationUpdateActivity]) -> None:
        if any(member.id == ctx.activity.from_.id for member in ctx.activity.members_added or []):
            await _remember_chat(ctx, bot)

    app.on_message(message)
    app.on_card_action(card_action)  # type: ignore[arg-type]  # answers a plain invoke response
    app.on_install_add(installed)
    app.on_conversation_update(conversation_update)


async def _message(ctx: ActivityContext[MessageActivity], bot: TeamsBot) -> None:
    """A command ("edi mine", "mine"), or a plain reply that follows a reminder in the 1:1 chat."""
    activity = ctx.activity
    text = plain_text_of(activity.text or "")
    await _remember_chat(ctx, bot)
    who = await _actor_of(ctx, bot)
    said = as_command(text, bot.layer.commands.keys() | _aliases(bot))
    if said is not None and activity.conversation.conversation_type == "channel":
        channel = activity.channel_data.channel if activity.channel_data else None
        channel_id = channel.id if channel and channel.id else activity.conversation.id.split(";")[0]
        channel_name = channel.name if channel else None
        said = picking_this_channel(said, channel_id=channel_id, channel_name=channel_name)
        # Where they typed it, as Slack's slash commands say: `edi digest subscribe` means this channel.
        who = replace(who, channel=channel_id, channel_name=channel_name or "this Teams channel")
    follows = None
    if said is not None:
        outcome = await bot.call(bot.layer.handle, who, said, replay_id=activity.id)
    elif (follows := await bot.call(bot.latest_post_in, activity.conversation.id)) is not None:
        outcome = await bot.call(
            bot.layer.reply_to_message, who, text, message_id=follows, delivery_id=activity.id
        )
    else:
        outcome = await bot.call(bot.layer.handle, who, text, delivery_id=activity.id)
    if outcome.duplicate:
        return
    await _say(ctx, outcome.reply)
    if follows is not None and outcome.changed:
        # The reminder it answered stops offering buttons that no longer fit: shown as it stands now.
        refs = await bot.call(bot.refs_of_message, follows)
        card = await _as_it_stands(bot, who, refs, note=marked_line(outcome))
        _, _, activity_id = follows.rpartition(TEAMS_MESSAGE_SEPARATOR)
        await ctx.api.conversations.update_activity(
            activity.conversation.id, activity_id, MessageActivityInput.model_validate(card)
        )
    bot.send_notices(outcome)


async def _card_action(ctx: ActivityContext[AdaptiveCardInvokeActivity], bot: TeamsBot) -> dict[str, Any]:
    """A button on one of our cards (Action.Execute): the press, or a form on the card submitted.

    What changed an action refreshes the card in place, for everyone who sees it: the line it said on top,
    each action on the card as it stands now (so no stale button is offered). A press that asks for a reason
    shows the question on the card; a refusal, or "already Green", is said to the presser alone and leaves the
    card as it was.
    """
    activity = ctx.activity
    pressed = activity.value.action
    data = dict(pressed.data or {})
    refs = [ref for ref in str(data.get(CARD_REFS) or "").split(",") if ref]
    if pressed.verb == FORM_VERB and bot.layer.anonymous_form(str(data.get(FORM) or "")):
        return await _anonymous_card(ctx, bot, data)
    if bot.layer.anonymous_button(pressed.verb or ""):
        outcome = await bot.call(bot.layer.press, anonymous_actor(activity), pressed.verb or "", "form|")
        form = outcome.reply.form
        return (
            _card_response(card_for(outcome.reply)) if form else _message_response(outcome.reply.plain_text())
        )
    who = await _actor_of(ctx, bot)
    if pressed.verb == FORM_VERB:
        typed = {name: str(value) for name, value in data.items() if not name.startswith(OURS)}
        outcome = await bot.call(
            bot.layer.submit,
            who,
            str(data.get(FORM) or ""),
            str(data.get(STATE) or ""),
            typed,
            delivery_id=activity.id,
        )
    else:
        outcome = await bot.call(
            bot.layer.press, who, pressed.verb or "", str(data.get(VALUE) or ""), delivery_id=activity.id
        )
    if outcome.duplicate:
        return _message_response("That was already done.")
    if outcome.reply.form is not None:
        return _card_response(card_for(outcome.reply, refs=refs))
    if not outcome.changed and not outcome.notices:
        return _message_response(outcome.reply.plain_text())
    bot.send_notices(outcome)
    message = await _as_it_stands(bot, who, refs, note=marked_line(outcome))
    return _card_response(message["attachments"][0]["content"])


def anonymous_actor(activity: Any) -> Actor:
    """Someone sending anonymous feedback: their Teams ids only, to be hashed and forgotten by the command
    layer; never looked up in the roster, and their chat is not remembered on this path."""
    sender = activity.from_
    return Actor(surface="teams", teams_id=sender.aad_object_id or sender.id)


async def _anonymous_message(ctx: ActivityContext[MessageActivity], bot: TeamsBot, said: str) -> None:
    """`edi feedback …` in the 1:1 chat: answered there, where only the sender sees it. Teams has no private
    answer in a channel or group chat, so there it is refused (and nothing kept): a receipt code posted
    there would be everyone's."""
    activity = ctx.activity
    if activity.conversation.conversation_type != "personal":
        await _say(
            ctx,
            Reply.say(
                "Anonymous feedback is given in your 1:1 chat with me, where only you see the receipt code. "
                "Open a chat with edibot and send `feedback` there. I haven't kept anything."
            ),
        )
        return
    outcome = await bot.call(bot.layer.handle, anonymous_actor(activity), said, replay_id=activity.id)
    if not outcome.duplicate:
        await _say(ctx, outcome.reply)


async def _anonymous_card(
    ctx: ActivityContext[AdaptiveCardInvokeActivity], bot: TeamsBot, data: dict[str, Any]
) -> dict[str, Any]:
    """The feedback card submitted: answered in the invoke response itself (the receipt code replaces the
    card), so no call to the Connector carries who sent it."""
    typed = {name: str(value) for name, value in data.items() if not name.startswith(OURS)}
    outcome = await bot.call(
        bot.layer.submit,
        anonymous_actor(ctx.activity),
        str(data.get(FORM) or ""),
        str(data.get(STATE) or ""),
        typed,
        delivery_id=ctx.activity.id,
    )
    if outcome.duplicate:
        return _message_response("That was already done.")
    return _card_response(card_for(outcome.reply))


async def _as_it_stands(bot: TeamsBot, who: Actor, refs: list[str], *, note: str) -> dict[str, Any]:
    """A card's actions as they stand now, under the line that says what was done."""
    blocks = []
    for ref in refs:
        shown = await bot.call(bot.layer.handle, who, f"/edi show {ref}")
        if shown.ref is not None:  # not one this person may see any more: left out
            blocks.extend(shown.reply.blocks)
    reply = Reply(blocks or [Text(note)], private=False)
    return {
        "type": "message",
        "summary": note,
        "attachments": [{"contentType": ADAPTIVE, "content": card_for(reply, note=note, refs=refs)}],
    }


def marked_line(outcome: Outcome) -> str:
    """What a change said first ("NO-2 is now Amber (was Green), marked by Amina Khan — …"), as a card's top
    line."""
    lines = outcome.reply.plain_text().strip().splitlines()
    return "✅ " + (lines[0] if lines else "Done.")


def _card_response(card: dict[str, Any]) -> dict[str, Any]:
    return {"status": 200, "body": {"statusCode": 200, "type": ADAPTIVE, "value": card}}


def _message_response(text: str) -> dict[str, Any]:
    return {
        "status": 200,
        "body": {"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": text},
    }


async def _remember_chat(ctx: ActivityContext[Any], bot: TeamsBot) -> None:
    """A person's 1:1 chat with edibot, kept for their reminders (a channel or group chat is not one)."""
    activity = ctx.activity
    conversation = activity.conversation
    aad = activity.from_.aad_object_id
    if aad and conversation.conversation_type == "personal":
        chat = Conversation(conversation.id, activity.service_url or "", conversation.tenant_id)
        if not bot.chat_kept(aad, chat):
            await bot.call(bot.remember_chat, aad, chat)


@asynccontextmanager
async def answering(ctx: ActivityContext[Any], *, anonymous: bool = False) -> AsyncIterator[None]:
    """The edge of every handler: a failure (a bug, the Connector refusing us, the database file gone) is
    logged with the activity's type and ids, never its text, and the person is told, rather than left
    waiting. On the anonymous feedback path only the failure's kind is logged: no id, message or
    traceback."""
    try:
        yield
    except Exception as error:
        activity = ctx.activity
        if anonymous:
            log.error("Teams anonymous feedback failed: %s", type(error).__name__)
            await _say(ctx, Reply.say(ANONYMOUS_SORRY))
            return
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
    if aad and (bot.known(aad) or await bot.call(bot.knows, aad)):
        return actor(aad)
    email = None
    try:
        member = await ctx.api.conversations.get_member_by_id(ctx.activity.conversation.id, sender.id)
        email = member.email or member.user_principal_name
    except httpx.HTTPError as error:  # the roster is a convenience: without it, they are asked to be added
        log.warning("could not read the roster entry of %s: %s", sender.id, error)
    return actor(aad, email=email)
