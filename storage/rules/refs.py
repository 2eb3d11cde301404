"""How a new action is referenced: the plan's own reference when it has one ("LT-1.2"), else the plan's next
number that no action of the plan already uses ("LT-16")."""

from __future__ import annotations

import re
from collections.abc import Container

_NOT_IN_A_REF = re.compile(r"[^A-Za-z0-9.]+")


def source_ref(prefix: str, written: str) -> str:
    """The plan's own reference, kept: "1.2" in the plan LT → "LT-1.2"."""
    # Capitals throughout: people type references in any case, and lookups compare them upper-cased.
    return f"{prefix}-{_NOT_IN_A_REF.sub('', written)[:20]}".upper()


def next_numbered_ref(prefix: str, number: int, *, taken: Container[str]) -> tuple[str, int]:
    """The first reference from the plan's next number on that is not taken, and the number to use after it.

    A plan can hold its own references ("1", "2"…) beside numbered ones, so the next number may already be a
    reference: it is skipped rather than used twice.
    """
    while (ref := f"{prefix}-{number}".upper()) in taken:
        number += 1
    return ref, number + 1
