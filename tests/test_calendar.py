"""When a reminder reaches someone: 09:30 on their own clock, on their working days, never on their nation's
bank holidays, and not while they are away — across the clock changes and across time zones."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.models import Person
from storage.rules.calendar import catch_up_send_at, next_send_at, quiet_hours_leave_no_time, workday_ends

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


def person(**details: object) -> Person:
    values: dict[str, object] = {
        "name": "Amina Khan",
        "timezone": "Europe/London",
        "working_days": "Mon-Fri",
        "nation": "england",
        "send_time": "09:30",
        "away_until": None,
    }
    values.update(details)
    return Person(**values)


def sent(someone: Person, step_day: date) -> datetime:
    """When a reminder for a step on `step_day` goes out, on the recipient's own clock."""
    moment = next_send_at(someone, step_day, default_zone=LONDON)
    assert moment.utcoffset() == timedelta(0), "send times are stored in UTC"
    return moment.astimezone(ZoneInfo(someone.timezone) if someone.timezone else LONDON)


def utc(moment: str) -> datetime:
    return datetime.fromisoformat(moment).replace(tzinfo=UTC)


def test_reminders_go_out_at_half_past_nine_london_time_either_side_of_the_march_clock_change() -> None:
    amina = person()

    friday_before = next_send_at(amina, date(2025, 3, 28), default_zone=LONDON)
    monday_after = next_send_at(amina, date(2025, 3, 31), default_zone=LONDON)

    assert friday_before == utc("2025-03-28T09:30")  # GMT
    assert monday_after == utc("2025-03-31T08:30")  # BST: still 09:30 on Amina's clock
    assert sent(amina, date(2025, 3, 31)).time() == time(9, 30)
    # a step on the Sunday of the change goes out on Monday morning, 09:30 BST
    assert next_send_at(amina, date(2025, 3, 30), default_zone=LONDON) == utc("2025-03-31T08:30")


def test_reminders_go_out_at_half_past_nine_london_time_either_side_of_the_october_clock_change() -> None:
    amina = person()

    assert next_send_at(amina, date(2025, 10, 24), default_zone=LONDON) == utc("2025-10-24T08:30")  # BST
    assert next_send_at(amina, date(2025, 10, 26), default_zone=LONDON) == utc("2025-10-27T09:30")  # GMT
    assert next_send_at(amina, date(2025, 10, 27), default_zone=LONDON) == utc("2025-10-27T09:30")


def test_someone_in_new_york_is_reminded_at_half_past_nine_new_york_time() -> None:
    dev = person(name="Dev Raman", timezone="America/New_York")

    # 27 October: London has changed its clocks, New York not yet (EDT, UTC-4)
    assert next_send_at(dev, date(2025, 10, 27), default_zone=LONDON) == utc("2025-10-27T13:30")
    # 3 November: both on winter time (EST, UTC-5)
    assert next_send_at(dev, date(2025, 11, 3), default_zone=LONDON) == utc("2025-11-03T14:30")
    assert sent(dev, date(2025, 11, 3)) == datetime(2025, 11, 3, 9, 30, tzinfo=NEW_YORK)


def test_someone_without_a_time_zone_is_reminded_on_the_organisations_clock() -> None:
    grace = person(name="Grace Liu", timezone=None)

    assert next_send_at(grace, date(2025, 7, 1), default_zone=LONDON) == utc("2025-07-01T08:30")


def test_a_chosen_send_time_is_kept() -> None:
    tom = person(name="Tom Okafor", send_time="08:15")

    assert sent(tom, date(2025, 7, 1)) == datetime(2025, 7, 1, 8, 15, tzinfo=LONDON)


def test_an_evening_send_time_stretches_the_working_day_to_cover_it() -> None:
    kofi = person(name="Kofi Mensah", send_time="18:00")  # a late shift

    assert sent(kofi, date(2025, 11, 4)) == datetime(2025, 11, 4, 18, 0, tzinfo=LONDON)
    evening = datetime(2025, 11, 4, 19, 15, tzinfo=LONDON)
    assert catch_up_send_at(kofi, evening, default_zone=LONDON) == evening.astimezone(UTC)  # still their day
    night = datetime(2025, 11, 4, 21, 30, tzinfo=LONDON)
    assert catch_up_send_at(kofi, night, default_zone=LONDON) == datetime(2025, 11, 5, 18, 0, tzinfo=LONDON)
    assert workday_ends(kofi) == time(21, 0) and workday_ends(person()) == time(17, 30)


def test_a_step_that_falls_at_the_weekend_is_sent_on_monday() -> None:
    amina = person()

    assert sent(amina, date(2025, 11, 8)) == datetime(2025, 11, 10, 9, 30, tzinfo=LONDON)  # Saturday
    assert sent(amina, date(2025, 11, 9)) == datetime(2025, 11, 10, 9, 30, tzinfo=LONDON)  # Sunday
    assert sent(amina, date(2025, 11, 7)) == datetime(2025, 11, 7, 9, 30, tzinfo=LONDON)  # Friday


@pytest.mark.parametrize(
    ("holiday", "nation", "sent_on"),
    [
        (date(2025, 1, 2), "scotland", date(2025, 1, 3)),  # 2 January
        (date(2025, 1, 2), "england", date(2025, 1, 2)),
        (date(2025, 12, 1), "scotland", date(2025, 12, 2)),  # St Andrew's Day (30 Nov, a Sunday) in lieu
        (date(2025, 12, 1), "england", date(2025, 12, 1)),
        (date(2025, 3, 17), "northern-ireland", date(2025, 3, 18)),  # St Patrick's Day
        (date(2025, 3, 17), "england", date(2025, 3, 17)),
        (date(2025, 4, 21), "england", date(2025, 4, 22)),  # Easter Monday
        (date(2025, 4, 21), "wales", date(2025, 4, 22)),
        (date(2025, 4, 21), "scotland", date(2025, 4, 21)),  # not a bank holiday in Scotland
        (date(2025, 8, 4), "scotland", date(2025, 8, 5)),  # Scotland's summer bank holiday
        (date(2025, 8, 25), "england", date(2025, 8, 26)),
        (date(2025, 8, 25), "scotland", date(2025, 8, 25)),
        (date(2025, 7, 14), "northern-ireland", date(2025, 7, 15)),  # the Twelfth, in lieu
        (date(2025, 12, 25), "england", date(2025, 12, 29)),  # Christmas, Boxing Day, the weekend
    ],
)
def test_no_reminders_on_the_bank_holidays_of_the_persons_nation(
    holiday: date, nation: str, sent_on: date
) -> None:
    assert sent(person(nation=nation), holiday) == datetime.combine(sent_on, time(9, 30), tzinfo=LONDON)


@pytest.mark.parametrize(
    ("nation", "subdivision"),
    [("england", "ENG"), ("wales", "WLS"), ("scotland", "SCT"), ("northern-ireland", "NIR")],
)
def test_every_bank_holiday_the_holidays_package_knows_is_skipped(nation: str, subdivision: str) -> None:
    someone = person(nation=nation)
    known = holidays.country_holidays("GB", subdiv=subdivision, years=[2025, 2026, 2027])

    weekday_holidays = sorted(day for day in known if day.weekday() < 5)
    assert len(weekday_holidays) >= 24
    for day in weekday_holidays:
        assert sent(someone, day).date() > day, f"{known[day]} ({day}) for {nation}"


def test_custom_working_days_are_respected() -> None:
    four_day_week = person(working_days="Mon-Thu")
    part_time = person(working_days="Tue,Thu")

    assert sent(four_day_week, date(2025, 11, 7)).date() == date(2025, 11, 10)  # Friday → Monday
    assert sent(four_day_week, date(2025, 11, 6)).date() == date(2025, 11, 6)
    assert sent(part_time, date(2025, 11, 5)).date() == date(2025, 11, 6)  # Wednesday → Thursday
    assert sent(part_time, date(2025, 11, 7)).date() == date(2025, 11, 11)  # Friday → Tuesday


@pytest.mark.parametrize("written", ["Mon–Thu", "Monday to Thursday"])
def test_working_days_written_with_a_dash_or_in_words_are_understood(written: str) -> None:
    assert sent(person(working_days=written), date(2025, 11, 4)).date() == date(2025, 11, 4)  # a Tuesday


def test_reminders_are_held_while_someone_is_away_until_the_day_after() -> None:
    away_till_friday = person(away_until=date(2025, 11, 7))
    away_till_monday = person(away_until=date(2025, 11, 10))

    assert sent(away_till_friday, date(2025, 11, 4)) == datetime(2025, 11, 10, 9, 30, tzinfo=LONDON)
    assert sent(away_till_monday, date(2025, 11, 10)) == datetime(2025, 11, 11, 9, 30, tzinfo=LONDON)
    assert sent(away_till_friday, date(2025, 11, 11)) == datetime(2025, 11, 11, 9, 30, tzinfo=LONDON)
    assert sent(person(away_until=date(2025, 11, 3)), date(2025, 11, 4)).date() == date(2025, 11, 4)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("2025-11-04T03:00", "2025-11-04T09:30"),  # at night: this morning at half past nine
        ("2025-11-04T11:20", "2025-11-04T11:20"),  # working hours: now
        ("2025-11-07T18:00", "2025-11-10T09:30"),  # Friday evening: Monday
        ("2025-11-09T14:00", "2025-11-10T09:30"),  # Sunday: Monday
        ("2025-12-24T20:00", "2025-12-29T09:30"),  # Christmas Eve evening: after Boxing Day and the weekend
        ("2025-03-30T02:30", "2025-03-31T09:30"),  # the night the clocks go forward
    ],
)
def test_a_late_reminder_catches_up_in_working_hours_never_at_night(now: str, expected: str) -> None:
    caught_up = catch_up_send_at(
        person(), datetime.fromisoformat(now).replace(tzinfo=LONDON), default_zone=LONDON
    )

    assert caught_up.astimezone(LONDON) == datetime.fromisoformat(expected).replace(tzinfo=LONDON)


def test_a_late_reminder_for_someone_away_waits_for_their_return() -> None:
    away = person(away_until=date(2025, 11, 5))

    caught_up = catch_up_send_at(away, datetime(2025, 11, 4, 11, 0, tzinfo=LONDON), default_zone=LONDON)

    assert caught_up.astimezone(LONDON) == datetime(2025, 11, 6, 9, 30, tzinfo=LONDON)


def test_a_late_reminder_for_new_york_waits_for_new_york_morning() -> None:
    dev = person(name="Dev Raman", timezone="America/New_York")

    caught_up = catch_up_send_at(dev, datetime(2025, 11, 4, 11, 0, tzinfo=LONDON), default_zone=LONDON)

    assert caught_up.astimezone(NEW_YORK) == datetime(2025, 11, 4, 9, 30, tzinfo=NEW_YORK)


ZONES = ["Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Sydney"]


@settings(max_examples=150, deadline=None)
@given(
    moment=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31)),
    zone=st.sampled_from(ZONES),
    nation=st.sampled_from(["england", "wales", "scotland", "northern-ireland"]),
    working_days=st.sampled_from(["Mon-Fri", "Mon-Thu", "Tue,Thu", "Sun-Thu"]),
    send_time=st.sampled_from(["09:30", "08:00", "10:15"]),
    away_days=st.one_of(st.none(), st.integers(min_value=-3, max_value=20)),
)
def test_a_catch_up_is_never_at_night_at_the_weekend_or_on_a_bank_holiday(
    moment: datetime, zone: str, nation: str, working_days: str, send_time: str, away_days: int | None
) -> None:
    now = moment.replace(tzinfo=UTC)
    local_zone = ZoneInfo(zone)
    away = now.astimezone(local_zone).date() + timedelta(days=away_days) if away_days is not None else None
    someone = person(
        timezone=zone, nation=nation, working_days=working_days, send_time=send_time, away_until=away
    )

    caught_up = catch_up_send_at(someone, now, default_zone=LONDON)

    local = caught_up.astimezone(local_zone)
    assert caught_up >= now
    assert time.fromisoformat(send_time) <= local.time() < time(17, 30), local
    assert (
        local.strftime("%a")[:3].lower()
        in {
            "mon-fri": ["mon", "tue", "wed", "thu", "fri"],
            "mon-thu": ["mon", "tue", "wed", "thu"],
            "tue,thu": ["tue", "thu"],
            "sun-thu": ["sun", "mon", "tue", "wed", "thu"],
        }[working_days.lower()]
    ), local
    subdivision = {"england": "ENG", "wales": "WLS", "scotland": "SCT", "northern-ireland": "NIR"}[nation]
    assert local.date() not in holidays.country_holidays("GB", subdiv=subdivision), local
    if away is not None:
        assert local.date() > away


def test_quiet_hours_that_leave_no_time_for_reminders_are_told_apart_without_changing_the_person() -> None:
    someone = person(send_time="09:30", quiet_hours="12:00-13:00")
    assert quiet_hours_leave_no_time(someone, ("09:00", "18:00"))
    assert quiet_hours_leave_no_time(someone, ("21:00", "17:45"))  # overnight, into the end of the day
    assert not quiet_hours_leave_no_time(someone, ("12:00", "13:00"))
    assert not quiet_hours_leave_no_time(someone, ("22:00", "07:00"))
    assert not quiet_hours_leave_no_time(person(send_time="17:00"), ("09:00", "17:00"))  # a late send time
    assert someone.quiet_hours == "12:00-13:00"
