"""Splits an owner cell into the roles and teams it names, the way a UK plan reader would."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from functools import lru_cache

# "/" , ";", "·" and line breaks always separate owners; commas, "&" and "and" only sometimes.
_HARD_SEPARATORS = re.compile(r"\s*(?:;|·|\n|(?<!\band)/(?!or\b))\s*", re.IGNORECASE)
# Between owners on one line: a comma can be part of a team's name ("Policy, Communities and Engagement"),
# a middle dot never is (it always separates owners above), so a list of owners reads one way only.
OWNER_SEPARATOR = " · "
_LEAD_PREFIX = re.compile(
    r"^(?:(?:joint\s+)?leads?|owners?|responsible|lead\s+officer|accountable|by)\s*[:\-–]\s*", re.IGNORECASE
)
_NOT_AN_OWNER = re.compile(r"^(?:n/?a|none|tbc|tba|tbd|-+|–|—|\?+)$", re.IGNORECASE)
_JOINERS = re.compile(r"\s+(?:and|&)\s+", re.IGNORECASE)


@dataclass(frozen=True)
class OwnerSplit:
    owners: tuple[str, ...]
    warnings: tuple[str, ...] = ()


_WHITESPACE = re.compile(r"\s+")


@lru_cache(maxsize=16384)  # the same owners, groups and plan names are keyed over and over in an import
def owner_key(name: str) -> str:
    """The form two spellings of one owner share: case, spacing and edge punctuation folded."""
    return _WHITESPACE.sub(" ", name).strip(" .,:;-–").casefold()


def _tidy(part: str) -> str:
    part = _WHITESPACE.sub(" ", part).strip(" .,:;")
    part = _LEAD_PREFIX.sub("", part)
    return part.strip(" .,:;")


@lru_cache(maxsize=8192)
def hard_parts(cell: str) -> tuple[str, ...]:
    """The parts of a cell split only where the separator is unambiguous (plans repeat owner cells, hence the
    cache)."""
    if _NOT_AN_OWNER.match(cell.strip(" .")):
        return ()
    parts = (_tidy(part) for part in _HARD_SEPARATORS.split(cell))
    return tuple(part for part in parts if part and not _NOT_AN_OWNER.match(part))


def known_owners(cells: Iterable[str]) -> set[str]:
    """Owner keys a plan names on their own somewhere, used to read comma lists elsewhere in it."""
    return {owner_key(part) for cell in cells for part in hard_parts(cell)}


def split_owners(cell: str, *, known: Collection[str] = ()) -> OwnerSplit:
    """Owners named in a cell: "HR Manager/ Director of Delivery" is two, "Health & Safety" is one.

    Commas split only where the plan itself shows the pieces are owners ("Director of
    Delivery, Head of Research" when both appear alone elsewhere), or where the cell is
    a plain list of three or more ("HR, Museums, Civic team"); a name shaped like
    "Policy, Communities and Engagement" stays whole.
    """
    owners: list[str] = []
    warnings: list[str] = []
    for part in hard_parts(cell):
        pieces = [piece.strip() for piece in part.split(",") if piece.strip()]
        if len(pieces) < 2:
            owners.append(part)
            continue
        segments = _segment_by_known(pieces, known)
        if segments is not None:
            owners.extend(segments)
        elif len(pieces) >= 3 and not _JOINERS.search(pieces[-1]):
            owners.extend(pieces)
        else:
            owners.append(part)
            if not _JOINERS.search(pieces[-1]):
                warnings.append(
                    f"'{part}' is kept as one owner; if it names several teams, separate them with '/'"
                )
    unique: dict[str, str] = {}
    for owner in owners:
        unique.setdefault(owner_key(owner), owner)
    return OwnerSplit(owners=tuple(unique.values()), warnings=tuple(warnings))


def _segment_by_known(pieces: list[str], known: Collection[str]) -> list[str] | None:
    """Group comma pieces into owners the plan knows, longest first; None when the plan doesn't vouch."""
    if not known:
        return None
    segments: list[tuple[str, bool]] = []
    start = 0
    while start < len(pieces):
        # The whole cell is "known" trivially (the plan wrote it); only a real division counts.
        longest = len(pieces) - 1 if start == 0 else len(pieces)
        for end in range(longest, start, -1):
            candidate = ", ".join(pieces[start:end])
            if owner_key(candidate) in known:
                segments.append((candidate, True))
                start = end
                break
        else:
            segments.append((pieces[start], False))
            start += 1
    known_count = sum(1 for _, is_known in segments if is_known)
    if len(segments) < 2 or known_count == 0 or known_count * 2 < len(segments):
        return None
    return [segment for segment, _ in segments]


_VERBISH = re.compile(
    r"\b(?:is|are|was|were|be|been|being|has|have|had|will|would|can|could|should|did|does|\w{3,}ed)\b",
    re.IGNORECASE,
)


def looks_like_sentence(cell: str) -> bool:
    """Whether an owner cell reads as a sentence about the work rather than naming who does it.

    Owners are short noun phrases ("Head of HR / Estates"); a cell of many words with verbs that ends
    in a full stop ("The campaign was launched in May with…") is a progress note that slid over.
    """
    text = _WHITESPACE.sub(" ", cell).strip()
    words = text.split(" ")
    if len(words) < 8 or not _VERBISH.search(text):
        return False
    # Lists of teams are mostly capitalised words; a sentence is mostly lower case.
    lower = sum(1 for word in words if word[:1].islower() and word not in ("and", "of", "&", "the", "for"))
    if lower * 10 < len(words) * 4:
        return False
    return text.endswith((".", "!", "?")) or len(words) >= 16


_ROLE_NOUN = re.compile(
    r"\b(?:officers?|managers?|teams?|directors?|directorates?|head|leads?|chief|executive|boards?|committees?|"
    r"departments?|services?|units?|hr|coordinators?|co-ordinators?|advis[eo]rs?|partners?|champions?|"
    r"groups?|council|trustees?|chairs?|panels?|ceo|cfo|coo|management|resources|finance|estates|facilities|"
    r"housing|communications|comms|legal|governance|analytics|secretary|secretariat)\b",
    re.IGNORECASE,
)
_MINOR_WORDS = frozenset({"and", "of", "&", "the", "for", "/", "-", "–"})


def looks_like_role(cell: str) -> bool:
    """Whether a short cell names a post or a team ("Engagement Officer", "Head of HR"), as owner cells do.

    Every word is capitalised but the small joining ones, and one of them is a role noun; an action
    ("Set up a staff network") starts with a verb in lower-case words.
    """
    words = _WHITESPACE.sub(" ", cell).strip().split(" ")
    if not words or len(words) > 6 or cell.rstrip().endswith("."):
        return False
    capitalised = all(word[:1].isupper() or word.casefold() in _MINOR_WORDS for word in words)
    return capitalised and bool(_ROLE_NOUN.search(cell))


def list_owners(names: Iterable[str], *, none: str = "none named") -> str:
    """Owners on one line, each whole: "Policy, Communities and Engagement · Human Resources"."""
    return OWNER_SEPARATOR.join(names) or none
