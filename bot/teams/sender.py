"""The outbox's Teams end: delivers a reminder as an Adaptive Card in a person's 1:1 chat, and says how the
Bot Connector answered.

`TeamsSender` is a `schedules.sending.ChannelSender`. For a person (their AAD object id is the people
directory's teams_id) it posts in the 1:1 chat kept when the app was installed for them or they first wrote
to edibot; where there is none yet, it creates it from their AAD object id and the tenant id
(POST /v3/conversations), as Teams allows for a user the app is installed for, and keeps it. It returns
"<conversation id>|<activity id>", enough to update the card later and to know which reminder a chat reply
follows. What the Connector answers is translated into the outbox's terms:

- 429 → `RateLimited(Retry-After)`: nothing was posted; delivery pauses for exactly as long as Teams asked.
- 502, 503, 504 and other 5xx, or no answer at all → `RetryLater` (Retry-After when Teams gave one): the
  outbox backs off and tries again, and the next person is not held up meanwhile.
- 403 or 404 (the app was uninstalled, the user blocked the bot, the conversation is gone) → `Undeliverable`:
  trying again cannot help; the kept conversation is forgotten, so a reinstall starts afresh.
- 401 is our configuration's fault (ConnectorAuthError) and 400/413 our card's (TeamsRefused): raised
  loudly, and the reminder stays in the outbox.

Why plain HTTP here rather than the SDK's client: the outbox worker is synchronous, runs in its own process
(no event loop to share with the SDK's async client), and needs each answer's status and Retry-After as
they are, with no retry of its own inside a delivery lease (see bot/slack/sender.py on why that matters).
The calls are the Bot Connector's documented REST API, with msal's token (bot/teams/auth.py), through
bot/teams/connector.py's client: a call that provably never reached the Connector (no connection could be
made, or a kept-alive one was found closed) is made again at once on a fresh connection; any other failure
is `RetryLater`, for the outbox.

Not a `KeyedSender`: the Bot Connector offers no way to list a conversation's past messages, so a crash
between Teams taking a post and the outbox marking it sent may repeat that one message (never lose it);
delivery knows which one it was (the outbox marks a message tried before handing it over) and the repeat
ends with a line saying it may be a second copy. Why not read the chat back through Graph: docs/delivery.md.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from bot.teams.auth import ConnectorAuthError, ConnectorTokens
from bot.teams.cards import message_for
from bot.teams.connector import connector_client
from handlers.messages import Reply
from schedules.sending import Channel, RateLimited, Recipient, RetryLater, Undeliverable
from storage.conversations import (
    TEAMS_MESSAGE_SEPARATOR,
    Conversation,
    conversation_with,
    forget_conversation,
    remember_conversation,
)
from storage.db import Database
from storage.rules.clock import Clock

log = logging.getLogger(__name__)

DEFAULT_SERVICE_URL = "https://smba.trafficmanager.net/teams/"
DEFAULT_RETRY_AFTER = 30.0


class TeamsRefused(Exception):
    """The Bot Connector refused what we sent (a card it won't take): ours to fix, not the recipient's."""


class TeamsSender:
    """Sends outbox replies to people's 1:1 chats and to channels; see the module docstring."""

    def __init__(
        self,
        *,
        tokens: ConnectorTokens,
        database: Database,
        clock: Clock,
        service_url: str = DEFAULT_SERVICE_URL,
        tenant_id: str | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        self.tokens = tokens
        self.database = database
        self.clock = clock
        self.service_url = service_url
        self.tenant_id = tenant_id
        self.http = http or connector_client()

    def __call__(self, person: Recipient, reply: Reply, /) -> str:
        """Posts `reply` in `person`'s 1:1 chat; returns "<conversation>|<activity>". Raises as the module
        says."""
        if not person.teams_id:
            raise Undeliverable("they have no Teams id (AAD object id) in the people directory")
        if reply.form is not None:
            raise ValueError(
                "a proactive message cannot ask a form: forms are asked on a card someone pressed"
            )
        conversation = self._conversation_with(person)
        try:
            posted = self._post(conversation, message_for(reply), who=f"Teams id {person.teams_id}")
        except Undeliverable:
            self._forget(person.teams_id, conversation)
            raise
        return f"{conversation.id}{TEAMS_MESSAGE_SEPARATOR}{posted}"

    def to_channel(self, channel: Channel, reply: Reply, /) -> str:
        """Posts `reply` in a team channel (a plan's escalations) by its conversation id."""
        conversation = Conversation(channel.id, self.service_url, self.tenant_id)
        posted = self._post(conversation, message_for(reply), who=f"{channel.name}, {channel.id}")
        return f"{conversation.id}{TEAMS_MESSAGE_SEPARATOR}{posted}"

    def update(self, message_id: str, reply: Reply, *, service_url: str | None = None) -> None:
        """Replaces a card we posted (its "<conversation>|<activity>" id) with `reply`."""
        conversation_id, _, activity_id = message_id.rpartition(TEAMS_MESSAGE_SEPARATOR)
        base = _base(service_url or self.service_url)
        url = f"{base}v3/conversations/{conversation_id}/activities/{activity_id}"
        self._call("PUT", url, message_for(reply), who=conversation_id)

    def read(self, path: str, **params: str | int | None) -> dict[str, Any]:
        """A GET from the Connector at the configured service URL (a team's roster); raises as sending
        does."""
        query = {name: value for name, value in params.items() if value is not None}
        return self._call("GET", f"{_base(self.service_url)}{path}", None, who=path, params=query)

    # -- the Connector ---------------------------------------------------------------------------------
    def _conversation_with(self, person: Recipient) -> Conversation:
        assert person.teams_id is not None
        with self.database.session() as session:
            kept = conversation_with(session, person.teams_id)
        if kept is not None:
            return kept
        if not self.tenant_id:
            raise Undeliverable(
                "they have not opened edibot in Teams yet, and without EDIBOT_TEAMS_TENANT_ID edibot can't "
                "start a chat with them (install the app for them, or set the tenant)"
            )
        created = self._call(
            "POST",
            f"{_base(self.service_url)}v3/conversations",
            {
                "bot": {"id": f"28:{self.tokens.app_id}"},
                "members": [{"id": person.teams_id}],
                "channelData": {"tenant": {"id": self.tenant_id}},
                "tenantId": self.tenant_id,
                "isGroup": False,
            },
            who=f"Teams id {person.teams_id}",
        )
        conversation = Conversation(str(created["id"]), self.service_url, self.tenant_id)
        with self.database.session() as session:
            remember_conversation(session, person.teams_id, conversation, at=self.clock.now())
        log.info("started a Teams chat with person %d", person.id)
        return conversation

    def _forget(self, aad_object_id: str, conversation: Conversation) -> None:
        with self.database.session() as session:
            forget_conversation(session, aad_object_id, conversation.id)

    def _post(self, conversation: Conversation, activity: dict[str, Any], *, who: str) -> str:
        url = f"{_base(conversation.service_url)}v3/conversations/{conversation.id}/activities"
        return str(self._call("POST", url, activity, who=who).get("id") or "")

    def _call(
        self,
        method: str,
        url: str,
        body: dict[str, Any] | None,
        *,
        who: str,
        params: dict[str, str | int] | None = None,
    ) -> dict[str, Any]:
        token = self.tokens.token()
        try:
            response = self.http.request(
                method, url, json=body, params=params, headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.TransportError as error:
            raise RetryLater(
                DEFAULT_RETRY_AFTER, f"the Bot Connector could not be reached: {error}"
            ) from error
        status = response.status_code
        if status < 300:
            answer = response.json() if response.content else {}
            return answer if isinstance(answer, dict) else {}
        code = _code(response)
        if status == 429:
            seconds = _retry_after(response)
            raise RateLimited(seconds, f"Teams rate limit (HTTP 429): retry after {seconds:g} s")
        if status >= 500:
            raise RetryLater(_retry_after(response), f"Teams had trouble (HTTP {status} {code})")
        if status in (403, 404):
            raise Undeliverable(f"Teams won't take posts there any more ({status} {code}, {who})")
        if status == 401:
            raise ConnectorAuthError(f"the Bot Connector refused edibot's token ({code})")
        raise TeamsRefused(f"the Bot Connector refused a post ({status} {code}, {who})")


def _base(service_url: str) -> str:
    return service_url if service_url.endswith("/") else service_url + "/"


def _code(response: httpx.Response) -> str:
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        return "error"
    return str(error.get("code") or "error") if isinstance(error, dict) else "error"


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(float(response.headers.get("Retry-After", "")), 0.0)
    except ValueError:
        return DEFAULT_RETRY_AFTER
