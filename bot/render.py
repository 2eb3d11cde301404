"""How the command line shows imports and actions to a person: rich tables and plain sentences."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, tzinfo
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from handlers.cards import changed_by, describe_deadline
from storage.importing.service import ImportResult, action_json
from storage.models import Action, HistoryEntry
from storage.rules.owners import list_owners


def print_import(out: Console, result: ImportResult) -> None:
    """The actions grouped under their themes, then the summary and every cell that needs a look."""
    table = Table(title=f"{result.plan}: {plural(len(result.actions), 'action')}", expand=False)
    table.add_column("Ref", no_wrap=True)
    table.add_column("Action", ratio=3, overflow="fold")
    table.add_column("Owners", ratio=2, overflow="fold")
    table.add_column("When → understood as", ratio=2, overflow="fold")
    table.add_column("RAG", no_wrap=True)
    theme: str | None = None
    for action in result.actions:
        if action["theme"] != theme:
            theme = action["theme"]
            table.add_row("", f"[bold]{escape(theme or 'No theme')}[/bold]", end_section=False)
        table.add_row(
            action["ref"],
            escape(clip(action["title"], 90)),
            escape("\n".join(action["owners"])),
            escape(f"{clip(action['deadline_text'], 30) or '(blank)'} → {understood(action)}"),
            action["rag"] or "",
        )
    out.print(table)
    summary = result.summary
    verb = "Would change" if result.dry_run else "Changed"
    out.print(
        f"{verb}: {summary.added} added, {summary.changed} changed, {summary.unchanged} unchanged, "
        f"{summary.archived} archived." + (" (dry run: nothing was saved)" if result.dry_run else ""),
        soft_wrap=True,
    )
    out.print(
        f"Read {summary.rows} rows: {summary.rows_as_actions} as actions, {summary.rows_as_headings} as "
        f"headings, {summary.rows_reported} reported below.",
        soft_wrap=True,
    )
    if summary.not_used_line:
        out.print(summary.not_used_line, markup=False, highlight=False, soft_wrap=True)
    notes = notes_by_kind(result.actions)
    count = len(result.problems) + sum(len(found) for found in notes.values())
    if count:
        out.print(f"\n{count} cells need a look:")
    for problem in result.problems:
        place = f"{problem.where}, row {problem.row}" if problem.where else f"Row {problem.row}"
        column = f", {problem.column}" if problem.column else ""
        out.print(f"  {place}{column}: {problem.message}", markup=False, highlight=False, soft_wrap=True)
    for kind, found in notes.items():
        out.print(f"  {kind} ({len(found)}):", markup=False, highlight=False)
        for ref, warning in found:
            out.print(f"    {ref}: {warning}", markup=False, highlight=False, soft_wrap=True)


# Each kind of note an import leaves on an action, by a phrase of its sentence; the rest are deadline
# readings.
_NOTE_KINDS = (
    ("can mean", "Words read one of two ways"),
    ("names several dates", "Several dates in one cell, the earliest taken"),
    ("first sentence is used as the title", "Titles taken from the first sentence"),
    ("kept as one owner", "Owners kept together"),
    ("Continued on the next page", "Rows joined across a page break"),
)
_OTHER_NOTES = "Deadlines read with a caveat"


def notes_by_kind(actions: Sequence[dict[str, Any]]) -> dict[str, list[tuple[str, str]]]:
    """Every note the import left on an action (the readings `show` and `--json` give), by kind."""
    found: dict[str, list[tuple[str, str]]] = {}
    for action in actions:
        for warning in action["warnings"]:
            # A deadline kept as text is already among the problems, with what the owner will be asked.
            if action["kind"] == "unknown" and "kept as text" in warning:
                continue
            kind = next((kind for phrase, kind in _NOTE_KINDS if phrase in warning), _OTHER_NOTES)
            found.setdefault(kind, []).append((action["ref"], warning))
    return found


def understood(action: dict[str, Any]) -> str:
    """The JSON form of an action's deadline, in the same words chat uses."""
    start, due = action["start_date"], action["due_date"]
    return describe_deadline(
        action["kind"],
        start=date.fromisoformat(start) if start else None,
        due=date.fromisoformat(due) if due else None,
        recurrence=action["recurrence"],
    )


def plural(number: int, noun: str) -> str:
    """ "1 action", "2 actions"."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def clip(text: str | None, width: int) -> str:
    if not text:
        return ""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def print_action(out: Console, action: Action) -> None:
    data = action_json(action)
    out.print(f"[bold]{action.ref}[/bold]  {action.title}", highlight=False)
    rows = [
        ("Plan", action.plan.name),
        *((level.title(), value) for level, value in ((g["level"], g["value"]) for g in action.group_path)),
        ("Description", action.description),
        ("How", action.how),
        ("Outputs", action.outputs),
        ("Owners", list_owners(o.name for o in action.owners)),
        ("When (as written)", action.deadline_text),
        ("Understood as", understood(data)),
        ("RAG", action.rag),
        ("Status", action.status + (" (archived: no longer in the plan)" if action.archived else "")),
        ("Progress", action.progress_note),
        ("Source", f"{action.plan.source_name}, {action.source_location}"),
    ]
    for label, value in rows:
        if value:
            out.print(f"  [dim]{label}:[/dim] {value}", highlight=False)
    for warning in action.warnings or []:
        out.print(f"  [yellow]Note:[/yellow] {warning}", highlight=False)


def print_history(out: Console, entries: Sequence[HistoryEntry], *, zone: tzinfo) -> None:
    if not entries:
        return
    out.print("\n[bold]History[/bold] (newest first)")
    for entry in entries:
        change = f"{entry.field}: {entry.from_value or '—'} → {entry.to_value or '—'}"
        note = f" ({entry.note})" if entry.note else ""
        stamp = entry.at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        out.print(
            f"  {stamp}  {changed_by(entry.actor, entry.surface)}: {change}{note}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
