"""edibot in Teams, as people there use it: the 1:1 chat, answered through the same command layer as Slack.

The Teams SDK and msal run for real over real HTTP on loopback; only Microsoft's services are stand-ins
(tests/teams_standin.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import select

from storage.db import Database
from storage.models import Person
from tests.teams_standin import new_key
from tests.teams_tenant import TeamsTenant
from tests.transcript import history, nothing_changes


def test_edi_mine_in_the_personal_chat_lists_her_actions(teams: TeamsTenant) -> None:
    amina = teams.person("Amina Khan")

    answer = teams.say(amina, "edi mine")

    assert answer.status == 200
    assert len(answer.activities) == 1
    assert answer.activities[0]["textFormat"] == "markdown"
    assert "Your 3 open actions, 1 overdue" in answer.shown
    assert "NO-2 · Set EDI objectives for every director" in answer.shown  # the HR Manager's, in the plan
    assert teams.entra.tokens_issued == 1  # edibot's token for the Connector came from Entra, by msal


def test_just_the_command_name_works_as_well_as_edi_and_slash_edi(teams: TeamsTenant) -> None:
    amina = teams.person("Amina Khan")

    shown = [teams.say(amina, text).shown for text in ("mine", "edi mine", "/edi mine")]

    assert shown[0] == shown[1] == shown[2]
    assert "NO-2" in shown[0]


def test_she_is_recognised_by_email_once_then_by_her_aad_object_id(
    teams: TeamsTenant, store: Database
) -> None:
    amina = teams.person("Amina Khan")

    teams.say(amina, "mine")

    with store.session() as session:
        person = session.scalar(select(Person).where(Person.name == "Amina Khan"))
        assert person is not None and person.teams_id == amina.aad_object_id
    roster_reads = len(teams.connector.calls_to("GET", f"/members/{amina.id}"))
    teams.say(amina, "mine")
    assert len(teams.connector.calls_to("GET", f"/members/{amina.id}")) == roster_reads == 1


def test_a_status_change_typed_in_chat_is_kept_with_teams_as_its_surface(
    teams: TeamsTenant, store: Database
) -> None:
    amina = teams.person("Amina Khan")

    answer = teams.say(amina, "edi red NO-2 waiting on budget")

    assert "NO-2 is now Red" in answer.shown
    change = next(row for row in history(store, "NO-2") if row.field == "rag")
    assert (change.actor, change.surface, change.to_value, change.note) == (
        "Amina Khan",
        "teams",
        "red",
        "waiting on budget",
    )


def test_a_stranger_is_told_how_to_be_added_and_nothing_changes(teams: TeamsTenant, store: Database) -> None:
    jo = teams.connector.add_member("Jo Bloggs", email="jo.bloggs@elsewhere.example")

    with nothing_changes(store):
        answer = teams.say(jo, "edi green NO-4")

    assert "I don't know you yet" in answer.shown


# -- who may call /api/messages ---------------------------------------------------------------------------


def _forged(teams: TeamsTenant) -> str:
    """Signed with a key of the attacker's own, under the kid of Microsoft's."""
    return teams.entra.channel_token(service_url=teams.connector.url, key=new_key())


def _for_another_bot(teams: TeamsTenant) -> str:
    return teams.entra.channel_token(service_url=teams.connector.url, audience="another-bot-app-id")


def _expired(teams: TeamsTenant) -> str:
    return teams.entra.channel_token(service_url=teams.connector.url, expires_in=-600)  # beyond the leeway


def _unsigned(teams: TeamsTenant) -> str:
    return teams.entra.channel_token(service_url=teams.connector.url, unsigned=True)


def _from_another_issuer(teams: TeamsTenant) -> str:
    return teams.entra.channel_token(service_url=teams.connector.url, issuer="https://sts.windows.net/evil/")


def _for_another_service_url(teams: TeamsTenant) -> str:
    """A real token, lifted from a request that was to be answered elsewhere."""
    return teams.entra.channel_token(service_url="https://smba.trafficmanager.net/emea/")


@pytest.mark.parametrize(
    "token",
    [_forged, _for_another_bot, _expired, _unsigned, _from_another_issuer, _for_another_service_url],
)
def test_a_request_without_the_connectors_token_for_us_is_refused_and_changes_nothing(
    teams: TeamsTenant, store: Database, token: Callable[[TeamsTenant], str]
) -> None:
    amina = teams.person("Amina Khan")
    activity = teams.activity("message_personal", amina)
    activity["text"] = "edi red NO-2 the budget holder is off sick"

    with nothing_changes(store):
        response = teams.post(activity, token=token(teams))

    assert response.status_code == 401
    assert teams.connector.calls == []  # nothing was said, no roster read, no token fetched
    assert teams.entra.tokens_issued == 0


@pytest.mark.parametrize(
    "token",
    [_forged, _for_another_bot, _expired, _unsigned, _from_another_issuer, _for_another_service_url],
)
def test_once_the_keys_are_held_a_bad_token_is_still_refused_and_changes_nothing(
    teams: TeamsTenant, store: Database, token: Callable[[TeamsTenant], str]
) -> None:
    amina = teams.person("Amina Khan", matched=True)
    teams.say(amina, "mine")  # a good request first: the keys are read, and checked on the event loop now
    calls = len(teams.connector.calls)
    activity = teams.activity("message_personal", amina)
    activity["text"] = "edi red NO-2 the budget holder is off sick"

    with nothing_changes(store):
        response = teams.post(activity, token=token(teams))

    assert response.status_code == 401
    assert len(teams.connector.calls) == calls  # nothing was said
    assert teams.entra.metadata_reads == 1


def test_a_hundred_tokens_naming_made_up_keys_are_each_refused_and_cost_one_read_of_the_keys(
    teams: TeamsTenant, store: Database
) -> None:
    amina = teams.person("Amina Khan")
    activity = teams.activity("message_personal", amina)
    activity["text"] = "edi red NO-2 the budget holder is off sick"
    forger = new_key()  # signs every forged token; each names a key id nobody has published

    with nothing_changes(store):
        statuses = [
            teams.post(
                activity,
                token=teams.entra.channel_token(
                    service_url=teams.connector.url, key=forger, kid=str(uuid.uuid4())
                ),
            ).status_code
            for _ in range(100)
        ]

    assert statuses == [401] * 100
    assert (teams.entra.metadata_reads, teams.entra.key_reads) == (1, 1)  # the first read, and no other
    assert teams.connector.calls == []  # nothing was said
    # Amina, with the Connector's real token, is still answered from the keys already held.
    assert "Your 3 open actions, 1 overdue" in teams.say(amina, "edi mine").shown
    assert teams.entra.metadata_reads == 1


def test_a_request_with_no_authorization_at_all_is_refused(teams: TeamsTenant, store: Database) -> None:
    activity = teams.activity("message_personal", teams.person("Amina Khan"))

    with nothing_changes(store):
        response = teams.http.post("/api/messages", json=activity)

    assert response.status_code == 401
    assert teams.connector.calls == []


def test_only_the_messaging_endpoint_is_served(teams: TeamsTenant) -> None:
    assert teams.http.get("/docs").status_code == 404
    assert teams.http.get("/openapi.json").status_code == 404
    assert teams.http.get("/api/messages").status_code == 404


def test_a_huge_or_garbled_body_is_refused_before_it_is_read(teams: TeamsTenant, store: Database) -> None:
    token = teams.entra.channel_token(service_url=teams.connector.url)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    with nothing_changes(store):
        huge = teams.http.post("/api/messages", content=b"{" + b" " * 300_000 + b"}", headers=headers)
        garbled = teams.http.post("/api/messages", content=b"edi mine", headers=headers)

    assert (huge.status_code, garbled.status_code) == (413, 400)


def test_signing_keys_come_from_the_openid_metadata_and_are_read_once(teams: TeamsTenant) -> None:
    amina = teams.person("Amina Khan")

    for _ in range(3):
        teams.say(amina, "mine")

    assert teams.entra.metadata_reads == 1
