"""edibot in a Teams channel: `@edibot …` commands answered in the thread, and a plan's escalations posted in
the channel it was told to use there."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.console import FakeClock
from storage.db import Database
from storage.importing.service import import_plan
from storage.models import Plan
from storage.people import import_people
from tests.conftest import SAMPLES
from tests.nudging import NudgeWorld
from tests.teams_standin import Member
from tests.teams_tenant import Answer, TeamsTenant, card_of, texts_of


@pytest.fixture
def teams(store: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TeamsTenant]:
    # The plan went in two weeks ago: its owners had their welcome and a weekly reminder (on another
    # platform) and nobody answered, so this Monday brings the weekly reminders and NO-2's escalation.
    began = clock.now() - timedelta(weeks=2)
    import_plan(store, SAMPLES / "northbridge_edi_plan.csv", now=began, plan_name="Northbridge EDI Plan")
    import_people(store, SAMPLES / "northbridge_people.csv", now=began)
    history = NudgeWorld(store, FakeClock(began))
    history.round()
    history.round(began + timedelta(weeks=1))
    history.close()
    with TeamsTenant(store, clock, tmp_path) as tenant:
        yield tenant


def mention(teams: TeamsTenant, member: Member, channel: str, text: str) -> Answer:
    """`member` writes "@edibot TEXT" in a channel; the answer is what edibot posted in that channel."""
    activity = teams.activity("message_channel_mention", member, conversation=channel)
    activity["text"] = f"<at>edibot</at> {text}"
    activity["channelData"]["channel"]["name"] = teams.connector.channel_names[channel]
    before = len(teams.connector.activities_in(channel))
    response = teams.post(activity)
    return Answer(response.status_code, teams.connector.activities_in(channel)[before:])


def test_at_edibot_in_a_channel_is_answered_in_its_thread(teams: TeamsTenant) -> None:
    amina = teams.person("Amina Khan")
    channel = teams.connector.channel("EDI working group")

    answer = mention(teams, amina, channel, "mine")

    [posted] = answer.activities
    assert posted["thread"]  # in the thread of the message that mentioned edibot
    assert "Your 3 open actions, 1 overdue" in answer.shown


def test_plan_escalate_typed_in_a_channel_picks_that_channel_and_escalations_are_posted_there(
    teams: TeamsTenant, store: Database
) -> None:
    priya = teams.person("Priya Shah", matched=True)  # the plan admin, and its escalation contact
    channel = teams.connector.channel("EDI leads")

    answer = mention(teams, priya, channel, 'plan escalate "Northbridge EDI Plan"')

    assert "now escalate to #EDI leads" in answer.shown
    with store.session() as session:
        plan = session.scalar(select(Plan))
        assert plan is not None and plan.escalation_channel == channel
    teams.deliver()
    escalations = [
        activity for activity in teams.connector.activities_in(channel) if "attachments" in activity
    ]
    [posted] = escalations
    assert "thread" not in posted  # a post of its own in the channel, not a reply
    assert texts_of(card_of(posted)).startswith("Escalation: NO-2 is overdue")
    assert "Posted in #EDI leads as the plan's escalation channel" in texts_of(card_of(posted))


def test_edi_digest_subscribe_typed_in_a_channel_is_for_that_channel_and_the_digest_is_posted_there(
    teams: TeamsTenant, clock: FakeClock
) -> None:
    priya = teams.person("Priya Shah", matched=True)  # the plan admin
    channel = teams.connector.channel("EDI working group")

    answer = mention(teams, priya, channel, "digest subscribe plan:Northbridge day:Tue time:09:00")

    assert "#EDI working group will get a weekly digest" in answer.shown
    clock.set(clock.now() + timedelta(days=1))  # Tuesday, 09:30
    teams.deliver()
    [digest] = [
        activity
        for activity in teams.connector.activities_in(channel)
        if activity.get("text", "").startswith("Weekly digest · Northbridge EDI Plan")
    ]
    assert "thread" not in digest  # a post of its own in the channel, as escalations are
    assert "🟥 Red 1 (=) · 🟧 Amber 2 (=)" in digest["text"]


def test_edi_digest_subscribe_in_the_bots_own_chat_asks_which_channel(teams: TeamsTenant) -> None:
    priya = teams.person("Priya Shah", matched=True)

    answer = teams.say(priya, "digest subscribe plan:Northbridge")

    assert "Which channel? Name it" in answer.shown
