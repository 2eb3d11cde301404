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


# What a person reads when edibot's database file was deleted or replaced under it (storage.db.DatabaseGone):
# the operator's message, naming the file, goes to the log instead.
DATA_UNREACHABLE = (
    "Sorry, I can't reach my data right now, so I haven't done that and nothing has changed. I've logged the "
    "problem for whoever runs edibot; please try again later."
)


def cannot_save(why: str) -> str:
    """The person's sentence when the database can be read but takes no change: `why` is "is full" or "is
    read-only" (storage.db.cannot_write)."""
    return (
        f"I can't save changes just now: my database {why}. I haven't changed anything; reading your actions "
        "still works. I've logged the problem for whoever runs edibot; please try again later."
    )
