"""What reaches the Bot Connector when its connections misbehave, over real HTTP on loopback: no answer lost,
none posted twice.

The Connector stand-in closes idle keep-alive connections as Microsoft's front ends do, can stop listening
for a moment, and can take a post and close the connection without answering; edibot's answers (through the
Teams SDK) and the outbox's posts (TeamsSender) are sent through bot/teams/connector.py.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from handlers.messages import Reply
from schedules.sending import Channel
from tests.teams_tenant import TeamsTenant, texts_of

LISTING = "Your 3 open actions, 1 overdue"


def said_in(teams: TeamsTenant, conversation: str) -> list[str]:
    return [texts_of(activity) for activity in teams.connector.activities_in(conversation)]


def test_an_answer_after_the_connector_closed_the_idle_connection_goes_on_a_fresh_one(
    teams: TeamsTenant,
) -> None:
    teams.connector.idle_timeout = 0.2
    amina = teams.person("Amina Khan", matched=True)
    chat = teams.connector.personal_chat(amina)

    teams.say(amina, "mine")
    opened = teams.connector.connections
    time.sleep(0.6)  # the Connector closes the kept-alive connection edibot answered on
    teams.say(amina, "mine")

    assert [LISTING in text for text in said_in(teams, chat)] == [True, True]  # both there, once each
    assert teams.connector.connections == opened + 1


def test_a_reminder_after_the_connector_closed_the_idle_connection_goes_on_a_fresh_one(
    teams: TeamsTenant,
) -> None:
    teams.connector.idle_timeout = 0.2
    channel = Channel(id=teams.connector.channel("EDI working group"), name="EDI working group")

    teams.sender.to_channel(channel, Reply.say("First escalation"))
    opened = teams.connector.connections
    time.sleep(0.6)
    teams.sender.to_channel(channel, Reply.say("Second escalation"))

    assert said_in(teams, channel.id) == ["First escalation", "Second escalation"]
    assert teams.connector.connections == opened + 1


def test_a_connector_refusing_connections_for_a_moment_loses_no_answer(teams: TeamsTenant) -> None:
    amina = teams.person("Amina Khan", matched=True)
    chat = teams.connector.personal_chat(amina)
    teams.say(amina, "mine")

    teams.connector.restart(after=0.2)  # its connections are closed, and it refuses new ones for a moment
    response = teams.post(teams.activity("message_personal", amina) | {"text": "mine"})

    assert response.status_code == 200
    assert [LISTING in text for text in said_in(teams, chat)] == [True, True]


def test_an_answer_the_connector_may_have_taken_is_not_posted_again(teams: TeamsTenant) -> None:
    amina = teams.person("Amina Khan", matched=True)
    chat = teams.connector.personal_chat(amina)
    teams.say(amina, "mine")

    # The Connector takes the next post and closes the connection without answering: from edibot's end it
    # can't be told whether the post was taken, so it is not sent again (she would see it twice).
    teams.connector.vanish(1)
    teams.say(amina, "mine")

    said = said_in(teams, chat)
    assert [LISTING in text for text in said] == [True, True, False]
    assert "something went wrong on my side" in said[2]  # she is told, rather than left waiting


def test_fifty_messages_at_once_are_each_answered_once(teams: TeamsTenant) -> None:
    amina = teams.person("Amina Khan")  # known by email only: her first messages also keep her chat
    chat = teams.connector.personal_chat(amina)
    activities = [teams.activity("message_personal", amina) | {"text": "mine"} for _ in range(50)]

    with ThreadPoolExecutor(max_workers=50) as senders:
        statuses = [response.status_code for response in senders.map(teams.post, activities)]

    assert statuses == [200] * 50
    said = said_in(teams, chat)
    assert len(said) == 50
    assert all(LISTING in text for text in said), [text for text in said if LISTING not in text][:1]
