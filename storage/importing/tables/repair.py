"""Mends rows a careless export broke: a row split by a page break, and cells that slid sideways."""

from __future__ import annotations

import re
from collections.abc import Collection, Container, Iterable, Iterator, Mapping, Sequence
from typing import NamedTuple

from storage.importing.headers import Column, Role
from storage.importing.sources import SourceRow
from storage.importing.tables.parsed import ParsedAction
from storage.rules.deadlines import interpret_deadline
from storage.rules.owners import hard_parts, looks_like_role, owner_key
from storage.rules.rag import parse_rag
from storage.rules.wording import reads_as_action

# ---------------------------------------------------------------- rows split by a page break


def continues(cells: Sequence[str], columns: Sequence[Column]) -> bool:
    """A row with no title whose first words carry on a sentence ("week. Internal…", "are informed…")."""
    for column in columns:
        if column.role in ("group", "context"):
            continue
        text = cells[column.index].lstrip("•·-– ")
        if text:
            return text[0].islower()
    return False


def joined_cells(
    previous: ParsedAction, row: SourceRow, cells: Sequence[str], columns: Sequence[Column]
) -> tuple[list[str], dict[str, str]]:
    """The cells of `previous` finished by those of `row`, its continuation on the next page: cleaned
    cells in column order, and raw cells by header."""
    merged = dict(previous.cells)
    raw = dict(previous.raw_cells)
    for column in columns:
        text = cells[column.index]
        if not text or column.role in ("group", "context"):
            continue
        merged[column.header] = _join_continued(merged.get(column.header, ""), text)
        raw[column.header] = _join_continued(raw.get(column.header, ""), row.raw_cell(column.index))
    return [merged.get(c.header, "") for c in columns], raw


def _join_continued(before: str, after: str) -> str:
    """Join two halves of a cell split by a page break: mid-sentence with a space, else a new line."""
    if not before or before.strip() == after.strip():
        return before or after
    joiner = " " if not before.rstrip().endswith((".", "!", "?", ":", ">")) else "\n"
    return f"{before.rstrip()}{joiner}{after.lstrip()}"


# ---------------------------------------------------------------- cells that slid sideways


def fit(cells: Sequence[str], width: int) -> list[str]:
    """A row's cells made as wide as its header: short rows padded, text beyond the last column kept in it."""
    fitted = list(cells[:width])
    overflow = [cell for cell in cells[width:] if cell]
    if overflow:
        fitted[-1] = "\n".join([fitted[-1], *overflow]).strip()
    return fitted + [""] * (width - len(fitted))


class ShiftRepair(NamedTuple):
    """A row's cells after repair, and what to tell the plan owner about it (None: nothing slid); `doubtful`
    when the cells seem to have slid but not clearly enough to put them back."""

    cells: list[str]
    note: str | None = None
    doubtful: bool = False


def repair_shift(
    cells: list[str],
    by_role: Mapping[Role, Column],
    *,
    known: Container[str],
    stray: Sequence[int] = (),
    grouping: Sequence[int] = (),
) -> ShiftRepair:
    """Put back a row whose cells slid sideways in a careless export, when the intent is clear; `known`
    are the owner keys the table's owner column names, `stray` the columns with no header (and those past
    the header's end), where any text is data that slid."""
    if len([c for c in cells if c]) < 2:
        return ShiftRepair(cells)
    misplaced = _misplaced(cells, by_role, known=known) + _strays(cells, stray)
    misplaced += _action_in_grouping(cells, by_role, grouping)
    if not misplaced:
        return ShiftRepair(cells)
    original = (
        _plausibility(cells, by_role, known=known) - 3 * _strays(cells, stray) + _filled(cells, by_role)
    )
    best, best_score, best_shift = cells, original, 0
    tied = 0  # a shift that reads the row as well as it stands: then which is right is anyone's guess
    for shift in (-2, -1, 1, 2):
        moved = _shifted(cells, shift)
        if moved is None:
            continue
        strays = _strays(moved, stray)
        wrong = _misplaced(moved, by_role, known=known) + _action_in_grouping(moved, by_role, grouping)
        if wrong + strays >= misplaced:
            continue
        # Text pushed into an empty grouping column starts a group the plan never wrote.
        grouped = sum(1 for index in grouping if moved[index] and not cells[index])
        score = _plausibility(moved, by_role, known=known) - 3 * strays + _filled(moved, by_role) - grouped
        if score > best_score:
            best, best_score, best_shift = moved, score, shift
        elif score == original and not tied:
            tied = shift
    if best_shift == 0 and not tied:
        if _misplaced(cells, by_role, known=known, strict=True):
            return ShiftRepair(
                cells,
                "An owner's name is under a column for dates or for the action, and moving the cells "
                "does not put it right, so this row was skipped; put its cells under the right headers and "
                "import again.",
                doubtful=True,
            )
        return ShiftRepair(cells)
    best_shift = best_shift or tied
    direction = "right" if best_shift < 0 else "left"
    amount = "one column" if abs(best_shift) == 1 else f"{abs(best_shift)} columns"
    if best_score - original >= 3:
        return ShiftRepair(
            best, f"The cells of this row had slid {amount} to the {direction}; they were moved back."
        )
    return ShiftRepair(
        cells,
        f"The cells of this row seem to have slid {amount} to the {direction}, but I can't tell where "
        "they belong, so it was skipped; put them under the right headers and import again.",
        doubtful=True,
    )


# A reference as plans write them ("LT5", "2.3", "A1"): what a title cell holds when the Ref slid into it.
_REF_LIKE = re.compile(r"^[A-Za-z]{0,4}[-.]?\d+(?:[.-]\d+)*[a-z]?$")


class OwnersElsewhere:
    """Owner keys the plan names in some row other than this one: a row's own slid cell vouches for
    nothing."""

    def __init__(self, counts: Mapping[str, int], here: Collection[str]) -> None:
        self.counts = counts
        self.here = here

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.counts.get(key, 0) - (key in self.here) > 0

    def __iter__(self) -> Iterator[str]:
        return (key for key in self.counts if key in self)


def _action_in_grouping(cells: Sequence[str], by_role: Mapping[Role, Column], grouping: Sequence[int]) -> int:
    """1 when the grouping column just left of the title holds what to do and the title a name: the row
    slid left over its own grouping cell ("Audit the office…" under What, "Health & Safety" under How)."""
    title = by_role.get("title") or by_role.get("action") or by_role.get("how")
    if title is None or title.index - 1 not in grouping:
        return 0
    left, here = cells[title.index - 1], cells[title.index]
    return int(reads_as_action(left) and (not here or named_like(here)))


def _filled(cells: Sequence[str], by_role: Mapping[Role, Column]) -> int:
    """Cells with text under a column we read: a shift that moves text out of them into a grouping column
    or off the edge reads less of the row."""
    return sum(1 for column in by_role.values() if column.index < len(cells) and cells[column.index])


def _strays(cells: Sequence[str], stray: Sequence[int]) -> int:
    return sum(1 for index in stray if index < len(cells) and cells[index])


def _is_owner(value: str, known: Container[str]) -> bool:
    """Whether a cell names owners: each part a post or team, or one the plan names elsewhere; a list the
    plan partly names elsewhere may hold teams no role word gives away ("HR Manager / Internal Comms")."""
    if len(value) <= 12 and parse_rag(value):
        return False  # "G" or "Amber" under Who is a rating that slid, whoever else it names
    parts = hard_parts(value)
    if not parts:
        return False
    named = [owner_key(part) in known or looks_like_role(part) for part in parts]
    if all(named):
        return True
    if any(named):
        return all(named_like(part) for part, ok in zip(parts, named, strict=True) if not ok)
    # "Housing, Policy, Communities and Engagement": a team the plan names elsewhere, and one more; or
    # "Policy, Communities and", a team's name cut short by a page break.
    rest = key = owner_key(value)
    names = sorted(known, key=len, reverse=True) if isinstance(known, Iterable) else []
    if len(key) >= 10 and any(name.startswith(key) for name in names):
        return True
    for name in names:
        if len(name) > 8 and name in rest:
            rest = rest.replace(name, " ")
    if rest == key:
        return False
    left = [piece for piece in re.split(r"[,&/]|\band\b", rest) if piece.strip(" .")]
    return all(len(piece.split()) <= 4 for piece in left)


_MINOR = frozenset({"and", "of", "&", "the", "for", "/", "-", "–"})


def named_like(part: str) -> bool:
    """A short phrase, capitalised, that says neither what to do nor when, as teams are named ("Internal
    Comms", "Health & Safety", "Staff network chairs")."""
    words = part.split()
    return (
        0 < len(words) <= 4
        and not part.endswith(".")
        and words[0][:1].isupper()
        and not reads_as_action(part)
        and interpret_deadline(part).kind == "unknown"
    )


def _misplaced(
    cells: Sequence[str], by_role: Mapping[Role, Column], *, known: Container[str], strict: bool = False
) -> int:
    """Cells plainly in the wrong column: a date or a rating under What, a name under Progress or When.
    `strict`: only a name the plan gives an owner elsewhere, under What or When, which no later mend of
    the row puts right."""
    count = 0
    for role, column in by_role.items():
        value = cells[column.index] if column.index < len(cells) else ""
        if not value:
            continue
        if strict:
            parts = hard_parts(value)
            named = bool(parts) and all(owner_key(part) in known for part in parts)
            # A post's name under When is never its date; under What, "Health and Wellbeing Board" may be.
            count += len(value) <= 80 and (
                (role in ("title", "action", "deadline") and named)
                or (role == "deadline" and _is_owner(value, known))
            )
            continue
        if len(value) > 80:
            count += role == "owner" and reads_as_action(value)
            continue
        # Deadlines and ratings are short; long text is never misplaced into their columns. A list of
        # owners may run longer ("People and Culture Manager/ Director of Grants").
        if len(value) > 24:
            if (
                role in ("title", "action", "description", "progress", "deadline", "rag")
                and _is_owner(value, known)
            ) or (role == "owner" and not _is_owner(value, known) and is_bare_when(value)):
                count += 1
            elif role == "owner" and reads_as_action(value):
                count += 1  # what to do, under Who
            continue
        kind = interpret_deadline(value).kind
        is_date = kind == "dated"
        # "Ongoing" or "Annually" is no owner, though a progress note may well say it.
        is_when = kind != "unknown" and not _is_owner(value, known)
        if (
            (role in ("title", "action", "how", "progress", "owner") and (is_date or parse_rag(value)))
            or (role == "owner" and is_when)
            or (
                role in ("title", "action", "description", "progress", "deadline", "rag")
                and _is_owner(value, known)
            )
            or (role == "deadline" and not is_date and parse_rag(value))
            or (role == "rag" and is_date)
            or (role in ("title", "action") and _REF_LIKE.match(value) and "ref" in by_role)
        ):
            count += 1
    return count


def _plausibility(cells: Sequence[str], by_role: Mapping[Role, Column], *, known: Container[str]) -> int:
    """How well each cell suits its column: dates under When, names under Who, prose under What."""
    score = 0
    for role, column in by_role.items():
        value = cells[column.index] if column.index < len(cells) else ""
        if not value:
            continue
        is_date = len(value) <= 40 and interpret_deadline(value).kind in ("dated", "complete")
        is_owner = _is_owner(value, known)
        if role == "deadline":
            score += 2 if interpret_deadline(value).kind != "unknown" else -2
        elif role == "rag":
            score += 2 if parse_rag(value) else -1
        elif role == "owner":
            score += (
                -2
                if is_date or reads_as_action(value)
                else (2 if is_owner else (1 if named_like(value) else (-1 if len(value) > 120 else 0)))
            )
        elif role in ("title", "action", "how"):
            score += -3 if (is_date or is_owner or parse_rag(value)) else (2 if reads_as_action(value) else 1)
        elif role == "progress" and (is_owner or is_date):
            score -= 2
    return score


def _shifted(cells: list[str], shift: int) -> list[str] | None:
    """Cells moved `shift` places to the right (negative: left), or None if text would fall off an edge."""
    width = len(cells)
    if shift > 0:
        if any(cells[width - shift :]):
            return None
        return [""] * shift + cells[: width - shift]
    shift = -shift
    if any(cells[:shift]):
        return None
    return cells[shift:] + [""] * shift


# ---------------------------------------------------------------- cells that swapped places

_STATUS_WORDS = frozenset(
    {
        "ongoing",
        "on going",
        "in progress",
        "not started",
        "complete",
        "completed",
        "done",
        "on track",
        "delayed",
        "overdue",
        "tbc",
        "tba",
        "n/a",
        "na",
        "achieved",
        "started",
        "not yet started",
        "on hold",
        "closed",
        "open",
        "planned",
        "in hand",
    }
)


def is_bare_when(value: str) -> bool:
    """A cell that opens with when, not who: "Ongoing – update in the annual report", "Q3 2024"."""
    return interpret_deadline(value).kind in ("dated", "ongoing", "recurring", "complete")


def is_bare_date(value: str) -> bool:
    """A cell that is nothing but a date or a period ("31/03/2025", "Q2 2025", "Ongoing")."""
    text = value.strip()
    return (
        bool(text) and len(text) <= 30 and interpret_deadline(text).kind in ("dated", "ongoing", "complete")
    )


def not_a_title(value: str) -> bool:
    """A bare date, period, status word or RAG rating: whatever a title cell holding it meant, it is not an
    action."""
    text = " ".join(value.split()).strip(" .").casefold()
    return bool(text) and (
        text in _STATUS_WORDS
        or is_bare_date(text)
        or (len(text) <= 20 and parse_rag(text) is not None)
        or (len(text) <= 30 and interpret_deadline(text).kind == "recurring")  # "Annually", "Tri-annually"
    )


def date_elsewhere(cells: Sequence[str], columns: Sequence[Column], *, near: int) -> Column | None:
    """The column nearest to `near` whose cell is a bare date, outside the title, owner and ref columns."""
    candidates = [
        column
        for column in columns
        if column.index != near
        and column.role not in ("title", "action", "owner", "ref", "deadline")
        and is_bare_date(cells[column.index])
    ]
    return min(candidates, key=lambda column: abs(column.index - near), default=None)


def prose_elsewhere(cells: Sequence[str], columns: Sequence[Column], *, near: int) -> Column | None:
    """The column nearest to `near` whose cell reads as an action, outside the owner, deadline and RAG
    columns."""
    candidates = [
        column
        for column in columns
        if column.index != near
        and column.role not in ("owner", "deadline", "rag", "ref", "title", "action", "how")
        and len(cells[column.index].split()) >= 3
        and not not_a_title(cells[column.index])
    ]
    return min(candidates, key=lambda column: abs(column.index - near), default=None)


def action_elsewhere(cells: Sequence[str], columns: Sequence[Column], *, near: int) -> Column | None:
    """The column nearest to `near` whose cell says what to do ("Identify training providers…"), among the
    columns a careless export swaps with the title: progress, description, how and outputs."""
    candidates = [
        column
        for column in columns
        if column.index != near
        and column.role in ("progress", "description", "how", "outputs")
        and reads_as_action(cells[column.index])
    ]
    return min(candidates, key=lambda column: abs(column.index - near), default=None)
