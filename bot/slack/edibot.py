"""What every Slack listener shares: who a Slack user is to edibot, and sending replies the command layer
made.

Translation only: the listeners hand plain arguments (who, what, where) to the command layer and give its
replies Slack's shape; no rule about actions or people is decided here.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Collection
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from threading import Lock
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.blocks import PRIVATE_METADATA, cut, home_view, modal_needed
from handlers.core import Actor, CommandLayer
from handlers.messages import Context, Outcome, Reply
from storage.db import Database

log = logging.getLogger(__name__)

SURFACE = "slack"


@dataclass
class SlackBot:
    """The command layer as the Slack listeners use it."""

    layer: CommandLayer
    database: Database
    # Sends named outbox messages now (schedules.runner.NudgeRound.deliver_now): the notices an input caused.
    outbox: Callable[[Collection[str]], object] | None = None
    _emails: dict[str, str | None] = field(default_factory=dict)  # Slack user id -> email, once looked up
    _known: set[str] = field(default_factory=set)  # Slack ids the people directory has
    _lock: Lock = field(default_factory=Lock)
    # Work that must not hold up Slack's 3-second answer (telling the plan admins, say) runs here.
    _background: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=4, thread_name_prefix="edibot-slack")
    )
    _pending: list[Future[object]] = field(default_factory=list)

    def later(self, work: Callable[..., object], *args: Any) -> None:
        """Runs `work(*args)` after the answer has gone back to Slack; a failure is logged, never lost
        silently."""
        future = self._background.submit(work, *args)
        future.add_done_callback(_log_failure)
        with self._lock:
            self._pending = [f for f in self._pending if not f.done()] + [future]

    def settle(self, timeout: float = 10.0) -> None:
        """Waits for background work to finish (tests, and a clean shutdown)."""
        with self._lock:
            pending = list(self._pending)
        wait(pending, timeout=timeout)

    def close(self) -> None:
        self._background.shutdown(wait=True)

    # -- who ---------------------------------------------------------------------------------------------
    def actor(self, client: WebClient, user_id: str, team_id: str | None = None) -> Actor:
        """The Slack user as the command layer knows people: by Slack id, else by the email Slack has for
        them.

        Someone in the people directory by email only is recognised the first time they use edibot, and their
        Slack id is remembered from then on (so users.info is asked once per unknown person, not per request).
        """
        actor = Actor(surface=SURFACE, slack_id=user_id, workspace=team_id)
        with self._lock:
            known = user_id in self._known
        if known or self.layer.knows(actor):
            # Once someone is known by their Slack id, the command layer finds them by it on every request;
            # asking the directory first as well would only look them up twice.
            with self._lock:
                self._known.add(user_id)
            return actor
        return Actor(
            surface=SURFACE, slack_id=user_id, email=self._email_of(client, user_id), workspace=team_id
        )

    def anonymous_actor(self, user_id: str, team_id: str | None) -> Actor:
        """Someone sending anonymous feedback: their Slack id only, to be hashed and forgotten by the command
        layer; never looked up (no users.info call carries it), never cached here."""
        return Actor(surface=SURFACE, slack_id=user_id, workspace=team_id)

    def _email_of(self, client: WebClient, user_id: str) -> str | None:
        with self._lock:
            if user_id in self._emails:
                return self._emails[user_id]
        try:
            user = client.users_info(user=user_id)["user"]
            email = (user.get("profile") or {}).get("email") or None
        except SlackApiError as error:
            log.warning("users.info for %s failed: %s", user_id, error.response.get("error"))
            email = None
        with self._lock:
            self._emails[user_id] = email
        return email

    # -- saying ----------------------------------------------------------------------------------------------
    def send_notices(self, outcome: Outcome) -> None:
        """Messages the command layer wrote for other people (the plan admins on "not mine") wait in the
        outbox, queued with the change itself; they are sent from there straight after the answer, paced and
        retried as reminders are. Without an outbox worker here (`outbox` unset), the scheduler's next round
        sends them."""
        keys = [notice.key for notice in outcome.notices]
        if keys and self.outbox is not None:
            self.later(self.outbox, keys)

    def show_home(
        self, client: WebClient, user_id: str, *, team_id: str | None = None, note: str | None = None
    ) -> None:
        """Publishes the person's App Home: their actions and, for admins, plan health; `note` on top."""
        outcome = self.layer.home(self.actor(client, user_id, team_id))
        reply = outcome.reply
        if note:
            reply = Reply([Context(note), *reply.blocks])
        client.views_publish(user_id=user_id, view=home_view(reply))

    def open_form(self, client: WebClient, trigger_id: str, reply: Reply, *, where: dict[str, Any]) -> None:
        """Opens the reply's form as a modal; `where` (the message it came from) rides along for the
        submit."""
        form, view = reply.form, modal_needed(reply)
        assert form is not None and view is not None
        view["private_metadata"] = metadata(form.state, where)
        client.views_open(trigger_id=trigger_id, view=view)


# With should_escape on (manifest.yml), Slack sends "@Amina" as <@U0123|amina> and emails as <mailto:…|…>.
_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_MAILTO = re.compile(r"<mailto:([^|>]+)(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#([CG][A-Z0-9]+)(?:\|([^>]*))?>")
_LINK = re.compile(r"<((?:https?://)[^|>]+)(?:\|[^>]*)?>")


def plain_text_of(text: str) -> str:
    """What the person typed, with Slack's escapes undone: a mention becomes the Slack id the directory
    knows."""
    text = _MAILTO.sub(r"\1", _USER.sub(r"\1", text))
    # A channel mention becomes "#C0123|name": the id Slack posts to, and the name people know it by.
    text = _CHANNEL.sub(lambda m: "#" + m.group(1) + (f"|{m.group(2)}" if m.group(2) else ""), text)
    text = _LINK.sub(r"\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def team_of(body: dict[str, Any]) -> str | None:
    """The workspace a request came from, wherever this kind of payload keeps it."""
    team = body.get("team")
    found = team.get("id") if isinstance(team, dict) else team
    found = found or body.get("team_id") or (body.get("user") or {}).get("team_id")
    return str(found) if found else None


def _log_failure(future: Future[object]) -> None:
    error = future.exception()
    if error is not None:
        log.error("background Slack work failed: %s", error, exc_info=error)


def metadata(state: str, where: dict[str, Any]) -> str:
    """A modal's private_metadata: the form's own state and where it was opened from, within Slack's 3000."""
    packed = json.dumps({"state": state, **where}, separators=(",", ":"))
    if len(packed) > PRIVATE_METADATA:
        packed = json.dumps({"state": state}, separators=(",", ":"))
    return packed


def unpack_metadata(raw: str) -> tuple[str, dict[str, Any]]:
    """(form state, where it was opened) from private_metadata; a modal that isn't ours reads as empty."""
    try:
        loaded = json.loads(raw) if raw else {}
    except json.JSONDecodeError:
        return "", {}
    if not isinstance(loaded, dict):
        return "", {}
    state = loaded.pop("state", "")
    return (state if isinstance(state, str) else ""), loaded


def marked_line(outcome: Outcome) -> str:
    """What replaces a reminder's buttons once pressed: the first thing the reply said, as a quiet line."""
    text = outcome.reply.plain_text().strip().splitlines()
    return text[0] if text else "Done."


def without_buttons(
    blocks: list[dict[str, Any]], line: str, *, block_id: str | None = None, ref: str | None = None
) -> list[dict[str, Any]] | None:
    """A sent message's blocks with one actions block replaced by `line`, so nothing stale is offered.

    The block is the one pressed (`block_id`), or the one whose buttons act on `ref`. None when it is not in
    the message (already replaced, or not our message).
    """
    for index, block in enumerate(blocks):
        if block.get("type") != "actions":
            continue
        values = [str(element.get("value") or "") for element in block.get("elements") or []]
        if (block_id is not None and block.get("block_id") == block_id) or (
            ref is not None and any(value == ref or value.startswith(ref + "|") for value in values)
        ):
            quiet = {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": cut("✅ " + line, 3000, mrkdwn=True)}],
            }
            return [*blocks[:index], quiet, *blocks[index + 1 :]]
    return None


def message_blocks(
    client: WebClient, channel: str, ts: str
) -> tuple[list[dict[str, Any]] | None, str | None]:
    """The blocks and text of a message we sent, read back (a view submission or thread reply doesn't carry
    them)."""
    try:
        found = client.conversations_history(channel=channel, latest=ts, oldest=ts, inclusive=True, limit=1)
    except SlackApiError as error:
        log.warning("could not read back message %s in %s: %s", ts, channel, error.response.get("error"))
        return None, None
    messages = found.get("messages") or []
    if not messages:
        return None, None
    return messages[0].get("blocks"), messages[0].get("text")


def retire_buttons(client: WebClient, *, channel: str, ts: str, ref: str, line: str) -> None:
    """After a change made elsewhere (a thread reply), the reminder stops offering buttons for that action."""
    blocks, text = message_blocks(client, channel, ts)
    updated = without_buttons(blocks or [], line, ref=ref)
    if updated is not None:
        client.chat_update(channel=channel, ts=ts, blocks=updated, text=text or line)
