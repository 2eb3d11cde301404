"""`edibot run --slack-http --teams`: Slack and Teams served by one process on one port (bot/web.py builds
it), with one scheduler whose reminders reach each person on the platform they are reminded on.

One server with both routes rather than two servers on two ports: one uvicorn, one event loop, one Ctrl-C
handler and one address to put behind the proxy (Slack's /slack/events and Teams' /api/messages never clash).
Each platform's front still checks its own requests (Slack's signature, Teams' JWT) before anything runs.
The scheduler is Slack's worker process (bot/slack/worker.py), given Teams' Sender beside Slack's: one lead,
one sweep, one outbox for both; notices a command causes go out from here, through the same pair.
"""

from __future__ import annotations

from bot.slack.serve import SlackHttp
from bot.teams.serve import MESSAGES_PATH, Asgi, Receive, Scope, Send, TeamsHttp


class BothHttp:
    """The ASGI app: POST /api/messages to Teams' front; everything else to Slack's (which answers 404 for
    what it doesn't serve)."""

    def __init__(self, *, slack: SlackHttp, teams: TeamsHttp) -> None:
        self.slack = slack
        self.teams = teams

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        front: Asgi = self.teams if scope.get("path") == MESSAGES_PATH else self.slack
        await front(scope, receive, send)
