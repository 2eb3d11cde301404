"""`edibot people import`: who answers for which owner role, filled from a CSV an EDI lead keeps."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from typer.testing import CliRunner

from bot.cli import app
from storage.db import Database
from storage.importing.errors import PlanFileError
from storage.models import Person
from storage.people import import_people
from tests.builders import write_csv
from tests.conftest import SAMPLES

NOW = datetime(2025, 11, 3, 9, 0, tzinfo=ZoneInfo("Europe/London"))
HEADER = ["owner", "name", "email", "timezone", "slack_id", "teams_id", "admin"]


def directory(store: Database) -> dict[str, dict[str, object]]:
    """Everyone in the people directory, by name, with what the import set."""
    with store.session() as session:
        people = session.scalars(select(Person).options(selectinload(Person.roles))).all()
        return {
            person.name: {
                "roles": [role.name for role in person.roles],
                "email": person.email,
                "timezone": person.timezone,
                "slack_id": person.slack_id,
                "teams_id": person.teams_id,
                "admin": person.is_admin,
            }
            for person in people
        }


def test_each_row_maps_a_person_to_an_owner_role(store: Database) -> None:
    summary = import_people(store, SAMPLES / "northbridge_people.csv", now=NOW)
    assert (summary.people_added, summary.people_updated, summary.roles_mapped, summary.problems) == (
        7,
        0,
        9,
        [],
    )
    people = directory(store)
    assert sorted(people) == [
        "Amina Khan",
        "Dafydd Evans",
        "Ewan Campbell",
        "Grace Liu",
        "Priya Shah",
        "Sam Patel",
        "Tom Okafor",
    ]
    assert people["Amina Khan"] == {
        "roles": ["HR Manager", "Internal Comms"],
        "email": "amina.khan@northbridge.example",
        "timezone": "Europe/London",
        "slack_id": None,
        "teams_id": None,
        "admin": False,
    }
    assert people["Grace Liu"]["roles"] == ["Legal Services", "Policy Team"]
    assert [name for name, person in people.items() if person["admin"]] == ["Priya Shah"]


def test_re_importing_updates_people_in_place_and_never_duplicates_them(
    store: Database, tmp_path: Path
) -> None:
    import_people(store, SAMPLES / "northbridge_people.csv", now=NOW)
    again = import_people(store, SAMPLES / "northbridge_people.csv", now=NOW)
    assert (again.people_added, again.people_updated, again.roles_mapped) == (0, 7, 0)
    assert len(directory(store)) == 7

    revised = write_csv(
        tmp_path / "people.csv",
        [
            HEADER,
            ["HR Manager", "amina  KHAN", "", "Europe/Paris", "U0AMINA", "aad-amina", ""],
            ["Workforce Board", "Amina Khan", "", "", "", "", ""],
            ["Chief Executive", "Tom Okafor", "t.okafor@northbridge.example", "", "", "", ""],
        ],
    )
    summary = import_people(store, revised, now=NOW)
    assert (summary.people_added, summary.people_updated, summary.roles_mapped) == (0, 2, 1)
    people = directory(store)
    assert len(people) == 7
    assert people["Amina Khan"] == {
        "roles": ["HR Manager", "Internal Comms", "Workforce Board"],
        "email": "amina.khan@northbridge.example",  # a blank cell leaves what was there
        "timezone": "Europe/Paris",
        "slack_id": "U0AMINA",
        "teams_id": "aad-amina",
        "admin": False,
    }
    assert people["Tom Okafor"]["email"] == "t.okafor@northbridge.example"


def test_the_admin_column_makes_plan_admins(store: Database, tmp_path: Path) -> None:
    people = write_csv(
        tmp_path / "people.csv",
        [
            ["Owner", "Name", "Admin"],  # headers in any case
            ["EDI Lead", "Priya Shah", "Yes"],
            ["HR Manager", "Amina Khan", "admin"],
            ["Policy Team", "Grace Liu", "TRUE"],
            ["Digital Services", "Ewan Campbell", "no"],
            ["People Services", "Sam Patel", ""],
        ],
    )
    import_people(store, people, now=NOW)
    admins = {name: person["admin"] for name, person in directory(store).items()}
    assert admins == {
        "Priya Shah": True,
        "Amina Khan": True,
        "Grace Liu": True,
        "Ewan Campbell": False,
        "Sam Patel": False,
    }


def test_a_bad_time_zone_or_a_missing_name_is_reported_by_line_and_skipped(
    store: Database, tmp_path: Path
) -> None:
    people = write_csv(
        tmp_path / "people.csv",
        [
            HEADER,
            ["HR Manager", "Amina Khan", "amina@northbridge.example", "Mars/Olympus", "", "", ""],
            ["Policy Team", "", "nobody@northbridge.example", "Europe/London", "", "", ""],
            ["EDI Lead", "Priya Shah", "priya@northbridge.example", "Europe/London", "", "", "yes"],
        ],
    )
    summary = import_people(store, people, now=NOW)
    assert summary.problems == [
        "Line 2: 'Mars/Olympus' is not a time zone such as Europe/London; Amina Khan skipped.",
        "Line 3: no name; skipped.",
    ]
    assert (summary.people_added, summary.roles_mapped) == (1, 1)
    assert list(directory(store)) == ["Priya Shah"]

    code, out = _cli_people_import(store, people)
    assert code == 0
    assert "Line 2: 'Mars/Olympus' is not a time zone such as Europe/London; Amina Khan skipped." in out
    assert "Line 3: no name; skipped." in out


def test_a_send_time_outside_the_reminder_hours_or_unreadable_is_reported_by_line_and_not_kept(
    store: Database, tmp_path: Path
) -> None:
    people = write_csv(
        tmp_path / "people.csv",
        [
            ["owner", "name", "send_time"],
            ["HR Manager", "Amina Khan", "23:00"],
            ["Night Services Manager", "Kofi Mensah", "6pm"],
            ["EDI Lead", "Priya Shah", "half nine"],
            ["Policy Team", "Sam Patel", "8.15"],
        ],
    )
    summary = import_people(store, people, now=NOW)
    assert summary.problems == [
        "Line 2: send_time 23:00 is outside the hours reminders go out (06:00–20:00); kept 09:30 for Amina "
        "Khan.",
        "Line 4: send_time 'half nine' is not a time of day such as 09:30; kept 09:30 for Priya Shah.",
    ]
    with store.session() as session:
        send_times = {person.name: person.send_time for person in session.scalars(select(Person))}
    assert send_times == {
        "Amina Khan": "09:30",
        "Kofi Mensah": "18:00",
        "Priya Shah": "09:30",
        "Sam Patel": "08:15",
    }


def test_the_quiet_hours_column_sets_them_as_edi_quiet_would_and_a_bad_one_is_reported_by_line(
    store: Database, tmp_path: Path
) -> None:
    people = write_csv(
        tmp_path / "people.csv",
        [
            ["owner", "name", "quiet_hours"],
            ["HR Manager", "Amina Khan", "12-1pm"],
            ["Night Services Manager", "Kofi Mensah", "22:00-07:00"],
            ["EDI Lead", "Priya Shah", "lunchtime"],
            ["Policy Team", "Sam Patel", "08:00-18:00"],
            ["Internal Comms", "Grace Liu", ""],
        ],
    )
    summary = import_people(store, people, now=NOW)
    assert summary.problems == [
        "Line 4: quiet_hours 'lunchtime' is not quiet hours such as 12:00-13:00 "
        "(22:00-07:00 runs overnight); kept none for Priya Shah.",
        "Line 5: quiet_hours 08:00-18:00 would leave no time in their working day for reminders; "
        "kept none for Sam Patel.",
    ]
    assert quiet_hours(store) == {
        "Amina Khan": "12:00-13:00",
        "Kofi Mensah": "22:00-07:00",
        "Priya Shah": None,
        "Sam Patel": None,
        "Grace Liu": None,
    }

    again = write_csv(
        tmp_path / "again.csv",
        [
            ["owner", "name", "quiet_hours"],
            ["HR Manager", "Amina Khan", "none"],
            ["", "Kofi Mensah", "25:00-26:00"],
        ],
    )
    summary = import_people(store, again, now=NOW)
    assert summary.problems == [
        "Line 3: quiet_hours '25:00-26:00' is not quiet hours such as 12:00-13:00 "
        "(22:00-07:00 runs overnight); kept 22:00-07:00 for Kofi Mensah."
    ]
    assert quiet_hours(store)["Amina Khan"] is None and quiet_hours(store)["Kofi Mensah"] == "22:00-07:00"


def quiet_hours(store: Database) -> dict[str, str | None]:
    with store.session() as session:
        return {person.name: person.quiet_hours for person in session.scalars(select(Person))}


def test_a_file_without_owner_and_name_columns_is_refused_and_nothing_is_imported(
    store: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the CLI reads no stray .env
    people = write_csv(
        tmp_path / "staff.csv", [["role", "person", "email"], ["HR Manager", "Amina Khan", "a@x.org"]]
    )
    with pytest.raises(PlanFileError) as refused:
        import_people(store, people, now=NOW)
    assert str(refused.value) == (
        "staff.csv needs the columns owner, name, email, timezone, slack_id, teams_id "
        "(and optionally admin); it has no name or owner column."
    )
    assert directory(store) == {}

    code, _ = _cli_people_import(store, people)
    assert code == 1
    assert directory(store) == {}


def test_a_row_naming_two_different_people_is_reported_not_a_crash(store: Database, tmp_path: Path) -> None:
    first = write_csv(
        tmp_path / "people.csv",
        [
            ["owner", "name", "email", "slack_id"],
            ["HR Manager", "Amina Khan", "amina@northbridge.example", "U01"],
            ["Chief Executive", "Tom Okafor", "tom@northbridge.example", "U02"],
        ],
    )
    import_people(store, first, now=NOW)
    muddled = write_csv(
        tmp_path / "muddled.csv",
        [
            ["owner", "name", "email", "slack_id"],
            ["Chief Executive", "Tom Okafor", "tom@northbridge.example", "U01"],
        ],
    )
    try:
        summary = import_people(store, muddled, now=NOW)
    except Exception as error:  # what the owner of the CSV would see instead of a sentence
        raise AssertionError(f"the import crashed: {type(error).__name__}") from error
    assert summary.problems and summary.problems[0].startswith("Line 2:")


def _cli_people_import(store: Database, path: Path) -> tuple[int, str]:
    url = store.engine.url.render_as_string(hide_password=False)
    result = CliRunner(env={"EDIBOT_DATABASE_URL": url}).invoke(app, ["people", "import", str(path)])
    return result.exit_code, result.stdout
