"""Kill -9 in the middle of a reminder fan-out to 500 people: after every restart, each person has had their
reminder exactly once, counted at the platform's stand-in, and the outbox says every one was sent.

The real `edibot run` runs in a process of its own and is killed (SIGKILL, the whole process group) at points
chosen by counting what reached the stand-in, never by sleeping: once in the window between the platform
taking a post and the outbox marking it sent (the stand-in withholds that one answer), once at whatever post
it had reached. Each restart's clock starts past the killed process's lease, as a real restart's would.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from bot.console import FakeClock
from bot.slack.manifest import bot_scopes
from bot.slack.sender import OUTBOX_EVENT
from schedules.delivery import SAID_AGAIN
from storage.conversations import Conversation, remember_conversation
from storage.db import Database
from storage.models import OutboxMessage, Person
from tests.edibot_process import (
    LEASE_RUN_OUT,
    killed_when,
    running_on_slack,
    start_edibot,
    stopped_on_leaving,
    waited_for,
)
from tests.nudging import NudgeWorld, Row, Someone, outbox
from tests.slack_standin import SlackStandIn
from tests.slack_workspace import _free_port
from tests.teams_standin import APP_RATE, TENANT_ID, ConnectorStandIn, EntraStandIn, environment_for
from tests.teams_tenant import texts_of

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

        with running_on_slack(
            api, database_url, now=MONDAY, log=tmp_path / "first.log", options=RUNNING
        ) as first:
            # Slack has the 150th; the outbox does not know.
            killed_when(
                first,
                lambda: len(api.posted()) == 150,
                what="150 reminders to reach Slack",
                seconds=SECONDS_PER_RUN,
            )
        assert sum(row.status == "sent" for row in outbox(store)) == 149
        in_flight = [tried(store)]  # of the 50 claimed, only the one being posted is in doubt
        assert len(in_flight[0]) == 1

        again = MONDAY + LEASE_RUN_OUT
        with running_on_slack(
            api, database_url, now=again, log=tmp_path / "second.log", options=RUNNING
        ) as second:
            # Wherever it was: mid-post, mid-mark, between the two.
            killed_when(
                second,
                lambda: len(api.posted()) >= 330,
                what="330 reminders to reach Slack",
                seconds=SECONDS_PER_RUN,
            )
        in_flight.append(tried(store))
        assert len(in_flight[1]) <= 1  # one delivery worker hands Slack one message at a time

        last = again + LEASE_RUN_OUT
        with running_on_slack(
            api, database_url, now=last, log=tmp_path / "third.log", options=RUNNING
        ) as third:
            waited_for(
                lambda: all(row.status == "sent" for row in outbox(store)),
                what=f"all {PEOPLE} reminders sent",
                log=third,
                seconds=SECONDS_PER_RUN,
            )
        keys = api.keys_posted(OUTBOX_EVENT)
        each = {user_id: api.posted(api.dm_of(user_id) or "-") for user_id in slack_ids}
        limited = {call.method for call in api.calls if call.status == 429}
        looked = [call for call in api.calls_to("conversations.history") if call.status == 200]

    rows = outbox(store)
    assert len(rows) == PEOPLE
    assert keys == {row.key: 1 for row in rows}  # every reminder posted exactly once
    assert [user for user, posted in each.items() if len(posted) != 1] == []  # nobody twice, nobody missed
    assert {row.platform_message_id for row in rows} == {
        f"{api.dm_of(user)}:{posted[0]['ts']}" for user, posted in each.items()
    }
    assert "was posted by an earlier try" in (tmp_path / "second.log").read_text()
    # Each restart read back only what was in flight at its kill (one history page each), not its batch.
    assert len(looked) == sum(len(keys) for keys in in_flight)
    assert limited <= {"chat.postMessage", "conversations.open", "conversations.history"}


def test_killed_twice_during_a_fan_out_to_500_people_on_teams_nobody_is_missed_and_a_repeat_says_so(
    store: Database, database_url: str, tmp_path: Path
) -> None:
    """The Bot Connector can't be asked what a bot posted, so a post Teams took just before the kill can't be
    found afterwards. What edibot promises instead: nobody is missed; a message is sent again only if it was
    being handed to Teams at the kill (one delivery worker: at most one per kill), and that copy says so."""
    with EntraStandIn(tmp_path) as entra, ConnectorStandIn(entra) as connector:
        members = [
            connector.add_member(f"Person {n}", email=f"person.{n}@northbridge.example")
            for n in range(1, PEOPLE + 1)
        ]
        everyone_has_a_reminder_due(store, slack_ids=[""] * PEOPLE)
        with store.session() as session:
            # Everyone has edibot installed in Teams: it kept each person's 1:1 chat when it was added.
            for n, member in enumerate(members, start=1):
                session.execute(
                    update(Person).where(Person.name == f"Person {n}").values(teams_id=member.aad_object_id)
                )
                chat = Conversation(connector.personal_chat(member), connector.url, TENANT_ID)
                remember_conversation(session, member.aad_object_id, chat, at=MONDAY - timedelta(days=33))
        connector.allow_rate(per_second=APP_RATE)  # Teams' own limit, as it is
        connector.withhold_answer(after=149)  # Teams takes the 150th post and never answers
        env = {
            **os.environ,
            **environment_for(entra),
            "EDIBOT_DATABASE_URL": database_url,
            "EDIBOT_TEAMS_SERVICE_URL": connector.url,
            "EDIBOT_TEAMS_TENANT_ID": TENANT_ID,
            "EDIBOT_LOG_LEVEL": "INFO",
        }
        env.pop("EDIBOT_HOST", None)
        in_flight: list[set[str]] = []  # at each kill: the messages being handed to Teams (tried, no outcome)

        with on_teams(env, now=MONDAY, log=tmp_path / "first.log") as first:
            # Teams has the 150th; the outbox does not know.
            killed_when(
                first,
                lambda: len(connector.posts()) == 150,
                what="150 reminders to reach Teams",
                seconds=SECONDS_PER_RUN,
            )
        in_flight.append(tried(store))
        assert sum(row.status == "sent" for row in outbox(store)) == 149
        assert len(in_flight[0]) == 1  # of the 50 claimed, only the one being posted is in doubt

        again = MONDAY + LEASE_RUN_OUT
        with on_teams(env, now=again, log=tmp_path / "second.log") as second:
            # Wherever it was: mid-post, mid-mark, between the two.
            killed_when(
                second,
                lambda: len(connector.posts()) >= 330,
                what="330 reminders to reach Teams",
                seconds=SECONDS_PER_RUN,
            )
        in_flight.append(tried(store))
        assert len(in_flight[1]) <= 1  # one delivery worker hands Teams one message at a time

        with on_teams(env, now=again + LEASE_RUN_OUT, log=tmp_path / "third.log") as third:
            waited_for(
                lambda: all(row.status == "sent" for row in outbox(store)),
                what=f"all {PEOPLE} reminders sent",
                log=third,
                seconds=SECONDS_PER_RUN,
            )
        received = {
            member.aad_object_id: [
                texts_of(a) for a in connector.activities_in(connector.personal_chat(member))
            ]
            for member in members
        }

    rows = outbox(store)
    assert len(rows) == PEOPLE and all(row.tried_at is None for row in rows)
    teams_of = {row.key: person_teams_id(store, row) for row in rows}
    maybe_twice = {teams_of[key] for keys in in_flight for key in keys}
    assert [who for who, posts in received.items() if not posts] == []  # nobody missed
    twice = {who for who, posts in received.items() if len(posts) > 1}
    assert twice <= maybe_twice  # a repeat only where a post was in flight at a kill
    assert all(len(posts) <= 2 for posts in received.values())
    said_again = {who for who, posts in received.items() if SAID_AGAIN in posts[-1]}
    assert said_again == maybe_twice  # the copy sent again owns up to it, and no other does
    assert teams_of[next(iter(in_flight[0]))] in twice  # the post Teams took at the first kill: twice
    assert all(SAID_AGAIN not in text for posts in received.values() for text in posts[:-1])


@contextmanager
def on_teams(env: dict[str, str], *, now: datetime, log: Path) -> Iterator[subprocess.Popen[str]]:
    """`edibot --now <now> run --teams` in a process group of its own; stopped (if still alive) on leaving."""
    with log.open("w") as written:  # a file, not a pipe: a full pipe would stall the process
        process = start_edibot(
            env,
            ["--now", now.isoformat(), "run", "--teams", "--port", str(_free_port()), *RUNNING],
            log=written,
        )
        with stopped_on_leaving(process):
            yield process


def tried(store: Database) -> set[str]:
    """The keys of the messages a try had begun handing to the platform, with no outcome recorded."""
    with store.session() as session:
        return set(session.scalars(select(OutboxMessage.key).where(OutboxMessage.tried_at.is_not(None))))


def person_teams_id(store: Database, row: OutboxMessage) -> str:
    with store.session() as session:
        person = session.get(Person, row.person_id)
        assert person is not None and person.teams_id is not None
        return person.teams_id


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
