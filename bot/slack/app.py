"""The Slack app: one slack-bolt App, its listeners registered in order, served over HTTP or Socket Mode.

    app = create_app(bot, settings=settings)
    serve_http(app, signing_secret=…, threads=…, host="127.0.0.1", port=3000)  # production: HTTP
    serve_socket(app, app_token="xapp-…", api_url=…)  # development: Socket Mode, no public URL needed

The app answers within the request (`process_before_response=True`): every command-layer call is a few
milliseconds, so Slack gets the whole answer in the HTTP response, never a bare ack followed by a second
request, and the same code runs behind Socket Mode, HTTP or a FaaS. Work that may be slow (telling other
people) goes to SlackBot.later. Over HTTP, a request's size, signature and shape are checked before Bolt sees
it (bot/slack/gate.py), and Bolt verifies the signature again.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

from bot.config import Settings
from bot.slack.edibot import SlackBot, team_of
from bot.slack.installations import Cipher, EncryptedInstallationStore, SecretKeyError
from bot.slack.listeners import commands, events, interactions
from bot.slack.manifest import bot_scopes
from bot.slack.workspaces import Workspaces
from handlers.core import ANONYMOUS_SORRY
from handlers.errors import DATA_UNREACHABLE
from storage.db import Database, DatabaseGone
from storage.models import SLACK_BOTS, SLACK_INSTALLATIONS, SLACK_OAUTH_STATES

log = logging.getLogger(__name__)


class SlackNotConfigured(Exception):
    """A Slack setting is missing; the message says which and where to find it."""


def interactive_client(settings: Settings, token: str | None = None) -> WebClient:
    """The client for answering people: a 429 is waited out (twice at most), a dropped connection retried.

    The outbox's clients (bot/slack/workspaces.py) have no rate-limit handler: see bot/slack/sender.py for
    why."""
    return WebClient(
        token=token,
        base_url=settings.slack_api_url,
        retry_handlers=[ConnectionErrorRetryHandler(), RateLimitErrorRetryHandler(max_retry_count=2)],
    )


def create_app(bot: SlackBot, *, settings: Settings) -> App:
    """The Bolt app for one workspace (bot token) or for any number of them (OAuth client id and secret)."""
    if settings.slack_signing_secret is None:
        raise SlackNotConfigured(
            "SLACK_SIGNING_SECRET is not set: find it under Basic Information → App Credentials in your "
            "app's settings at https://api.slack.com/apps."
        )
    signing_secret = settings.slack_signing_secret.get_secret_value()
    oauth = oauth_settings(bot, settings)
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    if oauth is None and token is None:
        raise SlackNotConfigured(
            "SLACK_BOT_TOKEN is not set: install the app to your workspace and copy the Bot User OAuth Token "
            "(xoxb-…) from OAuth & Permissions; or set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET to install it "
            "into several workspaces."
        )
    app = App(
        signing_secret=signing_secret,
        client=interactive_client(settings, None if oauth else token),
        oauth_settings=oauth,
        process_before_response=True,
        name="edibot",
    )
    for listeners in (commands, interactions, events):
        listeners.register(app, bot)
    app.error(_on_error)
    return app


def oauth_settings(bot: SlackBot, settings: Settings) -> OAuthSettings | None:
    """OAuth for several workspaces: installations kept by slack_sdk's SQLAlchemy store in our own
    database."""
    if not settings.slack_client_id:
        return None
    if settings.slack_client_secret is None:
        raise SlackNotConfigured(
            "SLACK_CLIENT_SECRET is not set, but SLACK_CLIENT_ID is: set both, or neither."
        )
    store = installation_store(bot.database, settings)
    try:
        resealed = store.reseal()
    except SecretKeyError as error:
        raise SlackNotConfigured(str(error)) from None
    if resealed:
        log.info("Slack tokens encrypted under the first key in EDIBOT_SECRET_KEY: %d", resealed)
    return OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        scopes=bot_scopes(),
        installation_store=store,
        state_store=SQLAlchemyOAuthStateStore(
            expiration_seconds=600, engine=bot.database.engine, table_name=SLACK_OAUTH_STATES
        ),
    )


def installation_store(database: Database, settings: Settings) -> EncryptedInstallationStore:
    """slack_sdk's installation store on our database (its tables made by our migrations), tokens
    encrypted."""
    assert settings.slack_client_id
    if not settings.secret_keys:
        raise SlackNotConfigured(
            "EDIBOT_SECRET_KEY is not set: with SLACK_CLIENT_ID, edibot keeps each workspace's Slack tokens "
            "in its database, encrypted with this key. Make one with `edibot slack new-key` and keep it "
            "where you keep SLACK_CLIENT_SECRET, never in the database or beside the SQLite file."
        )
    return EncryptedInstallationStore(
        cipher=Cipher(settings.secret_keys),
        client_id=settings.slack_client_id,
        engine=database.engine,
        bots_table_name=SLACK_BOTS,
        installations_table_name=SLACK_INSTALLATIONS,
    )


def workspaces(database: Database, settings: Settings) -> Workspaces:
    """The workspaces work without a request (reminders, matching people) can reach: by token or by OAuth."""
    if settings.slack_bot_token is not None and not settings.slack_client_id:
        return Workspaces(base_url=settings.slack_api_url, token=settings.slack_bot_token.get_secret_value())
    if settings.slack_client_id:
        return Workspaces(
            base_url=settings.slack_api_url, installations=installation_store(database, settings)
        )
    raise SlackNotConfigured(
        "SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-…) from your app's OAuth & "
        "Permissions page (or set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET for OAuth installs)."
    )


def _anonymous(body: dict[str, Any]) -> bool:
    """Whether a request is part of anonymous feedback: the command, its form, or its App Home button."""
    if body.get("command") and str(body.get("text") or "").strip().lower().startswith("feedback"):
        return True
    callback = str((body.get("view") or {}).get("callback_id") or "")
    actions = [str(action.get("action_id") or "") for action in body.get("actions") or []]
    return callback.endswith(":feedback") or any(action.endswith(":feedback_give") for action in actions)


def _on_error(error: Exception, body: dict[str, Any], response: BoltResponse | None) -> BoltResponse | None:
    """A listener failed (a bug, Slack refused a call, the database file is gone): logged with the request's
    type and ids, never the content (the database hides its statements' parameters, bot/logs.py cuts the
    SDK's bodies)."""
    kind = body.get("type") or body.get("command") or "?"
    if _anonymous(body):
        # Anonymous feedback: the failure's kind only (its message or traceback could carry who or what).
        log.error("Slack %s request for anonymous feedback failed: %s", kind, type(error).__name__)
        if response is None:
            return None
        return BoltResponse(status=200, body={"response_type": "ephemeral", "text": ANONYMOUS_SORRY})
    who = body.get("user") or (body.get("event") or {}).get("user")
    user = body.get("user_id") or (who.get("id") if isinstance(who, dict) else who)
    if isinstance(error, DatabaseGone):
        log.error("Slack %s request refused: %s", kind, error)  # the operator's sentence says it all
        text = DATA_UNREACHABLE
    else:
        where = f"from {user or '?'} in {team_of(body) or '?'}"
        log.error("Slack %s request %s failed: %s", kind, where, error, exc_info=error)
        text = (
            "Sorry, something went wrong on my side and I couldn't finish that. Try again in a moment; if it "
            "keeps happening, tell your EDI lead."
        )
    if response is None:
        return None
    return BoltResponse(status=200, body={"response_type": "ephemeral", "text": text})
