"""edibot's real Slack app over real HTTP, with Slack played at the network boundary on both sides.

    with SlackWorkspace(store, clock) as slack:
        amina = slack.person("Amina Khan")               # a Slack user whose email is in the people directory
        answer = slack.command(amina, "mine")           # a signed POST to /slack/events, as Slack sends it
        slack.press(amina, message, "Green")            # a button in a message the app posted
        slack.reply_in_thread(amina, message, "done ✅") # a message.im event in the reminder's thread

Requests are built from the recorded payloads in tests/payloads/ and signed the way Slack signs them; the app
is the one `edibot run --slack-http` serves (bot.slack.app.create_app under uvicorn). The app's Web API calls
go to the stand-in (tests/slack_standin.py), whose token carries exactly the scopes in manifest.yml, so a call
the manifest does not allow fails here as it would in a real workspace.
"""

from __future__ import annotations

import copy
import json
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import httpx
from pydantic import SecretStr
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from bot.config import Settings
from bot.console import FakeClock
from bot.slack.app import create_app
from bot.slack.edibot import SlackBot
from bot.slack.manifest import bot_scopes
from bot.slack.sender import SlackSender
from bot.slack.serve import request_threads, uvicorn_server
from handlers.registry import command_layer
from schedules.runner import NudgeRound
from storage.db import Database
from storage.store import Store
from tests.slack_standin import MESSAGE_BLOCKS, TEAM_ID, SlackStandIn, SlackUser, check_blocks, payload

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
LONDON = ZoneInfo("Europe/London")


@dataclass
class Answer:
    """What the app answered Slack's HTTP request with."""

    status: int
    body: dict[str, Any]
    text: str  # the raw body

    @property
    def shown(self) -> str:
        """What the person reads: the fallback text and every text in the blocks."""
        return str(self.body.get("text", "")) + "\n" + texts_of(self.body.get("blocks") or [])


def texts_of(blocks: list[dict[str, Any]]) -> str:
    """Every piece of text in some blocks, one per line (headers, sections, fields, context, buttons)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("plain_text", "mrkdwn") and isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return "\n".join(found)


def buttons_of(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        e for b in blocks if b.get("type") == "actions" for e in b["elements"] if e.get("type") == "button"
    ]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SlackWorkspace:
    def __init__(self, store: Database, clock: FakeClock, *, signing_secret: str = SIGNING_SECRET) -> None:
        self.store = store
        self.clock = clock
        self.api = SlackStandIn(scopes=set(bot_scopes()))
        self.signing_secret = signing_secret
        self._events = 0
        self._triggers = 0
        self.last_sent: tuple[str, dict[str, str]] = (
            "",
            {},
        )  # (body, headers) of the last request, to replay

    # -- life --------------------------------------------------------------------------------------------
    def __enter__(self) -> SlackWorkspace:
        self.api.start()
        settings = Settings(
            SLACK_SIGNING_SECRET=SecretStr(self.signing_secret),
            SLACK_BOT_TOKEN=SecretStr(self.api.token),
            slack_api_url=self.api.url,
        )
        self.bot = SlackBot(layer=command_layer(self.store, self.clock), database=self.store)
        # As `edibot run --slack-http` wires it: notices leave the outbox straight after the answer.
        self.round = NudgeRound(
            self.store,
            clock=self.clock,
            zone=LONDON,
            send=SlackSender(WebClient(token=self.api.token, base_url=self.api.url)),
        )
        self.bot.outbox = self.round.deliver_now
        self.app = create_app(self.bot, settings=settings)
        self.port = _free_port()
        self.server = uvicorn_server(
            self.app,
            signing_secret=self.signing_secret,
            threads=request_threads(self.store),
            host="127.0.0.1",
            port=self.port,
        )
        self._thread = threading.Thread(target=self.server.run, name="edibot-slack-app", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the Slack app did not start within 10 s")
            time.sleep(0.01)
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=10)
        self.client = WebClient(token=self.api.token, base_url=self.api.url)  # for the tests' own setup
        return self

    def __exit__(self, *exc: object) -> None:
        self.bot.settle()
        self.http.close()
        self.server.should_exit = True
        self._thread.join(timeout=10)
        self.bot.close()
        self.api.stop()

    # -- people --------------------------------------------------------------------------------------------
    def person(self, name: str) -> SlackUser:
        """A Slack user for someone in the people directory, with the email the directory has for them."""
        with self.store.session() as session:
            known = Store(session).person_by_identity(name=name)
            email = known.email if known and known.email else None
        return self.api.add_user(name, email=email)

    # -- Slack's requests, signed
    # ------------------------------------------------------------------------------
    def post(
        self,
        body: str,
        *,
        content_type: str,
        headers: dict[str, str] | None = None,
        timestamp: int | None = None,
        secret: str | None = None,
    ) -> Answer:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        signature = SignatureVerifier(secret or self.signing_secret).generate_signature(
            timestamp=stamp, body=body
        )
        sent = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature or "",
            **(headers or {}),
        }
        self.last_sent = (body, sent)
        return self._answer(self.http.post("/slack/events", content=body.encode("utf-8"), headers=sent))

    def replay(self) -> Answer:
        """The last request sent again byte for byte, signature and timestamp included, as a replayer
        would."""
        body, sent = self.last_sent
        return self._answer(self.http.post("/slack/events", content=body.encode("utf-8"), headers=sent))

    def _answer(self, response: httpx.Response) -> Answer:
        self.bot.settle()
        try:
            parsed = response.json() if response.content else {}
        except json.JSONDecodeError:
            parsed = {}
        if isinstance(parsed, dict) and isinstance(parsed.get("blocks"), list):
            problems = check_blocks(parsed["blocks"], limit=MESSAGE_BLOCKS, surface="message")
            assert not problems, f"Slack would refuse this answer: {problems}"
        return Answer(response.status_code, parsed if isinstance(parsed, dict) else {}, response.text)

    def _interaction(self, body: dict[str, Any], **kwargs: Any) -> Answer:
        return self.post(
            urlencode({"payload": json.dumps(body)}),
            content_type="application/x-www-form-urlencoded",
            **kwargs,
        )

    def _trigger(self) -> str:
        self._triggers += 1
        return f"{self._triggers}.7620112153541.trigger"

    def command(self, user: SlackUser, text: str, *, channel: str = "C0EDIWG001", **kwargs: Any) -> Answer:
        body = payload("request_slash_command")
        name = f"cmd{self._triggers + 1}"
        body.update(
            user_id=user.id,
            user_name=user.email.split("@")[0],
            text=text,
            channel_id=channel,
            trigger_id=self._trigger(),
            response_url=self.api.response_url(name),
            team_id=TEAM_ID,
        )
        return self.post(urlencode(body), content_type="application/x-www-form-urlencoded", **kwargs)

    def press(
        self,
        user: SlackUser,
        message: dict[str, Any],
        label: str,
        *,
        channel: str,
        action_id: str | None = None,
        value: str | None = None,
    ) -> Answer:
        """Presses the button labelled `label` in a message the app posted (as stored by the stand-in)."""
        block, button = next(
            (
                (b, e)
                for b in message.get("blocks", [])
                if b.get("type") == "actions"
                for e in b["elements"]
                if e.get("text", {}).get("text") == label
            ),
            (None, None),
        )
        assert block is not None and button is not None, (
            f"no button {label!r} in {texts_of(message.get('blocks', []))}"
        )
        body = payload("request_block_actions")
        body["user"].update(id=user.id, username=user.email.split("@")[0], name=user.email.split("@")[0])
        body["container"].update(message_ts=message["ts"], channel_id=channel)
        body["channel"]["id"] = channel
        body["message"] = copy.deepcopy(message)
        body["trigger_id"] = self._trigger()
        body["response_url"] = self.api.response_url(f"press{self._triggers}")
        self._events += 1
        body["actions"] = [
            {
                "action_id": action_id or button["action_id"],
                "block_id": block["block_id"],
                "text": button["text"],
                "value": button.get("value") if value is None else value,
                "type": "button",
                "action_ts": f"{1762162260 + self._events}.{self._events:06d}",
            }
        ]
        return self._interaction(body)

    def press_in_home(self, user: SlackUser, label: str, *, index: int = 0) -> Answer:
        home = self.api.home_of(user.id)
        assert home is not None, "no Home tab published"
        buttons = [
            (b, e)
            for b in home["blocks"]
            if b.get("type") == "actions"
            for e in b["elements"]
            if e.get("text", {}).get("text") == label
        ]
        block, button = buttons[index]
        body = payload("request_block_actions")
        body["user"]["id"] = user.id
        body["container"] = {"type": "view", "view_id": home["id"]}
        body.pop("message")
        body.pop("channel")
        body.pop("response_url")
        body["view"] = home
        body["trigger_id"] = self._trigger()
        body["actions"] = [
            {
                "action_id": button["action_id"],
                "block_id": block.get("block_id", "b0"),
                "text": button["text"],
                "value": button.get("value"),
                "type": "button",
                "action_ts": f"{time.time():.6f}",
            }
        ]
        return self._interaction(body)

    def last_modal(self) -> dict[str, Any]:
        opened = self.api.calls_to("views.open")
        assert opened, "no modal was opened"
        view = opened[-1].params["view"]
        return json.loads(view) if isinstance(view, str) else dict(view)

    def submit(self, user: SlackUser, view: dict[str, Any], answers: dict[str, str]) -> Answer:
        """Submits a modal the app opened, answering its inputs by field name (text, or an option's value)."""
        values: dict[str, Any] = {}
        for block in view["blocks"]:
            if block.get("type") != "input":
                continue
            element = block["element"]
            answer = answers.get(block["block_id"], "")
            if element["type"] == "static_select":
                option = next((o for o in element["options"] if o["value"] == answer), None)
                values[block["block_id"]] = {
                    element["action_id"]: {"type": "static_select", "selected_option": option}
                }
            else:
                values[block["block_id"]] = {
                    element["action_id"]: {"type": "plain_text_input", "value": answer or None}
                }
        body = payload("request_view_submission")
        body["user"]["id"] = user.id
        body["view"].update(
            blocks=view["blocks"],
            private_metadata=view.get("private_metadata", ""),
            callback_id=view["callback_id"],
            state={"values": values},
        )
        return self._interaction(body)

    def event(
        self, event: dict[str, Any], *, event_id: str | None = None, retry: int | None = None
    ) -> Answer:
        template = (
            "request_event_app_home_opened"
            if event.get("type") == "app_home_opened"
            else "request_event_message_im"
        )
        body = payload(template)
        self._events += 1
        body["event"] = event
        body["event_id"] = event_id or f"Ev{self._events:010d}"
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else {}
        return self.post(json.dumps(body), content_type="application/json", headers=headers)

    def reply_in_thread(
        self,
        user: SlackUser,
        message: dict[str, Any],
        text: str,
        *,
        channel: str,
        event_id: str | None = None,
        retry: int | None = None,
    ) -> Answer:
        self._events += 1
        ts = f"{1762162400 + self._events}.{self._events:06d}"
        event = payload("request_event_message_im")["event"]
        event.update(user=user.id, text=text, ts=ts, event_ts=ts, thread_ts=message["ts"], channel=channel)
        return self.event(event, event_id=event_id, retry=retry)

    def open_home(self, user: SlackUser) -> Answer:
        event = payload("request_event_app_home_opened")["event"]
        event["user"] = user.id
        return self.event(event)

    def shortcut(self, user: SlackUser, *, channel: str, message: dict[str, Any]) -> Answer:
        body = payload("request_message_action")
        body["user"].update(id=user.id, username=user.email.split("@")[0])
        body["channel"]["id"] = channel
        body["message"] = {**body["message"], **message}
        body["message_ts"] = message["ts"]
        body["trigger_id"] = self._trigger()
        body["response_url"] = self.api.response_url(f"shortcut{self._triggers}")
        return self._interaction(body)
