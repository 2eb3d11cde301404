"""The diversity calendar's dates and words: every observance we ship lands on its published dates for
2024–2027, commemorations are never worded as celebrations, and a bad data file or date rule says exactly
what is wrong.

Sources for the pinned dates (each checked against a published calendar, not against our own code):
- Islamic dates: the Umm al-Qura calendar (ummulqura.org.sa), as the Muslim Council of Britain lists them;
  moon sighting can move them a day in the UK, which is why they are said "on or around".
- Jewish dates: hebcal.com's holiday pages (the first full day; each begins the evening before).
- Diwali, Holi, Vaisakhi, Guru Nanak Gurpurab: India's gazetted holiday lists as tabled by the `holidays`
  package (drikpanchang.com agrees); Vaisakhi 2025 is 13 April there while the Nanakshahi calendar keeps
  14 April, so it is "on or around" too.
- Lunar New Year: Hong Kong Observatory's Gregorian–lunar conversion tables.
- Vesak: the May full moon as the `holidays` Buddhist table gives it (traditions differ by a day or a month).
- Easter and Good Friday: the Church of England's date tables.
- Fixed and nth-weekday days: each organiser's site (hmd.org.uk, srebrenica.org.uk, britishlegion.org.uk,
  armedforcesday.org.uk, refugeeweek.org.uk, interfaithweek.org, neurodiversityweek.com,
  mentalhealth.org.uk, carersweek.org, inclusiveemployers.co.uk, southasianheritage.org.uk, ukdhm.org).
  Where an organiser had not yet published a later year (Carers Week and National Inclusion Week 2026–27,
  UK Disability History Month 2025–27), the expected date is the organiser's rule so far (second Monday of
  June; fourth Monday of September; UKDHM's 2024 dates), and the data file says to check the source.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from storage.observance_data import CalendarDataError, load_observances, shipped_observances
from storage.rules.observances.catalogue import Calendar
from storage.rules.observances.dates import DateRuleError, occurrences, read_rule
from storage.rules.observances.wording import announcement, tone_problem, when_text


def _d(text: str) -> date:
    return date.fromisoformat(text)


# name: the first day (and last, for those that run several days) in 2024, 2025, 2026, 2027.
PINNED: dict[str, list[str]] = {
    "Ramadan": [
        "2024-03-11..2024-04-09",
        "2025-03-01..2025-03-29",
        "2026-02-18..2026-03-19",
        "2027-02-08..2027-03-08",
    ],
    "Eid al-Fitr": ["2024-04-10", "2025-03-30", "2026-03-20", "2027-03-09"],
    "Eid al-Adha": ["2024-06-16", "2025-06-06", "2026-05-27", "2027-05-16"],
    "Islamic New Year": ["2024-07-07", "2025-06-26", "2026-06-16", "2027-06-06"],
    "Rosh Hashanah": [
        "2024-10-03..2024-10-04",
        "2025-09-23..2025-09-24",
        "2026-09-12..2026-09-13",
        "2027-10-02..2027-10-03",
    ],
    "Yom Kippur": ["2024-10-12", "2025-10-02", "2026-09-21", "2027-10-11"],
    "Hanukkah": [
        "2024-12-26..2025-01-02",
        "2025-12-15..2025-12-22",
        "2026-12-05..2026-12-12",
        "2027-12-25..2028-01-01",
    ],
    "Passover": [
        "2024-04-23..2024-04-30",
        "2025-04-13..2025-04-20",
        "2026-04-02..2026-04-09",
        "2027-04-22..2027-04-29",
    ],
    "Diwali": ["2024-10-31", "2025-10-20", "2026-11-08", "2027-10-29"],
    "Vaisakhi": ["2024-04-13", "2025-04-13", "2026-04-14", "2027-04-14"],
    "Holi": ["2024-03-25", "2025-03-14", "2026-03-04", "2027-03-22"],
    "Guru Nanak Gurpurab": ["2024-11-15", "2025-11-05", "2026-11-24", "2027-11-14"],
    "Lunar New Year": ["2024-02-10", "2025-01-29", "2026-02-17", "2027-02-06"],
    "Vesak": ["2024-05-22", "2025-05-12", "2026-05-01", "2027-05-20"],
    "Good Friday": ["2024-03-29", "2025-04-18", "2026-04-03", "2027-03-26"],
    "Easter": ["2024-03-31", "2025-04-20", "2026-04-05", "2027-03-28"],
    "Christmas": ["2024-12-25", "2025-12-25", "2026-12-25", "2027-12-25"],
    "Inter Faith Week": [
        "2024-11-10..2024-11-17",
        "2025-11-09..2025-11-16",
        "2026-11-08..2026-11-15",
        "2027-11-14..2027-11-21",
    ],
    "LGBT+ History Month": [
        "2024-02-01..2024-02-29",
        "2025-02-01..2025-02-28",
        "2026-02-01..2026-02-28",
        "2027-02-01..2027-02-28",
    ],
    "Black History Month": [
        "2024-10-01..2024-10-31",
        "2025-10-01..2025-10-31",
        "2026-10-01..2026-10-31",
        "2027-10-01..2027-10-31",
    ],
    # 18 July–17 August until 2025; 1–31 July from 2026 (southasianheritage.org.uk).
    "South Asian Heritage Month": [
        "2024-07-18..2024-08-17",
        "2025-07-18..2025-08-17",
        "2026-07-01..2026-07-31",
        "2027-07-01..2027-07-31",
    ],
    "Gypsy, Roma and Traveller History Month": [
        "2024-06-01..2024-06-30",
        "2025-06-01..2025-06-30",
        "2026-06-01..2026-06-30",
        "2027-06-01..2027-06-30",
    ],
    "Pride Month": [
        "2024-06-01..2024-06-30",
        "2025-06-01..2025-06-30",
        "2026-06-01..2026-06-30",
        "2027-06-01..2027-06-30",
    ],
    "Windrush Day": ["2024-06-22", "2025-06-22", "2026-06-22", "2027-06-22"],
    "Refugee Week": [
        "2024-06-17..2024-06-23",
        "2025-06-16..2025-06-22",
        "2026-06-15..2026-06-21",
        "2027-06-14..2027-06-20",
    ],
    "UK Disability History Month": [
        "2024-11-14..2024-12-20",
        "2025-11-14..2025-12-20",
        "2026-11-14..2026-12-20",
        "2027-11-14..2027-12-20",
    ],
    "International Day of Persons with Disabilities": [
        "2024-12-03",
        "2025-12-03",
        "2026-12-03",
        "2027-12-03",
    ],
    "Neurodiversity Celebration Week": [
        "2024-03-18..2024-03-24",
        "2025-03-17..2025-03-23",
        "2026-03-16..2026-03-22",
        "2027-03-15..2027-03-21",
    ],
    "International Women's Day": ["2024-03-08", "2025-03-08", "2026-03-08", "2027-03-08"],
    "International Men's Day": ["2024-11-19", "2025-11-19", "2026-11-19", "2027-11-19"],
    "IDAHOBIT": ["2024-05-17", "2025-05-17", "2026-05-17", "2027-05-17"],
    "Trans Day of Visibility": ["2024-03-31", "2025-03-31", "2026-03-31", "2027-03-31"],
    "Bi Visibility Day": ["2024-09-23", "2025-09-23", "2026-09-23", "2027-09-23"],
    "Mental Health Awareness Week": [
        "2024-05-13..2024-05-19",
        "2025-05-12..2025-05-18",
        "2026-05-11..2026-05-17",
        "2027-05-10..2027-05-16",
    ],
    "World Menopause Day": ["2024-10-18", "2025-10-18", "2026-10-18", "2027-10-18"],
    "National Inclusion Week": [
        "2024-09-23..2024-09-29",
        "2025-09-22..2025-09-28",
        "2026-09-28..2026-10-04",
        "2027-09-27..2027-10-03",
    ],
    "Carers Week": [
        "2024-06-10..2024-06-16",
        "2025-06-09..2025-06-15",
        "2026-06-08..2026-06-14",
        "2027-06-14..2027-06-20",
    ],
    "Holocaust Memorial Day": ["2024-01-27", "2025-01-27", "2026-01-27", "2027-01-27"],
    "Srebrenica Memorial Day": ["2024-07-11", "2025-07-11", "2026-07-11", "2027-07-11"],
    "Transgender Day of Remembrance": ["2024-11-20", "2025-11-20", "2026-11-20", "2027-11-20"],
    "Remembrance Sunday": ["2024-11-10", "2025-11-09", "2026-11-08", "2027-11-14"],
    "Armed Forces Day": ["2024-06-29", "2025-06-28", "2026-06-27", "2027-06-26"],
}


@pytest.fixture(scope="module")
def calendar() -> Calendar:
    return Calendar(list(shipped_observances()))


def test_every_observance_the_issue_asks_for_is_shipped_and_pinned(calendar: Calendar) -> None:
    assert sorted(o.name for o in calendar.observances) == sorted(PINNED)


@pytest.mark.parametrize("name", sorted(PINNED))
def test_each_observance_falls_on_its_published_dates_2024_to_2027(calendar: Calendar, name: str) -> None:
    observance = calendar.find(name)
    assert observance is not None
    found = []
    for year in range(2024, 2028):
        (occurrence,) = occurrences(observance.rules, year)
        start, end = occurrence.start.isoformat(), occurrence.end.isoformat()
        found.append(start if start == end else f"{start}..{end}")
    assert found == PINNED[name]


def test_a_hijri_date_can_fall_twice_in_one_gregorian_year(calendar: Calendar) -> None:
    eid = calendar.find("eid al-fitr")
    assert eid is not None
    # Umm al-Qura: 1 Shawwal 1454 is 2 January 2033 and 1 Shawwal 1455 is 23 December 2033.
    assert [o.start for o in occurrences(eid.rules, 2033)] == [date(2033, 1, 2), date(2033, 12, 23)]


def test_dates_say_on_or_around_and_begins_at_sundown_where_they_should(calendar: Calendar) -> None:
    def said(name: str, year: int) -> str:
        observance = calendar.find(name)
        assert observance is not None
        return when_text(observance, occurrences(observance.rules, year)[0])

    assert said("Eid al-Fitr", 2025) == "on or around Sunday 30 March 2025"
    assert said("Yom Kippur", 2024) == "begins on the evening of Friday 11 October 2024"
    assert (
        said("Hanukkah", 2025)
        == "begins on the evening of Sunday 14 December 2025, until Monday 22 December 2025"
    )
    assert said("Black History Month", 2025) == "throughout October 2025"
    assert said("South Asian Heritage Month", 2025) == "from 18 July to 17 August 2025"
    assert said("Holocaust Memorial Day", 2026) == "on Tuesday 27 January 2026"
    assert said("Ramadan", 2026) == "from around 18 February to 19 March 2026"


def test_no_commemoration_is_ever_worded_as_a_celebration(calendar: Calendar) -> None:
    commemorations = [o for o in calendar.observances if o.tone == "commemoration"]
    assert {
        "Holocaust Memorial Day",
        "Srebrenica Memorial Day",
        "Transgender Day of Remembrance",
        "Remembrance Sunday",
        "Yom Kippur",
        "Good Friday",
    } <= {o.name for o in commemorations}
    for observance in commemorations:
        for year in range(2024, 2028):
            for occurrence in occurrences(observance.rules, year):
                for days_before in (7, 0):
                    today = date.fromordinal(occurrence.start.toordinal() - days_before)
                    text = announcement(observance, occurrence, today=today)
                    assert tone_problem("commemoration", text) is None, text
                    assert "happy" not in text.lower() and "celebrat" not in text.lower(), text
                    assert "remember" in text or "reflect" in text, text


def test_a_celebration_greets_on_its_day_and_looks_ahead_before_it(calendar: Calendar) -> None:
    diwali = calendar.find("Diwali")
    assert diwali is not None
    (day,) = occurrences(diwali.rules, 2025)
    assert announcement(diwali, day, today=date(2025, 10, 13)).startswith(
        "Coming up: Diwali on or around Monday 20 October 2025."
    )
    assert announcement(diwali, day, today=date(2025, 10, 20)).startswith(
        "Diwali is expected to be today. Happy Diwali to everyone celebrating."
    )
    christmas = calendar.find("Christmas")
    assert christmas is not None
    (day,) = occurrences(christmas.rules, 2026)
    assert announcement(christmas, day, today=day.start).startswith(
        "Christmas is today. Merry Christmas to everyone celebrating."
    )
    pride = calendar.find("Pride Month")
    assert pride is not None
    (month,) = occurrences(pride.rules, 2026)
    assert announcement(pride, month, today=month.start).startswith("Pride Month begins today.")


# -- bad data ------------------------------------------------------------------------------------------------


def _data(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ours.toml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """
[[observance]]
name = "Founders' Day"
category = "heritage"
tone = "celebration"
description = "The day our charity was founded."
when = [{ fixed = "05-04" }]
"""


def test_a_malformed_data_file_names_the_file_the_entry_and_the_field(tmp_path: Path) -> None:
    path = _data(tmp_path, GOOD + GOOD.replace("Founders' Day", "Staff Day").replace("05-04", "13-40"))
    with pytest.raises(CalendarDataError) as refused:
        load_observances(path)
    assert str(refused.value) == (
        f"{path}: entry 2 (Staff Day), field 'when[0].fixed': '13-40' should be MM-DD, e.g. 01-27"
    )

    path = _data(tmp_path, GOOD.replace('"heritage"', '"sport"'))
    with pytest.raises(
        CalendarDataError, match=r"entry 1 \(Founders' Day\), field 'category': 'sport' is not a"
    ):
        load_observances(path)

    path = _data(tmp_path, GOOD.replace('fixed = "05-04"', 'rrule = "FREQ=YEARLY;BYDAY=9XX"'))
    with pytest.raises(
        CalendarDataError, match=r"entry 1 \(Founders' Day\), field 'when\[0\].rrule': .*not a valid RRULE"
    ):
        load_observances(path)

    path = _data(tmp_path, GOOD.replace('fixed = "05-04"', 'fixed = "05-04", easter = 1'))
    with pytest.raises(
        CalendarDataError, match=r"field 'when\[0\]': give exactly one of .* \(found fixed, easter\)"
    ):
        load_observances(path)

    path = _data(
        tmp_path,
        GOOD.replace('tone = "celebration"', 'tone = "commemoration"').replace(
            "The day our charity was founded.", "Happy Founders' Day!"
        ),
    )
    with pytest.raises(CalendarDataError, match="'Happy' celebrates, and this is a commemoration"):
        load_observances(path)

    path = _data(tmp_path, "[[observance]\nname = 'x'")
    with pytest.raises(CalendarDataError, match="is not valid TOML"):
        load_observances(path)


def test_dates_an_organisation_writes_are_read_or_refused_in_words() -> None:
    assert read_rule("14 March").__class__.__name__ == "Fixed"
    assert read_rule("March").__class__.__name__ == "Span"
    assert read_rule("2026-03-14 for 3 days").__class__.__name__ == "OneOff"
    assert read_rule("FREQ=YEARLY;BYMONTH=11;BYDAY=2SU").__class__.__name__ == "Recurring"
    with pytest.raises(DateRuleError, match="not a valid RRULE"):
        read_rule("FREQ=YEARLY;BYDAY=9XX")
    with pytest.raises(DateRuleError, match="must repeat yearly"):
        read_rule("FREQ=WEEKLY;BYDAY=MO")
    with pytest.raises(DateRuleError, match="is not a date I can repeat"):
        read_rule("next Tuesday")
    with pytest.raises(DateRuleError, match="is not a date in the calendar"):
        read_rule("2026-02-30")
