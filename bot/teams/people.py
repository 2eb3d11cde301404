"""Matching the people directory to Teams: each person's AAD object id (the directory's teams_id), found by
their email in the roster of a team edibot is in.

The roster comes from the Bot Connector (GET /v3/conversations/{team}/pagedmembers, a page at a time), read
with the outbox sender's client: only a team the app is installed in can be read, which is the point — it
is how Teams says who edibot may talk to. Someone already matched keeps their id; an AAD object id that is
already someone else's is left alone and reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from bot.teams.sender import TeamsSender
from storage.db import Database
from storage.store import Store

PAGE = 500  # members a page (the Connector's own limit)
_TEAM_IN_LINK = re.compile(r"/l/team/([^/?]+)")


@dataclass
class MatchReport:
    matched: list[str] = field(default_factory=list)  # "Amina Khan → 6e10…"
    not_found: list[str] = field(default_factory=list)  # "Sam Lee (sam@example.org)"
    clashes: list[str] = field(default_factory=list)  # an AAD object id that is someone else's already


def team_id(written: str) -> str:
    """A team's id as the Connector takes it ("19:…@thread.tacv2"), from it or a "Get link to team" URL."""
    found = _TEAM_IN_LINK.search(written)
    return unquote(found.group(1)) if found else unquote(written.strip())


def roster(sender: TeamsSender, team: str) -> list[dict[str, Any]]:
    """Everyone in a team, as the Connector describes them (id, aadObjectId, email, userPrincipalName…)."""
    members: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        page = sender.read(f"v3/conversations/{team}/pagedmembers", pageSize=PAGE, continuationToken=token)
        members.extend(page.get("members") or [])
        token = page.get("continuationToken") or None
        if token is None:
            return members


def match_people(database: Database, members: Iterable[dict[str, Any]]) -> MatchReport:
    """Gives everyone in the directory without a Teams id the AAD object id of the member with their email."""
    by_email: dict[str, str] = {}
    for member in members:
        aad = str(member.get("aadObjectId") or "")
        for address in (member.get("email"), member.get("userPrincipalName")):
            if aad and address:
                by_email.setdefault(str(address).strip().casefold(), aad)
    report = MatchReport()
    with database.session() as session:
        store = Store(session)
        for person in store.everyone():
            if person.teams_id or not person.email:
                continue
            found = by_email.get(person.email.strip().casefold())
            if found is None:
                report.not_found.append(f"{person.name} ({person.email})")
            elif (owner := store.person_by_identity(teams_id=found)) is not None:
                report.clashes.append(f"{person.name}: their Teams account is {owner.name}'s already")
            else:
                person.teams_id = found
                session.flush()
                report.matched.append(f"{person.name} → {found}")
    return report
