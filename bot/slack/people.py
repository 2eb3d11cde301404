"""Matching the people directory to Slack: Slack ids found by email, and Slack's time zone where we have none."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from storage.db import Database
from storage.store import Store

log = logging.getLogger(__name__)


@dataclass
class MatchReport:
    matched: list[str] = field(default_factory=list)  # "Amina Khan → U0123"
    timezones: list[str] = field(default_factory=list)  # "Amina Khan: Europe/London"
    not_found: list[str] = field(default_factory=list)  # "Sam Lee (sam@example.org)"
    stopped: str | None = None  # why matching stopped early (Slack rate limit), to try again later


def match_people(database: Database, client: WebClient) -> MatchReport:
    """Looks up, by email, everyone in the directory without a Slack id; fills in missing time zones.

    One transaction per person, so a rate limit part-way keeps what was learnt; run it again to finish.
    """
    report = MatchReport()
    with database.session() as session:
        wanted = [(p.id, p.name, p.email, p.slack_id) for p in Store(session).people_to_match_on_slack()]
    for person_id, name, email, slack_id in wanted:
        try:
            user = (
                client.users_info(user=slack_id)["user"] if slack_id
                else client.users_lookupByEmail(email=email or "")["user"]
            )  # fmt: skip
        except SlackApiError as error:
            code = error.response.get("error") if isinstance(error.response.data, dict) else None
            if code == "users_not_found":
                report.not_found.append(f"{name} ({email})")
                continue
            report.stopped = f"Slack said {code or error.response.status_code}; run it again later to finish"
            break
        zone = _zone(user.get("tz"))
        with database.session() as session:
            store = Store(session)
            person = store.person(person_id)
            if person is None or user.get("deleted") or user.get("is_bot"):
                continue
            if not slack_id:
                store.link_identity(person, slack_id=str(user["id"]))
                if person.slack_id:
                    report.matched.append(f"{name} → {person.slack_id}")
            if person.timezone is None and zone:
                person.timezone = zone
                report.timezones.append(f"{name}: {zone}")
    return report


def _zone(value: object) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return value
