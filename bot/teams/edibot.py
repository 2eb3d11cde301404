"""What every Teams handler shares: who a Teams user is to edibot, what they typed, and the command layer's
thread pool.

Translation only: handlers hand plain arguments (who, what, where) to the command layer and give its replies
Teams' shape; no rule about actions or people is decided here.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from threading import Lock
from typing import ParamSpec, TypeVar

from sqlalchemy.exc import IntegrityError

from bot.logs import in_this_context
from handlers.core import Actor, CommandLayer
from handlers.messages import Outcome
from handlers.replies import understand
from storage.conversations import Conversation, latest_post_in, remember_conversation
from storage.db import Database
from storage.store import Store

log = logging.getLogger(__name__)

SURFACE = "teams"
P = ParamSpec("P")
R = TypeVar("R")

_MENTION = re.compile(r"<at>[^<]*</at>", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]+>")


@dataclass
class TeamsBot:
    """The command layer as the Teams handlers use it: its calls run on a pool of threads, off the event
    loop, one per database connection (as Slack's requests do), so a slow one holds up no one else."""

    layer: CommandLayer
    database: Database
    threads: int = 5
    # Sends named outbox messages now (schedules.runner.NudgeRound.deliver_now): the notices an input caused.
    outbox: Callable[[Collection[str]], object] | None = None
    _known: set[str] = field(default_factory=set)  # AAD object ids the people directory has
    _chats: set[tuple[str, str, str]] = field(default_factory=set)  # (AAD id, chat, service URL) kept
    _lock: Lock = field(default_factory=Lock)
    _pool: ThreadPoolExecutor | None = None
    _sending: set[asyncio.Task[object]] = field(default_factory=set)  # notices on their way out

    async def call(self, work: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """`work(*args, **kwargs)` on the command layer's threads."""
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="edibot-teams")
            pool = self._pool
        # With this request's context (its id, for the log): run_in_executor does not carry it by itself.
        return await asyncio.get_running_loop().run_in_executor(
            pool, in_this_context(lambda: work(*args, **kwargs))
        )

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    def known(self, aad_object_id: str) -> bool:
        """Whether this AAD object id is already known to be in the people directory (no database read: the
        handlers ask this on the event loop, and go to a thread for `knows` only when it is not)."""
        with self._lock:
            return aad_object_id in self._known

    def chat_kept(self, aad_object_id: str, chat: Conversation) -> bool:
        """Whether this chat is already kept for them (no database read, as `known`)."""
        with self._lock:
            return (aad_object_id, chat.id, chat.service_url) in self._chats

    def knows(self, aad_object_id: str) -> bool:
        """Whether the people directory has this AAD object id (remembered once it has)."""
        with self._lock:
            if aad_object_id in self._known:
                return True
        if self.layer.knows(Actor(surface=SURFACE, teams_id=aad_object_id)):
            with self._lock:
                self._known.add(aad_object_id)
            return True
        return False

    def remember_chat(self, aad_object_id: str, chat: Conversation) -> None:
        """Keeps a person's 1:1 chat for their reminders (a write only when it is new or has moved)."""
        seen = (aad_object_id, chat.id, chat.service_url)
        with self._lock:
            if seen in self._chats:
                return
        try:
            self._keep_chat(aad_object_id, chat)
        except IntegrityError:
            # Their first two messages at once (or the outbox starting the chat, in its process): the other
            # kept it a moment ago, so this is now the update (or no change) it would have been a moment on.
            self._keep_chat(aad_object_id, chat)
        with self._lock:
            self._chats.add(seen)

    def _keep_chat(self, aad_object_id: str, chat: Conversation) -> None:
        with self.database.session() as session:
            if remember_conversation(session, aad_object_id, chat, at=self.layer.clock.now()):
                log.info("kept the Teams chat of %s", aad_object_id)

    def latest_post_in(self, conversation_id: str) -> str | None:
        """The last reminder (or notice) posted in this chat: a plain reply is about it."""
        with self.database.session() as session:
            return latest_post_in(session, conversation_id)

    def refs_of_message(self, message_id: str) -> list[str]:
        with self.database.session() as session:
            return Store(session).refs_of_message(message_id)

    def send_notices(self, outcome: Outcome) -> None:
        """Messages the command layer wrote for other people wait in the outbox, queued with the change; they
        are sent from there straight after the answer (without an outbox worker here, by the next round)."""
        keys = [notice.key for notice in outcome.notices]
        if keys and self.outbox is not None:
            task = asyncio.get_running_loop().create_task(self.call(self.outbox, keys))
            # The loop keeps only a weak reference to a task: held here until it is done, so it is never lost.
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)
            task.add_done_callback(_log_failure)


def actor(aad_object_id: str | None, *, email: str | None = None) -> Actor:
    """A Teams user as the command layer knows people: by AAD object id (the people CSV's teams_id), else by
    the email Teams has for them."""
    return Actor(surface=SURFACE, teams_id=aad_object_id or None, email=email or None)


def plain_text_of(text: str) -> str:
    """What the person typed: "<at>edibot</at>" mentions and any markup Teams added taken out."""
    text = _TAGS.sub("", _MENTION.sub("", text))
    return text.replace("&nbsp;", " ").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").strip()


def as_command(text: str, commands: Collection[str]) -> str | None:
    """What was typed in the chat as an `/edi` command, or None for a plain reply (to the last reminder).

    Teams has no slash commands for a bot, so `edi mine` and `/edi mine` are commands, and so is just `mine`
    (a command's name or alias as the first word) — unless it reads as an answer to a reminder: "amber -
    waiting on budget", "done" and "not mine" are replies, as they would be in a Slack thread.
    """
    stripped = text.strip()
    lowered = stripped.lower()
    if lowered.startswith("/edi"):
        return stripped
    if lowered == "edi" or lowered.startswith("edi "):
        return "/edi" + stripped[3:]
    if understand(stripped) is not None:
        return None
    first = lowered.split(maxsplit=1)[0] if lowered else ""
    return f"/edi {stripped}" if first in commands else None


_ESCALATE_HERE = re.compile(r'^/edi\s+plan\s+escalate\s+("[^"]+"|\S+)\s*$', re.IGNORECASE)


def picking_this_channel(said: str, *, channel_id: str, channel_name: str | None) -> str:
    """`edi plan escalate NAME` typed in a channel, with no one named, means this channel: it is named as
    the command layer takes a channel ("#<id>|<name>"), by the id Teams posts to."""
    if not _ESCALATE_HERE.match(said):
        return said
    return f"{said} #{channel_id}|{(channel_name or 'this Teams channel').replace('|', ' ')}"


def _log_failure(task: asyncio.Task[object]) -> None:
    if not task.cancelled() and task.exception() is not None:
        error = task.exception()
        log.error("sending notices after a Teams answer failed: %s", error, exc_info=error)
