"""Which Slack workspace, and so which bot token, reaches a person: one token, or one per OAuth
installation."""

from __future__ import annotations

from threading import Lock

from slack_sdk import WebClient
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

from schedules.sending import Recipient, Undeliverable
from storage.queries import installed_slack_teams


class Workspaces:
    """Web API clients for the workspaces edibot is in, for work that no request brought (reminders,
    matching)."""

    def __init__(
        self,
        *,
        base_url: str,
        token: str | None = None,
        installations: SQLAlchemyInstallationStore | None = None,
    ) -> None:
        if token is None and installations is None:
            raise ValueError("a bot token or an installation store is needed")
        self.base_url = base_url
        self.token = token
        self.installations = installations
        self._clients: dict[str, WebClient] = {}
        self._lock = Lock()

    def _client(self, token: str) -> WebClient:
        with self._lock:
            if token not in self._clients:
                self._clients[token] = WebClient(token=token, base_url=self.base_url)
            return self._clients[token]

    def teams(self) -> list[str | None]:
        """Every workspace we can talk to (None for the single workspace of a bot token)."""
        if self.token is not None or self.installations is None:
            return [None]
        return [*installed_slack_teams(self.installations.engine, client_id=self.installations.client_id)]

    def client_for_team(self, team_id: str | None) -> WebClient | None:
        if self.token is not None:
            return self._client(self.token)
        assert self.installations is not None
        bot = self.installations.find_bot(enterprise_id=None, team_id=team_id)
        return self._client(bot.bot_token) if bot and bot.bot_token else None

    def client_for(self, person: Recipient) -> WebClient:
        """The client for the person's workspace; with several installed and none known for them,
        Undeliverable."""
        if self.token is not None:
            return self._client(self.token)
        teams = self.teams()
        team = person.slack_team_id or (teams[0] if len(teams) == 1 else None)
        client = self.client_for_team(team) if team else None
        if client is None:
            raise Undeliverable(
                "edibot is not installed in their Slack workspace"
                if team
                else (
                    "edibot is in several Slack workspaces and it isn't known which is theirs yet "
                    "(it is learnt the first time they use edibot, or by `edibot slack match-people`)"
                )
            )
        return client
