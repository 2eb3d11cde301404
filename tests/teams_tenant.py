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
from bot.teams.app import teams_http
from bot.teams.edibot import TeamsBot
from bot.teams.serve import uvicorn_server
from handlers.registry import command_layer
from storage.db import Database
from storage.store import Store
from tests.slack_workspace import _free_port
from tests.teams_standin import TENANT_ID, ConnectorStandIn, EntraStandIn, Member, payload


class Answer:
    """What edibot posted in a conversation in answer to one activity."""

    def __init__(self, status: int, activities: list[dict[str, Any]]) -> None:
        self.status = status
        self.activities = activities

    @property
    def shown(self) -> str:
        """Everything the answer shows, as text (a card's texts and facts included)."""
        return "\n".join(texts_of(activity) for activity in self.activities)


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
        )
        self.bot = TeamsBot(layer=command_layer(self.store, self.clock), database=self.store)
        self.front = teams_http(self.bot, settings=self.settings)
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

    # -- people ------------------------------------------------------------------------------------------
    def person(self, name: str) -> Member:
        """A member of the tenant for someone in the people directory, with the email the directory has."""
        with self.store.session() as session:
            known = Store(session).person_by_identity(name=name)
            email = (
                known.email
                if known and known.email
                else f"{name.split(maxsplit=1)[0].lower()}@elsewhere.example"
            )
        return self.connector.add_member(name, email=email)

    # -- activities --------------------------------------------------------------------------------------
    def activity(
        self, name: str, member: Member, *, conversation: str | None = None, **values: str
    ) -> dict[str, Any]:
        """A recorded activity from `member` in their 1:1 chat (or `conversation`), pointed at the
        stand-in."""
        return payload(
            name,
            serviceUrl=self.connector.url,
            userId=member.id,
            userName=member.name,
            aadObjectId=member.aad_object_id,
            conversationId=conversation or self.connector.personal_chat(member),
            tenantId=TENANT_ID,
            appId=self.entra.app_id,
            activityId=f"17306{next(self._ids):08d}",
            **values,
        )

    def post(self, activity: dict[str, Any], *, token: str | None = None, **headers: str) -> httpx.Response:
        """POSTs an activity to /api/messages, with a valid channel token unless another is given."""
        bearer = token if token is not None else self.entra.channel_token(service_url=self.connector.url)
        return self.http.post(
            "/api/messages", json=activity, headers={"Authorization": f"Bearer {bearer}", **headers}
        )

    def say(self, member: Member, text: str, *, conversation: str | None = None) -> Answer:
        """`member` types `text` in their chat with edibot; the answer is what edibot posted there."""
        activity = self.activity("message_personal", member, conversation=conversation)
        activity["text"] = text
        where = activity["conversation"]["id"]
        before = len(self.connector.activities_in(where))
        response = self.post(activity)
        return Answer(response.status_code, self.connector.activities_in(where)[before:])
