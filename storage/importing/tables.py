"""Reads the actions out of a plan's rows: finds headers, carries groups down, repairs slips, reports the rest."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from storage.importing.errors import ColumnMappingError
from storage.importing.headers import (
    Column,
    Role,
    looks_like_header,
    map_columns,
    unrecognised_message,
)
from storage.importing.sources import SourceDocument, SourceRow
from storage.rules.deadlines import Deadline, interpret_deadline
from storage.rules.owners import hard_parts, known_owners, owner_key, split_owners
from storage.rules.rag import Rag, parse_rag, rag_in_progress

HEADING_MAX = 150
LABELLED_HEADING_MAX = 400
TITLE_FROM_TEXT_MAX = 160
_LABEL = re.compile(
    r"^(theme|objective|priority|pillar|outcome|aim|goal|focus|section)\s*\d*\s*[:\-–]\s*", re.IGNORECASE
)
_PUNCTUATION_ONLY = re.compile(r"^[\W_]*$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")
_TEXT_ROLES: tuple[Role, ...] = ("title", "action", "description", "how", "outputs", "progress")


@dataclass(frozen=True)
class Problem:
    """A cell we could not interpret, said for the plan owner."""

    row: int
    column: str
    text: str
    message: str
    where: str = ""


@dataclass
class ParsedAction:
    title: str
    group_path: list[tuple[str, str]]  # (level, value), outermost first
    deadline: Deadline
    owners: list[str]
    owners_text: str
    cells: dict[str, str]  # cleaned text the interpretation read, by header
    raw_cells: dict[str, str]  # every cell exactly as the file had it, by header
    line: int
    where: str
    source_ref: str | None = None
    description: str | None = None
    how: str | None = None
    outputs: str | None = None
    progress: str | None = None
    rag: Rag | None = None
    owner_header: str | None = None  # the owner column's header, when the table has one
    warnings: list[str] = field(default_factory=list)

    @property
    def theme(self) -> str | None:
        return self.group_path[0][1] if self.group_path else None

    @property
    def location(self) -> str:
        return f"{self.where}, row {self.line}" if self.where else f"row {self.line}"


@dataclass
class ParsedPlan:
    name: str
    title: str | None
    actions: list[ParsedAction]
    problems: list[Problem]


def interpret_document(
    document: SourceDocument, *, overrides: Mapping[str, str] | None = None, today: date | None = None
) -> ParsedPlan:
    """All the actions in a document, with every cell we could not interpret reported by row and column.

    `today` (the import's date) lets "Annually (March)" become the next March; without it such a cell
    is recurring with no date yet.
    """
    rows = list(document.rows)
    header_at = [
        i
        for i, row in enumerate(rows)
        if not row.is_prose and looks_like_header(row.cells, overrides=overrides)
    ]
    if not header_at:
        candidates = [row.cells for row in rows if not row.is_prose and len(row.nonempty()) >= 2]
        raise ColumnMappingError(unrecognised_message(candidates, document.name))

    reader = _PlanReader(document, overrides or {}, today=today)
    for number, start in enumerate(header_at):
        end = header_at[number + 1] if number + 1 < len(header_at) else len(rows)
        preamble_start = _preamble_start(rows, start, floor=header_at[number - 1] + 1 if number else 0)
        reader.set_headings(rows[preamble_start:start])
        body_end = _preamble_start(rows, end, floor=start + 1) if end < len(rows) else end
        reader.read_table(rows[start], rows[start + 1 : body_end])
    reader.split_all_owners()
    return ParsedPlan(
        name=document.name, title=_document_title(rows), actions=reader.actions, problems=reader.problems
    )


def _is_heading_like(row: SourceRow) -> bool:
    return row.is_prose or len(row.nonempty()) <= 1


def _preamble_start(rows: Sequence[SourceRow], header: int, *, floor: int) -> int:
    """Where the run of prose and one-cell rows just above a header begins (its headings, its intro)."""
    start = header
    while start > floor and _is_heading_like(rows[start - 1]):
        start -= 1
    return start


def _document_title(rows: Sequence[SourceRow]) -> str | None:
    for row in rows[:20]:
        text = " ".join(row.nonempty()).lstrip("# ").strip()
        if text and len(text) <= HEADING_MAX:
            return text
    return None


def _heading_level(text: str) -> tuple[str, str]:
    match = _LABEL.match(text)
    if match:
        level = match.group(1).casefold()
        return ("theme" if level == "section" else level), text[match.end() :].strip()
    return "theme", text


def _title_from(text: str) -> str:
    first = _SENTENCE_END.split(text.strip(), maxsplit=1)[0].split("\n", 1)[0]
    if len(first) > TITLE_FROM_TEXT_MAX:
        first = first[: TITLE_FROM_TEXT_MAX - 1].rsplit(" ", 1)[0] + "…"
    return first


class _PlanReader:
    """Walks the tables of one document, keeping what carries from row to row and table to table."""

    def __init__(
        self, document: SourceDocument, overrides: Mapping[str, str], *, today: date | None = None
    ) -> None:
        self.today = today
        self.document = document
        self.overrides = overrides
        self.actions: list[ParsedAction] = []
        self.problems: list[Problem] = []
        self.headings: list[tuple[str, str]] = []
        self.previous_columns: list[Column] | None = None
        self.known: set[str] = set()

    def split_all_owners(self) -> None:
        """Split owner cells once the whole plan is read, so a comma list can be checked against every table."""
        known = known_owners(action.owners_text for action in self.actions)
        for action in self.actions:
            split = split_owners(action.owners_text, known=known)
            action.owners = list(split.owners)
            action.warnings.extend(split.warnings)
            if action.owner_header is not None and not action.owners:
                self.problems.append(
                    Problem(action.line, action.owner_header, action.owners_text,
                            "No owner is named, so nobody will be reminded about this action.", action.where)
                )  # fmt: skip
        self.problems.sort(key=lambda problem: (problem.where, problem.row))

    # -- headings ---------------------------------------------------------------------------------------
    def set_headings(self, preamble: Sequence[SourceRow]) -> None:
        """Headings above a table replace those of the table before; none keeps them (a repeated header)."""
        found: dict[str, str] = {}
        for row in preamble:
            text = " ".join(row.nonempty())
            labelled = bool(_LABEL.match(text))
            # An "Objective: …" row may run long; an unlabelled heading is short and one line.
            too_long = len(text) > (LABELLED_HEADING_MAX if labelled else HEADING_MAX)
            if not text or text.startswith("#") or too_long or ("\n" in text and not labelled):
                continue
            if text.endswith(":") and not labelled:
                continue
            level, value = _heading_level(text)
            if level == "theme":
                found = {"theme": value}  # the nearest unlabelled heading wins; deeper ones restart
            else:
                found[level] = value
        if found:
            self.headings = list(found.items())

    # -- one table --------------------------------------------------------------------------------------
    def read_table(self, header: SourceRow, body: Sequence[SourceRow]) -> None:
        width = len(header.cells)
        columns = map_columns(header.cells, overrides=self.overrides)
        body = [row for row in body if not row.is_prose]
        columns = self._fill_blank_headers(columns, body)
        columns = _demote_sparse_action(columns, body)
        self.previous_columns = columns
        by_role: dict[Role, Column] = {c.role: c for c in columns if c.role is not None and c.role != "group"}
        if "title" not in by_role and "action" not in by_role and "how" not in by_role:
            self.problems.append(
                Problem(
                    header.line,
                    "",
                    " | ".join(header.nonempty()),
                    "This table has no action column; skipped.",
                )
            )
            return
        owner_column = by_role.get("owner")
        if owner_column is not None:
            self.known |= known_owners(_cell(row, owner_column.index) for row in body)

        carried: dict[int, str] = {}
        previous: ParsedAction | None = None
        for row in body:
            if row.table != header.table and len(row.cells) != width:
                self._problem(row, "", "", "This row is in a table whose columns I don't recognise; skipped.")
                continue
            cells = _fit(row.cells, width)
            if all(_PUNCTUATION_ONLY.match(cell) for cell in cells):
                continue
            cells = self._repair_shift(row, cells, columns, by_role)
            title_column = by_role.get("title") or by_role.get("action") or by_role.get("how")
            assert title_column is not None
            title_text = cells[title_column.index]

            if not title_text and previous is not None and _continues(cells, columns):
                self._merge_continuation(previous, row, cells, columns)
                continue
            data_cells = [
                (c, cells[c.index]) for c in columns if cells[c.index] and c.role not in ("group", "context")
            ]
            if not data_cells:
                self._carry(cells, columns, carried)
                continue
            if not title_text:
                fallback = next(
                    (
                        cells[c.index]
                        for c in columns
                        if c.role in ("description", "how", "context") and cells[c.index]
                    ),
                    "",
                )
                if not fallback:
                    column, text = data_cells[0]
                    self._problem(row, column.header, text, "This row has no action text, so it was skipped.")
                    continue
            if (
                len(data_cells) == 1
                and data_cells[0][0] is title_column
                and not any(
                    cells[c.index] and cells[c.index] != carried.get(c.index)
                    for c in columns
                    if c.role in ("group", "context")
                )
                and len(title_text) <= 100
                and not title_text.endswith(".")
            ):
                self._apply_heading(*_heading_level(title_text))
                self._problem(
                    row, title_column.header, title_text,
                    "No owner or deadline, so this was read as a heading for the rows below it.",
                )  # fmt: skip
                continue
            self._carry(cells, columns, carried)
            previous = self._action(row, cells, columns, carried, title_column)
            self.actions.append(previous)

    def _fill_blank_headers(self, columns: list[Column], body: Sequence[SourceRow]) -> list[Column]:
        """A column with no header takes its role from the table before, or from what its cells hold."""
        claimed = {c.role for c in columns if c.role}
        filled: list[Column] = []
        for column in columns:
            if column.role is None and column.header.startswith("Column "):
                guess = self._guess_role(column, body, claimed)
                if guess is not None:
                    role, level = guess
                    column = Column(column.index, column.header, role, level)
                    claimed.add(role)
            filled.append(column)
        return filled

    def _guess_role(
        self, column: Column, body: Sequence[SourceRow], claimed: set[Role]
    ) -> tuple[Role, str | None] | None:
        previous = self.previous_columns
        if previous is not None and column.index < len(previous):
            before = previous[column.index]
            if before.role is not None and before.role not in claimed:
                return before.role, before.level
        values = [_cell(row, column.index) for row in body]
        values = [value for value in values if value]
        if len(values) < 2:
            return None
        dated = sum(1 for value in values if interpret_deadline(value).kind != "unknown")
        if "deadline" not in claimed and dated * 10 >= len(values) * 6:
            return "deadline", None
        rated = sum(1 for value in values if parse_rag(value))
        if "rag" not in claimed and rated * 10 >= len(values) * 6:
            return "rag", None
        return None

    # -- rows -------------------------------------------------------------------------------------------
    def _carry(self, cells: list[str], columns: Sequence[Column], carried: dict[int, str]) -> None:
        """Grouping cells left blank mean "same as above", as merged cells do; a new value resets those right of it."""
        for column in columns:
            if column.role not in ("group", "context"):
                continue
            value = cells[column.index]
            if value and carried.get(column.index) != value:
                carried[column.index] = value
                for deeper in columns:
                    later = deeper.index > column.index and deeper.role in ("group", "context")
                    if later and not cells[deeper.index]:
                        carried.pop(deeper.index, None)

    def _merge_continuation(
        self, previous: ParsedAction, row: SourceRow, cells: list[str], columns: Sequence[Column]
    ) -> None:
        """A row split by a page break: its cells finish the previous row's cells."""
        merged = dict(previous.cells)
        raw = dict(previous.raw_cells)
        for column in columns:
            text = cells[column.index]
            if not text or column.role in ("group", "context"):
                continue
            merged[column.header] = _join_continued(merged.get(column.header, ""), text)
            raw[column.header] = _join_continued(raw.get(column.header, ""), _cell_raw(row, column.index))
        rebuilt = self._action_from_cells(
            cells=[merged.get(c.header, "") for c in columns], raw=raw, columns=columns,
            group_path=previous.group_path, line=previous.line, where=previous.where,
        )  # fmt: skip
        place = f"{row.where}, row {row.line}" if row.where else f"line {row.line}"
        rebuilt.warnings.append(f"Continued on the next page ({place}); the two parts were joined.")
        self.actions[-1] = rebuilt
        self._drop_problems_for(previous.line)
        self._report(rebuilt, row=None, columns=columns)

    def _drop_problems_for(self, line: int) -> None:
        self.problems = [p for p in self.problems if p.row != line]

    def _action(
        self,
        row: SourceRow,
        cells: list[str],
        columns: Sequence[Column],
        carried: dict[int, str],
        title_column: Column,
    ) -> ParsedAction:
        group_path = list(self.headings)
        for column in columns:
            if column.role == "group" and carried.get(column.index):
                group_path.append((column.level or "group", carried[column.index]))
        filled = list(cells)
        for column in columns:
            if column.role == "context" and not filled[column.index]:
                filled[column.index] = carried.get(column.index, "")
        raw = {column.header: _cell_raw(row, column.index) for column in columns}
        action = self._action_from_cells(
            cells=filled, raw=raw, columns=columns, group_path=group_path, line=row.line, where=row.where
        )
        self._report(action, row=row, columns=columns)
        return action

    def _action_from_cells(
        self,
        *,
        cells: Sequence[str],
        raw: Mapping[str, str],
        columns: Sequence[Column],
        group_path: list[tuple[str, str]],
        line: int,
        where: str,
    ) -> ParsedAction:
        def text(role: Role) -> str | None:
            for column in columns:
                if column.role == role and cells[column.index]:
                    return cells[column.index]
            return None

        warnings: list[str] = []
        title = text("title") or text("action") or text("how")
        how = text("how") if (text("title") or text("action")) else None
        description = text("description") or text("context")
        if title is None:
            title = _title_from(description or text("how") or "")
            warnings.append("This row had no action title, so its first sentence is used as the title.")
        owners_text = text("owner") or ""
        deadline_text = text("deadline") or ""
        deadline = interpret_deadline(deadline_text, today=self.today)
        warnings.extend(deadline.warnings)
        progress = text("progress")
        rag_text = text("rag")
        rag = parse_rag(rag_text) if rag_text else None
        if rag is None and progress:
            rag = rag_in_progress(progress)
        return ParsedAction(
            title=title,
            group_path=group_path,
            deadline=deadline,
            owners=[],  # split once the whole plan is read: see split_all_owners
            owner_header=next((c.header for c in columns if c.role == "owner"), None),
            owners_text=owners_text,
            cells={column.header: cells[column.index] for column in columns if cells[column.index]},
            raw_cells={header: text for header, text in raw.items() if text},
            line=line,
            where=where,
            source_ref=text("ref"),
            description=description,
            how=how,
            outputs=text("outputs"),
            progress=progress,
            rag=rag,
            warnings=warnings,
        )

    def _report(self, action: ParsedAction, *, row: SourceRow | None, columns: Sequence[Column]) -> None:
        """Problems a plan owner should hear about: a deadline or rating we could not read."""
        header = {c.role: c.header for c in columns if c.role}
        where = action.where
        if "deadline" in header and action.deadline.kind == "unknown":
            written = action.deadline.text.strip()
            if not written:
                message = "No deadline is given; the owner will be asked to set one."
            else:
                reason = (
                    action.deadline.warnings[0]
                    if action.deadline.warnings
                    else (f"'{_short(written)}' is not a date I understand; kept as text")
                )
                message = f"{reason.rstrip('.')}; the owner will be asked to set a date."
            self.problems.append(Problem(action.line, header["deadline"], written, message, where))
        rag_header = header.get("rag")
        if rag_header and action.raw_cells.get(rag_header) and action.rag is None:
            written = action.raw_cells[rag_header]
            self.problems.append(
                Problem(action.line, rag_header, written,
                        f"'{_short(written)}' is not a RAG rating (use Red, Amber, Green, or Blue for done).", where)
            )  # fmt: skip

    def _apply_heading(self, level: str, value: str) -> None:
        if level == "theme" or not self.headings:
            self.headings = [(level, value)]
        else:
            self.headings = [*[h for h in self.headings if h[0] != level], (level, value)]

    def _problem(self, row: SourceRow, column: str, text: str, message: str) -> None:
        self.problems.append(Problem(row.line, column, text, message, row.where))

    # -- shifted rows -----------------------------------------------------------------------------------
    def _repair_shift(
        self,
        row: SourceRow,
        cells: list[str],
        columns: Sequence[Column],
        by_role: Mapping[Role, Column],
    ) -> list[str]:
        """Put back a row whose cells slid sideways in a careless export, when the intent is clear."""
        if len([c for c in cells if c]) < 2:
            return cells
        misplaced = self._misplaced(cells, by_role)
        if not misplaced:
            return cells
        original = self._plausibility(cells, by_role)
        best, best_score, best_shift = cells, original, 0
        for shift in (-2, -1, 1, 2):
            moved = _shifted(cells, shift)
            if moved is None or self._misplaced(moved, by_role) >= misplaced:
                continue
            score = self._plausibility(moved, by_role)
            if score > best_score:
                best, best_score, best_shift = moved, score, shift
        if best_shift == 0:
            return cells
        direction = "right" if best_shift < 0 else "left"
        amount = "one column" if abs(best_shift) == 1 else f"{abs(best_shift)} columns"
        if best_score - original >= 3:
            self._problem(
                row, "", " | ".join(c for c in cells if c)[:120],
                f"The cells of this row had slid {amount} to the {direction}; they were moved back.",
            )  # fmt: skip
            return best
        self._problem(
            row, "", " | ".join(c for c in cells if c)[:120],
            f"The cells of this row may have slid {amount} to the {direction}; please check it.",
        )  # fmt: skip
        return cells

    def _is_owner(self, value: str) -> bool:
        parts = hard_parts(value)
        return bool(parts) and all(owner_key(part) in self.known for part in parts)

    def _misplaced(self, cells: Sequence[str], by_role: Mapping[Role, Column]) -> int:
        """Cells plainly in the wrong column: a date or a rating under What, a name under Progress or When."""
        count = 0
        for role, column in by_role.items():
            value = cells[column.index] if column.index < len(cells) else ""
            # Deadlines, ratings and names are short; long text is never misplaced into their columns.
            if not value or len(value) > 24:
                continue
            is_date = interpret_deadline(value).kind == "dated"
            if (
                role in ("title", "action", "how", "progress", "owner") and (is_date or parse_rag(value))
            ) or (role in ("title", "action", "progress", "deadline", "rag") and self._is_owner(value)):
                count += 1
        return count

    def _plausibility(self, cells: Sequence[str], by_role: Mapping[Role, Column]) -> int:
        """How well each cell suits its column: dates under When, names under Who, prose under What."""
        score = 0
        for role, column in by_role.items():
            value = cells[column.index] if column.index < len(cells) else ""
            if not value:
                continue
            is_date = len(value) <= 40 and interpret_deadline(value).kind in ("dated", "complete")
            is_owner = self._is_owner(value)
            if role == "deadline":
                score += 2 if interpret_deadline(value).kind != "unknown" else -2
            elif role == "rag":
                score += 2 if parse_rag(value) else -1
            elif role == "owner":
                score += -2 if is_date else (2 if is_owner else (-1 if len(value) > 120 else 0))
            elif role in ("title", "action", "how"):
                score += -3 if (is_date or is_owner or parse_rag(value)) else 1
            elif role == "progress" and (is_owner or is_date):
                score -= 2
        return score


def _continues(cells: Sequence[str], columns: Sequence[Column]) -> bool:
    """A row with no title whose first words carry on a sentence ("week. Internal…", "are informed…")."""
    for column in columns:
        if column.role in ("group", "context"):
            continue
        text = cells[column.index].lstrip("•·-– ")
        if text:
            return text[0].islower()
    return False


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


def _fit(cells: Sequence[str], width: int) -> list[str]:
    fitted = list(cells[:width])
    overflow = [cell for cell in cells[width:] if cell]
    if overflow:
        fitted[-1] = "\n".join([fitted[-1], *overflow]).strip()
    return fitted + [""] * (width - len(fitted))


def _cell(row: SourceRow, index: int) -> str:
    return row.cells[index] if index < len(row.cells) else ""


def _cell_raw(row: SourceRow, index: int) -> str:
    return row.raw[index] if index < len(row.raw) else ""


def _join_continued(before: str, after: str) -> str:
    """Join two halves of a cell split by a page break: mid-sentence with a space, else a new line."""
    if not before or before.strip() == after.strip():
        return before or after
    joiner = " " if not before.rstrip().endswith((".", "!", "?", ":", ">")) else "\n"
    return f"{before.rstrip()}{joiner}{after.lstrip()}"


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "…"


def _demote_sparse_action(columns: list[Column], body: Sequence[SourceRow]) -> list[Column]:
    """A "What" column written once per several "How" rows is an objective; the How rows are the actions.

    (Local Trust's plan: What | How | Who | When, with What merged down over its Hows.)
    """
    action = next((c for c in columns if c.role == "action"), None)
    how = next((c for c in columns if c.role in ("how", "description")), None)
    if action is None or how is None or any(c.role == "title" for c in columns):
        return columns
    rows = [row for row in body if _cell(row, how.index)]
    if len(rows) < 3:
        return columns
    # Blank in a text extract, repeated where a Word or Excel merge copied it down: either way, "same as above".
    repeated = sum(
        1
        for before, row in zip([None, *rows], rows, strict=False)
        if not _cell(row, action.index)
        or (before is not None and _cell(before, action.index) == _cell(row, action.index))
    )
    if repeated * 4 < len(rows):
        return columns
    demoted: list[Column] = []
    for column in columns:
        if column is action:
            column = Column(column.index, column.header, "group", "objective")
        elif column is how:
            column = Column(column.index, column.header, "action")
        demoted.append(column)
    return demoted
