"""Exactly once, after a crash: edibot killed (SIGKILL) after Slack took a post but before the outbox marked
it sent, then started again, finds that post by its outbox key and keeps it; nobody hears anything twice.

These run the real `edibot run --slack-http` in its own process against the Slack stand-in, whose token has
exactly the manifest's scopes; the stand-in withholds its answer to one post, so the process dies in the
window between Slack's "ok" and the outbox's "sent".
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from bot.console import FakeClock
from bot.slack.manifest import bot_scopes
from bot.slack.sender import OUTBOX_EVENT
from storage.db import Database
from storage.models import Person, Plan
from tests.conftest import sample_organisation
from tests.edibot_process import (
    LEASE_RUN_OUT,
    killed_when,
    running_on_slack,
    waited_for,
)
from tests.nudging import NudgeWorld, fifty_reminders_due, outbox
from tests.slack_standin import SlackStandIn

LONDON = ZoneInfo("Europe/London")
MONDAY = datetime(2025, 11, 3, 9, 30, tzinfo=LONDON)


def test_killed_after_slack_took_the_escalation_edibot_restarts_and_nobody_gets_anything_twice(
    store: Database, database_url: str, tmp_path: Path
) -> None:
    sample_organisation(store, now=MONDAY)
    # The owners' welcome and their first weekly reminder went out (elsewhere) and nobody answered: two
    # weeks on, NO-2 escalates.
    before = NudgeWorld(store, FakeClock(MONDAY))
    before.round(MONDAY)
    before.round(MONDAY + timedelta(weeks=1))
    before.close()
    escalates = MONDAY + timedelta(weeks=2)
    with SlackStandIn(scopes=set(bot_scopes()), epoch=int(escalates.timestamp())) as api:
        api.add_channel("C0EDILEADS")
        with store.session() as session:
            for person in session.scalars(select(Person)):
                person.slack_id = api.add_user(person.name, email=person.email).id
            session.execute(
                update(Plan).values(escalation_channel="C0EDILEADS", escalation_channel_name="edi-leads")
            )
        api.withhold_answer("chat.postMessage", channel="C0EDILEADS")

        with running_on_slack(api, database_url, now=escalates, log=tmp_path / "first.log") as first:
            # Slack has it; the outbox doesn't know.
            killed_when(first, lambda: api.posted("C0EDILEADS"), what="the escalation to reach Slack")
        [escalation] = [row for row in outbox(store) if row.channel]
        assert (escalation.status, escalation.platform_message_id) == ("pending", None)

        restarted_until_every_message_is_sent(
            api, database_url, store, log=tmp_path / "second.log", now=escalates + LEASE_RUN_OUT
        )
        keys = api.keys_posted(OUTBOX_EVENT)

    rows = [row for row in outbox(store) if row.created_at >= escalates]
    assert len(rows) == 5  # the owners' Monday reminders, the admin's weekly note and the escalation
    assert keys == {row.key: 1 for row in rows}  # each exactly once
    [posted] = api.posted("C0EDILEADS")
    [escalation] = [row for row in rows if row.channel]
    assert escalation.platform_message_id == f"C0EDILEADS:{posted['ts']}"  # the first copy, adopted
    headers = [block["text"]["text"] for block in posted["blocks"] if block["type"] == "header"]
    assert "Escalation: NO-2 is overdue" in headers
    assert "was posted by an earlier try" in (tmp_path / "second.log").read_text()


def test_killed_halfway_through_fifty_reminders_edibot_restarts_and_each_person_hears_exactly_once(
    store: Database, database_url: str, tmp_path: Path
) -> None:
    with SlackStandIn(scopes=set(bot_scopes())) as api:
        fifty_reminders_due(store, api, on=MONDAY)
        api.withhold_answer("chat.postMessage", after=20)

        with running_on_slack(api, database_url, now=MONDAY, log=tmp_path / "first.log") as first:
            killed_when(first, lambda: len(api.posted()) == 21, what="21 reminders to reach Slack")
        assert sum(row.status == "sent" for row in outbox(store)) == 20

        restarted_until_every_message_is_sent(api, database_url, store, log=tmp_path / "second.log")
        keys = api.keys_posted(OUTBOX_EVENT)
        dms = {user.id: api.posted(api.dm_of(user.id) or "-") for user in api.state.users.values()}

    rows = outbox(store)
    assert len(rows) == 50
    assert keys == {row.key: 1 for row in rows}  # each exactly once
    assert all(len(posted) == 1 for posted in dms.values())  # everyone has exactly one reminder
    assert {row.platform_message_id for row in rows} == {
        f"{api.dm_of(uid)}:{posted[0]['ts']}" for uid, posted in dms.items()
    }


# -- running edibot ------------------------------------------------------------------------------------------


def restarted_until_every_message_is_sent(
    api: SlackStandIn,
    database_url: str,
    store: Database,
    *,
    log: Path,
    now: datetime = MONDAY + LEASE_RUN_OUT,
) -> None:
    """edibot started again once the killed one's lease has run out, and left running until the outbox is
    all sent."""
    with running_on_slack(api, database_url, now=now, log=log) as second:
        waited_for(
            lambda: all(row.status == "sent" for row in outbox(store)), what="every message sent", log=second
        )
