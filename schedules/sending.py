"""The sending contract between the outbox and every chat platform: whom to send to, and how a send can fail.

An adapter (Slack, Teams, the console) implements `Sender` (and `ChannelSender` if it can post in channels)
and imports nothing else from schedules: it is handed plain values — a `Recipient` or a `Channel`, and the
reply to send — never a database row, and answers with the platform's message id or one of the errors below.

A platform that can tag a post with the outbox key it delivers and look that key up again implements
`KeyedSender` too: that is what makes delivery exactly once across a crash (see `KeyedSender`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from handlers.messages import Reply
from storage.rules.calendar import Hours, OfficeHours
from storage.rules.platforms import reminded_on


class RetryLater(Exception):
    """The platform asked us to wait (HTTP 429 with Retry-After, or a transient error)."""

    def __init__(self, seconds: float, reason: str) -> None:
        super().__init__(reason)
        self.seconds = seconds


class RateLimited(RetryLater):
    """The platform's "slow down" (HTTP 429): nothing is wrong with the message, only with how fast we send.

    Delivery waits exactly the Retry-After it was given (no backoff on top), does not count the try against
    MAX_ATTEMPTS, and pauses the whole outbox until then rather than trying the next message straight away.
    """


class Undeliverable(Exception):
    """The platform refused this recipient for good (user deactivated, channel archived)."""


class PersonFacts(OfficeHours, Protocol):
    """What a Recipient is made from: a person's row in the people directory, or any value with these."""

    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def email(self) -> str | None: ...
    @property
    def slack_id(self) -> str | None: ...
    @property
    def slack_team_id(self) -> str | None: ...
    @property
    def teams_id(self) -> str | None: ...
    @property
    def reminders_on(self) -> str | None: ...
    @property
    def last_surface(self) -> str | None: ...


@dataclass(frozen=True)
class Recipient:
    """A person as a platform needs them to deliver a direct message: who they are there, and their hours."""

    id: int  # the people directory's id
    name: str
    email: str | None = None
    slack_id: str | None = None
    slack_team_id: str | None = None  # their Slack workspace, when edibot is in several
    teams_id: str | None = None
    hours: Hours = field(default_factory=Hours)  # when they may be messaged
    platform: str | None = None  # where their direct messages go when edibot serves both (see reminded_on)

    @classmethod
    def of(cls, person: PersonFacts) -> Recipient:
        return cls(
            id=person.id,
            name=person.name,
            email=person.email,
            slack_id=person.slack_id,
            slack_team_id=person.slack_team_id,
            teams_id=person.teams_id,
            hours=Hours.of(person),
            platform=reminded_on(
                slack_id=person.slack_id,
                teams_id=person.teams_id,
                chosen=person.reminders_on,
                last=person.last_surface,
            ),
        )


@dataclass(frozen=True)
class Channel:
    """A channel a plan's escalations are posted in, as its platform knows it."""

    id: str  # the platform's channel id (Slack "C0123"), or its name where that is all we were given
    name: str  # as people see it: "#edi-leads"
    workspace: str | None = None  # the Slack workspace it is in, when edibot is in several

    @property
    def hours(self) -> Hours:
        """A channel keeps the deployment's office hours (weekdays from 09:30, England and Wales bank
        holidays)."""
        return Hours()


Addressee = Recipient | Channel  # whom one outbox message goes to


class Sender(Protocol):
    """Sends a reply to a person as a direct message; returns the platform's message id.

    Raises RateLimited or RetryLater when it should be tried again later, Undeliverable when it never can be.
    """

    def __call__(self, person: Recipient, reply: Reply, /) -> str: ...


@runtime_checkable
class ChannelSender(Protocol):
    """A Sender that can also post in a channel; returns the platform's message id, raises as a Sender
    does."""

    def __call__(self, person: Recipient, reply: Reply, /) -> str: ...

    def to_channel(self, channel: Channel, reply: Reply, /) -> str: ...


@runtime_checkable
class KeyedSender(Protocol):
    """A Sender that tags each post with its outbox key, and can find a post by that key afterwards.

    The outbox marks a message sent only after the platform has answered, so a process killed in between (or
    a network timeout after the platform took the post) leaves a message that was delivered but looks unsent.
    Before such a message is tried again, delivery asks `find_posted` whether a post with its key is already
    there since `since`, and adopts that post's id instead of posting a second copy. The key is the outbox
    key: ids and dates, never a name or free text. A platform without a way to look back (the console)
    simply isn't a KeyedSender, and a crash there may repeat a message.
    """

    def __call__(self, person: Recipient, reply: Reply, /, *, key: str | None = None) -> str: ...

    def to_channel(self, channel: Channel, reply: Reply, /, *, key: str | None = None) -> str: ...

    def find_posted(self, to: Addressee, key: str, /, *, since: datetime) -> str | None:
        """The platform's id of the post tagged `key` sent to `to` since `since`; None if there is none.

        Raises RateLimited, RetryLater or Undeliverable as sending would.
        """
        ...


def channel_platform(channel: Channel) -> str:
    """Which platform a channel is on: Teams' conversation ids start "19:" (Slack's are "C0123" or a name,
    never with a colon)."""
    return "teams" if channel.id.startswith("19:") else "slack"


class Switchboard:
    """One Sender over several platforms' (`edibot run --slack-http --teams`): each person's direct messages
    go to the platform `Recipient.platform` names, each channel's post to the platform it is on.

    Keyed where the platform's own sender is: a post is tagged, and looked for after a crash, through the
    sender that made it; a platform that can't look back finds nothing (and may repeat, as on its own).
    """

    def __init__(self, senders: Mapping[str, Sender]) -> None:
        if not senders:
            raise ValueError("a switchboard needs at least one platform's sender")
        self.senders = dict(senders)

    def __call__(self, person: Recipient, reply: Reply, /, *, key: str | None = None) -> str:
        send = self._for(person)
        return send(person, reply, key=key) if isinstance(send, KeyedSender) else send(person, reply)

    def to_channel(self, channel: Channel, reply: Reply, /, *, key: str | None = None) -> str:
        send = self._for(channel)
        if isinstance(send, KeyedSender):
            return send.to_channel(channel, reply, key=key)
        if isinstance(send, ChannelSender):
            return send.to_channel(channel, reply)
        raise Undeliverable("this chat platform's sender can't post in channels")

    def find_posted(self, to: Addressee, key: str, /, *, since: datetime) -> str | None:
        send = self._for(to)
        return send.find_posted(to, key, since=since) if isinstance(send, KeyedSender) else None

    def _for(self, to: Addressee) -> Sender:
        platform = channel_platform(to) if isinstance(to, Channel) else to.platform
        # A platform this process doesn't serve: the first one it does (which says if it can't reach them).
        return self.senders.get(platform or "") or next(iter(self.senders.values()))
