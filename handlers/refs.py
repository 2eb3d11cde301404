"""Finds the action someone means: any case, a unique prefix, or a "Did you mean LT-4?" for a typo."""

from __future__ import annotations

import difflib
import re

from handlers.errors import UnknownReference
from storage.models import Action
from storage.store import Store

_PREFIX = re.compile(r"^([A-Za-z]+\d*)-")


def resolve_action(store: Store, ref: str) -> Action:
    """The one live action `ref` names, or UnknownReference saying what was meant or what matched."""
    wanted = ref.strip().strip(".,;:!?").upper()
    if not wanted:
        raise UnknownReference("Which action? Give its reference, e.g. LT-4 (`/edi mine` lists yours).")
    action = store.action(wanted)
    if action is not None and not action.archived:
        return action
    if action is not None:
        raise UnknownReference(f"{action.ref} is archived: it is no longer in the plan {action.plan.name}.")
    matches = store.refs_starting(wanted)
    if len(matches) == 1:
        found = store.action(matches[0])
        assert found is not None
        return found
    if matches:
        shown = ", ".join(matches[:8]) + (" …" if len(matches) > 8 else "")
        raise UnknownReference(f"'{ref}' could be {shown}. Which one?")
    prefix = _PREFIX.match(wanted)
    candidates = store.refs_of_plan_prefix(prefix.group(1)) if prefix else []
    close = difflib.get_close_matches(wanted, [c.upper() for c in candidates], n=1, cutoff=0.6)
    if close:
        raise UnknownReference(f"There is no action {ref}. Did you mean {close[0]}?")
    raise UnknownReference(f"There is no action {ref}. `/edi mine` lists yours; `/edi list` lists them all.")
