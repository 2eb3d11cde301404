"""A storm of rate limits during Monday morning's burst: every third call to Slack and to the Bot Connector
answers 429 with a Retry-After of 1 to 5 seconds while the weekly digests, the calendar posts, an escalation
and everyone's reminders go out. Everything arrives once, each channel and each person's chat gets its
messages in the order they were queued, no call comes before the wait the platform asked for, and Slack's
one post a second per channel is kept.

The real delivery path runs over real HTTP on loopback: the scheduler's round (schedules/runner.py), the
outbox, the Slack sender with slack_sdk's WebClient and the Teams sender with msal's token, through the
switchboard `edibot run --slack-http --teams` uses. Retry-After waits are real time, so the burst is kept
small enough for the test to end well within a minute.
"""

from __future__ import annotations

import csv
import itertools
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

import pytest
from pydantic import SecretStr
from slack_sdk import WebClient
from sqlalchemy import select

from bot.config import Settings
from bot.console import FakeClock, FastClock
from bot.slack.sender import OUTBOX_EVENT, SlackSender
from bot.teams.run import teams_sender
from handlers.messages import Reply
from schedules.delivery import DeliveryReport, deliver
from schedules.runner import NudgeRound
from schedules.sending import Channel, Recipient, Switchboard
from storage import outbox
from storage.db import Database
from storage.importing.service import import_plan
from storage.models import OutboxMessage, Plan
from storage.people import import_people
from tests.conftest import LONDON
from tests.nudging import NudgeWorld, channel_following, day_of_our_own
from tests.nudging import outbox as queued
from tests.slack_standin import SlackStandIn
from tests.teams_standin import TENANT_ID, ConnectorStandIn, EntraStandIn

MONDAY = datetime(2025, 11, 3, 10, 0, tzinfo=LONDON)  # the digests' day, after everyone's 09:30
BEGAN = MONDAY - timedelta(weeks=2)  # the plan went in; nobody has answered a reminder since
# Every third call refused, waiting 1 to 5 seconds: short enough to keep the test brief, long enough to
# see a caller that does not wait.
SLACK_WAITS = [1, 2, 1, 5, 1, 3]
TEAMS_WAITS = [2, 1, 4]
SLACK_CHANNEL_INTERVAL = 1.0  # chat.postMessage: about one message a second per channel
PUNCTUALITY = 0.1  # seconds of loopback jitter between the sender's timing and the stand-in's
TEAMS_PER_SECOND, TEAMS_PER_TWO_SECONDS = 7, 8  # the Connector's limits per bot and conversation


class _Timed(Protocol):
    @property
    def at(self) -> float: ...
    @property
    def status(self) -> int: ...
    @property
    def retry_after(self) -> float | None: ...


@pytest.fixture
def monday(store: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Monday]:
    with (
        SlackStandIn() as slack,
        EntraStandIn(tmp_path) as entra,
        ConnectorStandIn(entra) as connector,
    ):
        for name, value in entra.trust().items():
            monkeypatch.setenv(name, value)
        yield Monday(store, slack, entra, connector, tmp_path)


class Monday:
    """Northbridge on Slack and Teams, two weeks into its plan: people on both, channels on both with a
    weekly digest and the organisation's calendar, the plan's escalations in a Slack channel."""

    def __init__(
        self,
        store: Database,
        slack: SlackStandIn,
        entra: EntraStandIn,
        connector: ConnectorStandIn,
        folder: Path,
    ) -> None:
        self.store, self.slack, self.connector = store, slack, connector
        self.on_slack = {
            name: slack.add_user(name).id
            for name in ("Priya Shah", "Amina Khan", "Tom Okafor", "Grace Liu", "Dafydd Evans")
        }
        self.on_teams = {
            name: connector.add_member(name, email=f"{name.lower().replace(' ', '.')}@northbridge.example")
            for name in ("Sam Patel", "Ewan Campbell", "Nia Roberts")
        }
        self.slack_channels = {"C0EDILEADS": "edi-leads", "C0WORKFORCE": "workforce"}
        for channel in self.slack_channels:
            slack.add_channel(channel)
        self.teams_channels = {connector.channel(name): name for name in ("EDI Group", "Staff Networks")}
        people = folder / "people.csv"
        with people.open("w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(["owner", "name", "email", "slack_id", "teams_id", "admin"])
            for n, name in enumerate([*self.on_slack, *self.on_teams]):
                slack_id = self.on_slack.get(name, "")
                teams_id = self.on_teams[name].aad_object_id if name in self.on_teams else ""
                # Priya (Slack) and Sam (Teams) are the plan's admins: each also gets the note of the role
                # nobody answers for.
                admin = "yes" if name in ("Priya Shah", "Sam Patel") else ""
                writer.writerow(
                    [
                        f"Team {n}",
                        name,
                        f"{name.lower().replace(' ', '.')}@x.example",
                        slack_id,
                        teams_id,
                        admin,
                    ]
                )
        plan = folder / "plan.csv"
        with plan.open("w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(["Theme", "Action", "Lead", "Timescale", "RAG"])
            for n in range(len(self.on_slack) + len(self.on_teams)):
                writer.writerow(["Workforce", f"Action {n}", f"Team {n}", "30/9/25", "R"])
            writer.writerow(["Workforce", "Audit step-free access", "Estates", "30/9/25", "R"])
        import_plan(store, plan, now=BEGAN, plan_name="Northbridge EDI Plan")
        import_people(store, people, now=BEGAN)
        # Two weeks of reminders nobody answered (sent elsewhere): this Monday escalates.
        history = NudgeWorld(store, FakeClock(BEGAN))
        history.round()
        history.round(BEGAN + timedelta(weeks=1))
        history.close()
        self.before = {row.id for row in self.outbox()}
        with store.session() as session:
            found = session.scalar(select(Plan).where(Plan.name == "Northbridge EDI Plan"))
            assert found is not None
            found.escalation_channel, found.escalation_channel_name = "C0EDILEADS", "edi-leads"
            for day, (key, name) in zip(
                ("3 November", "10 November"),
                (("staff-networks-day", "Staff Networks Day"), ("founders-day", "Northbridge Founders Day")),
                strict=True,
            ):
                day_of_our_own(session, key=key, name=name, day=day, at=BEGAN)
            for channel, name in [*self.slack_channels.items(), *self.teams_channels.items()]:
                channel_following(
                    session,
                    plan_id=found.id,
                    channel=channel,
                    name=name,
                    by="Priya Shah",
                    at=BEGAN,
                    working_days_only=True,
                )
        settings = Settings(
            TEAMS_APP_ID=entra.app_id,
            TEAMS_APP_PASSWORD=SecretStr(entra.password),
            teams_login_url=entra.login_url,
            teams_openid_url=entra.openid_url,
            teams_service_url=connector.url,
            teams_tenant_id=TENANT_ID,
        )
        # The clock runs as the wall's, from Monday 10:00: Retry-After is counted in real seconds.
        self.clock = FastClock(MONDAY, speed=1, anchor=time.time())
        send = Switchboard(
            {
                "slack": SlackSender(WebClient(token=slack.token, base_url=slack.url)),
                "teams": teams_sender(store, settings=settings, clock=self.clock),
            }
        )
        # As `edibot run` rounds: sweep, digests, then delivery for as long as the backlog lasts.
        self.round = NudgeRound(store, clock=self.clock, zone=LONDON, send=send, keep_delivering=True)

    def outbox(self) -> list[OutboxMessage]:
        return queued(self.store)

    def mornings(self) -> list[OutboxMessage]:
        """This Monday's messages, in the order they were queued."""
        return [row for row in self.outbox() if row.id not in self.before]

    def conversation_of(self, row: OutboxMessage) -> str:
        """The Slack channel or DM, or the Teams conversation, the message was posted in."""
        assert row.platform_message_id is not None
        return row.platform_message_id.rsplit("|" if "|" in row.platform_message_id else ":", 1)[0]


def test_a_429_storm_during_the_monday_burst_loses_doubles_and_reorders_nothing_and_waits_as_asked(
    monday: Monday,
) -> None:
    monday.slack.storm(every=3, retry_after=SLACK_WAITS)
    monday.connector.storm(every=3, retry_after=TEAMS_WAITS)
    started = time.monotonic()

    for _ in range(5):  # a round waits out short Retry-Afters itself; a few, should one end early
        monday.round()
        if all(row.status == "sent" for row in monday.mornings()):
            break
    took = time.monotonic() - started

    morning = monday.mornings()
    assert [row.status for row in morning] == ["sent"] * len(morning)
    by_conversation: dict[str, list[OutboxMessage]] = defaultdict(list)
    for row in morning:  # in the order queued
        by_conversation[monday.conversation_of(row)].append(row)
    # The burst: digests, calendar posts and an escalation in channels on both platforms, reminders and
    # admins' notes to people on both, several to one channel or one person.
    kinds = {row.key.split(":")[0] for row in morning}
    assert {"digest", "calendar", "admin-note"} <= kinds
    assert any(row.key.startswith("#C0EDILEADS:") for row in morning)  # the plan's escalations
    slack_rows = [row for row in morning if monday.conversation_of(row) in _slack_conversations(monday)]
    teams_rows = [row for row in morning if row not in slack_rows]
    assert len(slack_rows) >= 12 and len(teams_rows) >= 7
    assert max(len(rows) for c, rows in by_conversation.items() if c.startswith("C0")) >= 4
    assert max(len(rows) for c, rows in by_conversation.items() if c.startswith("19:")) >= 3
    assert max(len(rows) for c, rows in by_conversation.items() if c.startswith("D")) >= 2
    assert max(len(rows) for c, rows in by_conversation.items() if c.startswith("a:")) >= 2

    # Everything once: Slack counted by each post's outbox key, Teams by the activities in each chat.
    assert monday.slack.keys_posted(OUTBOX_EVENT) == {row.key: 1 for row in slack_rows}
    # In the order queued, in every channel and every person's chat, on both platforms.
    for conversation, rows in by_conversation.items():
        if conversation.startswith(("C0", "D")):
            posted = [m["metadata"]["event_payload"]["key"] for m in monday.slack.posted(conversation)]
            assert posted == [row.key for row in rows], conversation
        else:
            activities = [a["id"] for a in monday.connector.activities_in(conversation)]
            assert activities == [str(row.platform_message_id).split("|")[-1] for row in rows], conversation

    # The storm was real, on both platforms, and every wait was kept.
    slack_calls, teams_calls = monday.slack.calls, monday.connector.calls
    assert sum(call.status == 429 for call in slack_calls) >= 6
    assert sum(call.status == 429 for call in teams_calls) >= 3
    assert _calls_inside_a_wait(slack_calls) == []
    assert _calls_inside_a_wait(teams_calls) == []
    # Slack's pace: about one post a second in each channel, refused tries included.
    posts: dict[str, list[float]] = defaultdict(list)
    for call in slack_calls:
        if call.method == "chat.postMessage":
            posts[str(call.params["channel"])].append(call.at)
    for channel, times in posts.items():
        gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
        assert all(gap >= SLACK_CHANNEL_INTERVAL - PUNCTUALITY for gap in gaps), (channel, gaps)
    # The Connector's: at most 7 posts a second and 8 in two seconds in one conversation.
    activities: dict[str, list[float]] = defaultdict(list)
    for teams_call in teams_calls:
        if teams_call.method == "POST" and teams_call.path.endswith("/activities"):
            activities[teams_call.path].append(teams_call.at)
    for times in activities.values():
        assert _most_within(times, seconds=1.0) <= TEAMS_PER_SECOND
        assert _most_within(times, seconds=2.0) <= TEAMS_PER_TWO_SECONDS
    assert took < 60


def _slack_conversations(monday: Monday) -> set[str]:
    dms = {monday.slack.dm_of(user_id) for user_id in monday.on_slack.values()}
    return {channel for channel in dms if channel} | set(monday.slack_channels)


def _calls_inside_a_wait(calls: Sequence[_Timed]) -> list[tuple[float, float, float]]:
    """(429 at, Retry-After, next call at) for every call that came before the wait it was told to keep."""
    early = []
    for refused in calls:
        if refused.status != 429 or refused.retry_after is None:
            continue
        ends = refused.at + refused.retry_after
        early.extend(
            (refused.at, refused.retry_after, call.at) for call in calls if refused.at < call.at < ends
        )
    return early


def _most_within(times: Sequence[float], *, seconds: float) -> int:
    ordered = sorted(times)
    return max((sum(1 for t in ordered if start <= t < start + seconds) for start in ordered), default=0)


def test_a_second_worker_never_overtakes_a_message_held_back_by_a_429_in_its_channel(store: Database) -> None:
    """Two delivery workers (two replicas) on one outbox: while one is sending a channel's first message and
    Slack answers 429, the other sends what it can elsewhere but nothing queued after it in that channel."""
    with SlackStandIn() as slack:
        for channel in ("C0EDILEADS", "C0WORKFORCE"):
            slack.add_channel(channel)
        now = MONDAY
        with store.session() as session:
            outbox.queue_messages(
                session,
                [
                    {"key": key, "channel": channel, "send_at": now, "body": key, "created_at": now}
                    for key, channel in [
                        ("leads-1", "C0EDILEADS"),
                        ("leads-2", "C0EDILEADS"),
                        ("workforce-1", "C0WORKFORCE"),
                        ("leads-3", "C0EDILEADS"),
                    ]
                ],
            )
        sender = SlackSender(WebClient(token=slack.token, base_url=slack.url), channel_interval=0)
        other: list[DeliveryReport] = []

        class FirstWorker:
            """The first worker's sender: while its post of leads-1 is on its way, the second worker
            runs; then Slack answers the post with 429."""

            def __call__(self, person: Recipient, reply: Reply, /) -> str:
                raise AssertionError("no direct messages here")

            def to_channel(self, channel: Channel, reply: Reply, /) -> str:
                other.append(deliver(store, now=now, zone=LONDON, send=sender))
                slack.rate_limit(1, retry_after=1)
                return sender.to_channel(channel, reply)

        first = deliver(store, now=now, zone=LONDON, send=FirstWorker(), limit=1)
        later = deliver(store, now=now + timedelta(seconds=1), zone=LONDON, send=sender)

    assert (first.sent, first.paused_until) == (0, now + timedelta(seconds=1))
    assert [report.sent for report in other] == [1]  # the other channel's post, and nothing of #edi-leads
    assert later.sent == 3
    assert [m["text"] for m in slack.posted("C0EDILEADS")] == ["leads-1", "leads-2", "leads-3"]
    assert [m["text"] for m in slack.posted("C0WORKFORCE")] == ["workforce-1"]
