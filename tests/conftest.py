"""Fixtures that name the world: a migrated `store` on SQLite or PostgreSQL, a fixed `now`, the plans."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import make_url, text
from typer.testing import CliRunner

# The command line's console takes its width from COLUMNS when it is made, at import: pytest-xdist's workers
# set COLUMNS=80, which would fix every table's width before a test's CliRunner gives its own.
os.environ.pop("COLUMNS", None)
os.environ.pop("LINES", None)

from bot.cli import app
from storage.db import Database, make_engine, upgrade
from storage.models import Base

LONDON = ZoneInfo("Europe/London")
SHARED_PLANS = Path(__file__).resolve().parents[2] / "shared" / "plans"
POSTGRES_URL = os.environ.get("EDIBOT_TEST_DATABASE_URL", "")
DB_FIXTURES = {"store", "database_url"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that use the database are marked `db`, so the PostgreSQL pass can run exactly those."""
    for item in items:
        if DB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)


def pytest_report_header() -> str:
    return f"edibot store: {'PostgreSQL ' + POSTGRES_URL.rsplit('@', 1)[-1] if POSTGRES_URL else 'SQLite'}"


@pytest.fixture
def now() -> datetime:
    return datetime(2024, 1, 15, 9, 30, tzinfo=LONDON)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "edibot.sqlite3"
    Database.open(f"sqlite:///{path}", create="if-missing").dispose()
    return path


def _own_database(url: str) -> str:
    """The PostgreSQL database this test process may wipe: under pytest-xdist each worker has its own
    (edibot_test_gw0, …), created on first use, so workers running side by side never wipe each other's."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    given = make_url(url)
    name = f"{given.database}_{worker}"
    engine = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        if connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}) is None:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return given.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def _postgres_ready() -> str:
    url = _own_database(POSTGRES_URL)
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty, migrated database: a fresh SQLite file, or the test PostgreSQL database wiped
    after."""
    if not POSTGRES_URL:
        path = tmp_path / "edibot.sqlite3"
        shutil.copy(request.getfixturevalue("_sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("_postgres_ready")
    yield url
    engine = make_engine(url)
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def store(database_url: str) -> Iterator[Database]:
    database = Database.open(database_url, migrate=False)
    yield database
    database.dispose()


@pytest.fixture
def shared_plans() -> Path:
    if not SHARED_PLANS.is_dir():
        pytest.skip(
            f"the published plans are not here ({SHARED_PLANS} is missing); the bundled fixtures cover this"
        )
    return SHARED_PLANS


# -- the command layer's world: the Northbridge sample plan, its people, a clock, a conversation -------

pytest.register_assert_rewrite("tests.transcript")

from bot.console import FakeClock  # noqa: E402
from storage.importing.service import import_plan  # noqa: E402
from storage.people import import_people  # noqa: E402
from tests.slack_workspace import SlackWorkspace  # noqa: E402
from tests.teams_tenant import TeamsTenant  # noqa: E402
from tests.transcript import Transcript  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[1] / "bot" / "samples"


@pytest.fixture
def clock() -> FakeClock:
    """The morning of the demo: Monday 3 November 2025, 09:30 in London; tests move it with `at`."""
    return FakeClock(datetime(2025, 11, 3, 9, 30, tzinfo=LONDON))


def sample_organisation(store: Database, *, now: datetime) -> None:
    """The sample plan ("Northbridge EDI Plan", NO-1…NO-15) and its people directory, imported at `now`."""
    import_plan(store, SAMPLES / "northbridge_edi_plan.csv", now=now, plan_name="Northbridge EDI Plan")
    import_people(store, SAMPLES / "northbridge_people.csv", now=now)


@pytest.fixture
def slack(store: Database, clock: FakeClock) -> Iterator[SlackWorkspace]:
    """The sample plan and its people (by email, no Slack ids yet), and edibot on Slack."""
    sample_organisation(store, now=clock.now())
    with SlackWorkspace(store, clock) as workspace:
        yield workspace


@pytest.fixture
def teams(store: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TeamsTenant]:
    """The sample plan and its people, and edibot on Teams (a module with another story overrides it)."""
    sample_organisation(store, now=clock.now())
    with TeamsTenant(store, clock, tmp_path) as tenant:
        yield tenant


@pytest.fixture
def transcript(store: Database, clock: FakeClock) -> Transcript:
    """A console conversation with edibot over the sample plan (refs NO-1…NO-15) and its mapped people.

    Amina Khan (HR Manager, Internal Comms) owns NO-2, NO-6 and NO-9; Dafydd Evans (Learning & Development)
    owns NO-5; Ewan Campbell (Digital Services) owns NO-12; Sam Patel is People Services; Priya Shah (EDI
    Lead) is the only plan admin. It is Monday 3 November 2025, 09:30 in London (the `clock` fixture).

    Each PostgreSQL test costs a database wipe, so where one person tries several variations of the same
    thing (every way of writing a date, every admin command) that is one story told in a loop, not many tests.
    """
    sample_organisation(store, now=clock.now())
    return Transcript(store, clock)


CliRun = Callable[..., tuple[int, str, str]]


def imported_by_cli(run: CliRun, *, now: str) -> None:
    """The sample plan imported as an admin does it, with `edibot import`, at `now` (ISO 8601)."""
    code, _, err = run(
        "--now", now, "import", str(SAMPLES / "northbridge_edi_plan.csv"), "--plan", "Northbridge EDI Plan"
    )
    assert code == 0, err


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRun:
    """Runs `edibot ARGS…` in-process on the test database; returns (exit code, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    runner = CliRunner(
        env={"EDIBOT_DATABASE_URL": database_url, "EDIBOT_TIMEZONE": "Europe/London", "COLUMNS": "160"}
    )

    def run(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(app, list(args))
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.stdout, result.stderr

    return run


@pytest.fixture
def postgres_schema() -> Iterator[Callable[[], str]]:
    """A URL to a new, empty PostgreSQL schema in the test database, dropped after."""
    made: list[str] = []
    engine = make_engine(POSTGRES_URL)

    def make() -> str:
        name = f"fresh_{uuid4().hex[:8]}"
        with engine.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {name}"))
        made.append(name)
        separator = "&" if "?" in POSTGRES_URL else "?"
        return f"{POSTGRES_URL}{separator}options=-csearch_path%3D{name}"

    yield make
    with engine.begin() as connection:
        for name in made:
            connection.execute(text(f"DROP SCHEMA {name} CASCADE"))
    engine.dispose()
