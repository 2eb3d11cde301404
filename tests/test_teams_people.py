"""`edibot teams match-people`: the people directory matched to a team's roster by email."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from sqlalchemy import select

from storage.db import Database
from storage.models import Person
from tests.conftest import CliRun
from tests.teams_standin import environment_for
from tests.teams_tenant import TeamsTenant


def teams_ids(store: Database) -> dict[str, str | None]:
    with store.session() as session:
        return {person.name: person.teams_id for person in session.scalars(select(Person))}


def test_everyone_in_the_team_is_matched_by_email_and_the_rest_are_named(
    teams: TeamsTenant, store: Database, cli: CliRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    amina = teams.connector.add_member("Amina Khan", email="Amina.Khan@northbridge.example")
    tom = teams.connector.add_member("Tom Okafor", email="tom.okafor@northbridge.example")
    teams.connector.add_member("Jo Bloggs", email="jo.bloggs@elsewhere.example")  # not in the directory
    for name, value in {
        **environment_for(teams.entra),
        "EDIBOT_TEAMS_SERVICE_URL": teams.connector.url,
    }.items():
        monkeypatch.setenv(name, value)
    team = "19:6f3c5e8a2b7d4c1e9f0a8b7c6d5e4f3a@thread.tacv2"
    link = f"https://teams.microsoft.com/l/team/{quote(team)}/conversations?groupId=0a1b&tenantId=72f9"

    code, said, _ = cli("teams", "match-people", link)

    assert code == 0, said
    ids = teams_ids(store)
    assert (ids["Amina Khan"], ids["Tom Okafor"]) == (amina.aad_object_id, tom.aad_object_id)
    assert "2 matched" in said and "in a team of 3" in said  # the roster came in pages of two
    assert "not found Grace Liu (grace.liu@northbridge.example)" in said
    assert len(teams.connector.calls_to("GET", "/pagedmembers")) == 2
    assert (
        teams.connector.calls_to("GET", "/pagedmembers")[0].path
        == f"/teams/v3/conversations/{team}/pagedmembers"
    )
