"""What interpreting a plan produces: its actions, each with the cells it came from, and the problems
found."""

from __future__ import annotations

from dataclasses import dataclass, field

from storage.rules.deadlines import Deadline
from storage.rules.rag import Rag


@dataclass(frozen=True, slots=True)
class Problem:
    """A cell we could not interpret, said for the plan owner."""

    row: int
    column: str
    text: str
    message: str
    where: str = ""


@dataclass(slots=True)
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


@dataclass(frozen=True, slots=True)
class UnusedColumn:
    """A column with text in it that no role claims: said in the summary so nothing is dropped unseen."""

    header: str
    cells: int


@dataclass(slots=True)
class RowTally:
    """What became of each non-blank row of the plan's tables: every one is counted exactly once."""

    rows: int = 0
    actions: int = 0  # rows read as an action, or joined to the one above (a row split by a page break)
    headings: int = 0  # rows read as a heading or a grouping cell for the rows below
    reported: int = 0  # rows skipped and reported as a problem


@dataclass
class ParsedPlan:
    name: str
    title: str | None
    actions: list[ParsedAction]
    problems: list[Problem]
    unused_columns: list[UnusedColumn] = field(default_factory=list)
    rows: RowTally = field(default_factory=RowTally)
