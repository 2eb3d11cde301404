"""Someone on both Slack and Teams is reminded on the one they last used, or the one they chose; someone on
one platform is reminded there. Both apps run over real HTTP against their stand-ins, and one round sends
through both, as `edibot run --slack-http --teams` wires it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from slack_sdk import WebClient
from sqlalchemy import update

from bot.console import FakeClock
from bot.slack.sender import SlackSender
from schedules.runner import NudgeRound
from schedules.sending import Switchboard
from storage.db import Database
from storage.models import Person
from tests.conftest import LONDON, sample_organisation
from tests.edibot_process import posted_to
from tests.nudging import NudgeWorld, settle
from tests.slack_standin import SlackUser
from tests.slack_workspace import SlackWorkspace
from tests.teams_standin import Member
from tests.teams_tenant import TeamsTenant, card_of, texts_of


@dataclass
class Both:
    store: Database
    slack: SlackWorkspace
    teams: TeamsTenant
    round: NudgeRound

    def grace_on_slack(self) -> SlackUser:
        return self.slack.person("Grace Liu")

    def grace_on_teams(self) -> Member:
        return self.teams.person("Grace Liu", matched=True)

    def reminders_in_slack(self, user: SlackUser) -> list[str]:
        return [post["text"] for post in posted_to(self.slack.api, user.id) if "NO-4" in post.get("text", "")]

    def reminders_in_teams(self, member: Member) -> list[str]:
        chat = self.teams.connector.personal_chat(member)
        shown = [texts_of(activity) for activity in self.teams.connector.activities_in(chat)]
        return [text for text in shown if text.startswith("Grace, 1 EDI action needs you")]


@pytest.fixture
def both(store: Database, clock: FakeClock, tmp_path: Path) -> Iterator[Both]:
    sample_organisation(store, now=clock.now())
    settle(store, now=clock.now())  # in use a while: reminders, not day one's welcomes
    yield from _both(store, clock, tmp_path)


@pytest.fixture
def both_after_a_fortnight(store: Database, clock: FakeClock, tmp_path: Path) -> Iterator[Both]:
    """The plan taken up two weeks ago, its owners reminded each week since and silent: escalations due."""
    began = clock.now() - timedelta(weeks=2)
    sample_organisation(store, now=began)
    history = NudgeWorld(store, FakeClock(began))
    history.round()
    history.round(began + timedelta(weeks=1))
    history.close()
    yield from _both(store, clock, tmp_path)


def _both(store: Database, clock: FakeClock, tmp_path: Path) -> Iterator[Both]:
    with SlackWorkspace(store, clock) as slack, TeamsTenant(store, clock, tmp_path) as teams:
        slack_send = SlackSender(WebClient(token=slack.api.token, base_url=slack.api.url))
        round_ = NudgeRound(
            store, clock=clock, zone=LONDON, send=Switchboard({"slack": slack_send, "teams": teams.sender})
        )
        yield Both(store, slack, teams, round_)


def test_someone_who_last_used_teams_is_reminded_in_teams(both: Both) -> None:
    on_slack, on_teams = both.grace_on_slack(), both.grace_on_teams()
    both.slack.command(on_slack, "mine")
    assert "Your 1 open action" in both.teams.say(on_teams, "edi mine").shown

    both.round()

    assert len(both.reminders_in_teams(on_teams)) == 1
    assert both.reminders_in_slack(on_slack) == []


def test_someone_who_last_used_slack_is_reminded_in_slack(both: Both) -> None:
    on_slack, on_teams = both.grace_on_slack(), both.grace_on_teams()
    both.teams.say(on_teams, "edi mine")
    both.slack.command(on_slack, "mine")

    both.round()

    assert len(both.reminders_in_slack(on_slack)) == 1
    assert both.reminders_in_teams(on_teams) == []


def test_someone_who_chose_slack_is_reminded_in_slack_whichever_they_used_last(both: Both) -> None:
    on_slack, on_teams = both.grace_on_slack(), both.grace_on_teams()
    chose = both.slack.command(on_slack, "reminders on slack").shown
    assert "Your reminders now come on Slack, whichever you last used me on." in chose
    both.teams.say(on_teams, "edi mine")  # Teams is the one she used last

    both.round()

    assert len(both.reminders_in_slack(on_slack)) == 1
    assert both.reminders_in_teams(on_teams) == []


def test_someone_who_chose_teams_then_last_again_follows_where_they_write(both: Both) -> None:
    on_slack, on_teams = both.grace_on_slack(), both.grace_on_teams()
    assert "now come on Teams" in both.teams.say(on_teams, "edi reminders on teams").shown
    assert (
        "whichever of Slack and Teams you last used"
        in both.teams.say(on_teams, "edi reminders on last").shown
    )
    both.slack.command(on_slack, "mine")

    both.round()

    assert len(both.reminders_in_slack(on_slack)) == 1
    assert both.reminders_in_teams(on_teams) == []


def test_reminders_says_where_they_go_and_refuses_a_platform_it_does_not_know(both: Both) -> None:
    on_slack, on_teams = both.grace_on_slack(), both.grace_on_teams()
    both.slack.command(on_slack, "mine")
    assert "They go to you on Teams." in both.teams.say(on_teams, "edi reminders").shown
    assert "They go to you on Slack." in both.slack.command(on_slack, "reminders").shown  # Slack, now last

    answer = both.slack.command(on_slack, "reminders on email").shown

    assert "'email' is not slack, teams or last" in answer
    assert "I haven't changed anything" in answer


@pytest.mark.parametrize("only_on", ["slack", "teams"])
def test_someone_on_one_platform_is_reminded_there_even_if_they_chose_the_other(
    both: Both, only_on: str
) -> None:
    with both.store.session() as session:
        other = "teams" if only_on == "slack" else "slack"
        session.execute(update(Person).where(Person.name == "Grace Liu").values(reminders_on=other))
    if only_on == "slack":
        on_slack = both.grace_on_slack()
        both.slack.command(on_slack, "mine")
    else:
        on_teams = both.grace_on_teams()

    both.round()

    if only_on == "slack":
        assert len(both.reminders_in_slack(on_slack)) == 1
    else:
        assert len(both.reminders_in_teams(on_teams)) == 1


def test_a_plans_teams_channel_hears_its_escalations_in_teams_while_slack_people_are_reminded_in_slack(
    both_after_a_fortnight: Both,
) -> None:
    both = both_after_a_fortnight
    on_slack = both.grace_on_slack()
    both.slack.command(on_slack, "mine")
    priya = both.teams.person("Priya Shah", matched=True)  # the plan admin
    channel = both.teams.connector.channel("EDI leads")
    activity = both.teams.activity("message_channel_mention", priya, conversation=channel)
    activity["text"] = '<at>edibot</at> plan escalate "Northbridge EDI Plan"'
    both.teams.post(activity)

    both.round()

    posts = [texts_of(card_of(a)) for a in both.teams.connector.activities_in(channel) if "attachments" in a]
    assert any(text.startswith("Escalation: NO-2 is overdue") for text in posts), posts
    assert len(both.reminders_in_slack(on_slack)) == 1
