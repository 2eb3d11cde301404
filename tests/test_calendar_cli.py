"""`edibot calendar` on the command line: a year's list by category, an .ics export a calendar app can read,
and the organisation's own dates imported from one — exported, imported into a fresh store, the same dates."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar

from storage.db import Database
from storage.observance_data import shipped_observances
from storage.observance_ics import export_ics, import_ics
from storage.observances import organisation_calendar
from storage.rules.observances.catalogue import Calendar, Dated
from tests.conftest import CliRun

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Europe/London"))


def test_list_shows_a_years_observances_in_one_category(cli: CliRun) -> None:
    code, out, _ = cli(
        "--now", "2026-03-02T09:00", "calendar", "list", "--year", "2027", "--category", "faith"
    )
    assert code == 0
    assert "18 observances in 2027" in out
    assert "Sat 06 Feb │ Lunar New Year" in out
    assert "begins on the evening of Wednesday 21 April 2027" in out  # Passover
    assert "Black History Month" not in out

    code, _, err = cli("calendar", "list", "--category", "sport")
    assert code == 1
    assert "--category: 'sport' is not a calendar category. Categories: faith, heritage" in err


def test_export_writes_one_all_day_event_per_observance_for_this_year_and_next(
    cli: CliRun, tmp_path: Path
) -> None:
    target = tmp_path / "calendar.ics"
    code, out, _ = cli("--now", "2026-03-02T09:00", "calendar", "export", "--ics", str(target))
    assert code == 0
    assert "Wrote 84 observances of 2026 and 2027" in out
    events = icalendar.Calendar.from_ical(target.read_bytes()).walk("VEVENT")
    assert len(events) == 84
    bhm = next(
        e for e in events if e.get("summary") == "Black History Month" and e.get("dtstart").dt.year == 2026
    )
    assert bhm.get("dtstart").dt == date(2026, 10, 1)
    assert bhm.get("dtend").dt == date(2026, 11, 1)  # RFC 5545: the day after the last
    assert "African and Caribbean heritage" in str(bhm.get("description"))
    hmd = next(e for e in events if e.get("summary") == "Holocaust Memorial Day")
    assert hmd.get("dtend") is None and hmd.get("dtstart").dt == date(2026, 1, 27)


def test_ics_round_trip_export_then_import_into_a_fresh_store_gives_the_same_dates(store: Database) -> None:
    shipped = Calendar(list(shipped_observances()))
    exported = [d for year in (2026, 2027) for d in shipped.in_year(year)]
    data = export_ics(exported)

    with store.session() as session:
        report = import_ics(session, data, known=Calendar([]), now=NOW)
    assert (len(report.added), report.already, report.problems) == (84, 0, [])
    with store.session() as session:
        imported = organisation_calendar(session, shipped=[])
    again = [d for year in (2026, 2027) for d in imported.in_year(year)]

    def dates(found: list[Dated]) -> list[tuple[str, date, date, str, str]]:
        return sorted(
            (
                d.observance.name,
                d.occurrence.start,
                d.occurrence.end,
                d.observance.category,
                d.observance.tone,
            )
            for d in found
        )

    assert dates(again) == dates(exported)

    # Importing the same file again adds nothing: every date is in the calendar already.
    with store.session() as session:
        report = import_ics(session, data, known=organisation_calendar(session, shipped=[]), now=NOW)
    assert (len(report.added), report.already) == (0, 84)


def test_import_adds_the_organisations_own_dates_and_names_what_it_could_not_use(
    cli: CliRun, tmp_path: Path
) -> None:
    ours = icalendar.Calendar()
    for summary, start, extra in (
        ("Northbridge Pride Picnic", date(2026, 7, 4), {}),
        ("Founders' Day", date(2026, 5, 4), {"rrule": {"freq": "yearly", "bymonth": 5, "bymonthday": 4}}),
        ("Weekly stand-up", date(2026, 5, 4), {"rrule": {"freq": "weekly"}}),
        ("Diwali", date(2026, 11, 8), {}),  # the shipped calendar has it that day already
    ):
        event = icalendar.Event()
        event.add("summary", summary)
        event.add("dtstart", start)
        for key, value in extra.items():
            event.add(key, value)
        ours.add_component(event)
    path = tmp_path / "ours.ics"
    path.write_bytes(ours.to_ical())

    code, out, _ = cli("--now", "2026-03-02T09:00", "calendar", "import", str(path))
    assert code == 0, out
    assert "2 dates added, 1 already in the calendar, 1 skipped." in out
    assert "+ Northbridge Pride Picnic (2026-07-04)" in out
    assert "+ Founders' Day (FREQ=YEARLY;BYMONTHDAY=4;BYMONTH=5)" in out
    assert "Event 3 (Weekly stand-up): 'FREQ=WEEKLY' must repeat yearly (FREQ=YEARLY); skipped." in out

    code, out, _ = cli(
        "--now", "2026-03-02T09:00", "calendar", "list", "--year", "2027", "--category", "organisation"
    )
    assert "Founders' Day" in out and "Tue 04 May" in out
    assert "Pride Picnic" not in out  # a dated event happens once

    (tmp_path / "broken.ics").write_text("this is not a calendar", encoding="utf-8")
    code, _, err = cli("calendar", "import", str(tmp_path / "broken.ics"))
    assert code == 1
    assert "broken.ics: That is not an iCalendar (.ics) file" in err
