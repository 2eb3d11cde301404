"""How a new action is referenced: the plan's own reference as written when it names itself ("WB-1", "A3"),
the plan's prefix before a bare number ("1.2" in the plan LT → "LT-1.2"), else the plan's next free number."""

from __future__ import annotations

import re
from collections.abc import Container

_NOT_IN_A_REF = re.compile(r"[^A-Za-z0-9.\-]+")
_SPACES = re.compile(r"\s+")
# A reference that starts with a letter and holds a number ("WB-1", "A3", "HR.2a") names its action on its
# own; a bare number ("1", "1.1", "3a") is the same in many plans, so it needs the plan's prefix.
_NAMES_ITSELF = re.compile(r"^[A-Z][A-Z0-9.\-/]*\d[A-Z0-9.\-/]*$")
REF_MAX = 40


def plan_ref(written: str) -> str | None:
    """The plan's own reference kept as written ("wb-1" → "WB-1"), or None for a bare number like "1.1".

    Capitals throughout: people type references in any case, and lookups compare them upper-cased.
    """
    kept = _SPACES.sub("", written).strip(".-/").upper()
    return kept if _NAMES_ITSELF.match(kept) and len(kept) <= REF_MAX else None


def source_ref(prefix: str, written: str) -> str:
    """The plan's own number under the plan's prefix: "1.2" in the plan LT → "LT-1.2"."""
    return f"{prefix}-{_NOT_IN_A_REF.sub('', written)[:20]}".upper()


# What imports before references were kept as written dropped from a plan's own reference.
_FORMERLY_DROPPED = re.compile(r"[^A-Za-z0-9.]+")


def former_ref(prefix: str, written: str) -> str:
    """The reference an import made of a plan's own before it kept them as written: "WB-1" in the plan WE
    → "WE-WB1". Messages and buttons sent then still name it, so lookups still find it."""
    return f"{prefix}-{_FORMERLY_DROPPED.sub('', written)[:20]}".upper()


def next_numbered_ref(prefix: str, number: int, *, taken: Container[str]) -> tuple[str, int]:
    """The first reference from the plan's next number on that is not taken, and the number to use after it.

    A plan can hold its own references ("1", "2"…) beside numbered ones, so the next number may already be a
    reference: it is skipped rather than used twice.
    """
    while (ref := f"{prefix}-{number}".upper()) in taken:
        number += 1
    return ref, number + 1
