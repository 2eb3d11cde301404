"""A local stand-in for the Slack Web API: real HTTP on 127.0.0.1, for a real `slack_sdk.WebClient` to talk
to.

    with SlackStandIn() as slack:
        amina = slack.add_user("Amina Khan", email="amina.khan@northbridge.example")
        client = WebClient(token=slack.token, base_url=slack.url)
        client.chat_postMessage(channel=amina.id, text="hi")
        slack.calls_to("chat.postMessage")    # every call, with its parameters, as Slack received it
        slack.rate_limit(3, retry_after=17)   # the next 3 calls answer HTTP 429 with Retry-After: 17
        slack.storm(every=3, retry_after=[1, 4])  # from now on every 3rd call: 429, Retry-After 1, 4, 1, 4…
        slack.withhold_answer("chat.postMessage", after=2)  # the 3rd post is kept, but never answered
        slack.keys_posted("edibot_outbox")    # Counter of the metadata keys posted: a duplicate shows as 2

It answers with the canonical example responses in tests/payloads/ (filled in with what was asked) and it
refuses what Slack refuses, with Slack's error codes: a wrong token, an unknown channel or user, a DM to a
deactivated user, and blocks or views beyond Block Kit's documented limits (so a message Slack would reject
fails our tests too). The limits checked here are written out independently of bot/slack/blocks.py.

Messages keep the metadata they were posted with (chat.postMessage's `metadata`, checked for Slack's shape),
and conversations.history answers as Slack does: top-level messages only, newest first, after `oldest` and
up to `latest` (`inclusive` for the ends), `limit` at a time with an opaque cursor for the next page, and the
metadata only when asked for (`include_all_metadata`). It needs the history scope of the kind of conversation
read: im:history for a DM, channels:history for a public channel, groups:history for a private one.
`withhold_answer` plays the crash window: Slack has taken the post, and its answer never reaches the caller.

Files go up as files.uploadV2 has them (slack_sdk's files_upload_v2): files.getUploadURLExternal (filename and
length required, at most 1 GB) gives a file id and an upload URL on this server; the bytes POSTed there must
be the length announced; files.completeUploadExternal shares uploaded files in a channel, as a message with
`files`. `files_shared()` lists them with their bytes.
"""

from __future__ import annotations

import base64
import copy
import itertools
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlparse

PAYLOADS = Path(__file__).resolve().parent / "payloads"
TOKEN = "xoxb-1234567890-0987654321-EdibotStandInToken"
TEAM_ID = "T0NORTHBR1"
BOT_USER_ID = "U0EDIBOT01"

# Block Kit's documented limits (https://docs.slack.dev/reference/block-kit/blocks and the element pages).
MESSAGE_BLOCKS, VIEW_BLOCKS = 50, 100
TEXT_OBJECT, SECTION_TEXT, SECTION_FIELDS, FIELD_TEXT, HEADER_TEXT = 3000, 3000, 10, 2000, 150
CONTEXT_ELEMENTS, ACTIONS_ELEMENTS, ID_LENGTH = 10, 25, 255
BUTTON_TEXT, BUTTON_VALUE, SELECT_OPTIONS, OPTION_TEXT, OPTION_VALUE, PLACEHOLDER = (
    75,
    2000,
    100,
    75,
    150,
    150,
)
VIEW_TITLE, VIEW_BUTTON, PRIVATE_METADATA, INPUT_LABEL, INPUT_MAX_LENGTH = 24, 24, 3000, 2000, 3000
MESSAGE_TEXT = 40_000

# The bot scope each method needs (https://docs.slack.dev/reference/methods/…, "Required scopes"); a token
# without it gets `missing_scope`, as Slack answers. Methods not listed need no scope.
METHOD_SCOPES = {
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.postEphemeral": "chat:write",
    "conversations.open": "im:write",
    "users.info": "users:read",
    "users.lookupByEmail": "users:read.email",
    # files.uploadV2, as slack_sdk's files_upload_v2 makes it: its two Web API calls need files:write.
    "files.upload_v2": "files:write",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
}
# files.getUploadURLExternal: a file's `length` is its size in bytes, at most 1 GB (Slack's limit on a file).
FILE_SIZE_LIMIT = 1024**3
FILE_ALT_TEXT = 1000  # alt_txt's documented maximum
# conversations.history needs the history scope of the conversation it reads.
HISTORY_SCOPES = {"im": "im:history", "public": "channels:history", "private": "groups:history"}
HISTORY_LIMIT = 999  # the most messages one conversations.history page holds (its default is 100)


def payload(name: str) -> dict[str, Any]:
    """A canonical Slack response from tests/payloads/, e.g. payload("chat_postMessage_ok")."""
    loaded: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text(encoding="utf-8"))
    return loaded


@dataclass(frozen=True)
class Call:
    """One Web API call as the stand-in received it, and the HTTP status it answered."""

    method: str
    params: dict[str, Any]
    status: int = 200
    error: str | None = None  # Slack's error code when it answered ok: false
    retry_after: float | None = None  # the Retry-After of a 429
    at: float = field(default_factory=time.monotonic)  # when it was received (time.monotonic)


@dataclass
class SlackUser:
    id: str
    name: str
    email: str
    tz: str = "Europe/London"
    tz_label: str = "Greenwich Mean Time"
    tz_offset: int = 0
    deleted: bool = False
    is_bot: bool = False


@dataclass
class _State:
    users: dict[str, SlackUser] = field(default_factory=dict)
    dms: dict[str, str] = field(default_factory=dict)  # user id -> DM channel id
    channels: set[str] = field(default_factory=set)  # channels the bot is in
    private: set[str] = field(default_factory=set)  # of those, the private ones
    archived: set[str] = field(default_factory=set)  # channels archived since (posting there: is_archived)
    outside: set[str] = field(default_factory=set)  # channels the bot isn't in: posting gets not_in_channel
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # channel -> messages
    views: dict[str, dict[str, Any]] = field(default_factory=dict)  # view id -> view
    home: dict[str, dict[str, Any]] = field(default_factory=dict)  # user id -> published Home view
    # files.uploadV2: file id -> {"filename", "length", "content" (once uploaded), "title", "channel"}
    files: dict[str, dict[str, Any]] = field(default_factory=dict)


class SlackRejected(Exception):
    def __init__(self, error: str, *, messages: list[str] | None = None, status: int = 200) -> None:
        super().__init__(error)
        self.error = error
        self.messages = messages or []
        self.status = status


class SlackStandIn:
    """Slack's Web API at http://127.0.0.1:<random port>/api/, recording every call; see the module
    docstring."""

    def __init__(
        self, *, token: str = TOKEN, scopes: set[str] | None = None, epoch: int = 1762162200
    ) -> None:
        self.token = token
        self.epoch = epoch  # Slack's clock: message ts count up from here (default Mon 3 Nov 2025 09:30 UTC)
        self.scopes = scopes  # None: every scope; else the token's scopes, and calls beyond them are refused
        self.calls: list[Call] = []
        self.responses: list[dict[str, Any]] = []  # what was posted to response_urls, with "url" added
        self.codes: set[str] = set()  # OAuth codes handed out (a test adds one, as if someone approved)
        self.app_token = "xapp-1-A0EDIBOT01-7620112153541-StandInAppLevelToken"
        self.socket_url: str | None = None  # where apps.connections.open sends a Socket Mode client
        self.state = _State()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._ts = itertools.count(1)
        self._throttled: list[tuple[int, str | None]] = []  # (Retry-After seconds, method or None = any)
        self._refusals: list[tuple[str, str, int]] = []  # (method, Slack error code, HTTP status)
        self._slow: list[tuple[str, float]] = []  # (method, seconds Slack takes to answer it)
        self._allowed: dict[
            str, tuple[float, list[float]]
        ] = {}  # method: (calls a second, recent call times)
        self._storm: tuple[int, itertools.cycle[float]] | None = None  # every n-th call: 429, these waits
        self._storm_calls = 0  # calls counted since the storm began
        self._withheld: list[list[Any]] = []  # [method, calls answered before the one withheld, channel]
        self._released = (
            threading.Event()
        )  # set on stop: withheld answers are dropped, their connections closed
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.standin = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name="slack-standin",
            daemon=True,
        )

    # -- life ------------------------------------------------------------------------------------------
    def start(self) -> SlackStandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> SlackStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/api/"

    def response_url(self, name: str) -> str:
        """A response_url as Slack gives one with a command or an interaction; what is posted there is
        kept."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/commands/{name}"

    def responses_to(self, name: str) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.responses if r["url"].endswith(f"/commands/{name}")]

    def respond(self, url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """A post to a response_url: refused as Slack refuses it (blocks beyond the limits), else kept."""
        blocks = _decoded(body.get("blocks")) or []
        problems = (
            check_blocks(blocks, limit=MESSAGE_BLOCKS, surface="message")
            if isinstance(blocks, list)
            else ["blocks"]
        )
        with self._lock:
            if problems or not (str(body.get("text") or "").strip() or blocks):
                return 400, {
                    "ok": False,
                    "error": "invalid_blocks" if problems else "no_text",
                    "errors": problems,
                }
            self.responses.append({**body, "url": url})
        return 200, {"ok": True}

    # -- the workspace ---------------------------------------------------------------------------------
    def add_user(
        self,
        name: str,
        *,
        email: str | None = None,
        user_id: str | None = None,
        tz: str = "Europe/London",
        tz_label: str = "Greenwich Mean Time",
        tz_offset: int = 0,
        is_bot: bool = False,
    ) -> SlackUser:
        with self._lock:
            uid = user_id or f"U{next(self._ids):08d}"
            user = SlackUser(
                id=uid,
                name=name,
                email=email or name.lower().replace(" ", ".") + "@northbridge.example",
                tz=tz,
                tz_label=tz_label,
                tz_offset=tz_offset,
                is_bot=is_bot,
            )
            self.state.users[uid] = user
            return user

    def deactivate(self, user_id: str) -> None:
        """The user leaves the workspace: their DM can no longer be opened or written to."""
        with self._lock:
            self.state.users[user_id].deleted = True

    def add_channel(self, channel_id: str, *, private: bool = False) -> None:
        with self._lock:
            self.state.channels.add(channel_id)
            if private:
                self.state.private.add(channel_id)
            self.state.messages.setdefault(channel_id, [])

    def add_channel_without_bot(self, channel_id: str) -> None:
        """A public channel edibot was never invited to: Slack answers a post there with not_in_channel."""
        with self._lock:
            self.state.outside.add(channel_id)

    def archive_channel(self, channel_id: str) -> None:
        """The channel is archived: Slack answers a post there with is_archived."""
        with self._lock:
            self.state.archived.add(channel_id)

    def rate_limit(self, calls: int = 1, *, retry_after: int = 30, method: str | None = None) -> None:
        """The next `calls` calls (to `method`, or to any method) answer HTTP 429 with this Retry-After."""
        with self._lock:
            self._throttled.extend([(retry_after, method)] * calls)

    def storm(self, *, every: int, retry_after: list[float]) -> None:
        """From now on, every `every`-th call (any method) answers HTTP 429 `ratelimited`, with Retry-After
        taken in turn from `retry_after`: a storm of rate limits, as a busy workspace sees."""
        with self._lock:
            self._storm = (every, itertools.cycle(retry_after))
            self._storm_calls = 0

    def allow_rate(self, method: str, *, per_second: float) -> None:
        """From now on, calls to `method` beyond `per_second` in any one second (workspace-wide, as Slack
        counts) answer HTTP 429 with Retry-After: 1."""
        with self._lock:
            self._allowed[method] = (per_second, [])

    def refuse(self, method: str, error: str, *, status: int = 200, calls: int = 1) -> None:
        """The next `calls` calls to `method` fail with this Slack error code (and HTTP status), whatever they
        ask."""
        with self._lock:
            self._refusals.extend([(method, error, status)] * calls)

    def slow(self, method: str, *, seconds: float, calls: int = 1) -> None:
        """The next `calls` calls to `method` take `seconds` to be answered, as when Slack is having a bad
        day."""
        with self._lock:
            self._slow.extend([(method, seconds)] * calls)

    def withhold_answer(self, method: str, *, after: int = 0, channel: str | None = None) -> None:
        """`after` calls to `method` (in `channel`, when given) are answered; the next one is carried out (a
        post is kept) but its answer is never sent, as when the caller dies, or its connection drops, after
        Slack took the call."""
        with self._lock:
            self._withheld.append([method, after, channel])

    def _withhold(self, method: str, channel: str | None) -> bool:
        """Whether this (successful) call's answer is the one to withhold."""
        with self._lock:
            armed = next((w for w in self._withheld if w[0] == method and w[2] in (None, channel)), None)
            if armed is None:
                return False
            if armed[1] > 0:
                armed[1] -= 1
                return False
            self._withheld.remove(armed)
            return True

    def _delay(self, method: str) -> float:
        with self._lock:
            found = next((slow for slow in self._slow if slow[0] == method), None)
            if found is None:
                return 0.0
            self._slow.remove(found)
            return found[1]

    # -- looking -----------------------------------------------------------------------------------------
    def files_shared(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Files completed with files.completeUploadExternal (in one channel, or all), with their bytes."""
        with self._lock:
            return [
                dict(f, id=file_id)
                for file_id, f in self.state.files.items()
                if f.get("channel") and (channel is None or f["channel"] == channel)
            ]

    def upload(self, file_id: str, data: bytes) -> tuple[int, str]:
        """The upload URL's answer to a file's bytes: 200 "OK - <length>" as Slack's, or why not."""
        with self._lock:
            wanted = self.state.files.get(file_id)
            if wanted is None:
                return 404, "not found"
            if len(data) != wanted["length"]:
                return (
                    400,
                    f"{len(data)} bytes sent; files.getUploadURLExternal was told {wanted['length']}",
                )
            wanted["content"] = data
            return 200, f"OK - {len(data)}"

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if call.method == method]

    def posted(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Messages posted (as stored after any chat.update), in one channel or all."""
        with self._lock:
            if channel is not None:
                return list(self.state.messages.get(channel, []))
            return [message for messages in self.state.messages.values() for message in messages]

    def keys_posted(self, event_type: str) -> Counter[str]:
        """How many messages carry each metadata key of this event type (`event_payload["key"]`),
        everywhere."""
        with self._lock:
            return Counter(
                str(message["metadata"]["event_payload"].get("key"))
                for messages in self.state.messages.values()
                for message in messages
                if (message.get("metadata") or {}).get("event_type") == event_type
            )

    def dm_of(self, user_id: str) -> str | None:
        with self._lock:
            return self.state.dms.get(user_id)

    def home_of(self, user_id: str) -> dict[str, Any] | None:
        with self._lock:
            return self.state.home.get(user_id)

    # -- answering -----------------------------------------------------------------------------------------
    def answer(
        self, method: str, params: dict[str, Any], token: str | None
    ) -> tuple[int, dict[str, str], Any]:
        """(HTTP status, headers, JSON body) for one call; records it."""
        with self._lock:
            throttle = next((t for t in self._throttled if t[1] in (None, method)), None)
            if throttle is None and method in self._allowed:
                per_second, recent = self._allowed[method]
                now = time.monotonic()
                recent[:] = [at for at in recent if now - at < 1.0]
                if len(recent) >= per_second:
                    throttle = (1, method)
                    self._throttled.append(throttle)
                else:
                    recent.append(now)
            if throttle is not None:
                self._throttled.remove(throttle)
                self.calls.append(Call(method, params, 429, "ratelimited", retry_after=throttle[0]))
                return 429, {"Retry-After": str(throttle[0])}, payload("error_ratelimited")
            if self._storm is not None:
                self._storm_calls += 1
                if self._storm_calls % self._storm[0] == 0:
                    seconds = next(self._storm[1])
                    self.calls.append(Call(method, params, 429, "ratelimited", retry_after=seconds))
                    return 429, {"Retry-After": f"{seconds:g}"}, payload("error_ratelimited")
            try:
                refusal = next((r for r in self._refusals if r[0] == method), None)
                if refusal is not None:
                    self._refusals.remove(refusal)
                    raise SlackRejected(refusal[1], status=refusal[2])
                body = self._dispatch(method, params, token)
            except SlackRejected as refused:
                self.calls.append(Call(method, params, refused.status, refused.error))
                body = {"ok": False, "error": refused.error}
                if refused.messages:
                    if refused.error == "invalid_blocks":
                        body["errors"] = refused.messages
                    body["response_metadata"] = {"messages": [f"[ERROR] {m}" for m in refused.messages]}
                return refused.status, {}, body
            self.calls.append(Call(method, params))
            return 200, {}, body

    def _dispatch(self, method: str, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        if method == "oauth.v2.access":
            return self._oauth_v2_access(params)
        if method == "apps.connections.open":  # Socket Mode: the app-level token, not the bot's
            if token != self.app_token:
                raise SlackRejected("invalid_auth")
            if not self.socket_url:
                raise SlackRejected("not_allowed_token_type")
            return {"ok": True, "url": self.socket_url}
        if not token:
            raise SlackRejected("not_authed")
        if token != self.token:
            raise SlackRejected("invalid_auth")
        needed = METHOD_SCOPES.get(method)
        if needed and self.scopes is not None and needed not in self.scopes:
            raise SlackRejected("missing_scope", messages=[f"needed: {needed}"])
        handler = {
            "auth.test": self._auth_test,
            "conversations.open": self._conversations_open,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "views.open": self._views_open,
            "views.publish": self._views_publish,
            "views.update": self._views_update,
            "users.lookupByEmail": self._users_lookup_by_email,
            "users.info": self._users_info,
            "conversations.history": self._conversations_history,
            "chat.getPermalink": self._chat_get_permalink,
            "files.getUploadURLExternal": self._files_get_upload_url_external,
            "files.completeUploadExternal": self._files_complete_upload_external,
        }.get(method)
        if handler is None:
            raise SlackRejected("unknown_method")
        return handler(params)

    def _next_ts(self) -> str:
        n = next(self._ts)
        return f"{self.epoch + n}.{n:06d}"

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return payload("auth_test_ok")

    def _user(self, user_id: str) -> SlackUser:
        user = self.state.users.get(user_id)
        if user is None:
            raise SlackRejected("user_not_found")
        return user

    def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        users = [u for u in str(params.get("users") or "").split(",") if u]
        if len(users) != 1:
            raise SlackRejected("users_list_not_supplied" if not users else "not_supported_in_this_test")
        user = self._user(users[0])
        if user.deleted:
            raise SlackRejected("user_disabled")
        if user.is_bot:
            raise SlackRejected("cannot_dm_bot")
        body = payload("conversations_open_ok")
        if user.id not in self.state.dms:
            self.state.dms[user.id] = f"D{next(self._ids):08d}"
            self.state.messages[self.state.dms[user.id]] = []
            body.pop("no_op")
            body.pop("already_open")
        body["channel"]["id"] = self.state.dms[user.id]
        return body

    def _channel(self, params: dict[str, Any]) -> str:
        """The channel a message goes to: a public channel, an open DM, or a user id (Slack opens the DM)."""
        channel = str(params.get("channel") or "")
        if channel in self.state.users:
            user = self.state.users[channel]
            if user.deleted:
                raise SlackRejected("user_disabled")
            channel = self.state.dms.setdefault(channel, f"D{next(self._ids):08d}")
            self.state.messages.setdefault(channel, [])
        if channel in self.state.archived:
            raise SlackRejected("is_archived")
        if channel in self.state.outside:
            raise SlackRejected("not_in_channel")
        if channel in self.state.channels:
            return channel
        owner = next((uid for uid, dm in self.state.dms.items() if dm == channel), None)
        if owner is None:
            raise SlackRejected("channel_not_found")
        if self.state.users[owner].deleted:
            raise SlackRejected("user_disabled")
        return channel

    def _message_content(self, params: dict[str, Any]) -> tuple[str, list[Any]]:
        text = str(params.get("text") or "")
        blocks = _decoded(params.get("blocks"))
        if blocks is None:
            blocks = []
        if not isinstance(blocks, list):
            raise SlackRejected("invalid_blocks_format")
        if not text.strip() and not blocks:
            raise SlackRejected("no_text")
        if len(text) > MESSAGE_TEXT:
            raise SlackRejected("msg_too_long")
        problems = check_blocks(blocks, limit=MESSAGE_BLOCKS, surface="message")
        if problems:
            raise SlackRejected("invalid_blocks", messages=problems)
        return text, blocks

    def _with_block_ids(self, blocks: list[Any]) -> list[Any]:
        """Slack gives every block it stores a block_id when the sender gave none (and returns it on
        presses)."""
        stored = copy.deepcopy(blocks)
        for block in stored:
            if isinstance(block, dict) and "block_id" not in block:
                block["block_id"] = f"b{next(self._ids):06d}"
        return stored

    client_id = "7620112153541.7620114471589"
    client_secret = "b1f0e5c3a9d74e2f8c6b4a2d0e8f6c4a"

    def _oauth_v2_access(self, params: dict[str, Any]) -> dict[str, Any]:
        if (params.get("client_id"), params.get("client_secret")) != (self.client_id, self.client_secret):
            raise SlackRejected("invalid_client_id")
        code = str(params.get("code") or "")
        if code not in self.codes:
            raise SlackRejected("invalid_code")
        self.codes.discard(code)  # a code works once
        body = payload("oauth_v2_access_ok")
        body["access_token"] = self.token
        body["scope"] = ",".join(sorted(self.scopes or ()))
        return body

    def _conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(params)
        kind = (
            "im"
            if channel in self.state.dms.values()
            else "private"
            if channel in self.state.private
            else "public"
        )
        if self.scopes is not None and HISTORY_SCOPES[kind] not in self.scopes:
            raise SlackRejected("missing_scope", messages=[f"needed: {HISTORY_SCOPES[kind]}"])
        inclusive = _flag(params.get("inclusive"))
        oldest, latest = _ts(params.get("oldest") or "0"), _ts(params.get("latest") or "9999999999")
        try:
            limit = min(max(int(params.get("limit") or 100), 1), HISTORY_LIMIT)
        except ValueError:
            raise SlackRejected("invalid_limit") from None
        found = [
            m
            for m in reversed(self.state.messages[channel])  # newest first
            if m.get("thread_ts", m["ts"]) == m["ts"]  # replies live in their threads (conversations.replies)
            and (oldest <= _ts(m["ts"]) <= latest if inclusive else oldest < _ts(m["ts"]) < latest)
        ]
        cursor = str(params.get("cursor") or "")
        if cursor:
            try:
                before = _ts(base64.b64decode(cursor).decode("utf-8").removeprefix("next_ts:"))
            except (ValueError, SlackRejected):
                raise SlackRejected("invalid_cursor") from None
            found = [m for m in found if _ts(m["ts"]) <= before]
        page = copy.deepcopy(found[:limit])
        if not _flag(params.get("include_all_metadata")):
            for message in page:
                message.pop("metadata", None)
        more = len(found) > limit
        following = base64.b64encode(f"next_ts:{found[limit]['ts']}".encode()).decode() if more else ""
        return {
            "ok": True,
            "messages": page,
            "has_more": more,
            "pin_count": 0,
            "channel_actions_ts": None,
            "channel_actions_count": 0,
            "response_metadata": {"next_cursor": following},
        }

    def _chat_get_permalink(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(params)
        ts = str(params.get("message_ts") or "")
        if not any(m["ts"] == ts for m in self.state.messages[channel]):
            raise SlackRejected("message_not_found")
        return {
            "ok": True,
            "channel": channel,
            "permalink": f"https://northbridge.slack.com/archives/{channel}/p{ts.replace('.', '')}",
        }

    def _files_get_upload_url_external(self, params: dict[str, Any]) -> dict[str, Any]:
        """Step one of files.uploadV2: a file id and the URL to send its bytes to (filename and length
        required)."""
        filename = str(params.get("filename") or "")
        try:
            length = int(str(params.get("length") or ""))
        except ValueError:
            length = 0
        if not filename or not 0 < length <= FILE_SIZE_LIMIT:
            raise SlackRejected("invalid_arguments")
        if len(str(params.get("alt_txt") or "")) > FILE_ALT_TEXT:
            raise SlackRejected("invalid_arguments")
        file_id = f"F{next(self._ids):08d}"
        self.state.files[file_id] = {"filename": filename, "length": length}
        host, port = self._server.server_address[:2]
        return {"ok": True, "upload_url": f"http://{host!s}:{port}/upload/v1/{file_id}", "file_id": file_id}

    def _files_complete_upload_external(self, params: dict[str, Any]) -> dict[str, Any]:
        """Step three: the uploaded files shared in `channel_id` (with `initial_comment`, in `thread_ts`)."""
        wanted = _decoded(params.get("files"))
        if not isinstance(wanted, list) or not wanted:
            raise SlackRejected("invalid_arguments")
        found = []
        for item in wanted:
            file = self.state.files.get(str(item.get("id") if isinstance(item, dict) else ""))
            if file is None or "content" not in file:
                raise SlackRejected("file_not_found")
            found.append((item, file))
        channel = self._channel({"channel": params["channel_id"]}) if params.get("channel_id") else None
        shared = []
        for item, file in found:
            file.update(title=str(item.get("title") or file["filename"]), channel=channel)
            shared.append({"id": item["id"], "title": file["title"], "name": file["filename"]})
        if channel is not None:  # the file's share: a message of its own in the channel
            self.state.messages[channel].append(
                {
                    "type": "message",
                    "ts": self._next_ts(),
                    "text": str(params.get("initial_comment") or ""),
                    "files": copy.deepcopy(shared),
                    "upload": True,
                }
            )
        return {"ok": True, "files": shared}

    def _chat_post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(params)
        text, blocks = self._message_content(params)
        blocks = self._with_block_ids(blocks)
        ts = self._next_ts()
        body = payload("chat_postMessage_ok")
        body["channel"], body["ts"] = channel, ts
        message = body["message"]
        message.update(ts=ts, text=text, blocks=blocks)
        if params.get("thread_ts"):
            message["thread_ts"] = str(params["thread_ts"])
        if params.get("metadata") is not None:
            message["metadata"] = _metadata(params["metadata"])
        self.state.messages[channel].append(copy.deepcopy(message))
        return body

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(params)
        ts = str(params.get("ts") or "")
        stored = next((m for m in self.state.messages[channel] if m["ts"] == ts), None)
        if stored is None:
            raise SlackRejected("message_not_found")
        text, blocks = self._message_content(params)
        blocks = self._with_block_ids(blocks)
        stored.update(text=text, blocks=blocks, edited={"user": "B0EDIBOT01", "ts": self._next_ts()})
        body = payload("chat_update_ok")
        body.update(channel=channel, ts=ts, text=text)
        body["message"].update(text=text, blocks=blocks)
        return body

    def _chat_post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        self._channel(params)
        user = self._user(str(params.get("user") or ""))
        if user.deleted:
            raise SlackRejected("user_not_in_channel")
        self._message_content(params)
        body = payload("chat_postEphemeral_ok")
        body["message_ts"] = self._next_ts()
        return body

    def _view(self, params: dict[str, Any], *, home: bool) -> dict[str, Any]:
        view = _decoded(params.get("view"))
        if not isinstance(view, dict):
            raise SlackRejected("invalid_arguments", messages=["missing required field: view"])
        problems = check_view(view, home=home)
        if problems:
            raise SlackRejected("invalid_arguments", messages=problems)
        return view

    def _stored_view(self, view: dict[str, Any]) -> dict[str, Any]:
        body = payload("views_open_ok")
        stored = body["view"]
        view_id = f"V{next(self._ids):08d}"
        stored.update(copy.deepcopy(view), id=view_id, root_view_id=view_id)
        self.state.views[view_id] = stored
        return body

    def _views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        trigger = str(params.get("trigger_id") or "")
        if not trigger:
            raise SlackRejected("invalid_arguments", messages=["missing required field: trigger_id"])
        if trigger.startswith("expired"):
            raise SlackRejected("expired_trigger_id")
        view = self._view(params, home=False)
        return self._stored_view(view)

    def _views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self._user(str(params.get("user_id") or ""))
        view = self._view(params, home=True)
        body = self._stored_view(view)
        self.state.home[user.id] = body["view"]
        return body

    def _views_update(self, params: dict[str, Any]) -> dict[str, Any]:
        view_id = str(params.get("view_id") or "")
        if view_id not in self.state.views:
            raise SlackRejected("not_found")
        view = self._view(params, home=self.state.views[view_id]["type"] == "home")
        self.state.views[view_id].update(copy.deepcopy(view))
        body = payload("views_open_ok")
        body["view"] = copy.deepcopy(self.state.views[view_id])
        return body

    def _user_body(self, name: str, user: SlackUser) -> dict[str, Any]:
        body = payload(name)
        shown = body["user"]
        shown.update(
            id=user.id,
            team_id=TEAM_ID,
            name=user.email.split("@")[0],
            real_name=user.name,
            deleted=user.deleted,
            tz=user.tz,
            tz_label=user.tz_label,
            tz_offset=user.tz_offset,
            is_bot=user.is_bot,
        )
        first, _, last = user.name.partition(" ")
        shown["profile"].update(
            real_name=user.name,
            real_name_normalized=user.name,
            display_name=first,
            display_name_normalized=first,
            email=user.email,
            first_name=first,
            last_name=last,
            title="",
        )
        return body

    def _users_lookup_by_email(self, params: dict[str, Any]) -> dict[str, Any]:
        email = str(params.get("email") or "").casefold()
        user = next((u for u in self.state.users.values() if u.email.casefold() == email), None)
        if user is None or user.deleted:
            raise SlackRejected("users_not_found")
        return self._user_body("users_lookupByEmail_ok", user)

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._user_body("users_info_ok", self._user(str(params.get("user") or "")))


def _metadata(value: Any) -> dict[str, Any]:
    """chat.postMessage's `metadata` as Slack keeps it: an event_type (letters, digits, underscores) and a
    payload."""
    metadata = _decoded(value)
    if (
        not isinstance(metadata, dict)
        or not isinstance(metadata.get("event_type"), str)
        or not metadata["event_type"]
        or not all(c.isalnum() or c == "_" for c in metadata["event_type"])
        or not isinstance(metadata.get("event_payload"), dict)
    ):
        raise SlackRejected("invalid_metadata_format")
    return {"event_type": metadata["event_type"], "event_payload": copy.deepcopy(metadata["event_payload"])}


def _ts(value: Any) -> Decimal:
    """A Slack timestamp ("1762162201.000001") as an exact number: as floats, neighbours could compare
    equal."""
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise SlackRejected("invalid_ts_oldest") from None


def _flag(value: Any) -> bool:
    """A boolean argument as slack_sdk sends it: True in JSON, "1" or "true" in a query string."""
    return value is True or str(value).lower() in ("1", "true")


def _decoded(value: Any) -> Any:
    """Form-encoded calls carry JSON arguments (blocks, view) as strings; JSON calls carry them as they
    are."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


class _Handler(BaseHTTPRequestHandler):
    server: ThreadingHTTPServer

    def do_POST(self) -> None:
        self._handle()

    def do_GET(self) -> None:
        self._handle()

    def _handle(self) -> None:
        standin: SlackStandIn = self.server.standin  # type: ignore[attr-defined]
        parsed = urlparse(self.path)
        if parsed.path.startswith("/upload/v1/"):  # step two of files.uploadV2: the file's bytes
            length = int(self.headers.get("Content-Length") or 0)
            status, answer = standin.upload(parsed.path.rsplit("/", 1)[-1], self.rfile.read(length))
            data = answer.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        if parsed.path.startswith("/commands/"):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b"{}"
            status, kept = standin.respond(parsed.path, json.loads(raw.decode("utf-8") or "{}"))
            self._send(status, {}, kept)
            return
        method = parsed.path.removeprefix("/api/")
        params: dict[str, Any] = dict(parse_qsl(parsed.query))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        kind = self.headers.get("Content-Type", "")
        if raw and kind.startswith("application/json"):
            params.update(json.loads(raw.decode("utf-8")))
        elif raw:
            params.update(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        authorization = self.headers.get("Authorization", "")
        token: str | None
        if authorization.startswith("Basic "):  # oauth.v2.access: the app's client id and secret
            client_id, _, client_secret = base64.b64decode(authorization[6:]).decode("utf-8").partition(":")
            params.update(client_id=client_id, client_secret=client_secret)
            token = None
        else:
            token = authorization.removeprefix("Bearer ").strip() or params.pop("token", None)
        time.sleep(standin._delay(method))  # outside the lock: other calls are answered meanwhile
        status, headers, body = standin.answer(method, params, token)
        if status == 200 and body.get("ok") and standin._withhold(method, body.get("channel")):
            standin._released.wait(timeout=120)  # the caller is gone (or gives up): no answer, ever
            self.close_connection = True
            return
        self._send(status, headers, body)

    def _send(self, status: int, headers: dict[str, str], body: Any) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        return  # quiet: the calls are recorded instead


# -- Block Kit's limits, as Slack enforces them
# ---------------------------------------------------------------


def _text_problems(obj: Any, where: str, *, limit: int, plain_only: bool = False) -> Iterator[str]:
    if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
        yield f"expected a text object [json-pointer:{where}]"
        return
    if plain_only and obj["type"] != "plain_text":
        yield f"must be plain_text, not mrkdwn [json-pointer:{where}/type]"
    if obj["type"] == "mrkdwn" and "emoji" in obj:
        yield f"invalid additional property: emoji [json-pointer:{where}]"
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        yield f"must be more than 0 characters [json-pointer:{where}/text]"
    elif len(text) > limit:
        yield f"must be less than {limit + 1} characters [json-pointer:{where}/text]"


def _id_problems(value: Any, where: str) -> Iterator[str]:
    if not isinstance(value, str) or not value:
        yield f"must be more than 0 characters [json-pointer:{where}]"
    elif len(value) > ID_LENGTH:
        yield f"must be less than {ID_LENGTH + 1} characters [json-pointer:{where}]"


def _element_problems(element: Any, where: str) -> Iterator[str]:
    if not isinstance(element, dict):
        yield f"expected an element [json-pointer:{where}]"
        return
    kind = element.get("type")
    if "action_id" in element:
        yield from _id_problems(element["action_id"], f"{where}/action_id")
    if kind == "button":
        yield from _text_problems(element.get("text"), f"{where}/text", limit=BUTTON_TEXT, plain_only=True)
        value = element.get("value")
        if value is not None and (not isinstance(value, str) or not value or len(value) > BUTTON_VALUE):
            yield f"must be 1 to {BUTTON_VALUE} characters [json-pointer:{where}/value]"
        if element.get("style") not in (None, "primary", "danger"):
            yield f"must be one of primary, danger [json-pointer:{where}/style]"
    elif kind == "static_select":
        if "placeholder" in element:
            yield from _text_problems(
                element["placeholder"], f"{where}/placeholder", limit=PLACEHOLDER, plain_only=True
            )
        options = element.get("options")
        if not isinstance(options, list) or not options:
            yield f"must provide at least 1 item [json-pointer:{where}/options]"
            return
        if len(options) > SELECT_OPTIONS:
            yield f"no more than {SELECT_OPTIONS} items allowed [json-pointer:{where}/options]"
        if "initial_option" in element and element["initial_option"] not in options:
            yield f"initial_option must match one of the options [json-pointer:{where}/initial_option]"
        for n, option in enumerate(options):
            yield from _text_problems(
                option.get("text"), f"{where}/options/{n}/text", limit=OPTION_TEXT, plain_only=True
            )
            value = option.get("value")
            if not isinstance(value, str) or not value or len(value) > OPTION_VALUE:
                yield f"must be 1 to {OPTION_VALUE} characters [json-pointer:{where}/options/{n}/value]"
    elif kind == "plain_text_input":
        max_length = element.get("max_length", INPUT_MAX_LENGTH)
        if not isinstance(max_length, int) or not 1 <= max_length <= INPUT_MAX_LENGTH:
            yield f"must be 1 to {INPUT_MAX_LENGTH} [json-pointer:{where}/max_length]"
        elif len(str(element.get("initial_value", ""))) > max_length:
            yield f"initial_value is longer than max_length [json-pointer:{where}/initial_value]"
    else:
        yield f"unsupported element type {kind!r} in this stand-in [json-pointer:{where}/type]"


def _block_problems(block: Any, where: str, *, surface: str) -> Iterator[str]:
    if not isinstance(block, dict):
        yield f"expected a block [json-pointer:{where}]"
        return
    kind = block.get("type")
    if "block_id" in block:
        yield from _id_problems(block["block_id"], f"{where}/block_id")
    if kind == "header":
        yield from _text_problems(block.get("text"), f"{where}/text", limit=HEADER_TEXT, plain_only=True)
    elif kind == "section":
        if "text" not in block and "fields" not in block:
            yield f"must provide text or fields [json-pointer:{where}]"
        if "text" in block:
            yield from _text_problems(block["text"], f"{where}/text", limit=SECTION_TEXT)
        if "fields" in block:
            fields = block["fields"]
            if not isinstance(fields, list) or not fields:
                yield f"must provide at least 1 item [json-pointer:{where}/fields]"
            elif len(fields) > SECTION_FIELDS:
                yield f"no more than {SECTION_FIELDS} items allowed [json-pointer:{where}/fields]"
            else:
                for n, item in enumerate(fields):
                    yield from _text_problems(item, f"{where}/fields/{n}", limit=FIELD_TEXT)
    elif kind == "context":
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            yield f"must provide at least 1 item [json-pointer:{where}/elements]"
        elif len(elements) > CONTEXT_ELEMENTS:
            yield f"no more than {CONTEXT_ELEMENTS} items allowed [json-pointer:{where}/elements]"
        else:
            for n, item in enumerate(elements):
                yield from _text_problems(item, f"{where}/elements/{n}", limit=TEXT_OBJECT)
    elif kind == "actions":
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            yield f"must provide at least 1 item [json-pointer:{where}/elements]"
            return
        if len(elements) > ACTIONS_ELEMENTS:
            yield f"no more than {ACTIONS_ELEMENTS} items allowed [json-pointer:{where}/elements]"
        seen: set[str] = set()
        for n, element in enumerate(elements):
            yield from _element_problems(element, f"{where}/elements/{n}")
            action_id = element.get("action_id") if isinstance(element, dict) else None
            if action_id in seen:
                yield (
                    f"`action_id` {action_id!r} already exists [json-pointer:{where}/elements/{n}/action_id]"
                )
            if isinstance(action_id, str):
                seen.add(action_id)
    elif kind == "input" and surface != "message":
        yield from _text_problems(block.get("label"), f"{where}/label", limit=INPUT_LABEL, plain_only=True)
        if "hint" in block:
            yield from _text_problems(block["hint"], f"{where}/hint", limit=INPUT_LABEL, plain_only=True)
        yield from _element_problems(block.get("element"), f"{where}/element")
    elif kind != "divider":
        yield f"unsupported block type {kind!r} [json-pointer:{where}/type]"


def check_blocks(blocks: list[Any], *, limit: int, surface: str, where: str = "/blocks") -> list[str]:
    """What Slack would say is wrong with these blocks, in its own words; [] when it would accept them."""
    problems: list[str] = []
    if len(blocks) > limit:
        problems.append(f"no more than {limit} items allowed [json-pointer:{where}]")
    block_ids: set[str] = set()
    for n, block in enumerate(blocks):
        problems.extend(_block_problems(block, f"{where}/{n}", surface=surface))
        block_id = block.get("block_id") if isinstance(block, dict) else None
        if isinstance(block_id, str):
            if block_id in block_ids:
                problems.append(f"duplicate block_id {block_id!r} [json-pointer:{where}/{n}/block_id]")
            block_ids.add(block_id)
    return problems


def check_view(view: dict[str, Any], *, home: bool) -> list[str]:
    """What views.open / views.publish / views.update would refuse in this view; [] when it is fine."""
    problems: list[str] = []
    kind = view.get("type")
    if kind != ("home" if home else "modal"):
        problems.append(f"must be {'home' if home else 'modal'} [json-pointer:/view/type]")
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        return [*problems, "missing required field: blocks [json-pointer:/view/blocks]"]
    problems.extend(check_blocks(blocks, limit=VIEW_BLOCKS, surface="view", where="/view/blocks"))
    metadata = view.get("private_metadata", "")
    if not isinstance(metadata, str) or len(metadata) > PRIVATE_METADATA:
        problems.append(
            f"must be less than {PRIVATE_METADATA + 1} characters [json-pointer:/view/private_metadata]"
        )
    if view.get("callback_id"):
        problems.extend(_id_problems(view["callback_id"], "/view/callback_id"))
    if not home:
        problems.extend(_text_problems(view.get("title"), "/view/title", limit=VIEW_TITLE, plain_only=True))
        for button in ("submit", "close"):
            if view.get(button) is not None:
                problems.extend(
                    _text_problems(view[button], f"/view/{button}", limit=VIEW_BUTTON, plain_only=True)
                )
        if view.get("submit") is None and any(
            isinstance(b, dict) and b.get("type") == "input" for b in blocks
        ):
            problems.append("submit is required when an input block is present [json-pointer:/view/submit]")
    return problems
