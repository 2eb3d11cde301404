"""Imports a plan file into the store in one transaction: new actions added, revised ones updated in place."""

from __future__ import annotations

import gc
import hashlib
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from storage.db import Database
from storage.importing.errors import ColumnMappingError, PlanFileError, WouldArchiveMost
from storage.importing.headers import MAPPABLE_ROLES, normalise_header, not_used_message
from storage.importing.limits import MAX_FILE_BYTES
from storage.importing.readers import read_plan_file
from storage.importing.sources import SourceDocument
from storage.importing.tables import ParsedAction, ParsedPlan, Problem, interpret_document
from storage.models import Action, HistoryEntry, ImportRun, Owner, Plan, action_owners
from storage.queries import (
    actions_of_plan,
    owners_by_key,
    plan_imported_from,
    plan_named,
    prefixes_in_use,
    refs_in_use,
    refs_of_plan,
    refs_under_prefix,
)
from storage.rules.deadlines import implausible_year
from storage.rules.owners import owner_key
from storage.rules.refs import next_numbered_ref, plan_ref, source_ref
from storage.store import Store

# The tables themselves, for Core inserts: the ORM has nothing to track about rows inserted in bulk.
_ACTIONS: Final = cast("Table", Action.__table__)
_HISTORY: Final = cast("Table", HistoryEntry.__table__)
_STOPWORDS = {"and", "of", "the", "for", "to", "a", "in", "on", "&", "edi", "plan", "action", "v", "draft"}
_WORD = re.compile(r"[A-Za-z][A-Za-z'&]*")
_NOT_WORDS = re.compile(r"[\W_]+")


@dataclass
class ImportSummary:
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    archived: int = 0
    # What became of the file's rows (each is an action, a heading or a reported problem), and the columns
    # with text that no role claims, as {"header": …, "cells": …}.
    rows: int = 0
    rows_as_actions: int = 0
    rows_as_headings: int = 0
    rows_reported: int = 0
    not_used: list[dict[str, Any]] = field(default_factory=list)

    @property
    def not_used_line(self) -> str | None:
        return not_used_message([(column["header"], column["cells"]) for column in self.not_used])


@dataclass
class ImportResult:
    plan: str
    actions: list[dict[str, Any]]
    problems: list[Problem]
    summary: ImportSummary
    dry_run: bool
    matched_by_file: bool = (
        False  # no plan name was given, and the plan last imported from this file was used
    )

    def as_json(self) -> dict[str, Any]:
        return {
            "plan": self.plan,
            "actions": self.actions,
            "problems": [
                {"row": p.row, "column": p.column, "text": p.text, "message": p.message}
                for p in self.problems
            ],
            "summary": asdict(self.summary),
        }


class _Rollback(Exception):
    """Raised inside the session of a dry run so that everything it wrote is rolled back."""

    def __init__(self, result: ImportResult) -> None:
        super().__init__("dry run")
        self.result = result


def import_plan(
    database: Database,
    path: Path,
    *,
    now: datetime,
    plan_name: str | None = None,
    overrides: Mapping[str, str] | None = None,
    dry_run: bool = False,
    max_bytes: int = MAX_FILE_BYTES,
    actor: str = "import",
    replace: bool = False,
) -> ImportResult:
    """Read `path` and bring its plan in the store up to date; with `dry_run`, report without changing
    anything.

    Without `plan_name`, the plan last imported from a file of the same name is updated (the result says so),
    else a plan named after the file. A file that would archive more than half of an existing plan is refused
    (WouldArchiveMost, naming what it would archive) unless `replace` says the plan is being replaced on
    purpose. Raises PlanFileError (or ColumnMappingError) with a sentence for the user; then nothing has
    changed."""
    with _OLDER_OBJECTS_SET_ASIDE:
        return _import(
            database,
            path,
            now=now,
            plan_name=plan_name,
            overrides=dict(overrides or {}),
            dry_run=dry_run,
            max_bytes=max_bytes,
            actor=actor,
            replace=replace,
        )


class _OlderObjectsSetAside:
    """While any import runs, the cycle collector leaves alone the objects that existed before it began.

    An import builds tens of thousands of objects that live until it ends (rows, parsed actions, ORM
    state); as they pile up, the collector runs full collections, and each one scans every object in
    the process, most of them the modules and long-lived state that were there before the import
    (a third of a 10,000-row import's time went on this). gc.freeze() moves those older objects out of
    the collector's sight until gc.unfreeze(); unlike gc.disable(), collection goes on as usual for
    everything made meanwhile, on every thread (Slack's included): only garbage cycles among the older
    objects wait until the last import ends. Concurrent imports share one freeze (the first in freezes,
    the last out unfreezes), and if something else in the process froze objects, imports leave them be.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0
        self._froze = False

    def __enter__(self) -> None:
        with self._lock:
            if self._running == 0:
                self._froze = gc.get_freeze_count() == 0
                if self._froze:
                    gc.freeze()
            self._running += 1

    def keep(self) -> None:
        """Set aside, too, what the running imports have built so far and will keep until they end (the
        parsed plan, the actions loaded to compare with it), so later collections skip it as well."""
        with self._lock:
            if self._froze:
                gc.freeze()

    def __exit__(self, *_: object) -> None:
        with self._lock:
            self._running -= 1
            if self._running == 0 and self._froze:
                gc.unfreeze()
                self._froze = False


_OLDER_OBJECTS_SET_ASIDE: Final = _OlderObjectsSetAside()


def _import(
    database: Database,
    path: Path,
    *,
    now: datetime,
    plan_name: str | None,
    overrides: dict[str, str],
    dry_run: bool,
    max_bytes: int,
    actor: str,
    replace: bool,
) -> ImportResult:
    _check_overrides(overrides)
    document = read_plan_file(path, max_bytes=max_bytes)
    _check_override_headers(document, overrides)
    parsed = interpret_document(document, overrides=overrides, today=now.date())
    # The rows are not needed past here; letting them go spares every later cycle collection a scan of them.
    del document
    _OLDER_OBJECTS_SET_ASIDE.keep()
    if not parsed.actions:
        raise PlanFileError(f"{path.name}: I found the plan's columns but no actions under them.")
    _report_implausible_years(parsed)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    try:
        with database.session() as session:
            matched = None if plan_name else plan_imported_from(session, path.name)
            unnamed = None if plan_name else _unnamed_plan(session, parsed, path).strip()
            name = matched.name if matched else (plan_name or unnamed or "").strip()
            result = _apply(
                session,
                parsed,
                plan_name=name,
                source=path.name,
                digest=digest,
                now=now,
                actor=actor,
                replace=replace or dry_run,
            )
            result.matched_by_file = matched is not None and name != unnamed
            result.dry_run = dry_run
            if dry_run:
                raise _Rollback(result)
            return result
    except _Rollback as rollback:
        return rollback.result


def _report_implausible_years(parsed: ParsedPlan) -> None:
    """A deadline read as a year before 2000 or after 2100 is kept as the plan has it, and pointed out."""
    for item in parsed.actions:
        reason = implausible_year(item.deadline)
        if reason:
            column = next((header for header, text in item.cells.items() if text == item.deadline.text), "")
            parsed.problems.append(
                Problem(
                    row=item.line,
                    column=column,
                    text=item.deadline.text,
                    message=f"{reason}.",
                    where=item.where,
                )
            )


def _check_overrides(overrides: Mapping[str, str]) -> None:
    for role in overrides:
        if role not in MAPPABLE_ROLES:
            raise ColumnMappingError(
                f"--map {role}=…: '{role}' is not a kind of column I know; use one of "
                f"{', '.join(MAPPABLE_ROLES)}."
            )


def _check_override_headers(document: SourceDocument, overrides: Mapping[str, str]) -> None:
    if not overrides:
        return
    cells = {normalise_header(cell) for row in document.rows for cell in row.cells if len(cell) <= 200}
    for role, header in overrides.items():
        if normalise_header(header) not in cells:
            raise ColumnMappingError(
                f"--map {role}=\"{header}\": no column in {document.name} is headed '{header}'."
            )


def _default_plan_name(path: Path) -> str:
    return re.sub(r"[_\s]+", " ", path.stem).strip() or "Plan"


def _unnamed_plan(session: Session, parsed: ParsedPlan, path: Path) -> str:
    """The plan a file imported without `--plan` belongs to: the heading over the whole plan names it
    ("EDI Action Plan 2027"), else the file does; a plan imported before under its file's name stays that
    plan, so re-importing it updates it rather than starting another."""
    by_file = _default_plan_name(path)
    if parsed.title is None or (plan_named(session, parsed.title) is None and plan_named(session, by_file)):
        return by_file
    return parsed.title


def ref_prefix(name: str, taken: set[str]) -> str:
    """A short prefix for action references from the plan's name: "Local Trust 2023" → "LT"."""
    words = [w for w in _WORD.findall(name) if w.casefold() not in _STOPWORDS]
    base = "".join(w[0] for w in words[:2]).upper() or "A"
    if len(base) == 1 and words:
        base = words[0][:2].upper()
    candidate, suffix = base, 2
    while candidate in taken:
        candidate, suffix = f"{base}{suffix}", suffix + 1
    return candidate


def _file_fields(parsed: ParsedAction) -> dict[str, Any]:
    """The values an import sets, compared with the previous import's to see what the file changed."""
    deadline = parsed.deadline
    done = deadline.kind == "complete" or parsed.rag == "blue"
    return {
        "title": parsed.title,
        "group": " › ".join(value for _, value in parsed.group_path),
        "description": parsed.description,
        "how": parsed.how,
        "outputs": parsed.outputs,
        "owners": "; ".join(parsed.owners),
        "deadline": deadline.text,
        "rag": parsed.rag,
        "progress": parsed.progress,
        "status": "done" if done else "open",
    }


def _match_key(parsed: ParsedAction) -> str:
    if parsed.source_ref:
        return "ref:" + parsed.source_ref.strip().casefold()
    group = "|".join(owner_key(value) for _, value in parsed.group_path)
    return f"title:{group}|{_title_key(parsed.title)}"[:600]


def _apply(
    session: Session,
    parsed: ParsedPlan,
    *,
    plan_name: str,
    source: str,
    digest: str,
    now: datetime,
    actor: str,
    replace: bool,
) -> ImportResult:
    plan = plan_named(session, plan_name)
    if plan is None:
        plan = Plan(
            name=plan_name,
            ref_prefix=ref_prefix(plan_name, prefixes_in_use(session)),
            source_name=source,
            created_at=now,
            next_number=1,
            restricted=False,
            paused=False,
        )
        session.add(plan)
        session.flush()
    plan.source_name = source
    plan.imported_at = now

    current = actions_of_plan(session, plan)
    _OLDER_OBJECTS_SET_ASIDE.keep()
    existing = {action.match_key: action for action in current}
    by_title: dict[str, list[Action]] = {}
    for known in current:
        by_title.setdefault(_title_key(known.title), []).append(known)
    owners = _owners_for(session, parsed)
    refs = _RefKeeper(session, plan, parsed)
    summary = ImportSummary(
        rows=parsed.rows.rows,
        rows_as_actions=parsed.rows.actions,
        rows_as_headings=parsed.rows.headings,
        rows_reported=parsed.rows.reported,
        not_used=[{"header": column.header, "cells": column.cells} for column in parsed.unused_columns],
    )
    history = _History(now=now, actor=actor)
    seen: set[Action] = set()
    keys_used: set[str] = set()
    fresh: list[tuple[dict[str, Any], ParsedAction]] = []  # new actions, inserted in bulk below
    results: list[dict[str, Any]] = []
    new_owners: list[Action] = []  # actions whose owners this import changed
    for position, item in enumerate(parsed.actions):
        key = _unique(_match_key(item), keys_used)
        action: Action | None = existing.get(key)
        if action is None or action in seen:
            # A regrouped action keeps its reference when its title is still unique in the plan.
            candidates = [a for a in by_title.get(_title_key(item.title), []) if a not in seen]
            action = (
                candidates[0] if len(candidates) == 1 and candidates[0].match_key not in keys_used else None
            )
        fields = _file_fields(item)
        values = {**_file_values(item, fields), "match_key": key, "position": position}
        if action is None:
            values.update(
                plan_id=plan.id,
                ref=refs.new_ref(item),
                created_at=now,
                updated_at=now,
                archived=False,
                status=fields["status"],
                progress_note=item.progress,
                rag=item.rag,
            )
            fresh.append((values, item))
            summary.added += 1
            results.append(_json(values, item.owners))
            continue
        # Like a live field: the file's owners replace the action's only when the owner cell changed since the
        # last import, so owners set in chat (`/edi owner`) survive re-importing an unchanged plan.
        owner_cell_changed = (action.imported_fields or {}).get("owners") != fields["owners"]
        changed = _update(action, values, fields=fields, history=history, source=source)
        summary.changed += changed
        summary.unchanged += not changed
        wanted = [owners[owner_key(name)] for name in item.owners]
        if owner_cell_changed and [o.key for o in action.owners] != [o.key for o in wanted]:
            action.owners = wanted
            new_owners.append(action)
        seen.add(action)
        results.append(_json(_values_of(action), [owner.name for owner in action.owners]))

    from_file = [a for a in current if not a.archived and not a.match_key.startswith("chat:")]
    leaving = sorted((a for a in from_file if a not in seen), key=lambda a: a.position)
    if not replace and len(leaving) * 2 > len(from_file):
        shown = ", ".join(a.ref for a in leaving[:10]) + (", …" if len(leaving) > 10 else "")
        raise WouldArchiveMost(
            f"{source} would archive {len(leaving)} of the {len(from_file)} actions in '{plan.name}' "
            f"({shown}), so it may be a different plan; nothing was changed. If it replaces that plan, "
            "import it again with --replace; if it is another plan, give it its own name with --plan NAME."
        )
    for action in current:
        # An action someone added in chat was never in the file, so its absence from the file says nothing.
        if action not in seen and not action.archived and not action.match_key.startswith("chat:"):
            action.archived = True
            action.updated_at = now
            summary.archived += 1
            history.add(action.id, field="archived", frm="no", to="yes", note=f"no longer in {source}")
    session.flush()
    # New owners, as with `/edi owner`: whoever said "not mine" is asked afresh if they answer for it now.
    Store(session).forget_declines_of(new_owners)
    _insert_new(session, fresh, owners=owners, history=history, source=source)
    history.write(session)

    result = ImportResult(
        plan=plan.name, actions=results, problems=parsed.problems, summary=summary, dry_run=False
    )
    session.add(
        ImportRun(
            plan_id=plan.id,
            at=now,
            source_name=source,
            sha256=digest,
            summary=asdict(summary),
            problems=result.as_json()["problems"],
        )
    )
    return result


def _insert_new(
    session: Session,
    fresh: list[tuple[dict[str, Any], ParsedAction]],
    *,
    owners: Mapping[str, Owner],
    history: _History,
    source: str,
) -> None:
    """A first import adds thousands of rows: one multi-row INSERT per table instead of one object each."""
    if not fresh:
        return
    # Plain executemany, then ids by the plan's unique match keys: RETURNING with a guaranteed row order
    # degrades to one statement per row on SQLite. Core inserts on the tables (every row the same shape)
    # skip the ORM's bulk bookkeeping per row, which cost as much as the database itself.
    session.execute(insert(_ACTIONS), [values for values, _ in fresh])
    plan_id = fresh[0][0]["plan_id"]
    rows = session.execute(select(Action.match_key, Action.id).where(Action.plan_id == plan_id))
    id_of = {match_key: action_id for match_key, action_id in rows}
    ids = [id_of[values["match_key"]] for values, _ in fresh]
    links = [
        {"action_id": action_id, "owner_id": owners[owner_key(name)].id, "position": position}
        for action_id, (_, item) in zip(ids, fresh, strict=True)
        for position, name in enumerate(item.owners)
    ]
    if links:
        session.execute(insert(action_owners), links)
    for action_id, (_, item) in zip(ids, fresh, strict=True):
        history.add(action_id, field="created", to=item.title, note=f"from {source}")


def _title_key(title: str) -> str:
    return _NOT_WORDS.sub(" ", title.casefold()).strip()


def _unique(key: str, used: set[str]) -> str:
    """Two rows with the same title in the same group stay two actions: the second gets "#2"."""
    candidate, n = key, 2
    while candidate in used:
        candidate, n = f"{key}#{n}", n + 1
    used.add(candidate)
    return candidate


def _owners_for(session: Session, parsed: ParsedPlan) -> dict[str, Owner]:
    names: dict[str, str] = {}
    for item in parsed.actions:
        for name in item.owners:
            names.setdefault(owner_key(name), name)
    owners = owners_by_key(session, list(names))
    for key, name in names.items():
        if key not in owners:
            owners[key] = Owner(name=name, key=key)
            session.add(owners[key])
    return owners


class _RefKeeper:
    """Gives each new action its reference: the plan's own as written ("WB-1"), a bare number under the plan's
    prefix ("1.1" → "LT-1.1"), else the plan's next number; never one another action already has."""

    def __init__(self, session: Session, plan: Plan, parsed: ParsedPlan) -> None:
        self.plan = plan
        written = [item.source_ref for item in parsed.actions if item.source_ref]
        kept = {ref for ref in map(plan_ref, written) if ref is not None}
        prefixed = {source_ref(plan.ref_prefix, text) for text in written}
        # In use anywhere: a plan's own reference is global, so another plan may hold "WB-1" already.
        self.in_use = refs_of_plan(session, plan) | refs_in_use(session, kept | prefixed)
        self.in_use |= refs_under_prefix(session, plan.ref_prefix)
        # Numbered references skip those in use, and those the file's own references are about to take.
        self.taken = self.in_use | kept | prefixed

    def new_ref(self, item: ParsedAction) -> str:
        if item.source_ref:
            for candidate in (plan_ref(item.source_ref), source_ref(self.plan.ref_prefix, item.source_ref)):
                if candidate is not None and candidate not in self.in_use:
                    self.in_use.add(candidate)
                    return candidate
        ref, self.plan.next_number = next_numbered_ref(
            self.plan.ref_prefix, self.plan.next_number, taken=self.taken
        )
        self.in_use.add(ref)
        self.taken.add(ref)
        return ref


def _file_values(item: ParsedAction, fields: dict[str, Any]) -> dict[str, Any]:
    """The columns of an action that come from the file, whatever a person has changed since."""
    deadline = item.deadline
    return {
        "source_ref": item.source_ref,
        "group_path": [{"level": level, "value": value} for level, value in item.group_path],
        "theme": item.theme,
        "title": item.title,
        "description": item.description,
        "how": item.how,
        "outputs": item.outputs,
        "raw_cells": dict(item.raw_cells),
        "source_location": item.location,
        "owners_text": item.owners_text,
        "deadline_text": deadline.text,
        "deadline_kind": deadline.kind,
        "start_date": deadline.start,
        "due_date": deadline.due,
        "recurrence": deadline.recurrence,
        "milestones": [d.isoformat() for d in deadline.milestones],
        "warnings": list(item.warnings),
        "imported_fields": fields,
    }


# Fields whose live value a person can also change in chat; the file wins only when its cell changed.
_LIVE_FIELDS = {"rag": "rag", "progress": "progress_note", "status": "status"}


def _update(
    action: Action, values: dict[str, Any], *, fields: dict[str, Any], history: _History, source: str
) -> bool:
    before = dict(action.imported_fields or {})
    changed = False
    if action.archived:
        action.archived = False
        changed = True
        history.add(action.id, field="archived", frm="yes", to="no", note=f"back in {source}")
    for name, value in fields.items():
        if before.get(name) == value:
            continue
        attribute = _LIVE_FIELDS.get(name)
        if attribute:
            live = getattr(action, attribute)
        elif name == "owners":  # set by the caller; what it replaces is the action's owners, chat's too
            live = "; ".join(owner.name for owner in action.owners)
        else:
            live = before.get(name)
        if attribute:
            setattr(action, attribute, value)
        # A cell the file changed to what the action already says (a note given in chat, then written into
        # the file, as an edited export of edibot's own report has it) changes nothing.
        if live != value:
            changed = True
            history.add(action.id, field=name, frm=live, to=value, note=f"from {source}")
    for column, value in values.items():
        if getattr(action, column) != value:  # setting an equal value would still mark the row dirty
            setattr(action, column, value)
    if changed:
        action.updated_at = history.now
        action.next_nudge_on = None  # the nudge sweep works out the next step again
    return changed


class _History:
    """History rows gathered during an import and written in one INSERT at the end."""

    def __init__(self, *, now: datetime, actor: str) -> None:
        self.now = now
        self.actor = actor
        self.rows: list[dict[str, Any]] = []

    def add(self, action_id: int, *, field: str, to: Any, frm: Any = None, note: str | None = None) -> None:
        self.rows.append(
            {
                "action_id": action_id,
                "at": self.now,
                "actor": self.actor,
                "surface": "import",
                "field": field,
                "from_value": None if frm is None else str(frm),
                "to_value": None if to is None else str(to),
                "note": note,
            }
        )

    def write(self, session: Session) -> None:
        if self.rows:
            session.execute(insert(_HISTORY), self.rows)


_JSON_COLUMNS = (
    "ref",
    "theme",
    "title",
    "description",
    "deadline_text",
    "start_date",
    "due_date",
    "deadline_kind",
    "recurrence",
    "rag",
    "warnings",
)


def _values_of(action: Action) -> dict[str, Any]:
    return {column: getattr(action, column) for column in _JSON_COLUMNS}


def _json(values: Mapping[str, Any], owners: Sequence[str]) -> dict[str, Any]:
    start, due = values["start_date"], values["due_date"]
    return {
        "ref": values["ref"],
        "theme": values["theme"],
        "title": values["title"],
        "description": values["description"],
        "owners": list(owners),
        "deadline_text": values["deadline_text"] or "",
        "start_date": start.isoformat() if start else None,
        "due_date": due.isoformat() if due else None,
        "kind": values["deadline_kind"],
        "recurrence": values["recurrence"],
        "rag": values["rag"],
        "warnings": list(values["warnings"] or []),
    }


def action_json(action: Action) -> dict[str, Any]:
    """The action object of `edibot import --json` and `edibot actions --json`."""
    return _json(_values_of(action), [owner.name for owner in action.owners])
