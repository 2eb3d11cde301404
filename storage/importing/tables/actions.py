"""Turns the rows of a plan's tables into actions, and every cell it could not interpret into a problem."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date

from storage.importing.headers import Column, Role
from storage.importing.sources import SourceDocument, SourceRow
from storage.importing.tables.finding import find_tables, table_columns
from storage.importing.tables.grouping import (
    Headings,
    carry,
    group_path,
    groups_of,
    headings_above,
    headings_over,
    is_row_heading,
    plan_title,
    spanning_heading,
    title_text,
    with_context,
    with_heading,
)
from storage.importing.tables.parsed import ParsedAction, ParsedPlan, Problem, RowTally, UnusedColumn
from storage.importing.tables.repair import (
    OwnersElsewhere,
    action_elsewhere,
    continues,
    date_elsewhere,
    fit,
    is_bare_date,
    joined_cells,
    not_a_title,
    prose_elsewhere,
    repair_shift,
)
from storage.rules.deadlines import interpret_deadline
from storage.rules.owners import known_owners, looks_like_sentence, split_owners
from storage.rules.rag import parse_rag, rag_in_progress
from storage.rules.wording import reads_as_action, reads_as_report

TITLE_FROM_TEXT_MAX = 160
_PUNCTUATION_ONLY = re.compile(r"^[\W_]*$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


def interpret_document(
    document: SourceDocument, *, overrides: Mapping[str, str] | None = None, today: date | None = None
) -> ParsedPlan:
    """All the actions in a document, with every cell we could not interpret reported by row and column.

    `today` (the import's date) lets "Annually (March)" become the next March; without it such a cell
    is recurring with no date yet.
    """
    tables = find_tables(document, overrides=overrides)
    reader = _PlanReader(overrides or {}, today=today)
    title = plan_title(tables[0].preamble)
    for table in tables:
        headings = headings_above([row for row in table.preamble if row is not title])
        if headings is not None:
            reader.headings = headings
        reader.read_table(table.header, table.body)
    reader.split_all_owners()
    return ParsedPlan(
        name=document.name,
        title=title_text(title) if title is not None else None,
        actions=reader.actions,
        problems=reader.problems,
        unused_columns=[UnusedColumn(header, cells) for header, cells in reader.unused.items()],
        rows=reader.tally,
    )


def _title_from(text: str) -> str:
    first = _SENTENCE_END.split(text.strip(), maxsplit=1)[0].split("\n", 1)[0]
    if len(first) > TITLE_FROM_TEXT_MAX:
        first = first[: TITLE_FROM_TEXT_MAX - 1].rsplit(" ", 1)[0] + "…"
    return first


class _PlanReader:
    """Walks the tables of one document, keeping what carries from row to row and table to table."""

    def __init__(self, overrides: Mapping[str, str], *, today: date | None = None) -> None:
        self.today = today
        self.overrides = overrides
        self.actions: list[ParsedAction] = []
        self.problems: list[Problem] = []
        self.last_report: list[Problem] = []  # what _report said of the last action
        self.headings: Headings = []
        # Heading rows inside a table with a grouping column of its own sit inside the group they are
        # written under (`inner_under`), and end with it.
        self.inner: Headings = []
        self.inner_under: list[str] = []
        self.previous_columns: list[Column] | None = None
        self.owner_counts: Counter[str] = Counter()  # rows naming each owner key, for OwnersElsewhere
        self.unused: dict[str, int] = {}  # header → cells with text, for columns no role claims
        self.tally = RowTally()

    def split_all_owners(self) -> None:
        """Split owner cells once the whole plan is read, so a comma list can be checked against every
        table."""
        known = known_owners(action.owners_text for action in self.actions)
        for action in self.actions:
            split = split_owners(action.owners_text, known=known)
            action.owners = list(split.owners)
            action.warnings.extend(split.warnings)
            if action.owner_header is not None and not action.owners:
                self.problems.append(
                    Problem(
                        action.line,
                        action.owner_header,
                        action.owners_text,
                        "No owner is named, so nobody will be reminded about this action.",
                        action.where,
                    )
                )
        self.problems.sort(key=lambda problem: (problem.where, problem.row))

    # -- one table --------------------------------------------------------------------------------------
    def read_table(self, header: SourceRow, body: Sequence[SourceRow]) -> None:
        width = len(header.cells)
        body = [row for row in body if not row.is_prose]
        columns = table_columns(header, body, previous=self.previous_columns, overrides=self.overrides)
        self.previous_columns = columns
        self.headings = headings_over(self.headings, columns)
        self.inner = []
        own_groups = any(column.role == "group" for column in columns)
        by_role: dict[Role, Column] = {c.role: c for c in columns if c.role is not None and c.role != "group"}
        title_column = by_role.get("title") or by_role.get("action") or by_role.get("how")
        filled = [row for row in body if not all(_PUNCTUATION_ONLY.match(cell) for cell in row.cells)]
        if title_column is None:
            self.tally.rows += len(filled)
            self.tally.reported += len(filled)
            self.problems.append(
                Problem(
                    header.line,
                    "",
                    " | ".join(header.nonempty()),
                    f"This table has no action column; its {len(filled)} rows were skipped.",
                )
            )
            return
        self._note_unused(columns, filled)
        unnamed = [c.index for c in columns if c.role is None and c.header.startswith("Column ")]
        owner_column = by_role.get("owner")
        if owner_column is not None:
            # A date that slid under Who names nobody; its "31", "03" and "2024" must not vouch for owners.
            for row in body:
                cell = row.cell(owner_column.index)
                if not is_bare_date(cell) and not parse_rag(cell):
                    self.owner_counts.update(known_owners([cell]))

        carried: dict[int, str] = {}
        # Grouping cells written in a row of their own and over no action yet, by column.
        waiting: dict[int, tuple[SourceRow, Column]] = {}
        previous: ParsedAction | None = None
        skipped: SourceRow | None = None  # the row before, when it was reported and skipped
        for row in body:
            if all(_PUNCTUATION_ONLY.match(cell) for cell in row.cells):
                continue
            self.tally.rows += 1
            after_skip, skipped = skipped, None
            if row.table != header.table and len(row.cells) != width:
                self.tally.reported += 1
                self._problem(row, "", "", "This row is in a table whose columns I don't recognise; skipped.")
                previous, skipped = None, row
                continue
            # Cells past the header's end, like those under a column with no header, are data that slid.
            full = max(width, len(row.cells))
            cells = fit(row.cells, full)
            here = known_owners([row.cell(owner_column.index)]) if owner_column is not None else set()
            repair = repair_shift(
                cells,
                by_role,
                known=OwnersElsewhere(self.owner_counts, here),
                stray=[*unnamed, *range(width, full)],
                grouping=[c.index for c in columns if c.role == "group"],
            )
            if repair.note is not None:
                self._problem(row, "", " | ".join(c for c in cells if c)[:120], repair.note)
            if repair.doubtful:
                self.tally.reported += 1  # read as it stands, a name could be its title or a date its owner
                previous, skipped = None, row
                continue
            if repair.cells is not cells and not repair.cells[title_column.index]:
                # Put back, the row has no action text: whatever else it holds is no title.
                self.tally.reported += 1
                self._problem(row, title_column.header, "", "Its action text is missing, so it was skipped.")
                previous, skipped = None, row
                continue
            cells = fit(repair.cells, width)
            slid_note = self._mend_swaps(row, cells, columns=columns, by_role=by_role, title=title_column)
            title_text = cells[title_column.index]

            if not title_text and previous is not None and continues(cells, columns):
                self.tally.actions += 1
                self._join_continuation(previous, row, cells, columns)
                continue
            if not title_text and after_skip is not None and continues(cells, columns):
                self.tally.reported += 1
                self._problem(
                    row,
                    "",
                    " | ".join(c for c in cells if c)[:120],
                    f"This row carries on row {after_skip.line}, which was skipped, so it was skipped too.",
                )
                continue
            data_cells = [
                (c, cells[c.index]) for c in columns if cells[c.index] and c.role not in ("group", "context")
            ]
            if not data_cells:
                self.tally.headings += 1
                self._replaced(waiting, cells, columns=columns, carried=carried)
                for column in columns:
                    text = cells[column.index]
                    if (
                        column.role not in ("group", "context")
                        or not text
                        or text == carried.get(column.index)
                    ):
                        continue
                    waiting[column.index] = (row, column)
                    if column.role == "group" and reads_as_action(text):
                        # An objective says what to do too, but with its first action beside it: alone, it
                        # may be an action that slid over its grouping cell.
                        self._problem(
                            row,
                            column.header,
                            text,
                            f"'{_short(text)}' is alone in its row under {column.header}, so it was read "
                            "as a heading for the rows below it; if it is an action, give it its own row.",
                        )
                carry(cells, columns, carried)
                continue
            spanning = spanning_heading(cells, columns=columns, title_column=title_column)
            if spanning is not None:
                self.tally.headings += 1
                self._add_heading(spanning, own_groups=own_groups, columns=columns, carried=carried)
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
                    self.tally.reported += 1
                    dated = next(((c, t) for c, t in data_cells if is_bare_date(t)), None)
                    column, text = dated or data_cells[0]
                    message = (
                        "This row has a date but no action text" if dated else "This row has no action text"
                    )
                    self._problem(row, column.header, text, f"{message}, so it was skipped.")
                    previous, skipped = None, row
                    continue
            if is_row_heading(
                cells, columns=columns, title_column=title_column, data_cells=data_cells, carried=carried
            ):
                self.tally.headings += 1
                self._add_heading(title_text, own_groups=own_groups, columns=columns, carried=carried)
                self._problem(
                    row,
                    title_column.header,
                    title_text,
                    "No owner or deadline, so this was read as a heading for the rows below it.",
                )
                continue
            self._replaced(waiting, cells, columns=columns, carried=carried)
            waiting.clear()
            carry(cells, columns, carried)
            self.tally.actions += 1
            previous = self._action(row, cells, columns, carried)
            if slid_note:
                previous.progress = f"{previous.progress}\n{slid_note}" if previous.progress else slid_note
            self.actions.append(previous)
        self._replaced(waiting, None, columns=columns, carried=carried)

    def _add_heading(
        self, text: str, *, own_groups: bool, columns: Sequence[Column], carried: Mapping[int, str]
    ) -> None:
        """A heading row inside a table: over the rows below it, or a section of the table's own group."""
        if own_groups:
            under = groups_of(columns, carried)
            inner = self.inner if under == self.inner_under else []
            self.inner = with_heading(inner, text, unlabelled="section")
            self.inner_under = under
        else:
            self.headings = with_heading(self.headings, text)

    def _replaced(
        self,
        waiting: dict[int, tuple[SourceRow, Column]],
        cells: Sequence[str] | None,
        *,
        columns: Sequence[Column],
        carried: Mapping[int, str],
    ) -> None:
        """Report the grouping rows that head no action: a new grouping cell in `cells` (None: the table
        ended) replaces those waiting in its column and the deeper ones, before any action used them."""
        if cells is None:
            start = 0
        else:
            new = [
                c.index
                for c in columns
                if c.role in ("group", "context")
                and cells[c.index]
                and cells[c.index] != carried.get(c.index)
            ]
            if not new:
                return
            start = min(new)
        for index in [index for index in waiting if index >= start]:
            row, column = waiting.pop(index)
            self.tally.headings -= 1
            self.tally.reported += 1
            text = row.cell(column.index)
            self._problem(
                row,
                column.header,
                text,
                f"'{_short(text)}' is alone in its row and heads no action below it, so it was not used.",
            )

    def _note_unused(self, columns: Sequence[Column], body: Sequence[SourceRow]) -> None:
        """Count the cells of columns no role claims, for the summary's "not used" list."""
        for column in columns:
            if column.role is not None:
                continue
            cells = sum(1 for row in body if row.cell(column.index).strip())
            if cells:
                self.unused[column.header] = self.unused.get(column.header, 0) + cells

    def _mend_swaps(
        self,
        row: SourceRow,
        cells: list[str],
        *,
        columns: Sequence[Column],
        by_role: Mapping[Role, Column],
        title: Column,
    ) -> str | None:
        """Put back cells a careless export swapped; returns an owner cell that reads as a sentence, if any.

        A title is never a bare date, status or rating; a deadline with no date whose neighbour holds
        one takes it; an "owner" that reads as a sentence is a progress note that slid over.
        """
        deadline = by_role.get("deadline")
        written = cells[title.index]
        if not_a_title(written):
            prose = prose_elsewhere(cells, columns, near=title.index)
            if (
                deadline is not None
                and is_bare_date(written)
                and not is_bare_date(cells[deadline.index])
                and (not cells[deadline.index] or prose is not None)
            ):
                cells[deadline.index], cells[title.index] = written, cells[deadline.index]
            if prose is not None:
                cells[title.index], cells[prose.index] = cells[prose.index], cells[title.index]
                self._problem(
                    row,
                    title.header,
                    written,
                    f"'{_short(written)}' is not an action; the action text was under {prose.header}, "
                    "so the cells were put back.",
                )
            else:
                if cells[title.index] == written:
                    cells[title.index] = ""
                self._problem(
                    row,
                    title.header,
                    written,
                    f"'{_short(written)}' is not an action, so it was not used as the title.",
                )
        self._mend_report_as_title(row, cells, columns=columns, title=title)
        if deadline is not None:
            when = cells[deadline.index]
            if when and interpret_deadline(when).kind == "unknown":
                dated = date_elsewhere(cells, columns, near=deadline.index)
                if dated is not None:
                    cells[deadline.index], cells[dated.index] = cells[dated.index], when
                    self._problem(
                        row,
                        deadline.header,
                        when,
                        f"The date was under {dated.header}, and this text under {deadline.header}; "
                        "they were swapped.",
                    )
        owner = by_role.get("owner")
        if owner is not None and is_bare_date(cells[owner.index]):
            when = cells[owner.index]
            if deadline is not None and not cells[deadline.index]:
                cells[deadline.index], cells[owner.index] = when, ""
                moved = f"it was moved to {deadline.header}"
            else:
                cells[owner.index] = ""
                moved = "it was not used as an owner"
            self._problem(row, owner.header, when, f"'{_short(when)}' is a date, not an owner; {moved}.")
        if owner is not None and looks_like_sentence(cells[owner.index]):
            sentence, cells[owner.index] = cells[owner.index], ""
            self._problem(
                row,
                owner.header,
                sentence,
                f"'{_short(sentence)}' reads as a sentence, not an owner; it was kept as a progress note.",
            )
            return sentence
        return None

    def _mend_report_as_title(
        self, row: SourceRow, cells: list[str], *, columns: Sequence[Column], title: Column
    ) -> None:
        """A progress note under the title ("Providers have been identified") swaps with the action text
        when the row holds one elsewhere ("Identify providers…" under Progress); else the row is reported,
        so a report is never taken for the action without a word."""
        written = cells[title.index]
        if not reads_as_report(written):
            return
        action = action_elsewhere(cells, columns, near=title.index)
        if action is not None:
            cells[title.index], cells[action.index] = cells[action.index], written
            outcome = f"the action text was under {action.header}, so the cells were swapped"
        else:
            outcome = "check this row says what is to be done"
        self._problem(
            row,
            title.header,
            written,
            f"'{_short(written)}' reads as a progress note, not an action; {outcome}.",
        )

    # -- rows -------------------------------------------------------------------------------------------
    def _join_continuation(
        self, previous: ParsedAction, row: SourceRow, cells: list[str], columns: Sequence[Column]
    ) -> None:
        """A row split by a page break: its cells finish the previous row's cells."""
        merged, raw = joined_cells(previous, row, cells, columns)
        rebuilt = self._action_from_cells(
            cells=merged,
            raw=raw,
            columns=columns,
            group_path=previous.group_path,
            line=previous.line,
            where=previous.where,
        )
        place = f"{row.where}, row {row.line}" if row.where else f"line {row.line}"
        rebuilt.warnings.append(f"Continued on the next page ({place}); the two parts were joined.")
        self.actions[-1] = rebuilt
        # The first part's unread deadline or rating is read again whole; what else was said of it stands.
        said = {id(problem) for problem in self.last_report}
        self.problems = [problem for problem in self.problems if id(problem) not in said]
        self._report(rebuilt, columns=columns)

    def _action(
        self, row: SourceRow, cells: list[str], columns: Sequence[Column], carried: dict[int, str]
    ) -> ParsedAction:
        raw = {column.header: row.raw_cell(column.index) for column in columns}
        action = self._action_from_cells(
            cells=with_context(cells, columns, carried),
            raw=raw,
            columns=columns,
            group_path=group_path(
                self.headings,
                columns,
                carried,
                inner=self.inner if groups_of(columns, carried) == self.inner_under else [],
            ),
            line=row.line,
            where=row.where,
        )
        self._report(action, columns=columns)
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

    def _report(self, action: ParsedAction, *, columns: Sequence[Column]) -> None:
        """Problems a plan owner should hear about: a deadline or rating we could not read (kept in
        `last_report`, for a continuation row to say again of the whole action)."""
        first = len(self.problems)
        self._report_cells(action, columns=columns)
        self.last_report = self.problems[first:]

    def _report_cells(self, action: ParsedAction, *, columns: Sequence[Column]) -> None:
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
                Problem(
                    action.line,
                    rag_header,
                    written,
                    f"'{_short(written)}' is not a RAG rating (use Red, Amber, Green, or Blue for done).",
                    where,
                )
            )

    def _problem(self, row: SourceRow, column: str, text: str, message: str) -> None:
        self.problems.append(Problem(row.line, column, text, message, row.where))


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "…"
