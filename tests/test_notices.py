"""Notices — what edibot tells someone other than the speaker, e.g. the plan admins on "not mine" — leave
through the outbox like every reminder: queued with the change itself under their own key, paced, retried,
never lost."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.console import FakeClock
from storage.db import Database
from storage.models import OutboxMessage
from tests.conftest import sample_organisation
from tests.nudging import NudgeWorld, say
from tests.slack_workspace import SlackWorkspace, texts_of
from tests.transcript import Transcript, nothing_changes

PLAN = "Northbridge EDI Plan"
NOT_THEIRS = "Amina Khan says NO-2 is not theirs."


def notices_in_outbox(store: Database) -> list[tuple[str, str, str | None]]:
    """(key, status, platform id) of every notice the outbox holds."""
    with store.session() as session:
        return [
            (key, status, platform_id)
            for key, status, platform_id in session.execute(
                select(OutboxMessage.key, OutboxMessage.status, OutboxMessage.platform_message_id)
                .where(OutboxMessage.key.startswith("notice:"))
                .order_by(OutboxMessage.id)
            )
        ]


# -- the console ------------------------------------------------------------------------------------------


def test_the_console_shows_a_notice_as_it_leaves_the_outbox_and_the_scheduler_does_not_send_it_again(
    transcript: Transcript, store: Database, clock: FakeClock
) -> None:
    transcript.say("@Amina Khan", "/edi notmine NO-2")

    transcript.expect_notice(to="Priya Shah", containing=NOT_THEIRS)
    assert "  edibot → Priya Shah:" in transcript.answer and NOT_THEIRS in transcript.answer
    [(key, status, platform_id)] = notices_in_outbox(store)
    assert key.startswith("notice:console:") and status == "sent" and platform_id
    world = NudgeWorld(store, clock)
    world.round("2025-11-03T09:31")
    assert not [r for r in world.inbox("Priya Shah") if NOT_THEIRS in r.text]


def test_a_refused_command_queues_no_notice(transcript: Transcript, store: Database) -> None:
    with nothing_changes(store):
        transcript.say("@Jo Bloggs", "/edi notmine NO-2")

    assert notices_in_outbox(store) == []


def test_a_notice_nobody_delivered_at_once_waits_in_the_outbox_for_the_schedulers_round(
    store: Database, clock: FakeClock
) -> None:
    """As if the process died straight after answering: the notice was kept with the change, and goes
    later."""
    sample_organisation(store, now=clock.now())
    world = NudgeWorld(store, clock)

    say(world, "Amina Khan", "/edi notmine NO-2")  # the command layer alone: no adapter delivers anything
    assert [status for _, status, _ in notices_in_outbox(store)] == ["pending"]
    world.round("2025-11-03T09:31")

    assert [r.to for r in world.platform.received if NOT_THEIRS in r.text] == ["Priya Shah"]
    assert [status for _, status, _ in notices_in_outbox(store)] == ["sent"]


# -- Slack ------------------------------------------------------------------------------------------------


def notices_in_dm(slack: SlackWorkspace, user_id: str) -> list[str]:
    channel = slack.api.dm_of(user_id)
    messages = slack.api.posted(channel) if channel else []
    return [text for m in messages if NOT_THEIRS in (text := texts_of(m.get("blocks") or []))]


def test_a_notice_reaches_the_admins_slack_dm_straight_after_the_answer(slack: SlackWorkspace) -> None:
    priya = slack.person("Priya Shah")
    slack.command(priya, "mine")  # Slack introduces her: edibot learns her Slack id
    amina = slack.person("Amina Khan")

    answer = slack.command(amina, "notmine NO-2")

    assert "I've told the plan admins (Priya Shah)" in answer.shown
    assert len(notices_in_dm(slack, priya.id)) == 1
    [(_, status, platform_id)] = notices_in_outbox(slack.store)
    assert status == "sent" and platform_id and platform_id.startswith(str(slack.api.dm_of(priya.id)))


@pytest.mark.parametrize("refusal", ["internal_error", "ratelimited"])
def test_a_notice_slack_refuses_once_arrives_on_the_retry(
    slack: SlackWorkspace, clock: FakeClock, refusal: str
) -> None:
    priya = slack.person("Priya Shah")
    slack.command(priya, "mine")
    amina = slack.person("Amina Khan")
    if refusal == "ratelimited":
        slack.api.rate_limit(1, retry_after=20, method="chat.postMessage")
    else:
        slack.api.refuse("chat.postMessage", "internal_error", status=500)

    slack.command(amina, "notmine NO-2")

    assert [call.status for call in slack.api.calls_to("chat.postMessage")] == [
        500 if refusal != "ratelimited" else 429
    ]
    assert notices_in_dm(slack, priya.id) == []
    assert [status for _, status, _ in notices_in_outbox(slack.store)] == ["pending"]

    clock.set(clock.now() + timedelta(minutes=1))
    slack.round()  # the scheduler's next round

    assert len(notices_in_dm(slack, priya.id)) == 1
    assert [status for _, status, _ in notices_in_outbox(slack.store)] == ["sent"]
    clock.set(clock.now() + timedelta(minutes=1))
    slack.round()
    assert len(notices_in_dm(slack, priya.id)) == 1  # once: not again on a later round
