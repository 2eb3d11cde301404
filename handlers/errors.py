"""Things a person can get wrong, each with the sentence they will read; caught once, at the layer's edge."""

from __future__ import annotations


class CommandError(Exception):
    """A request we will not carry out; the message is the reply, and nothing has changed."""


class UnknownPerson(CommandError):
    pass


class NotAllowed(CommandError):
    pass


class UnknownReference(CommandError):
    pass
