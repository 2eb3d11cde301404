"""The store itself: the schema Alembic builds is the one the models describe, and re-imports are
idempotent."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, inspect, select

from storage.db import Database, make_engine
from storage.importing.errors import PlanFileError
from storage.importing.service import import_plan
from storage.models import Base, HistoryEntry
from tests.builders import write_csv


def test_an_empty_database_is_brought_up_to_the_current_schema_on_open(tmp_path: Path) -> None:
    database = Database.open(f"sqlite:///{tmp_path / 'fresh' / 'edibot.sqlite3'}")
    tables = set(inspect(database.engine).get_table_names())
    database.dispose()
    assert {"plans", "actions", "owners", "action_owners", "history", "imports", "alembic_version"} <= tables


def test_the_migrations_build_exactly_the_schema_the_models_describe(store: Database) -> None:
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_opening_an_up_to_date_database_again_changes_nothing(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.connect() as connection:
        before = MigrationContext.configure(connection).get_current_revision()
    engine.dispose()
    Database.open(database_url).dispose()
    engine = make_engine(database_url)
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == before
    engine.dispose()


WHEN = st.sampled_from(
    [
        "June 23",
        "31/3/24",
        "Q1 2024 - Q2 2024",
        "Ongoing",
        "Annually",
        "Nov 2022 & Ongoing",
        "Complete",
        "",
        "Next staff survey",
        "Q1 2024/25",
        "June/July 2024",
        "2023",
        "From April 2019",
        "Sept 23 and March 24",
    ]
)
OWNER = st.sampled_from(
    [
        "HR Manager",
        "Policy, Communities and Engagement",
        "Health & Safety",
        "Area Support/ Delivery Support",
        "CEDIS\nEqualities Team",
        "",
        "Lead: Director of Delivery",
    ]
)
TITLE = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=60
)
ROW = st.tuples(
    st.sampled_from(["", "Leadership", "Workforce"]),
    TITLE,
    OWNER,
    WHEN,
    st.sampled_from(["", "R", "A", "G", "B"]),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(ROW, min_size=1, max_size=12))
def test_importing_the_same_file_twice_changes_nothing(
    store: Database, tmp_path: Path, rows: list[tuple[str, ...]]
) -> None:
    path = write_csv(
        tmp_path / f"{uuid.uuid4().hex}.csv", [["Theme", "Action", "Owner", "When", "RAG"], *rows]
    )
    plan = f"Plan {uuid.uuid4().hex[:8]}"
    now = datetime(2024, 1, 15, 9, 30).astimezone()
    try:
        first = import_plan(store, path, now=now, plan_name=plan)
    except PlanFileError as error:  # a generated table may legitimately hold no action rows
        assert "no actions" in str(error)
        return
    with store.session() as session:
        history_before = session.scalar(select(func.count()).select_from(HistoryEntry))
    again = import_plan(store, path, now=now, plan_name=plan)
    assert (again.summary.added, again.summary.changed, again.summary.archived) == (0, 0, 0)
    assert again.summary.unchanged == len(first.actions)
    assert [a["ref"] for a in again.actions] == [a["ref"] for a in first.actions]
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(HistoryEntry)) == history_before
