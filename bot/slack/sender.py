"""The outbox's Slack end: delivers a reminder as a direct message and says how Slack answered.

`SlackSender(client)` is a `schedules.sending.Sender`: it opens the person's DM (conversations.open with their
Slack user id), shares the reply's files there if it has any (a report: files.uploadV2), posts the reply's
blocks with its fallback text (chat.postMessage) and returns the message's platform id, "<channel>:<ts>" —
enough to update it in place or to link a thread reply back to it. What Slack
answers is translated into the outbox's own terms:

- HTTP 429 (`ratelimited`) → `RateLimited(Retry-After)`: the message was not posted, so sending it again later
  is safe; the outbox pauses delivery for exactly as long as Slack asked, without counting it as a failure.
- `user_disabled`, `user_not_found`, `cannot_dm_bot`, `channel_not_found`, `is_archived`, `account_inactive`,
  or a person with no Slack id → `Undeliverable`: trying again cannot help; the outbox marks the message
  failed and the plan admins hear once who can't be reached.
- Slack's own trouble (HTTP 5xx, `internal_error`, `fatal_error`, `service_unavailable`, `request_timeout`)
  and network errors → `RetryLater`: the outbox backs off and tries again. Slack warns that after some of
  these the post may have gone through, so a rare duplicate is possible; a lost reminder is not.
- `to_channel(channel, reply)` posts a plan's escalation in a channel (chat.postMessage to its id, with the
  client of its workspace): `channel_not_found`, `is_archived` or `not_in_channel` → `Undeliverable`, and the
  plan admins hear once that edibot can't post there.
- Anything else (`invalid_auth`, `missing_scope`, `invalid_blocks`…) is our mistake or our configuration's,
  not the recipient's: the SlackApiError is raised as it is, loudly, and the reminder stays in the outbox.

Exactly once: it is a `schedules.sending.KeyedSender`. Every post carries Slack message metadata
`{"event_type": "edibot_outbox", "event_payload": {"key": <outbox key>}}` (the key is ids and a date, no name
or text), and `find_posted` looks through the DM's or channel's history since a time (conversations.history
with include_all_metadata: im:history for DMs, channels:history / groups:history for public / private
channels) for a message with that key. Delivery asks before re-sending a message whose earlier try may have
gone through — the worker was killed after Slack took the post, or the answer timed out — and adopts what it
finds. A workspace installed before those scopes were asked for answers `missing_scope`: the look is skipped
with a warning (the message is posted again, as before, rather than lost) until the app is reinstalled.

Why not slack_sdk's `RateLimitErrorRetryHandler` here: it would sleep out Retry-After inside `send()`, while
the delivery worker holds this message's lease (two minutes) and every message behind it waits. A long
Retry-After would outlive the lease, another worker would claim the message and send it too. The outbox
already retries with backoff and honours Retry-After through `RetryLater`, so this sender wants a client
without that handler (slack_sdk's default handlers retry only connection errors). Interactive calls — a
button's chat.update, a views.open — have no outbox behind them, and the app's client may well use it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from threading import Lock
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.slack.blocks import message_for
from handlers.messages import Reply
from schedules.sending import Addressee, Channel, RateLimited, Recipient, RetryLater, Undeliverable

log = logging.getLogger(__name__)

DEFAULT_RETRY_AFTER = 30.0  # seconds, should Slack ever send a 429 without Retry-After
# chat.postMessage allows about one message per second per channel (https://docs.slack.dev/reference/methods/chat.postMessage#rate_limiting)
CHANNEL_INTERVAL = 1.0

UNREACHABLE = {
    "user_disabled": "Slack says their account is deactivated",
    "account_inactive": "Slack says the account is inactive",
    "user_not_found": "Slack has no user with their Slack id",
    "cannot_dm_bot": "their Slack id belongs to a bot, which can't be sent direct messages",
    "channel_not_found": "Slack can't find their direct-message channel",
    "is_archived": "their direct-message channel is archived",
}
CHANNEL_UNREACHABLE = {
    "channel_not_found": (
        "Slack can't find the channel (edibot must be invited to a private channel to see it)"
    ),
    "is_archived": "the channel is archived",
    "not_in_channel": "edibot isn't in the channel: invite it there (/invite @edibot)",
}
# The metadata event type of every outbox post: its payload is {"key": <outbox key>}.
OUTBOX_EVENT = "edibot_outbox"
HISTORY_PAGE = 200  # messages per conversations.history page (Slack advises no more than 200)
HISTORY_PAGES = 10  # pages looked through for an earlier post before deciding there is none
SLACK_TROUBLE = {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"}


class SlackSender:
    """Sends outbox replies to people as Slack direct messages; see the module docstring for what Slack's
    answers mean."""

    def __init__(
        self,
        client: WebClient | None = None,
        *,
        clients: Callable[[Recipient], WebClient] | None = None,
        channel_interval: float = CHANNEL_INTERVAL,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        team_clients: Callable[[str | None], WebClient | None] | None = None,
    ) -> None:
        if (client is None) == (clients is None):
            raise ValueError("give SlackSender one client, or `clients` choosing one per person's workspace")
        if clients is None:
            assert client is not None
            only = client
            clients = lambda _person: only  # noqa: E731 — one workspace: the same client for everyone
        self.clients = clients
        # A channel's workspace picks the client for posting there; with one client, it is that one.
        self.team_clients = team_clients or ((lambda _team: client) if client is not None else None)
        self.channel_interval = channel_interval
        self.monotonic = monotonic
        self.sleep = sleep
        self._last_post: dict[str, float] = {}  # channel -> when we last posted there
        self._lock = Lock()
        if client is not None and any(
            isinstance(h, RateLimitErrorRetryHandler) for h in client.retry_handlers
        ):
            log.warning(
                "SlackSender got a WebClient with RateLimitErrorRetryHandler: a 429 will be slept out inside "
                "the delivery worker's lease instead of rescheduled by the outbox"
            )

    def __call__(self, person: Recipient, reply: Reply, /, *, key: str | None = None) -> str:
        return self.send(person, reply, key=key)

    def send(self, person: Recipient, reply: Reply, *, key: str | None = None) -> str:
        """Posts `reply` in `person`'s DM, tagged with the outbox `key` when given; returns "<channel>:<ts>".
        Raises RetryLater or Undeliverable."""
        if not person.slack_id:
            raise Undeliverable("they have no Slack user id in the people directory")
        if reply.form is not None:
            raise ValueError(
                "a direct message cannot ask a form: forms open as modals from a person's interaction"
            )
        client = self.clients(person)
        try:
            opened = client.conversations_open(users=person.slack_id)
            channel = str(opened["channel"]["id"])
            _upload(client, channel, reply)
            self._pace(channel)
            posted = client.chat_postMessage(channel=channel, **message_for(reply), **_tagged(key))
        except SlackApiError as error:
            raise _translated(error, unreachable=UNREACHABLE, who=f"Slack id {person.slack_id}") from error
        except (URLError, TimeoutError, ConnectionError) as error:
            raise RetryLater(DEFAULT_RETRY_AFTER, f"Slack could not be reached: {error}") from error
        return f"{channel}:{posted['ts']}"

    def to_channel(self, channel: Channel, reply: Reply, /, *, key: str | None = None) -> str:
        """Posts `reply` in a channel (a plan's escalations); returns "<channel>:<ts>". Raises as `send` does;
        a channel Slack won't take a post in (not found, archived, edibot not in it) is Undeliverable."""
        client = self.team_clients(channel.workspace) if self.team_clients is not None else None
        if client is None:
            raise Undeliverable(f"edibot has no Slack token for the workspace of {channel.name}")
        try:
            _upload(client, channel.id, reply)
            self._pace(channel.id)
            posted = client.chat_postMessage(channel=channel.id, **message_for(reply), **_tagged(key))
        except SlackApiError as error:
            raise _translated(
                error, unreachable=CHANNEL_UNREACHABLE, who=f"{channel.name}, {channel.id}"
            ) from error
        except (URLError, TimeoutError, ConnectionError) as error:
            raise RetryLater(DEFAULT_RETRY_AFTER, f"Slack could not be reached: {error}") from error
        return f"{posted.get('channel') or channel.id}:{posted['ts']}"

    def find_posted(self, to: Addressee, key: str, /, *, since: datetime) -> str | None:
        """The post tagged `key` in `to`'s DM or channel since `since`, as "<channel>:<ts>"; None if there is
        none.

        Raises as sending does (RateLimited, RetryLater, Undeliverable); None, with a warning, when the token
        lacks the history scope for this kind of conversation.
        """
        if isinstance(to, Recipient):
            if not to.slack_id:
                return None  # never posted: sending says why
            client: WebClient | None = self.clients(to)
            unreachable, who = UNREACHABLE, f"Slack id {to.slack_id}"
        else:
            client = self.team_clients(to.workspace) if self.team_clients is not None else None
            unreachable, who = CHANNEL_UNREACHABLE, f"{to.name}, {to.id}"
        if client is None:
            return None
        try:
            channel = (
                str(client.conversations_open(users=to.slack_id)["channel"]["id"])
                if isinstance(to, Recipient)
                else to.id
            )
            return _look_for(client, channel, key, oldest=f"{since.timestamp():.6f}")
        except SlackApiError as error:
            if error_code(error) == "missing_scope":
                log.warning(
                    "could not look for message %s in %s before sending it again (%s): reinstall edibot from "
                    "its manifest to grant the history scopes; a crash may repeat a message until then",
                    key,
                    who,
                    error.response.get("needed") or "missing_scope",
                )
                return None
            raise _translated(error, unreachable=unreachable, who=who) from error
        except (URLError, TimeoutError, ConnectionError) as error:
            raise RetryLater(DEFAULT_RETRY_AFTER, f"Slack could not be reached: {error}") from error

    def _pace(self, channel: str) -> None:
        """At most one post per channel per interval: a second message to the same person waits out the rest.

        The wait is under a second, well inside the delivery lease, and keeps the person's messages in order.
        """
        with self._lock:
            now = self.monotonic()
            last = self._last_post.get(channel)
            wait = 0.0 if last is None else self.channel_interval - (now - last)
            self._last_post[channel] = now + max(wait, 0.0)
        if wait > 0:
            self.sleep(wait)


def _upload(client: WebClient, channel: str, reply: Reply) -> None:
    """The reply's files (a report) shared in the channel before the message that says what they are.

    files_upload_v2 is Slack's files.uploadV2: files.getUploadURLExternal, the upload itself, then
    files.completeUploadExternal sharing it in the channel. First, so that a crash between the two leaves the
    message unsent and it is sent again with the file (a file twice at worst, never a message about a file
    that isn't there): the message, tagged with the outbox key, is what delivery looks for after a crash.
    """
    for file in reply.files:
        client.files_upload_v2(channel=channel, content=file.content, filename=file.name, title=file.title)


def _tagged(key: str | None) -> dict[str, Any]:
    """chat.postMessage's metadata argument carrying the outbox key (none for a post outside the outbox)."""
    if key is None:
        return {}
    return {"metadata": {"event_type": OUTBOX_EVENT, "event_payload": {"key": key}}}


def _look_for(client: WebClient, channel: str, key: str, *, oldest: str) -> str | None:
    """Pages back through `channel`'s history since `oldest` for our post tagged `key`; "<channel>:<ts>" or
    None."""
    cursor: str | None = None
    for _ in range(HISTORY_PAGES):
        page = client.conversations_history(
            channel=channel, oldest=oldest, limit=HISTORY_PAGE, include_all_metadata=True, cursor=cursor
        )
        for message in page.get("messages") or []:
            metadata = message.get("metadata") or {}
            if (
                metadata.get("event_type") == OUTBOX_EVENT
                and (metadata.get("event_payload") or {}).get("key") == key
            ):
                return f"{channel}:{message['ts']}"
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        if not page.get("has_more") or cursor is None:
            return None
    log.warning(
        "message %s: not among the last %d messages in %s; sending it",
        key,
        HISTORY_PAGE * HISTORY_PAGES,
        channel,
    )
    return None


def error_code(error: SlackApiError) -> str:
    """Slack's error code for a refused call ("ratelimited", "users_not_found"…), or "" when it sent none."""
    response = error.response
    return str(response.get("error") or "") if isinstance(response.data, dict) else ""


def _translated(error: SlackApiError, *, unreachable: dict[str, str], who: str) -> Exception:
    """RetryLater or Undeliverable for what Slack answered; the SlackApiError itself when it is ours to
    fix."""
    response = error.response
    status = response.status_code
    code = error_code(error)
    if status == 429 or code == "ratelimited":
        seconds = _retry_after(response.headers)
        return RateLimited(seconds, f"Slack rate limit (HTTP {status}): retry after {seconds:g} s")
    if code in unreachable:
        return Undeliverable(f"{unreachable[code]} ({code}, {who})")
    if status >= 500 or code in SLACK_TROUBLE:
        return RetryLater(DEFAULT_RETRY_AFTER, f"Slack had trouble (HTTP {status} {code or 'error'})")
    return error


def _retry_after(headers: dict[str, object]) -> float:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) and value else value
            try:
                return max(float(str(raw)), 0.0)
            except ValueError:
                break
    return DEFAULT_RETRY_AFTER
