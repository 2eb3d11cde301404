"""Finds the action someone means: any case, a unique prefix, or a "Did you mean LT-4?" for a typo; never one
of a restricted plan they may not see, nor a suggestion naming one."""

from __future__ import annotations

import difflib
import re

from handlers.errors import NotAllowed, UnknownReference
from storage.models import Action, Person
from storage.store import Store

_PREFIX = re.compile(r"^([A-Za-z0-9]+)-")


def may_change_action(store: Store, person: Person | None, action: Action) -> bool:
    """Its owners and the plan admins may change an action (and see it in a restricted plan); nobody else."""
    return person is not None and (person.is_admin or store.is_owner(person, action))


def resolve_action(store: Store, ref: str, *, person: Person | None) -> Action:
    """The one live action `ref` names for `person`, or UnknownReference saying what was meant or what
    matched.

    Restriction is checked before anything else is said about an action (that it is archived, who owns it),
    and prefixes and typos are matched only against what `person` may see."""
    wanted = ref.strip().strip(".,;:!?").upper()
    if not wanted:
        raise UnknownReference("Which action? Give its reference, e.g. LT-4 (`/edi mine` lists yours).")
    action = store.action(wanted) or store.action_formerly(wanted)
    if action is not None and not store.may_see(person, action):
        raise NotAllowed(f"{action.ref} is in a restricted plan; only its owners and plan admins can see it.")
    if action is not None and not action.archived:
        return action
    if action is not None:
        raise UnknownReference(f"{action.ref} is archived: it is no longer in the plan {action.plan.name}.")
    # A plan's own bare number ("1.1") finds its action while only one plan (that they may see) uses it.
    matches = store.refs_numbered(wanted, seen_by=person) or store.refs_starting(wanted, seen_by=person)
    if len(matches) == 1:
        found = store.action(matches[0])
        assert found is not None and store.may_see(person, found), "matches are only what the person may see"
        return found
    if matches:
        shown = ", ".join(matches[:8]) + (", …" if len(matches) > 8 else "")
        raise UnknownReference(f"'{ref}' could be {shown} — which one?")
    suggestion = _closest(store, wanted, seen_by=person)
    if suggestion:
        raise UnknownReference(f"There is no action {ref}. Did you mean {suggestion}?")
    raise UnknownReference(f"There is no action {ref}. `/edi mine` lists yours; `/edi list` lists them all.")


def _closest(store: Store, wanted: str, *, seen_by: Person | None) -> str | None:
    """The reference a typo most likely meant: "NO6" → NO-6, "N0-6" → NO-6, "NO-66" → NO-6."""
    prefixes = store.plan_prefixes(seen_by=seen_by)
    match = _PREFIX.match(wanted)
    typed_prefix, number = (
        (match.group(1), wanted[match.end() :]) if match else _split_unhyphenated(wanted, prefixes)
    )
    if typed_prefix is None:
        return None
    if typed_prefix not in prefixes:
        near = difflib.get_close_matches(typed_prefix, prefixes, n=1, cutoff=0.5)
        if not near:
            return None
        typed_prefix = near[0]
    candidate = f"{typed_prefix}-{number}"
    refs = [ref.upper() for ref in store.refs_of_plan_prefix(typed_prefix, seen_by=seen_by)]
    if candidate in refs:
        return candidate
    close = difflib.get_close_matches(candidate, refs, n=1, cutoff=0.6)
    return close[0] if close else None


def _split_unhyphenated(wanted: str, prefixes: list[str]) -> tuple[str | None, str]:
    for prefix in sorted(prefixes, key=len, reverse=True):
        if wanted.startswith(prefix) and wanted[len(prefix) :][:1].isdigit():
            return prefix, wanted[len(prefix) :]
    letters = re.match(r"^([A-Z]+)(\d.*)$", wanted)
    return (letters.group(1), letters.group(2)) if letters else (None, "")
