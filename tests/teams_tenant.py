"""A Teams tenant for tests: the Entra and Bot Connector stand-ins, and edibot's Teams endpoint served by
uvicorn as `edibot run --teams` serves it, reached over real HTTP.

    with TeamsTenant(store, clock, tmp_path) as teams:
        amina = teams.person("Amina Khan")          # a member of the tenant, with the directory's email
        answer = teams.say(amina, "edi mine")        # what edibot posted back in her 1:1 chat
        teams.post(activity, token=...)              # any activity, with any token: the HTTP response
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from bot.config import Settings
from bot.console import FakeClock
from bot.teams.edibot import TeamsBot
from bot.teams.run import teams_front, teams_sender
from bot.teams.serve import uvicorn_server
from handlers.registry import command_layer
from schedules.runner import NudgeRound
from storage.db import Database
from storage.store import Store
from tests.conftest import LONDON
from tests.slack_workspace import _free_port
from tests.teams_standin import TENANT_ID, ConnectorStandIn, EntraStandIn, Member, member_activity


class Answer:
    """What edibot posted in a conversation in answer to one activity."""

    def __init__(self, status: int, activities: list[dict[str, Any]]) -> None:
        self.status = status
        self.activities = activities

    @property
    def shown(self) -> str:
        """Everything the answer shows, as text (a card's texts and facts included)."""
        return "\n".join(texts_of(activity) for activity in self.activities)


def actions_of(card: dict[str, Any]) -> list[dict[str, Any]]:
    """Every Action.Execute on a card, in order."""
    found: list[dict[str, Any]] = []

    def walk(item: Any) -> None:
        if isinstance(item, dict):
            if item.get("type") == "Action.Execute":
                found.append(item)
            for value in item.values():
                walk(value)
        elif isinstance(item, list):
            for value in item:
                walk(value)

    walk(card)
    return found


def card_of(activity: dict[str, Any]) -> dict[str, Any]:
    """The Adaptive Card an activity carries."""
    [attachment] = activity["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card: dict[str, Any] = attachment["content"]
    return card


def texts_of(node: Any) -> str:
    found: list[str] = []

    def walk(item: Any) -> None:
        if isinstance(item, dict):
            for key in ("text", "title", "value", "label"):
                if isinstance(item.get(key), str):
                    found.append(item[key])
            for key, value in item.items():
                if key not in ("text", "title", "value", "label"):
                    walk(value)
        elif isinstance(item, list):
            for value in item:
                walk(value)

    walk(node)
    return "\n".join(found)


class TeamsTenant:
    def __init__(self, store: Database, clock: FakeClock, directory: Path) -> None:
        self.store = store
        self.clock = clock
        self.entra = EntraStandIn(directory)
        self.connector = ConnectorStandIn(self.entra)
        self._ids = itertools.count(1)
        self._environ: dict[str, str | None] = {}

    def __enter__(self) -> TeamsTenant:
        self.entra.start()
        self.connector.start()
        for name, value in self.entra.trust().items():
            self._environ[name] = os.environ.get(name)
            os.environ[name] = value
        self.settings = Settings(
            TEAMS_APP_ID=self.entra.app_id,
            TEAMS_APP_PASSWORD=SecretStr(self.entra.password),
            teams_login_url=self.entra.login_url,
            teams_openid_url=self.entra.openid_url,
            teams_service_url=self.connector.url,
            teams_tenant_id=TENANT_ID,
        )
        self.bot = TeamsBot(layer=command_layer(self.store, self.clock), database=self.store)
        # As `edibot run --teams` wires it: reminders and notices leave the outbox through the Teams sender.
        self.sender = teams_sender(self.store, settings=self.settings, clock=self.clock)
        self.round = NudgeRound(self.store, clock=self.clock, zone=LONDON, send=self.sender)
        self.bot.outbox = self.round.deliver_now
        self.front = teams_front(self.bot, settings=self.settings)  # the SDK app made with the first activity
        self.port = _free_port()
        self.server = uvicorn_server(self.front, host="127.0.0.1", port=self.port)
        self._thread = threading.Thread(target=self.server.run, name="edibot-teams-app", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the Teams app did not start within 10 s")
            time.sleep(0.01)
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=20)
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()
        self.server.should_exit = True
        self._thread.join(timeout=10)
        self.bot.close()
        self.connector.stop()
        self.entra.stop()
        for name, value in self._environ.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    def deliver(self) -> None:
        """The scheduler's round, now: the sweep plans what is due, the outbox sends it through Teams."""
        self.round()

    # -- people ------------------------------------------------------------------------------------------
    def person(self, name: str, *, matched: bool = False) -> Member:
        """A member of the tenant for someone in the people directory, with the email the directory has;
        `matched`: the directory has their AAD object id already (the people CSV's teams_id)."""
        with self.store.session() as session:
            known = Store(session).person_by_identity(name=name)
            email = known.email if known and known.email else f"{name.split(maxsplit=1)[0].lower()}@x.example"
            member = self.connector.add_member(name, email=email)
            if matched and known is not None:
                known.teams_id = member.aad_object_id
        return member

    # -- activities --------------------------------------------------------------------------------------
    def activity(
        self, name: str, member: Member, *, conversation: str | None = None, **values: str
    ) -> dict[str, Any]:
        """A recorded activity from `member` in their 1:1 chat (or `conversation`), pointed at the
        stand-in."""
        return member_activity(
            name,
            member,
            connector=self.connector,
            entra=self.entra,
            activity_id=f"17306{next(self._ids):08d}",
            conversation=conversation,
            **values,
        )

    def post(self, activity: dict[str, Any], *, token: str | None = None, **headers: str) -> httpx.Response:
        """POSTs an activity to /api/messages, with a valid channel token unless another is given."""
        bearer = token if token is not None else self.entra.channel_token(service_url=self.connector.url)
        return self.http.post(
            "/api/messages", json=activity, headers={"Authorization": f"Bearer {bearer}", **headers}
        )

    def press(
        self,
        member: Member,
        card: dict[str, Any],
        title: str,
        *,
        typed: dict[str, str] | None = None,
        reply_to: str = "1:1730000000001",
        value: str | None = None,
    ) -> dict[str, Any]:
        """`member` presses the button titled `title` on `card` (having typed `typed` into its inputs);
        the invoke response's body, as Teams gets it."""
        action = next(
            (
                a
                for a in actions_of(card)
                if a.get("title") == title and value in (None, (a.get("data") or {}).get("edibot_value"))
            ),
            None,
        )
        assert action is not None, (
            f"no button {title!r} on the card: {[a.get('title') for a in actions_of(card)]}"
        )
        activity = self.activity(
            "adaptive_card_action", member, replyToId=reply_to, title=title, verb=action["verb"]
        )
        # Teams sends the action's data with what was typed in the card's inputs merged in.
        activity["value"]["action"]["data"] = {**(action.get("data") or {}), **(typed or {})}
        response = self.post(activity)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def say(self, member: Member, text: str, *, conversation: str | None = None) -> Answer:
        """`member` types `text` in their chat with edibot; the answer is what edibot posted there."""
        activity = self.activity("message_personal", member, conversation=conversation)
        activity["text"] = text
        where = activity["conversation"]["id"]
        before = len(self.connector.activities_in(where))
        response = self.post(activity)
        return Answer(response.status_code, self.connector.activities_in(where)[before:])
