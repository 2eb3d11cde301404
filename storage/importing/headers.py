"""Recognises what each column of a plan table holds from its header, by meaning rather than position."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, get_args

Role = Literal[
    "ref",
    "title",
    "action",
    "description",
    "how",
    "owner",
    "deadline",
    "rag",
    "progress",
    "outputs",
    "group",
    "context",
]

# The levels a grouping column can be mapped as (`--map theme=Header`): each is a "group" of that level.
GROUP_LEVELS: tuple[str, ...] = ("theme", "pillar", "objective", "outcome", "priority", "commitment")
# Roles that name a column for `--map ROLE=Header`: every column role but "group" (mapped by its level
# instead), and "context" last.
MAPPABLE_ROLES: tuple[str, ...] = (
    *(role for role in get_args(Role) if role not in ("group", "context")),
    *GROUP_LEVELS,
    "context",
)

ROLE_WORDS: Mapping[str, str] = {
    "ref": "reference",
    "title": "action title",
    "action": "action",
    "description": "description",
    "how": "how",
    "owner": "owner",
    "deadline": "deadline",
    "rag": "RAG rating",
    "progress": "progress note",
    "outputs": "outputs / success measures",
    "context": "current position",
}


@dataclass(frozen=True)
class Column:
    index: int
    header: str  # as written (cleaned), or "Column N" when the header cell is blank
    role: Role | None
    level: str | None = None  # for group columns: "theme", "objective", "commitment", …


@dataclass(frozen=True)
class Pattern:
    role: Role
    regex: re.Pattern[str]
    level: str | None = None


def _p(role: Role, pattern: str, level: str | None = None) -> Pattern:
    return Pattern(role, re.compile(pattern), level)


# Order matters: the first pattern that matches a header wins, so the specific come before the general.
PATTERNS: tuple[Pattern, ...] = (
    _p("ref", r"^(?:action\s+)?(?:ref(?:erence)?|no|number|#|id|item)(?:\s+no)?$"),
    _p("title", r"^(?:action\s+title|title|action\s+summary|short\s+title)$"),
    _p("context", r"already\s+evidence|^evidence$|current\s+(?:position|practice)|where\s+are\s+we|baseline"),
    _p("action", r"what\s+(?:needs|will)\s+(?:to\s+)?be\s+done|actions?\s+to\s+be\s+(?:done|taken)|gaps"),
    _p(
        "deadline",
        r"^when\b|by\s+when|deadline|timescales?|time\s*lines?|time\s*frames?|target\s+dates?"
        r"|due\s+dates?|^due$|completion\s+date|delivery\s+date|^dates?$|^by$|milestones?",
    ),
    _p(
        "owner",
        r"^who\b|by\s+whom|owners?\b|^leads?\b|lead\s+(?:officer|person|team|service|"
        r"department|role)|responsib|^departments?$|accountab|^teams?$|^service$|^officer$"
        r"|^directorates?$|^service\s+areas?$",
    ),
    _p("rag", r"^b?rag\b|\brag\b|rag\s+status|^rating$|^status$|^current\s+status$"),
    _p("progress", r"progress|^updates?\b|comments?|^notes?$|commentary|^position$|latest"),
    _p("outputs", r"success|outputs?|kpis?\b|measures?|indicators?|^targets?$|impact|deliverables?"),
    _p("group", r"^themes?\b|theme", "theme"),
    _p("group", r"pillars?", "pillar"),
    _p("group", r"objectives?", "objective"),
    _p("group", r"^focus|focus\s+area", "focus"),
    _p("group", r"priorit", "priority"),
    _p("group", r"commitments?|we\s+will", "commitment"),
    _p("group", r"^(?:area|strand|workstream|domain|aim|goal)s?$", "area"),
    _p("how", r"^how\b|method|approach"),
    _p("description", r"^description|^details?$|^detail\s+of"),
    _p("action", r"^what\b|actions?|activit|tasks?|^we\s+will|steps?"),
    _p("group", r"outcomes?", "outcome"),
)

# A column whose name is one of these and whose cells mostly read as dates is the deadline when no column
# is named as one ("Target", "Completion", "Review date", "Milestones" in plans seen in the wild).
DATE_LIKE_NAMES = re.compile(r"target|complet|review|milestone")

# Every pattern at once: most cells a plan holds name no column, and one search rules them all out.
_ANY_PATTERN = re.compile("|".join(f"(?:{pattern.regex.pattern})" for pattern in PATTERNS))
_NOISE = re.compile(r"[^\w#&/ ]+")


_WHITESPACE = re.compile(r"\s+")


def normalise_header(text: str) -> str:
    return _WHITESPACE.sub(" ", _NOISE.sub(" ", text.casefold())).strip()


@lru_cache(maxsize=8192)
def role_of(header: str) -> tuple[Role | None, str | None]:
    """The role a header names ("By when" → deadline), with a level for grouping columns."""
    norm = normalise_header(header)
    if not norm or len(norm) > 80 or not _ANY_PATTERN.search(norm):
        return None, None
    for pattern in PATTERNS:
        if pattern.regex.search(norm):
            return pattern.role, pattern.level
    return None, None


def looks_like_header(cells: Sequence[str], *, overrides: Mapping[str, str] | None = None) -> bool:
    """A row is a header when most of its short cells name a column, an action column and one other among
    them."""
    forced = {normalise_header(header): name for name, header in (overrides or {}).items()}
    roles: set[str] = set()
    filled = matched = 0
    for cell in cells:
        if not cell:
            continue
        if len(cell) > 80:
            return False
        filled += 1
        if filled - matched > 2 and matched * 5 < filled * 3:
            return False  # already too many cells that name no column
        name = forced.get(normalise_header(cell)) if forced else None
        role = _override_role(name)[0] if name else role_of(cell)[0]
        if role:
            roles.add(role)
            matched += 1
        elif DATE_LIKE_NAMES.search(normalise_header(cell)):
            matched += 1  # "Review date", "Completion": a column of dates, perhaps the deadline
    # Most cells of a real header name a column; a data row merely mentions "action" or "lead".
    if matched * 5 < filled * 3:
        return False
    has_action = bool(roles & {"action", "title", "how"})
    return len(roles) >= 2 and (has_action or {"owner", "deadline"} <= roles)


def map_columns(header_cells: Sequence[str], *, overrides: Mapping[str, str] | None = None) -> list[Column]:
    """Columns with roles: each role (but grouping levels) claimed once, by its leftmost column.

    `overrides` maps a role (as in MAPPABLE_ROLES) to the header text it should take,
    from `--map deadline="Target completion"`; they win over recognition.
    """
    overrides = overrides or {}
    forced: dict[int, tuple[Role, str | None]] = {}
    for role_name, header in overrides.items():
        wanted = normalise_header(header)
        for index, cell in enumerate(header_cells):
            if normalise_header(cell) == wanted:
                forced[index] = _override_role(role_name)
    columns: list[Column] = []
    claimed: set[Role] = {role for role, _ in forced.values() if role not in ("group", "context")}
    for index, cell in enumerate(header_cells):
        label = cell or f"Column {index + 1}"
        role: Role | None
        level: str | None
        if index in forced:
            role, level = forced[index]
        else:
            role, level = role_of(cell)
            if role is not None and role not in ("group",) and role in claimed:
                role, level = None, None
        if role is not None and role != "group":
            claimed.add(role)
        columns.append(Column(index=index, header=label, role=role, level=level))
    return _settle_action_columns(columns)


def _override_role(name: str) -> tuple[Role, str | None]:
    if name in GROUP_LEVELS:
        return "group", name
    return name, None  # type: ignore[return-value]  # validated against MAPPABLE_ROLES by the caller


def _settle_action_columns(columns: list[Column]) -> list[Column]:
    """With an "Action Title" column, the "Actions" column describes it; outcomes right of the action are
    outputs."""
    roles = {column.role for column in columns}
    settled: list[Column] = []
    action_index = next((c.index for c in columns if c.role in ("title", "action")), None)
    for column in columns:
        if column.role == "action" and "title" in roles:
            column = Column(
                column.index, column.header, "description" if "description" not in roles else "how"
            )
        elif (
            column.role == "group"
            and column.level == "outcome"
            and action_index is not None
            and column.index > action_index
            and "outputs" not in roles
        ):
            column = Column(column.index, column.header, "outputs")
        settled.append(column)
    return settled


def not_used_message(unused: Sequence[tuple[str, int]]) -> str | None:
    """The summary's line on columns with text that no role claims, with how to map one; None when all are
    used."""
    if not unused:
        return None
    listed = ", ".join(f"{header} ({cells} cell{'s' if cells != 1 else ''})" for header, cells in unused)
    header = unused[0][0]
    role = role_of(header)[0]
    suggested = role if role in MAPPABLE_ROLES else "ROLE"
    quoted = f'"{header}"' if " " in header else header
    return f"Not used: {listed} — map it with --map {suggested}={quoted}."


def unrecognised_message(found: Sequence[Sequence[str]], name: str) -> str:
    """What to tell a plan owner when no table has columns we recognise, with the headers we saw."""
    shown = [" | ".join(cell for cell in row if cell)[:160] for row in found[:3] if any(row)]
    seen = "; ".join(f"[{row}]" for row in shown) if shown else "no header-like rows at all"
    return (
        f"{name}: no table has columns I recognise (I look for headers such as What/Action, Who/Owner, "
        f"When/Deadline, RAG, Progress). I found {seen}. Name the columns with --map, e.g. "
        f'--map action="Activity" --map owner="Officer" --map deadline="Target".'
    )
