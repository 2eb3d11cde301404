"""Kill -9 in the middle of a reminder fan-out to 500 people: after every restart, each person has had their
reminder exactly once, counted at the platform's stand-in, and the outbox says every one was sent.

The real `edibot run` runs in a process of its own and is killed (SIGKILL, the whole process group) at points
chosen by counting what reached the stand-in, never by sleeping: once in the window between the platform
taking a post and the outbox marking it sent (the stand-in withholds that one answer), once at whatever post
it had reached. Each restart's clock starts past the killed process's lease, as a real restart's would.
"""

from __future__ import annotations

import os
import signal
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.console import FakeClock
from bot.slack.manifest import bot_scopes
from bot.slack.sender import OUTBOX_EVENT
from storage.db import Database
from tests.nudging import NudgeWorld, Row, Someone
from tests.slack_standin import SlackStandIn
from tests.test_exactly_once import LEASE_RUN_OUT, edibot, outbox, waited_for

LONDON = ZoneInfo("Europe/London")
MONDAY = datetime(2025, 11, 3, 9, 30, tzinfo=LONDON)
PEOPLE = 500
RUNNING = ["--every", "5", "--speed", "1"]  # the clock runs from --now, so a 429's Retry-After ends
SECONDS_PER_RUN = 90  # each run's bound: far above what it takes (a few seconds), well below a hang


def test_killed_twice_during_a_fan_out_to_500_people_on_slack_each_hears_exactly_once(
    store: Database, database_url: str, tmp_path: Path
) -> None:
    with SlackStandIn(scopes=set(bot_scopes())) as api:
        slack_ids = [api.add_user(f"Person {n}").id for n in range(1, PEOPLE + 1)]
        everyone_has_a_reminder_due(store, slack_ids=slack_ids)
        # Slack's limits, enforced: a post or a DM opened beyond these in any one second is refused with 429
        # (raised from Slack's documented pace so the fan-out takes seconds, not minutes); history reads,
        # how a restart finds what an earlier try posted, are held to Tier 3's pace, as Slack holds them.
        api.allow_rate("chat.postMessage", per_second=100)
        api.allow_rate("conversations.open", per_second=100)
        api.allow_rate("conversations.history", per_second=1)
        api.withhold_answer("chat.postMessage", after=149)  # Slack takes the 150th post and never answers

        with edibot(api, database_url, now=MONDAY, log=tmp_path / "first.log", options=RUNNING) as first:
            waited_for(
                lambda: len(api.posted()) == 150,
                what="150 reminders to reach Slack",
                log=first,
                seconds=SECONDS_PER_RUN,
            )
            os.killpg(first.pid, signal.SIGKILL)  # Slack has the 150th; the outbox does not know
            first.wait(timeout=20)
        assert sum(row.status == "sent" for row in outbox(store)) == 149

        again = MONDAY + LEASE_RUN_OUT
        with edibot(api, database_url, now=again, log=tmp_path / "second.log", options=RUNNING) as second:
            waited_for(
                lambda: len(api.posted()) >= 330,
                what="330 reminders to reach Slack",
                log=second,
                seconds=SECONDS_PER_RUN,
            )
            os.killpg(second.pid, signal.SIGKILL)  # wherever it was: mid-post, mid-mark, between the two
            second.wait(timeout=20)

        last = again + LEASE_RUN_OUT
        with edibot(api, database_url, now=last, log=tmp_path / "third.log", options=RUNNING) as third:
            waited_for(
                lambda: all(row.status == "sent" for row in outbox(store)),
                what=f"all {PEOPLE} reminders sent",
                log=third,
                seconds=SECONDS_PER_RUN,
            )
        keys = api.keys_posted(OUTBOX_EVENT)
        each = {user_id: api.posted(api.dm_of(user_id) or "-") for user_id in slack_ids}
        limited = [call for call in api.calls if call.status == 429]

    rows = outbox(store)
    assert len(rows) == PEOPLE
    assert keys == {row.key: 1 for row in rows}  # every reminder posted exactly once
    assert [user for user, posted in each.items() if len(posted) != 1] == []  # nobody twice, nobody missed
    assert {row.platform_message_id for row in rows} == {
        f"{api.dm_of(user)}:{posted[0]['ts']}" for user, posted in each.items()
    }
    assert "was posted by an earlier try" in (tmp_path / "second.log").read_text()
    assert all(
        call.method in ("chat.postMessage", "conversations.open", "conversations.history") for call in limited
    )


def everyone_has_a_reminder_due(store: Database, *, slack_ids: list[str]) -> None:
    """PEOPLE people, each owning one overdue action of a plan in use for a month (everyone welcomed): each
    is due one reminder this Monday morning."""
    world = NudgeWorld(store, FakeClock(MONDAY), settled=True)
    try:
        world.people(
            *[
                Someone(f"Person {n}", f"Role {n}", slack_id=slack_id)
                for n, slack_id in enumerate(slack_ids, start=1)
            ]
        )
        world.plan(
            [Row(f"Action {n}", f"Role {n}", "31/10/25", "R") for n in range(1, len(slack_ids) + 1)],
            imported=MONDAY - timedelta(days=33),
        )
    finally:
        world.close()
