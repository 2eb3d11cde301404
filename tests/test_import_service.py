"""Importing into the store: one transaction, stable references, revisions updated in place with history."""

from __future__ import annotations

import csv
import gc
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage.db import Database
from storage.importing.errors import ColumnMappingError, PlanFileError
from storage.importing.service import import_plan
from storage.models import Action, HistoryEntry, Plan
from storage.queries import action_by_ref, actions_matching, history_of
from storage.store import Store

HEADER = ["Theme", "Action", "Lead", "Timescale", "RAG", "Progress"]
ROWS = [
    ["Leadership", "Publish the action plan", "Policy, Communities and Engagement", "Complete", "B", ""],
    [
        "",
        "Set EDI objectives for directors",
        "Chief Executive / HR Manager",
        "Sept 23",
        "A",
        "Waiting on cycle",
    ],
    ["", "Report progress to the Board", "EDI Lead", "Quarterly", "G", ""],
    ["Workforce", "Review recruitment adverts", "HR Manager", "Nov 2022 & Ongoing", "", "G – delivered"],
    ["", "Run the staff survey", "HR Manager\nInternal Comms", "Next staff survey", "", ""],
]


def write_plan(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def count(store: Database, model: type) -> int:
    with store.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_first_import_adds_every_action_with_references_owners_and_deadlines(
    store: Database, tmp_path: Path, now: datetime
) -> None:
    result = import_plan(store, write_plan(tmp_path / "plan.csv", ROWS), now=now, plan_name="Local Trust")
    assert result.summary.added == 5
    assert [a["ref"] for a in result.actions] == ["LT-1", "LT-2", "LT-3", "LT-4", "LT-5"]
    first, second, third, fourth, fifth = result.actions
    assert first["owners"] == ["Policy, Communities and Engagement"]
    assert first["kind"] == "complete" and first["rag"] == "blue"
    assert second["owners"] == ["Chief Executive", "HR Manager"]
    assert second["due_date"] == "2023-09-30" and second["theme"] == "Leadership"
    assert third["kind"] == "recurring" and third["recurrence"] == "P3M" and third["theme"] == "Leadership"
    assert fourth["kind"] == "ongoing" and fourth["due_date"] == "2022-11-30" and fourth["rag"] == "green"
    assert fifth["kind"] == "unknown" and fifth["owners"] == ["HR Manager", "Internal Comms"]
    assert [p.row for p in result.problems] == [6]  # "Next staff survey" is reported, by row
    with store.session() as session:
        action = action_by_ref(session, "lt-2")
        assert action is not None
        assert action.raw_cells["Timescale"] == "Sept 23"
        assert action.raw_cells["Lead"] == "Chief Executive / HR Manager"
        assert action.status == "open"


def test_re_importing_the_same_file_changes_nothing(store: Database, tmp_path: Path, now: datetime) -> None:
    path = write_plan(tmp_path / "plan.csv", ROWS)
    import_plan(store, path, now=now, plan_name="Local Trust")
    history_before = count(store, HistoryEntry)
    again = import_plan(store, path, now=now + timedelta(days=1), plan_name="Local Trust")
    assert (again.summary.added, again.summary.changed, again.summary.unchanged, again.summary.archived) == (
        0,
        0,
        5,
        0,
    )
    assert count(store, Action) == 5
    assert count(store, HistoryEntry) == history_before


def test_a_revised_plan_updates_in_place_records_history_and_archives_what_was_dropped(
    store: Database, tmp_path: Path, now: datetime
) -> None:
    import_plan(store, write_plan(tmp_path / "v1.csv", ROWS), now=now, plan_name="Local Trust")
    revised = [list(row) for row in ROWS[:4]]
    revised[1][3] = "Dec 23"  # a new deadline
    revised.append(["Workforce", "Launch reverse mentoring", "People Services", "Q1 2024/25", "", ""])
    later = now + timedelta(days=7)
    result = import_plan(store, write_plan(tmp_path / "v2.csv", revised), now=later, plan_name="Local Trust")
    assert (
        result.summary.added,
        result.summary.changed,
        result.summary.unchanged,
        result.summary.archived,
    ) == (
        1,
        1,
        3,
        1,
    )
    assert result.actions[1]["ref"] == "LT-2" and result.actions[1]["due_date"] == "2023-12-31"
    assert result.actions[4]["ref"] == "LT-6"  # new actions never reuse a reference
    with store.session() as session:
        changed = action_by_ref(session, "LT-2")
        assert changed is not None
        entry = history_of(session, changed)[0]
        assert (entry.field, entry.from_value, entry.to_value, entry.surface) == (
            "deadline",
            "Sept 23",
            "Dec 23",
            "import",
        )
        dropped = action_by_ref(session, "LT-5")
        assert dropped is not None and dropped.archived
        assert [a.ref for a in actions_matching(session, plan="Local Trust")] == [
            "LT-1",
            "LT-2",
            "LT-3",
            "LT-4",
            "LT-6",
        ]


def test_an_archived_action_that_returns_is_restored_with_its_reference(
    store: Database, tmp_path: Path, now: datetime
) -> None:
    import_plan(store, write_plan(tmp_path / "v1.csv", ROWS), now=now, plan_name="P")
    import_plan(store, write_plan(tmp_path / "v2.csv", ROWS[:4]), now=now, plan_name="P")
    result = import_plan(store, write_plan(tmp_path / "v3.csv", ROWS), now=now, plan_name="P")
    assert result.summary.changed == 1 and result.summary.added == 0
    assert count(store, Action) == 5


def test_a_chat_update_survives_re_importing_an_unchanged_plan(
    store: Database, tmp_path: Path, now: datetime
) -> None:
    path = write_plan(tmp_path / "plan.csv", ROWS)
    import_plan(store, path, now=now, plan_name="P")
    with store.session() as session:
        action = action_by_ref(session, "P-2")
        assert action is not None
        action.rag = "red"  # as a status update from chat would
    import_plan(store, path, now=now, plan_name="P")
    with store.session() as session:
        action = action_by_ref(session, "P-2")
        assert action is not None and action.rag == "red"


def test_a_moved_action_keeps_its_reference_when_its_title_is_unique(
    store: Database, tmp_path: Path, now: datetime
) -> None:
    import_plan(store, write_plan(tmp_path / "v1.csv", ROWS), now=now, plan_name="P")
    moved = [list(row) for row in ROWS]
    moved[2][0] = "Governance"  # "Report progress to the Board" now sits under a new theme
    result = import_plan(store, write_plan(tmp_path / "v2.csv", moved), now=now, plan_name="P")
    assert result.actions[2]["ref"] == "P-3" and result.actions[2]["theme"] == "Governance"
    assert result.summary.added == 0 and count(store, Action) == 5


def test_a_dry_run_reports_what_would_change_and_saves_nothing(
    store: Database, tmp_path: Path, now: datetime
) -> None:
    result = import_plan(store, write_plan(tmp_path / "plan.csv", ROWS), now=now, plan_name="P", dry_run=True)
    assert result.summary.added == 5 and result.dry_run
    assert count(store, Action) == 0 and count(store, Plan) == 0


def test_two_plans_get_distinct_reference_prefixes(store: Database, tmp_path: Path, now: datetime) -> None:
    path = write_plan(tmp_path / "plan.csv", ROWS)
    first = import_plan(store, path, now=now, plan_name="Local Trust")
    second = import_plan(store, path, now=now, plan_name="Leeds Transport")
    assert first.actions[0]["ref"] == "LT-1" and second.actions[0]["ref"] == "LT2-1"


def test_the_plan_s_own_references_are_kept(store: Database, tmp_path: Path, now: datetime) -> None:
    rows = [["1.1", "Publish the plan", "HR", "June 23"], ["1.2", "Train managers", "L&D", "Sept 23"]]
    path = write_plan(tmp_path / "plan.csv", rows, header=["Ref", "Action", "Owner", "Deadline"])
    result = import_plan(store, path, now=now, plan_name="Local Trust")
    assert [a["ref"] for a in result.actions] == ["LT-1.1", "LT-1.2"]
    rows[1][1] = "Train all managers"  # retitled, but the reference still matches it
    result = import_plan(
        store,
        write_plan(tmp_path / "v2.csv", rows, header=["Ref", "Action", "Owner", "Deadline"]),
        now=now,
        plan_name="Local Trust",
    )
    assert result.summary.changed == 1 and count(store, Action) == 2


def test_a_numbered_reference_skips_one_the_plan_s_own_references_take(
    store: Database, tmp_path: Path, now: datetime
) -> None:
    header = ["Ref", "Action", "Owner", "Deadline"]
    rows = [
        ["", "Publish the plan", "HR", "June 23"],
        ["1", "Train managers", "L&D", "Sept 23"],
        ["", "Run the staff survey", "HR", "Oct 23"],
    ]
    path = write_plan(tmp_path / "plan.csv", rows, header=header)
    result = import_plan(store, path, now=now, plan_name="Local Trust")
    assert [a["ref"] for a in result.actions] == ["LT-2", "LT-1", "LT-3"]
    rows.append(["", "Review recruitment adverts", "HR", "Nov 23"])
    rows.append(["4", "Publish pay gap figures", "HR", "Dec 23"])
    result = import_plan(
        store, write_plan(tmp_path / "v2.csv", rows, header=header), now=now, plan_name="Local Trust"
    )
    assert [a["ref"] for a in result.actions] == ["LT-2", "LT-1", "LT-3", "LT-5", "LT-4"]


def test_an_unrecognisable_table_changes_nothing_and_says_which_headers_were_found(
    store: Database, tmp_path: Path, now: datetime
) -> None:
    path = write_plan(tmp_path / "people.csv", [["Amina", "amina@example.org"]], header=["Name", "Email"])
    with pytest.raises(ColumnMappingError) as raised:
        import_plan(store, path, now=now)
    assert "Name | Email" in str(raised.value) and "--map" in str(raised.value)
    assert count(store, Plan) == 0


def test_map_names_columns_the_importer_would_not_recognise(
    store: Database, tmp_path: Path, now: datetime
) -> None:
    path = write_plan(
        tmp_path / "plan.csv", [["Publish", "HR", "June 23"]], header=["Activity", "Officer", "Target"]
    )
    result = import_plan(
        store, path, now=now, overrides={"action": "Activity", "owner": "Officer", "deadline": "Target"}
    )
    assert result.actions[0]["owners"] == ["HR"] and result.actions[0]["due_date"] == "2023-06-30"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"colour": "Activity"}, "not a kind of column"),
        ({"owner": "Nope"}, "no column in plan.csv is headed"),
    ],
)
def test_a_wrong_map_is_refused_plainly(
    store: Database, tmp_path: Path, now: datetime, overrides: dict[str, str], message: str
) -> None:
    path = write_plan(tmp_path / "plan.csv", ROWS)
    with pytest.raises(PlanFileError, match=message):
        import_plan(store, path, now=now, overrides=overrides)
    assert count(store, Plan) == 0


def test_a_re_import_that_changes_an_actions_owners_asks_again_whoever_said_not_mine(
    store: Database, tmp_path: Path, now: datetime
) -> None:
    """As `/edi owner` does: someone who said "not mine" before may answer for it under its new owners."""
    import_plan(store, write_plan(tmp_path / "v1.csv", ROWS), now=now, plan_name="Local Trust")
    with store.session() as session:
        directory = Store(session)
        amina = directory.add_person(name="Amina Khan", now=now)
        amina.roles.append(directory.owner_or_new("HR Manager"))
        for ref in ("LT-4", "LT-5"):
            action = directory.action(ref)
            assert action is not None
            directory.decline(action, amina, at=now)
            action.next_nudge_on = now.date()
    revised = [list(row) for row in ROWS]
    revised[3][2] = "HR Manager / Internal Comms"  # LT-4 gains an owner; LT-5 is as it was
    import_plan(store, write_plan(tmp_path / "v2.csv", revised), now=now, plan_name="Local Trust")
    with store.session() as session:
        directory = Store(session)
        amina_again = directory.person_by_identity(name="Amina Khan")
        lt4, lt5 = directory.action("LT-4"), directory.action("LT-5")
        assert amina_again is not None and lt4 is not None and lt5 is not None
        assert [owner.name for owner in lt4.owners] == ["HR Manager", "Internal Comms"]
        assert not directory.has_declined(amina_again, lt4)
        assert lt4.next_nudge_on is None  # the sweep works out her reminders again
        assert directory.has_declined(amina_again, lt5)  # its owners did not change
        assert lt5.next_nudge_on == now.date()


def test_owners_set_in_chat_and_not_mine_survive_re_importing_an_unchanged_plan(
    store: Database, tmp_path: Path, now: datetime
) -> None:
    """As with RAG and progress: the file's owners win only when its owner cell changed since the last
    import."""
    path = write_plan(tmp_path / "v1.csv", ROWS)
    import_plan(store, path, now=now, plan_name="Local Trust")
    with store.session() as session:
        directory = Store(session)
        amina = directory.add_person(name="Amina Khan", now=now)
        amina.roles.append(directory.owner_or_new("HR Manager"))
        lt4 = directory.action("LT-4")
        assert lt4 is not None
        # As `/edi owner LT-4 add "Legal Services"` does in chat, and Amina's "Not mine" before it.
        lt4.owners.append(directory.owner_or_new("Legal Services"))
        directory.decline(lt4, amina, at=now)

    result = import_plan(store, path, now=now + timedelta(days=1), plan_name="Local Trust")

    assert result.summary.changed == 0 and result.summary.unchanged == 5
    # (sorted: a link added in chat has position 0 like the first, so the two may come back in either order)
    assert sorted(result.actions[3]["owners"]) == ["HR Manager", "Legal Services"]
    with store.session() as session:
        directory = Store(session)
        amina_again = directory.person_by_identity(name="Amina Khan")
        lt4 = directory.action("LT-4")
        assert amina_again is not None and lt4 is not None
        assert sorted(owner.name for owner in lt4.owners) == ["HR Manager", "Legal Services"]
        assert directory.has_declined(amina_again, lt4)
        assert [entry.field for entry in history_of(session, lt4)] == ["created"]

    revised = [list(row) for row in ROWS]
    revised[3][2] = "Internal Comms"  # the plan's own owner cell changes: the file wins
    later = now + timedelta(days=2)
    import_plan(store, write_plan(tmp_path / "v2.csv", revised), now=later, plan_name="Local Trust")
    with store.session() as session:
        directory = Store(session)
        amina_again = directory.person_by_identity(name="Amina Khan")
        lt4 = directory.action("LT-4")
        assert amina_again is not None and lt4 is not None
        assert [owner.name for owner in lt4.owners] == ["Internal Comms"]
        assert not directory.has_declined(amina_again, lt4)
        entry = history_of(session, lt4)[0]
        assert sorted((entry.from_value or "").split("; ")) == ["HR Manager", "Legal Services"]
        assert (entry.field, entry.from_value, entry.to_value, entry.surface, entry.at) == (
            "owners",
            entry.from_value,
            "Internal Comms",
            "import",
            later,
        )


def test_the_cycle_collector_keeps_running_for_everything_else_while_a_plan_imports(
    store: Database, tmp_path: Path, now: datetime
) -> None:
    """The process also serves Slack: an import must not switch the collector off for it."""
    rows = [["", f"Review policy {n}", "HR Manager", "Sept 23", "G", ""] for n in range(3000)]
    path = write_plan(tmp_path / "plan.csv", [["Workforce", *rows[0][1:]], *rows[1:]])
    collections: list[int] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "stop":
            collections.append(info["generation"])

    gc.callbacks.append(seen)
    try:
        result = import_plan(store, path, now=now, plan_name="Big")
    finally:
        gc.callbacks.remove(seen)

    assert result.summary.added == 3000
    assert collections, "no cycle collection ran during the import"
    assert gc.isenabled() and gc.get_freeze_count() == 0
