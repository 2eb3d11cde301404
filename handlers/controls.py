"""What pressing a button or submitting a form asks for: a command and its words, as if they had been typed.

Each button and form declares its meaning beside the code that makes it (the card's buttons in `cards`, the
note form in `commands.status`, the new-action form in `new_action`); the registry gathers them, the command
layer runs what they mean, and an adapter only turns a platform's press or submission into an id and a value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from handlers.messages import Reply


@dataclass(frozen=True)
class Invocation:
    """A command as a button or a form asks for it: its name and its words, the action's reference first."""

    command: str
    words: tuple[str, ...]
    view: bool = False  # `command` names a view of the layer (the new-action form), not an `/edi` command
    values: Mapping[str, str] = field(default_factory=dict)  # what was typed in the form, for a view

    @property
    def rest(self) -> str:
        """The words after the reference, as one text (a note, a reason, a snooze)."""
        return " ".join(self.words[1:])


# A button's meaning, given what it acts on and its argument (the value "LT-4|amber" split at the bar):
# the command it runs, or None when the argument makes no sense for it.
ButtonMeaning = Callable[[str, str], Invocation | None]

# A form's meaning, given its state (what it carried, e.g. "LT-4|amber") and the answers by field name: the
# command it runs; a reply (the form again, saying what to fix); or None when the state makes no sense for it.
FormMeaning = Callable[[str, Mapping[str, str]], Invocation | Reply | None]
