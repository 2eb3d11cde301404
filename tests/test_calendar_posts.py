"""A year of diversity calendar posts on a fake clock: each post goes once, at the channel's local morning,
never on a weekend or bank holiday when the channel posts on working days only, in the observance's tone;
and a person's hold keeps their non-urgent reminders back during an observance they keep.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import icalendar
import pytest

from bot.console import FakeClock
from schedules.sending import Undeliverable
from storage.db import Database
from storage.rules.calendar import bank_holidays
from tests.nudging import NudgeWorld, Row, Someone, at, say


@pytest.fixture
def world(store: Database) -> Iterator[NudgeWorld]:
    found = NudgeWorld(store, FakeClock(at("2025-12-20T09:00")))
    found.people(
        Someone("Priya Shah", "EDI Lead", admin=True),
        Someone("Amina Khan", "HR Manager"),
    )
    yield found
    found.close()


def test_a_year_of_posts_each_once_at_the_channels_morning_and_never_on_a_weekend_when_asked(
    world: NudgeWorld,
) -> None:
    assert "#edi-network now hears" in say(world, "Priya Shah", "/edi calendar subscribe #edi-network")
    assert "on working days only" in say(
        world, "Priya Shah", "/edi calendar subscribe #faith-staff faith working-days"
    )
    assert "is hidden" in say(world, "Priya Shah", "/edi calendar hide world menopause day")
    day = date(2025, 12, 20)
    while day <= date(2026, 12, 31):
        # Two rounds a day, as a scheduler left running would: at the morning and again after it.
        for moment in ("09:30", "16:00"):
            world.round(f"{day.isoformat()}T{moment}")
        day += timedelta(days=1)

    network = world.inbox("#edi-network")
    faith = world.inbox("#faith-staff")
    posts = [*network, *faith]
    # Each post once: one per outbox key, and the platform was handed each key's post exactly once.
    sent = [m for m in world.outbox() if m.key.startswith("calendar:")]
    assert len(posts) == len(sent) == len({m.key for m in sent})
    assert all(m.status == "sent" for m in sent)
    assert not [text for text, n in Counter((p.to, p.local().date(), p.text) for p in posts).items() if n > 1]

    # At the channel's local morning (09:30 London, in GMT and in BST alike).
    assert {p.local().strftime("%H:%M") for p in posts} == {"09:30"}

    # Working days only: never a Saturday, a Sunday or an English bank holiday.
    england = bank_holidays("england")
    assert not [p.local().date() for p in faith if p.local().weekday() >= 5 or p.local().date() in england]
    # Diwali 2026 is Sunday 8 November: its week-ahead post (Sunday 1 November) and its on-the-day post move
    # back to the Fridays before; the channel that posts every day has them on the Sundays.
    diwali_faith = [p.local().date() for p in faith if "Diwali" in p.text and p.local().year == 2026]
    assert diwali_faith == [date(2026, 10, 30), date(2026, 11, 6)]
    diwali_network = [p.local().date() for p in network if "Diwali" in p.text and p.local().year == 2026]
    assert diwali_network == [date(2026, 11, 1), date(2026, 11, 8)]

    # Only the categories asked for; nothing hidden.
    assert not [p for p in faith if "Black History Month" in p.text]
    assert [p.local().date() for p in network if "Black History Month" in p.text] == [
        date(2026, 9, 24),
        date(2026, 10, 1),
    ]
    assert not [p for p in posts if "Menopause" in p.text]

    # The right tone: a commemoration reflects, a celebration greets on its day.
    hmd = [p for p in network if "Holocaust Memorial Day" in p.text]
    assert [p.local().date() for p in hmd] == [date(2026, 1, 20), date(2026, 1, 27)]
    assert hmd[0].text.startswith("Holocaust Memorial Day on Tuesday 27 January 2026: a time of reflection.")
    assert hmd[1].text.startswith("Today we mark Holocaust Memorial Day, a time of reflection.")
    for post in posts:
        if any(name in post.text for name in ("Remembrance", "Holocaust", "Srebrenica", "Yom Kippur")):
            assert "happy" not in post.text.lower(), post.text
    eid = [p for p in faith if p.text.startswith("Eid al-Fitr is expected to be today.")]
    assert eid and "Eid Mubarak to everyone celebrating." in eid[0].text
    assert "More: https://mcb.org.uk/" in eid[0].text


def test_a_person_who_keeps_ramadan_hears_only_deadline_day_reminders_during_it(world: NudgeWorld) -> None:
    world.move("2026-02-02T09:00")
    world.plan(
        [
            Row(
                "Publish the gender pay gap report", "HR Manager", "27/02/26"
            ),  # its 14-day step is in Ramadan
            Row("Review the menopause policy", "HR Manager", "03/03/26"),  # due in Ramadan: that day's goes
        ],
        imported=at("2026-02-02T09:00"),
    )
    assert "During Ramadan your non-urgent reminders wait" in say(
        world, "Amina Khan", "/edi calendar hold Ramadan"
    )
    world.run_until("2026-03-24T18:00", every=timedelta(hours=3))

    got = [(r.local().date(), r.text) for r in world.inbox("Amina Khan")]
    during = [(day, text) for day, text in got if date(2026, 2, 18) <= day <= date(2026, 3, 19)]
    # Ramadan 1447 is 18 February to 19 March 2026 (Umm al-Qura).
    before = [(day, text) for day, text in got if day < date(2026, 2, 18)]
    assert [day for day, _ in before] == [date(2026, 2, 2), date(2026, 2, 13), date(2026, 2, 17)]
    assert "Welcome to edibot" in before[0][1]  # the day the plan was taken up
    assert [day for day, _ in during] == [date(2026, 2, 27), date(2026, 3, 3)]  # the two deadline days
    assert all("due today" in text.lower() for _, text in during), during
    after = [day for day, text in got if day > date(2026, 3, 19)]
    assert after and after[0] == date(2026, 3, 20)  # what was held goes on the first working day after


def test_a_channel_that_refuses_calendar_posts_is_reported_to_the_admins_once(world: NudgeWorld) -> None:
    say(world, "Priya Shah", "/edi calendar subscribe #archived-channel")
    world.platform.fail("#archived-channel", *[Undeliverable("channel_not_found") for _ in range(5)])
    world.run_until("2026-01-28T18:00", start="2026-01-19T09:30", every=timedelta(hours=12))

    assert world.inbox("#archived-channel") == []
    refused = [m for m in world.outbox() if m.key.startswith("calendar:#archived-channel:")]
    assert [m.status for m in refused] == ["failed"] * 3  # HMD a week ahead and on the day, LGBT+ HM ahead
    notes = [r.text for r in world.inbox("Priya Shah")]
    assert len(notes) == 1
    assert "I couldn't post the diversity calendar in #archived-channel: channel_not_found." in notes[0]
    assert "`/edi calendar unsubscribe #archived-channel`" in notes[0]


class FeedServer:
    """The organisation's web server publishing its calendar: answers with the .ics (and its ETag), a 304 to a
    conditional GET for the same copy, or an error when told to; counts what it was asked."""

    def __init__(self) -> None:
        self.body = b""
        self.status = 200
        self.requests: list[str | None] = []  # the If-None-Match of each request
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                asked = self.headers.get("If-None-Match")
                feed.requests.append(asked)
                etag = f'"{hashlib.sha256(feed.body).hexdigest()[:12]}"'
                if feed.status != 200:
                    self.send_response(feed.status)
                    self.end_headers()
                elif asked == etag:
                    self.send_response(304)
                    self.end_headers()
                else:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/calendar")
                    self.send_header("ETag", etag)
                    self.end_headers()
                    self.wfile.write(feed.body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/calendar.ics"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def publish(self, *events: tuple[str, date]) -> None:
        calendar = icalendar.Calendar()
        for summary, start in events:
            event = icalendar.Event()
            event.add("summary", summary)
            event.add("dtstart", start)
            event.add("description", "All welcome, on the green by the depot.")
            calendar.add_component(event)
        self.body = calendar.to_ical()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_channel_follows_the_organisations_published_calendar_fetched_and_cached(world: NudgeWorld) -> None:
    feed = FeedServer()
    try:
        feed.publish(("Northbridge Pride Picnic", date(2026, 7, 4)))
        said = say(world, "Priya Shah", f"/edi calendar subscribe #staff-events organisation {feed.url}")
        assert f"and of the events in {feed.url} (fetched every few hours)" in said
        world.run_until("2026-06-29T18:00", start="2026-06-26T09:30", every=timedelta(hours=4))
        # Fetched on the first round, then again once 6 hours have passed (with rounds every 4 hours, every
        # other round: 11 in 3½ days), each time asking with the copy's ETag (and answered 304).
        assert feed.requests[0] is None and len(feed.requests) == 11 and all(feed.requests[1:])

        feed.status = 500  # the web server breaks: the channel keeps the last good copy; admins hear once
        world.run_until("2026-07-05T18:00", every=timedelta(hours=4))
    finally:
        feed.close()

    posts = [(p.local().date(), p.text) for p in world.inbox("#staff-events")]
    picnic = [(day, text.splitlines()[0]) for day, text in posts if "Picnic" in text]
    assert picnic == [
        (
            date(2026, 6, 27),
            "Coming up: Northbridge Pride Picnic on Saturday 4 July 2026. All welcome, on the "
            "green by the depot.",
        ),
        (date(2026, 7, 4), "Northbridge Pride Picnic is today. All welcome, on the green by the depot."),
    ]
    notes = [r.text for r in world.inbox("Priya Shah")]
    assert len(notes) == 1
    assert f"I couldn't fetch the calendar {feed.url}: the server answered HTTP 500." in notes[0]


def test_a_published_calendar_address_that_is_not_a_link_is_refused(world: NudgeWorld) -> None:
    said = say(world, "Priya Shah", "/edi calendar subscribe #staff-events ftp://files.example/cal.ics")
    assert "'ftp://files.example/cal.ics' is not the address of a published calendar" in said
