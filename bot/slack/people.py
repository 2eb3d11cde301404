"""Matching the people directory to Slack: Slack ids found by email, and Slack's time zone where we have
none."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.sender import error_code
from bot.slack.workspaces import Workspaces
from storage.db import Database
from storage.store import Store

log = logging.getLogger(__name__)


@dataclass
class MatchReport:
    matched: list[str] = field(default_factory=list)  # "Amina Khan → U0123"
    timezones: list[str] = field(default_factory=list)  # "Amina Khan: Europe/London"
    not_found: list[str] = field(default_factory=list)  # "Sam Lee (sam@example.org)"
    stopped: str | None = None  # why matching stopped early (Slack rate limit), to try again later


def match_people(database: Database, reach: Workspaces) -> MatchReport:
    """Looks up, by email, everyone in the directory without a Slack id; fills in missing time zones.

    With several workspaces installed, each is asked in turn and a person found in one is linked to it. One
    transaction per person, so a rate limit part-way keeps what was learnt; run it again to finish.
    """
    report = MatchReport()
    with database.session() as session:
        wanted = [
            (p.id, p.name, p.email, p.slack_id, p.slack_team_id)
            for p in Store(session).people_to_match_on_slack()
        ]
    teams = reach.teams()
    for person_id, name, email, slack_id, team in wanted:
        found: tuple[str | None, dict[str, object]] | None = None
        try:
            for candidate in [team] if slack_id and team else teams:
                client = reach.client_for_team(candidate)
                if client is None:
                    continue
                user = _look_up(client, slack_id=slack_id, email=email)
                if user is not None:
                    found = (candidate, user)
                    break
        except SlackApiError as error:
            code = error_code(error)
            report.stopped = f"Slack said {code or error.response.status_code}; run it again later to finish"
            break
        if found is None:
            report.not_found.append(f"{name} ({email})")
            continue
        _learn(
            database, person_id, name=name, team=found[0], user=found[1], report=report, had_id=bool(slack_id)
        )
    return report


def _look_up(client: WebClient, *, slack_id: str | None, email: str | None) -> dict[str, object] | None:
    """The Slack user, or None when this workspace has nobody with that email (or that id)."""
    try:
        if slack_id:
            return dict(client.users_info(user=slack_id)["user"])
        return dict(client.users_lookupByEmail(email=email or "")["user"])
    except SlackApiError as error:
        if error_code(error) in ("users_not_found", "user_not_found"):
            return None
        raise


def _learn(
    database: Database,
    person_id: int,
    *,
    name: str,
    team: str | None,
    user: dict[str, object],
    report: MatchReport,
    had_id: bool,
) -> None:
    if user.get("deleted") or user.get("is_bot"):
        report.not_found.append(f"{name} (their Slack account is deactivated or a bot)")
        return
    zone = _zone(user.get("tz"))
    with database.session() as session:
        store = Store(session)
        person = store.person(person_id)
        if person is None:
            return
        if not had_id:
            store.link_identity(person, slack_id=str(user["id"]), slack_team_id=team)
            if person.slack_id == user["id"]:
                report.matched.append(f"{name} → {person.slack_id}")
        if person.timezone is None and zone:
            person.timezone = zone
            report.timezones.append(f"{name}: {zone}")


def _zone(value: object) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return value
