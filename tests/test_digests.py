"""Weekly digests: a plan admin subscribes a channel, and over several weeks of changes on the fake clock the
channel gets one digest a week — its counts and their change, what moved, what is overdue, due soon or
stale, by theme, within Slack's limits — on its day at its time, never on a bank holiday, never twice.

The world is the `transcript` fixture's (tests/conftest.py): the Northbridge sample plan imported on Monday
3 November 2025 at 09:30 in London, Priya Shah its only plan admin.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.console import ConsoleSender, render
from bot.slack.blocks import MESSAGE_BLOCKS, SECTION_TEXT, blocks_for
from handlers.core import Actor
from handlers.messages import reply_from_data
from schedules.delivery import deliver
from schedules.digests import DigestReport, queue_digests
from schedules.runner import NudgeRound
from schedules.sending import Undeliverable
from storage.db import Database
from storage.importing.service import import_plan
from storage.models import DigestSubscription, OutboxMessage
from tests.builders import write_csv
from tests.conftest import CliRun
from tests.nudging import Platform
from tests.transcript import Transcript, nothing_changes

LONDON = ZoneInfo("Europe/London")
ADMIN = "@Priya Shah"


def subscriptions(store: Database) -> list[dict[str, Any]]:
    """Every subscription's settings, as a refusal must leave them."""
    with store.session() as session:
        return [
            {column.name: getattr(s, column.name) for column in DigestSubscription.__table__.columns}
            for s in session.scalars(select(DigestSubscription).order_by(DigestSubscription.id))
        ]


@contextmanager
def nothing_at_all_changes(store: Database) -> Iterator[None]:
    """Neither the actions, people and plans (nothing_changes) nor any digest subscription."""
    before = subscriptions(store)
    with nothing_changes(store):
        yield
    assert subscriptions(store) == before


def digests_queued(store: Database) -> list[tuple[str, str, datetime]]:
    """(key, the post as the console shows it, when it goes) for every digest in the outbox."""
    with store.session() as session:
        rows = session.scalars(
            select(OutboxMessage).where(OutboxMessage.key.startswith("digest:")).order_by(OutboxMessage.id)
        )
        return [
            (row.key, "\n".join(render(reply_from_data(row.reply or {}))), row.send_at.astimezone(LONDON))
            for row in rows
        ]


def round_at(transcript: Transcript, store: Database, moment: str) -> DigestReport:
    transcript.at(moment)
    return queue_digests(store, now=transcript.clock.now(), zone=LONDON)


def latest_digest(store: Database) -> str:
    queued = digests_queued(store)
    assert queued, "no digest was queued"
    return queued[-1][1]


# -- subscribing ---------------------------------------------------------------------------------------


def test_an_admin_subscribes_a_channel_changes_it_lists_it_and_unsubscribes(
    transcript: Transcript, store: Database
) -> None:
    transcript.say(ADMIN, "/edi digest list")
    transcript.expect_reply("No channel gets a weekly digest yet.")

    transcript.say(ADMIN, "/edi digest subscribe #edi-group plan:northbridge day:Tue time:8.30am")
    transcript.expect_reply(
        "#edi-group will get a weekly digest of Northbridge EDI Plan every Tuesday at 08:30",
        "on the next working day if that is a bank holiday",
        "Quiet weeks: one line saying so. Stale means no update in 4 weeks.",
    )
    transcript.say(
        ADMIN, "/edi digest subscribe #edi-group plan:northbridge theme:workforce quiet:skip stale:2w"
    )
    transcript.expect_reply(
        "#edi-group now gets a weekly digest of Northbridge EDI Plan, theme “workforce” every Monday at "
        "09:00",
        "Quiet weeks: skipped. Stale means no update in 2 weeks.",
    )
    transcript.say(ADMIN, "/edi digest subscribe <#C0LEADS|edi-leads> owner:HR zone:Europe/Dublin")
    transcript.say(ADMIN, "/edi digest list")
    transcript.expect_reply(
        "2 channels with a weekly digest",
        "#edi-group — Northbridge EDI Plan, theme “workforce” · Monday 09:00 · stale after 2w · quiet weeks "
        "skipped",
        "#edi-leads — every open plan, owner “HR” · Monday 09:00 (Europe/Dublin) · stale after 4w",
    )
    assert [(s["channel"], s["channel_name"]) for s in subscriptions(store)] == [
        ("edi-group", "edi-group"),
        ("C0LEADS", "edi-leads"),
    ]

    transcript.say(ADMIN, "/edi digest unsubscribe #edi-leads")
    transcript.expect_reply("#edi-leads no longer gets a weekly digest.")
    assert [s["channel_name"] for s in subscriptions(store)] == ["edi-group"]


def test_a_digest_typed_in_a_channel_is_for_that_channel_and_a_direct_message_has_none(
    transcript: Transcript, store: Database
) -> None:
    priya = Actor(surface="slack", name="Priya Shah")
    in_channel = replace(priya, channel="C0EDI", channel_name="edi-working-group")
    outcome = transcript.layer.handle(in_channel, "/edi digest subscribe plan:Northbridge")
    assert "#edi-working-group will get a weekly digest" in outcome.reply.plain_text()
    assert [s["channel"] for s in subscriptions(store)] == ["C0EDI"]

    with nothing_at_all_changes(store):
        direct = replace(priya, channel="D0PRIYA", channel_name="directmessage")
        outcome = transcript.layer.handle(direct, "/edi digest subscribe plan:Northbridge")
    assert outcome.reply.plain_text().startswith("Which channel? Name it")

    outcome = transcript.layer.handle(in_channel, "/edi digest unsubscribe")
    assert outcome.reply.plain_text() == "#edi-working-group no longer gets a weekly digest."


def test_only_a_plan_admin_may_subscribe_a_channel(transcript: Transcript, store: Database) -> None:
    with nothing_at_all_changes(store):
        transcript.say("@Amina Khan", "/edi digest subscribe #edi-group plan:Northbridge")
    transcript.expect_reply("Only a plan admin can use `/edi digest`. I haven't changed anything.")


def test_every_bad_digest_command_is_refused_with_its_reason_and_changes_nothing(
    transcript: Transcript, store: Database
) -> None:
    transcript.say(ADMIN, "/edi digest subscribe #edi-group plan:Northbridge")
    refusals = [
        ("/edi digest", "Usage: `/edi digest subscribe [#channel]"),
        ("/edi digest weekly", "Usage: `/edi digest subscribe [#channel]"),
        ("/edi digest subscribe plan:Northbridge", "Which channel? Name it"),
        ("/edi digest subscribe #edi-group plan:Southbridge", "No plan is called 'Southbridge'. Plans: "),
        (
            "/edi digest subscribe #edi-group theme:astronomy",
            "No action in any plan has a theme like 'astronomy'",
        ),
        ("/edi digest subscribe #edi-group owner:Astronaut", "No plan has an owner like 'Astronaut'."),
        ("/edi digest subscribe #edi-group day:Funday", "'Funday' is not a day of the week"),
        ("/edi digest subscribe #edi-group day:Sat", "Saturday isn't a working day"),
        ("/edi digest subscribe #edi-group time:25:00", "'25:00' is not a time of day such as 09:30"),
        ("/edi digest subscribe #edi-group time:03:00", "03:00 is outside the hours reminders go out"),
        ("/edi digest subscribe #edi-group quiet:sometimes", "quiet:sometimes — say quiet:skip"),
        ("/edi digest subscribe #edi-group stale:0", "stale:0 should be how many weeks"),
        ("/edi digest subscribe #edi-group stale:soon", "stale:soon should be how many weeks"),
        ("/edi digest subscribe #edi-group zone:Mars/Olympus", "'Mars/Olympus' is not a time zone I know"),
        ("/edi digest subscribe #edi-group nation:atlantis", "'atlantis' is not a UK nation"),
        ("/edi digest subscribe #edi-group day:Mon day:Tue", "You gave day: twice"),
        ("/edi digest subscribe #edi-group fortnightly", "I don't understand 'fortnightly'"),
        ("/edi digest subscribe edi-group", "I don't understand 'edi-group'"),
        ("/edi digest subscribe #" + "x" * 81, "A channel's name may be at most 80 characters"),
        ("/edi digest subscribe #edi-group theme:" + "x" * 201, "A digest filter may be at most 200"),
        ("/edi digest unsubscribe #nowhere", "#nowhere has no weekly digest (channels that do: #edi-group)"),
        ("/edi digest preview #nowhere", "#nowhere has no weekly digest"),
        ("/edi digest unsubscribe", "Which channel?"),
    ]
    for said, expected in refusals:
        with nothing_at_all_changes(store):
            transcript.say(ADMIN, said)
        transcript.expect_reply(expected, "I haven't changed anything.")


# -- what a digest says --------------------------------------------------------------------------------


def test_a_week_of_changes_shows_in_the_counts_what_moved_and_overdue_oldest_first(
    transcript: Transcript, store: Database
) -> None:
    transcript.say(ADMIN, "/edi digest subscribe #edi-group plan:Northbridge")
    transcript.at("2025-11-04T10:00")
    transcript.say("@Amina Khan", "/edi amber NO-6 waiting on budget")
    transcript.at("2025-11-05T10:00")
    transcript.say("@Amina Khan", "/edi done NO-2 objectives agreed")

    # At 09:45, so the plan imported at 09:30 a week ago was there "last week".
    assert round_at(transcript, store, "2025-11-10T09:45").queued == ["digest:#edi-group:2025-W46"]
    digest = latest_digest(store)
    assert digest.splitlines()[0] == "*Weekly digest · Northbridge EDI Plan · week of 10 Nov 2025*"
    assert "🟥 Red 1 (=) · 🟧 Amber 2 (=) · 🟩 Green 3 (−1) · 🟦 Done 2 (+1)" in digest
    moved = digest.split("*What moved this week (2)*")[1].split("*Overdue")[0]
    assert moved.splitlines()[1:] == [
        "_Leadership and accountability_",
        "• NO-2 · Set EDI objectives for every director · Amina Khan via console: Amber → Done — “objectives "
        "agreed”",
        "_Workforce_",
        "• NO-6 · Review recruitment adverts for inclusive language · Amina Khan via console: Green → "
        "Amber — “waiting on budget”",
    ]
    overdue = digest.split("*Overdue, oldest first (2)*")[1]
    assert overdue.splitlines()[1:5] == [
        "_Leadership and accountability_",
        "• NO-4 · Refresh the equality impact assessment template · due 31 Oct 2025, 10 days overdue",
        "_Communities_",
        "• NO-13 · Mark Black History Month with community partners · due 31 Oct 2025, 10 days overdue",
    ]
    assert (
        '(Full list: `/edi list plan:"Northbridge EDI Plan"` · '
        'full report: `/edi report "Northbridge EDI Plan"`)' in digest
    )

    # The next week nothing moves: the counts stand still, and the week's moves are gone.
    round_at(transcript, store, "2025-11-17T09:00")
    digest = latest_digest(store)
    assert "🟧 Amber 2 (=) · 🟩 Green 3 (=) · 🟦 Done 2 (=)" in digest
    assert "What moved" not in digest
    assert (
        "NO-4 · Refresh the equality impact assessment template · due 31 Oct 2025, 17 days overdue" in digest
    )


def test_overdue_follows_the_one_rule_oldest_first_and_an_ongoing_action_is_never_overdue(
    transcript: Transcript, store: Database
) -> None:
    transcript.say("@Amina Khan", "/edi amber NO-2 still waiting")  # open again, and due Sept 25
    transcript.say(ADMIN, "/edi digest subscribe #edi-group plan:Northbridge")
    round_at(transcript, store, "2025-12-01T09:00")
    overdue = latest_digest(store).split("*Overdue, oldest first")[1].split("*Due in")[0]
    refs = [line.split(" · ")[0].lstrip("• ") for line in overdue.splitlines() if line.startswith("• ")]
    assert refs == ["NO-2", "NO-4", "NO-13"]  # 30 Sep, then the two of 31 Oct in plan order
    assert "NO-6" not in overdue  # "Nov 2025 & Ongoing": ongoing once November ends, not overdue


def test_due_in_the_next_fourteen_days_and_stale_actions_have_their_own_lists(
    transcript: Transcript, store: Database
) -> None:
    transcript.say(ADMIN, "/edi digest subscribe #edi-group plan:Northbridge theme:Leadership stale:3w")
    transcript.at("2025-11-20T10:00")
    transcript.say("@Priya Shah", "/edi green NO-3 board paper written")
    round_at(transcript, store, "2025-12-01T09:00")
    digest = latest_digest(store)
    stale = digest.split("*No update in 3 weeks or more")[1]
    assert "NO-4 · Refresh the equality impact assessment template · last updated 3 Nov 2025" in stale
    assert "NO-3" not in stale  # updated on 20 November
    assert "theme:Leadership" in digest  # the full list keeps the channel's filter

    transcript.say(ADMIN, "/edi digest subscribe #edi-group plan:Northbridge")
    round_at(transcript, store, "2025-12-15T09:00")  # NO-5 is due on 31 December: sixteen days away
    assert "NO-5 · Train report authors" not in latest_digest(store).split("*No update")[0]
    round_at(transcript, store, "2025-12-29T09:00")
    due = latest_digest(store).split("*Due in the next 14 days")[1].split("*No update")[0]
    assert "• NO-5 · Train report authors on equality impact assessments · due Wed 31 Dec · Red" in due


def test_a_quiet_week_says_so_in_one_line_or_is_skipped_when_the_channel_chose_that(
    transcript: Transcript, store: Database, tmp_path: Path
) -> None:
    quiet_plan = write_csv(
        tmp_path / "quiet.csv",
        [["Theme", "Action", "Lead", "Timescale"], ["Data", "Publish the workforce data", "HR Manager", ""]],
    )
    import_plan(store, quiet_plan, now=transcript.clock.now(), plan_name="Quiet Plan")
    transcript.say(ADMIN, "/edi digest subscribe #quiet-group plan:Quiet")
    round_at(transcript, store, "2025-11-10T09:00")
    quiet, coming_up = latest_digest(store).split("\n", 1)
    assert quiet == (
        "Weekly digest · Quiet Plan: a quiet week — nothing moved, and nothing is overdue, due in the next "
        "14 days or stale."
    )
    # The plan's week is one line; the diversity calendar's next four weeks still follow it.
    assert coming_up.startswith("*Coming up*\n") and "Inter Faith Week, from 9 November" in coming_up

    transcript.say(ADMIN, "/edi digest subscribe #quiet-group plan:Quiet quiet:skip")
    report = round_at(transcript, store, "2025-11-17T09:00")
    assert report.skipped_quiet == ["quiet-group"] and not report.queued
    assert round_at(transcript, store, "2025-11-17T15:00") == DigestReport()  # the week is decided
    assert len(digests_queued(store)) == 1

    transcript.say(ADMIN, "/edi digest preview #quiet-group")
    transcript.expect_reply("What #quiet-group would see now:", "a quiet week", "nothing would be posted")


def test_a_paused_plans_digest_still_goes_and_says_that_nobody_is_being_reminded(
    transcript: Transcript, store: Database
) -> None:
    transcript.say(ADMIN, "/edi digest subscribe #edi-group plan:Northbridge")
    transcript.say(ADMIN, '/edi plan pause "Northbridge EDI Plan"')
    transcript.expect_reply("Northbridge EDI Plan is paused")

    round_at(transcript, store, "2025-11-10T09:00")

    heading, paused = latest_digest(store).split("\n")[:2]
    assert heading == "*Weekly digest · Northbridge EDI Plan · week of 10 Nov 2025*"
    assert paused.strip() == (
        "(Northbridge EDI Plan is paused: no reminders go out for it until a plan admin resumes it.)"
    )


def test_a_channel_that_refuses_its_digest_is_reported_to_the_admins_with_what_to_do(
    transcript: Transcript, store: Database
) -> None:
    transcript.say(ADMIN, "/edi digest subscribe #archived-group plan:Northbridge")
    platform = Platform(transcript.clock)
    platform.fail("#archived-group", Undeliverable("channel_not_found"))

    round_at(transcript, store, "2025-11-10T09:00")
    deliver(store, now=transcript.clock.now(), zone=LONDON, send=platform)
    transcript.at("2025-11-10T11:00")  # the admins' note goes in their working hours
    deliver(store, now=transcript.clock.now(), zone=LONDON, send=platform)

    [note] = [r.text for r in platform.received if r.to == "Priya Shah"]
    assert "I couldn't post the weekly digest in #archived-group: channel_not_found." in note
    assert "`/edi digest unsubscribe #archived-group`" in note and "escalation" not in note


def test_a_long_list_ends_and_n_more_and_the_post_fits_slack(
    transcript: Transcript, store: Database, tmp_path: Path
) -> None:
    long_title = "Review every policy for inclusive language and accessible formats " * 3
    rows = [["Theme", "Action", "Lead", "Timescale", "RAG"]]
    rows += [[f"Theme {n % 7}", f"{long_title} ({n})", "HR Manager", "31/10/25", "R"] for n in range(120)]
    import_plan(
        store, write_csv(tmp_path / "big.csv", rows), now=transcript.clock.now(), plan_name="Big Plan"
    )
    transcript.say(ADMIN, "/edi digest subscribe #big-group plan:Big stale:1w")
    round_at(transcript, store, "2025-11-17T09:00")
    digest = latest_digest(store)
    assert "*Overdue, oldest first (120)*" in digest
    assert '(…and 110 more. All of them: `/edi list plan:"Big Plan" overdue`.)' in digest
    assert '(…and 110 more. All of them: `/edi list plan:"Big Plan"`.)' in digest  # stale
    with store.session() as session:
        post = reply_from_data(session.scalars(select(OutboxMessage.reply)).one() or {})
    blocks = blocks_for(post)
    assert len(blocks) <= MESSAGE_BLOCKS
    texts = [block["text"]["text"] for block in blocks if block["type"] == "section"]
    assert all(len(text) <= SECTION_TEXT for text in texts)
    assert any("…and 110 more" in str(block) for block in blocks)  # nothing of ours was cut by Slack's fit


def test_observances_come_in_through_the_builder_when_a_calendar_is_given(
    transcript: Transcript, store: Database
) -> None:
    transcript.say(ADMIN, "/edi digest subscribe #edi-group plan:Northbridge")
    transcript.at("2025-11-10T09:00")
    asked: list[tuple[Any, Any]] = []

    def calendar(first: Any, last: Any) -> list[str]:
        asked.append((first, last))
        return ["Disability History Month begins · Tue 18 Nov"]

    queue_digests(store, now=transcript.clock.now(), zone=LONDON, observances=calendar)
    assert "*Coming up*\nDisability History Month begins · Tue 18 Nov" in latest_digest(store)
    assert [(str(first), str(last)) for first, last in asked] == [("2025-11-10", "2025-12-08")]


# -- when it goes, and only once -----------------------------------------------------------------------


def test_a_digest_goes_on_its_day_at_the_channels_time_and_a_bank_holiday_moves_it_to_the_next_working_day(
    transcript: Transcript, store: Database
) -> None:
    transcript.say(ADMIN, "/edi digest subscribe #edi-group plan:Northbridge day:Mon time:09:00")
    transcript.say(
        ADMIN, "/edi digest subscribe #dublin-group plan:Northbridge time:09:00 zone:Europe/Dublin"
    )
    assert round_at(transcript, store, "2025-11-08T09:00").queued == []  # Saturday
    assert round_at(transcript, store, "2025-11-10T08:59").queued == []  # Monday, before nine
    report = round_at(transcript, store, "2025-11-10T09:00")
    assert report.queued == ["digest:#dublin-group:2025-W46", "digest:#edi-group:2025-W46"]
    assert [at for _, _, at in digests_queued(store)] == [transcript.clock.now()] * 2

    # Easter Monday 2026 is a bank holiday in England: the digest goes on Tuesday instead.
    assert round_at(transcript, store, "2026-04-06T09:30").queued == []
    report = round_at(transcript, store, "2026-04-07T09:00")
    assert report.queued == ["digest:#dublin-group:2026-W15", "digest:#edi-group:2026-W15"]
    assert round_at(transcript, store, "2026-04-08T09:00").queued == []


def test_a_digest_missed_all_week_is_not_posted_beside_the_next_ones(
    transcript: Transcript, store: Database
) -> None:
    transcript.say(ADMIN, "/edi digest subscribe #edi-group plan:Northbridge day:Fri")
    report = round_at(transcript, store, "2025-11-15T10:00")  # the scheduler was down until Saturday
    assert report.missed == ["edi-group"] and report.queued == []
    assert round_at(transcript, store, "2025-11-21T09:00").queued == ["digest:#edi-group:2025-W47"]


def test_each_week_the_channel_gets_its_digest_exactly_once_across_restarts(
    transcript: Transcript, store: Database, database_url: str
) -> None:
    transcript.say(ADMIN, "/edi digest subscribe #edi-group plan:Northbridge")
    posted: list[str] = []
    for week in ("2025-11-10", "2025-11-17", "2025-11-24"):
        for clock_time in ("08:55", "09:00", "09:01", "09:30", "13:00", "17:45"):
            # Each round a fresh process: its own connection to the database and its own scheduler lead.
            transcript.at(f"{week}T{clock_time}")
            restarted = Database.open(database_url)
            try:
                round_ = NudgeRound(
                    restarted, clock=transcript.clock, zone=LONDON, send=ConsoleSender(write=posted.append)
                )
                round_()
                round_.step_down()
            finally:
                restarted.dispose()
    headings = [line for line in posted if "Weekly digest" in line]
    assert headings == [
        "  *Weekly digest · Northbridge EDI Plan · week of 10 Nov 2025*",
        "  *Weekly digest · Northbridge EDI Plan · week of 17 Nov 2025*",
        "  *Weekly digest · Northbridge EDI Plan · week of 24 Nov 2025*",
    ]
    assert [line for line in posted if line.startswith("edibot → #")] == [
        "edibot → #edi-group (channel):"
    ] * 3
    with store.session() as session:
        assert (
            session.scalars(select(OutboxMessage.status).where(OutboxMessage.key.startswith("digest:"))).all()
            == ["sent"] * 3
        )
    assert (
        deliver(store, now=transcript.clock.now(), zone=LONDON, send=ConsoleSender(write=posted.append)).sent
        == 0
    )


def test_edibot_digest_preview_prints_what_the_channel_would_see(transcript: Transcript, cli: CliRun) -> None:
    transcript.say(ADMIN, "/edi digest subscribe #edi-group plan:Northbridge day:Tue")
    code, out, _ = cli("--now", "2025-11-10T12:00", "digest", "preview", "--channel", "#edi-group")
    assert code == 0
    assert out.splitlines()[:3] == [
        "#edi-group at Mon 10 Nov 2025 12:00 (this week's digest due Tue 11 Nov 2025 09:00 GMT):",
        "  *Weekly digest · Northbridge EDI Plan · week of 10 Nov 2025*",
        "  🟥🟧🟧🟧🟩🟩🟩🟩🟩🟦⬜⬜⬜⬜⬜⬜⬜⬜⬜⬜",
    ]
    code, out, _ = cli("digest", "preview", "--channel", "edi-group", "--at", "2025-12-02T09:00")
    assert code == 0 and "week of 2 Dec 2025" in out and "No update in 4 weeks or more" in out

    code, _, err = cli("digest", "preview", "--channel", "#nowhere")
    assert code == 1 and err.strip() == "#nowhere has no weekly digest (channels that do: #edi-group)."
    code, _, err = cli("digest", "preview", "--channel", "#edi-group", "--at", "Monday")
    assert code == 1 and "--at: 'Monday' is not an ISO 8601 time" in err
