"""Reminders as Slack direct messages: the outbox's SlackSender talking over real HTTP to the Slack stand-in.

The stand-in (tests/slack_standin.py) records every Web API call, answers with the payloads in
tests/payloads/, refuses what Slack refuses and can answer 429 with Retry-After; the client is slack_sdk's own
WebClient."""

from __future__ import annotations

import io
import logging
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select

from bot.console import FakeClock
from bot.logs import BodiesLeftOut
from bot.slack.blocks import blocks_for, text_for
from bot.slack.sender import OUTBOX_EVENT, SlackSender
from handlers.messages import Reply
from handlers.reminders import ReminderItem, reminder
from schedules.delivery import MAX_ATTEMPTS, deliver
from schedules.planning import sweep
from schedules.sending import Channel, RateLimited, Recipient, RetryLater, Undeliverable
from storage import outbox as outbox_queries
from storage.db import Database
from storage.models import Action, OutboxMessage, Owner, Person, Plan
from tests.conftest import sample_organisation
from tests.nudging import NudgeWorld
from tests.slack_standin import SlackStandIn, payload

LONDON = ZoneInfo("Europe/London")
TODAY = date(2025, 11, 3)
MORNING = datetime(2025, 11, 3, 9, 30, tzinfo=LONDON)  # the `clock` fixture's


@pytest.fixture
def slack_api() -> Iterator[SlackStandIn]:
    with SlackStandIn() as standin:
        yield standin


@pytest.fixture
def client(slack_api: SlackStandIn) -> WebClient:
    return WebClient(token=slack_api.token, base_url=slack_api.url, timeout=5)


@pytest.fixture
def send(client: WebClient) -> SlackSender:
    return SlackSender(client)


def someone(name: str, slack_id: str | None) -> Recipient:
    return Recipient(id=0, name=name, slack_id=slack_id)


def a_reminder(count: int = 1) -> Reply:
    plan = Plan(name="Northbridge EDI Plan", ref_prefix="NO")
    hr = Owner(name="HR Manager", key="hr manager")
    items = []
    for n in range(1, count + 1):
        action = Action(
            plan=plan,
            ref=f"NO-{n}",
            title=f"Run the staff EDI survey, wave {n}",
            theme="Workforce",
            deadline_text="6/11/25",
            deadline_kind="dated",
            start_date=None,
            due_date=date(2025, 11, 6),
            recurrence=None,
            rag="amber",
            status="open",
            progress_note="Waiting on budget",
            snoozed_until=None,
        )
        action.owners.append(hr)
        items.append(ReminderItem(action=action, step="before", why="due in 3 days", today=TODAY))
    return reminder("Amina Khan", items, today=TODAY)


# -- one reminder, one person ------------------------------------------------------------------------------


def test_a_reminder_opens_the_persons_dm_and_posts_its_blocks_there(
    slack_api: SlackStandIn, send: SlackSender
) -> None:
    amina = slack_api.add_user("Amina Khan")
    reply = a_reminder()

    platform_id = send(someone("Amina Khan", amina.id), reply)

    [opened] = slack_api.calls_to("conversations.open")
    assert opened.params["users"] == amina.id
    dm = slack_api.dm_of(amina.id)
    [posted] = slack_api.calls_to("chat.postMessage")
    assert posted.params["channel"] == dm
    assert posted.params["blocks"] == blocks_for(reply)
    assert posted.params["text"] == text_for(reply)
    [message] = slack_api.posted(dm)
    assert platform_id == f"{dm}:{message['ts']}"
    assert message["text"].startswith("Amina, 1 EDI action needs you")


def test_at_debug_level_the_log_says_what_slack_was_asked_but_not_what_anyone_wrote(
    slack_api: SlackStandIn, send: SlackSender
) -> None:
    """Issue 11, item 13: slack_sdk logs whole bodies at DEBUG; edibot's log handler keeps their start."""
    amina = slack_api.add_user("Amina Khan")
    written = Reply.say("Spoke to legal about the tribunal case of J. Smith")
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.addFilter(BodiesLeftOut())  # as configure_logging sets up edibot's stderr
    sdk = logging.getLogger("slack_sdk")
    level = sdk.level
    sdk.addHandler(handler)
    sdk.setLevel(logging.DEBUG)
    try:
        send(someone("Amina Khan", amina.id), written)
    finally:
        sdk.removeHandler(handler)
        sdk.setLevel(level)

    assert "chat.postMessage" in lines.getvalue()  # the debug lines are there, up to their bodies
    assert "tribunal" not in lines.getvalue() and "J. Smith" not in lines.getvalue()


def test_slack_accepts_the_reminder_of_someone_with_300_actions(
    slack_api: SlackStandIn, send: SlackSender
) -> None:
    amina = slack_api.add_user("Amina Khan")

    send(someone("Amina Khan", amina.id), a_reminder(300))

    [message] = slack_api.posted(slack_api.dm_of(amina.id))
    assert len(message["blocks"]) == 50
    assert message["blocks"][-1]["elements"][0]["text"] == "…and 288 more — `/edi mine` lists them all"


def test_a_rate_limit_asks_the_outbox_to_retry_after_what_slack_said(
    slack_api: SlackStandIn, send: SlackSender
) -> None:
    amina = slack_api.add_user("Amina Khan")
    slack_api.rate_limit(1, retry_after=17, method="chat.postMessage")

    with pytest.raises(RateLimited) as raised:
        send(someone("Amina Khan", amina.id), a_reminder())

    assert raised.value.seconds == 17
    assert "rate limit" in str(raised.value)
    assert slack_api.posted() == []
    send(someone("Amina Khan", amina.id), a_reminder())  # the outbox's retry gets through
    assert len(slack_api.posted()) == 1


def test_a_rate_limit_on_opening_the_dm_is_retried_later_too(
    slack_api: SlackStandIn, send: SlackSender
) -> None:
    amina = slack_api.add_user("Amina Khan")
    slack_api.rate_limit(1, retry_after=3, method="conversations.open")

    with pytest.raises(RateLimited) as raised:
        send(someone("Amina Khan", amina.id), a_reminder())

    assert raised.value.seconds == 3
    assert slack_api.calls_to("chat.postMessage") == []


def test_a_deactivated_user_is_undeliverable(slack_api: SlackStandIn, send: SlackSender) -> None:
    leaver = slack_api.add_user("Tom Okafor")
    slack_api.deactivate(leaver.id)

    with pytest.raises(Undeliverable, match=r"deactivated \(user_disabled"):
        send(someone("Tom Okafor", leaver.id), a_reminder())


def test_someone_deactivated_after_their_dm_was_opened_is_undeliverable(
    slack_api: SlackStandIn, client: WebClient, send: SlackSender
) -> None:
    leaver = slack_api.add_user("Tom Okafor")
    send(someone("Tom Okafor", leaver.id), a_reminder())
    slack_api.deactivate(leaver.id)
    dm = slack_api.dm_of(leaver.id)

    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel=str(dm), text="hello")
    assert raised.value.response["error"] == "user_disabled"
    with pytest.raises(Undeliverable):
        send(someone("Tom Okafor", leaver.id), a_reminder())


@pytest.mark.parametrize("code", ["channel_not_found", "account_inactive", "user_not_found", "cannot_dm_bot"])
def test_slack_refusing_the_recipient_for_good_is_undeliverable(
    slack_api: SlackStandIn, send: SlackSender, code: str
) -> None:
    amina = slack_api.add_user("Amina Khan")
    slack_api.refuse(
        "chat.postMessage" if code in ("channel_not_found", "account_inactive") else "conversations.open",
        code,
    )

    with pytest.raises(Undeliverable, match=code):
        send(someone("Amina Khan", amina.id), a_reminder())


def test_someone_without_a_slack_id_is_undeliverable_without_asking_slack(
    slack_api: SlackStandIn, send: SlackSender
) -> None:
    with pytest.raises(Undeliverable, match="no Slack user id"):
        send(someone("Dafydd Evans", None), a_reminder())
    assert slack_api.calls == []


def test_slack_having_trouble_is_retried_later(slack_api: SlackStandIn, send: SlackSender) -> None:
    amina = slack_api.add_user("Amina Khan")
    slack_api.refuse("chat.postMessage", "service_unavailable", status=503)

    with pytest.raises(RetryLater, match="HTTP 503"):
        send(someone("Amina Khan", amina.id), a_reminder())


def test_a_wrong_token_is_our_mistake_and_raised_as_it_is(slack_api: SlackStandIn) -> None:
    amina = slack_api.add_user("Amina Khan")
    wrong = SlackSender(WebClient(token="xoxb-not-the-token", base_url=slack_api.url, timeout=5))

    with pytest.raises(SlackApiError) as raised:
        wrong(someone("Amina Khan", amina.id), a_reminder())
    assert raised.value.response["error"] == "invalid_auth"


# -- the stand-in refuses what Slack refuses
# ------------------------------------------------------------------


def slack_error(call: object) -> str:
    with pytest.raises(SlackApiError) as raised:
        call()  # type: ignore[operator]
    return str(raised.value.response["error"])


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing:UserWarning")
def test_the_stand_in_refuses_messages_slack_would_refuse(slack_api: SlackStandIn, client: WebClient) -> None:
    amina = slack_api.add_user("Amina Khan")
    dm = client.conversations_open(users=amina.id)["channel"]["id"]
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "ok"}}
    button = {"type": "button", "text": {"type": "plain_text", "text": "Amber"}, "action_id": "edi:status"}

    assert slack_error(lambda: client.chat_postMessage(channel="", text="hi")) == "channel_not_found"
    assert slack_error(lambda: client.chat_postMessage(channel="C0NOWHERE", text="hi")) == "channel_not_found"
    assert slack_error(lambda: client.chat_postMessage(channel=dm)) == "no_text"
    assert (
        slack_error(lambda: client.chat_postMessage(channel=dm, text="x", blocks=[section] * 51))
        == "invalid_blocks"
    )
    too_long = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}
    assert (
        slack_error(lambda: client.chat_postMessage(channel=dm, text="x", blocks=[too_long]))
        == "invalid_blocks"
    )
    twice = {"type": "actions", "elements": [button, button]}
    assert (
        slack_error(lambda: client.chat_postMessage(channel=dm, text="x", blocks=[twice])) == "invalid_blocks"
    )
    mrkdwn_header = {"type": "header", "text": {"type": "mrkdwn", "text": "*NO-4*"}}
    assert (
        slack_error(lambda: client.chat_postMessage(channel=dm, text="x", blocks=[mrkdwn_header]))
        == "invalid_blocks"
    )
    assert slack_error(lambda: client.chat_update(channel=dm, ts="1.000000", text="x")) == "message_not_found"
    assert (
        slack_error(lambda: client.users_lookupByEmail(email="nobody@northbridge.example"))
        == "users_not_found"
    )
    assert client.chat_postMessage(channel=dm, text="x", blocks=[section] * 50)["ok"]
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel=dm, text="x", blocks=[too_long])
    assert set(raised.value.response.data) == set(payload("chat_postMessage_invalid_blocks"))  # Slack's shape
    assert raised.value.response["errors"] == [
        "must be less than 3001 characters [json-pointer:/blocks/0/text/text]"
    ]


def test_the_stand_in_refuses_views_slack_would_refuse(slack_api: SlackStandIn, client: WebClient) -> None:
    amina = slack_api.add_user("Amina Khan")
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "ok"}}
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "NO-4 is Amber"}, "blocks": [section]}

    assert client.views_open(trigger_id="12345.98765.abcd", view=modal)["view"]["type"] == "modal"
    long_title = {**modal, "title": {"type": "plain_text", "text": "x" * 25}}
    assert slack_error(lambda: client.views_open(trigger_id="1.2.3", view=long_title)) == "invalid_arguments"
    secrets = {**modal, "private_metadata": "x" * 3001}
    assert slack_error(lambda: client.views_open(trigger_id="1.2.3", view=secrets)) == "invalid_arguments"
    crowded = {**modal, "blocks": [section] * 101}
    assert slack_error(lambda: client.views_open(trigger_id="1.2.3", view=crowded)) == "invalid_arguments"
    assert (
        slack_error(lambda: client.views_open(trigger_id="expired.1.2", view=modal)) == "expired_trigger_id"
    )
    home = {"type": "home", "blocks": [section] * 100}
    published = client.views_publish(user_id=amina.id, view=home)["view"]
    assert slack_api.home_of(amina.id) == published
    assert client.views_update(view_id=published["id"], view=home)["ok"]
    assert slack_error(
        lambda: client.views_publish(user_id=amina.id, view={**home, "blocks": [section] * 101})
    ) == ("invalid_arguments")


def test_the_stand_in_answers_people_lookups_with_their_time_zone(
    slack_api: SlackStandIn, client: WebClient
) -> None:
    dev = slack_api.add_user(
        "Dev Raman", tz="America/New_York", tz_label="Eastern Standard Time", tz_offset=-18000
    )

    found = client.users_lookupByEmail(email="Dev.Raman@northbridge.example")["user"]
    info = client.users_info(user=dev.id)["user"]

    assert found["id"] == dev.id and found["profile"]["email"] == "dev.raman@northbridge.example"
    assert (info["tz"], info["tz_offset"], info["real_name"]) == ("America/New_York", -18000, "Dev Raman")
    assert client.auth_test()["user_id"] == "U0EDIBOT01"
    assert [call.method for call in slack_api.calls] == ["users.lookupByEmail", "users.info", "auth.test"]


# -- a plan's escalation channel
# ----------------------------------------------------------------------------------


def test_an_escalation_is_posted_in_the_channel_by_its_id(slack_api: SlackStandIn, send: SlackSender) -> None:
    slack_api.add_channel("C0EDILEADS")

    platform_id = send.to_channel(Channel("C0EDILEADS", "#edi-leads"), a_reminder())

    [call] = slack_api.calls
    assert (call.method, call.params["channel"], call.status) == ("chat.postMessage", "C0EDILEADS", 200)
    [message] = slack_api.posted("C0EDILEADS")
    assert platform_id == f"C0EDILEADS:{message['ts']}"


@pytest.mark.parametrize(
    ("channel", "code"),
    [("C0ARCHIVED", "is_archived"), ("C0NOTINVITED", "not_in_channel"), ("C0NOSUCH", "channel_not_found")],
)
def test_a_channel_slack_wont_take_a_post_in_is_undeliverable(
    slack_api: SlackStandIn, send: SlackSender, channel: str, code: str
) -> None:
    slack_api.add_channel("C0ARCHIVED")
    slack_api.archive_channel("C0ARCHIVED")
    slack_api.add_channel_without_bot("C0NOTINVITED")

    with pytest.raises(Undeliverable, match=rf"\({code}, #edi-leads, {channel}\)"):
        send.to_channel(Channel(channel, "#edi-leads"), a_reminder())

    assert slack_api.posted() == []


def test_with_a_workspace_per_person_a_channel_is_posted_with_its_workspaces_client(
    slack_api: SlackStandIn, client: WebClient
) -> None:
    slack_api.add_channel("C0EDILEADS")
    asked: list[str | None] = []

    def team_clients(team: str | None) -> WebClient | None:
        asked.append(team)
        return client if team == "T0NORTH" else None

    send = SlackSender(clients=lambda _person: client, team_clients=team_clients)
    send.to_channel(Channel("C0EDILEADS", "#edi-leads", "T0NORTH"), a_reminder())
    with pytest.raises(Undeliverable, match="no Slack token for the workspace of #elsewhere"):
        send.to_channel(Channel("C0OTHER", "#elsewhere", "T0SOUTH"), a_reminder())

    assert asked == ["T0NORTH", "T0SOUTH"]
    assert len(slack_api.posted("C0EDILEADS")) == 1


# -- the nudge sweep and delivery, end to end
# ---------------------------------------------------------------------


@pytest.fixture
def northbridge(store: Database, clock: FakeClock, slack_api: SlackStandIn) -> dict[str, str]:
    """The sample plan and its people, each with a Slack account; returns name → Slack user id.

    The plan went in two weeks ago: its owners had their welcome (20 October) and a weekly reminder (27
    October) on another platform, and nobody answered; this Monday morning NO-2 escalates."""
    sample_organisation(store, now=clock.now() - timedelta(weeks=2))
    history = NudgeWorld(store, FakeClock(clock.now() - timedelta(weeks=2)))
    history.round()
    history.round(clock.now() - timedelta(weeks=1))
    history.close()
    ids: dict[str, str] = {}
    with store.session() as session:
        for person in session.scalars(select(Person)):
            person.slack_id = slack_api.add_user(person.name, email=person.email).id
            ids[person.name] = person.slack_id
    return ids


def outbox(store: Database) -> list[OutboxMessage]:
    """This morning's messages (not the fortnight's before it)."""
    with store.session() as session:
        return list(
            session.scalars(
                select(OutboxMessage).where(OutboxMessage.created_at >= MORNING).order_by(OutboxMessage.id)
            )
        )


def test_the_mornings_reminders_reach_each_persons_dm_and_the_outbox_keeps_their_ids(
    store: Database, clock: FakeClock, slack_api: SlackStandIn, northbridge: dict[str, str], send: SlackSender
) -> None:
    sweep(store, now=clock.now(), zone=LONDON)
    report = deliver(store, now=clock.now(), zone=LONDON, send=send)

    rows = outbox(store)
    assert report.sent == len(rows) == 5 and report.failed == []
    posts = slack_api.calls_to("chat.postMessage")
    assert len(posts) == len(rows)
    assert all(
        call.status == 200 and call.error is None for call in slack_api.calls
    )  # Slack took every block
    per_person = Counter(
        name for name, uid in northbridge.items() for _ in slack_api.posted(slack_api.dm_of(uid) or "-")
    )
    # Priya leads the plan: Monday's escalation of NO-2 and the weekly note on unmapped owners
    assert per_person == {"Amina Khan": 1, "Tom Okafor": 1, "Grace Liu": 1, "Priya Shah": 2}
    sent = {
        f"{call.params['channel']}:{message['ts']}"
        for call in posts
        for message in slack_api.posted(call.params["channel"])
    }
    assert {row.platform_message_id for row in rows} == sent
    assert all(row.status == "sent" for row in rows)
    [amina] = slack_api.posted(slack_api.dm_of(northbridge["Amina Khan"]))
    assert amina["blocks"][0]["text"]["text"] == "Amina, 2 EDI actions need you"


def test_a_429_storm_pauses_delivery_for_what_slack_asked_and_loses_doubles_or_fails_none(
    store: Database, clock: FakeClock, slack_api: SlackStandIn, northbridge: dict[str, str], send: SlackSender
) -> None:
    sweep(store, now=clock.now(), zone=LONDON)
    storm = MAX_ATTEMPTS + 2  # more 429s in a row than a message may fail
    slack_api.rate_limit(storm, retry_after=120)

    first = deliver(store, now=clock.now(), zone=LONDON, send=send)

    assert (first.sent, first.retried, first.paused_until) == (0, 1, clock.now() + timedelta(seconds=120))
    assert len(slack_api.calls) == 1  # the other four waited rather than knocking on a closed door
    with store.session() as session:  # all five wait what Slack asked
        assert outbox_queries.paused_until(session, now=clock.now()) == clock.now() + timedelta(seconds=120)
    assert deliver(store, now=clock.now() + timedelta(seconds=119), zone=LONDON, send=send).sent == 0
    assert len(slack_api.calls) == 1
    for n in range(1, storm):
        again = deliver(store, now=clock.now() + timedelta(seconds=120 * n), zone=LONDON, send=send)
        assert (again.sent, again.paused_until) == (0, clock.now() + timedelta(seconds=120 * (n + 1)))

    later = deliver(store, now=clock.now() + timedelta(seconds=120 * storm), zone=LONDON, send=send)

    assert (later.sent, later.failed) == (5, [])
    assert [(row.status, row.failures) for row in outbox(store)] == [("sent", 0)] * 5
    assert len(slack_api.posted()) == 5
    assert len(slack_api.calls) == storm + 2 * 5  # each 429 once, then conversations.open + chat.postMessage


def test_a_leaver_is_reported_to_the_plan_admins_once(
    store: Database, clock: FakeClock, slack_api: SlackStandIn, northbridge: dict[str, str], send: SlackSender
) -> None:
    slack_api.deactivate(northbridge["Tom Okafor"])
    sweep(store, now=clock.now(), zone=LONDON)

    report = deliver(store, now=clock.now(), zone=LONDON, send=send)
    deliver(store, now=clock.now() + timedelta(minutes=5), zone=LONDON, send=send)

    assert report.failed == [
        "Tom Okafor: Slack says their account is deactivated (user_disabled, Slack id "
        f"{northbridge['Tom Okafor']})"
    ]
    priya = [m["text"] for m in slack_api.posted(slack_api.dm_of(northbridge["Priya Shah"]) or "-")]
    assert sum("couldn't deliver reminders to Tom Okafor" in text for text in priya) == 1


def test_an_escalation_channel_gets_the_post_once_and_an_archived_one_is_reported_to_the_admins_once(
    store: Database, clock: FakeClock, slack_api: SlackStandIn, northbridge: dict[str, str], send: SlackSender
) -> None:
    slack_api.add_channel("C0EDILEADS")
    with store.session() as session:
        plan = session.scalar(select(Plan))
        assert plan is not None
        plan.escalation_channel, plan.escalation_channel_name = "C0EDILEADS", "edi-leads"
    sweep(store, now=clock.now(), zone=LONDON)

    report = deliver(store, now=clock.now(), zone=LONDON, send=send)
    sweep(store, now=clock.now() + timedelta(minutes=5), zone=LONDON)
    deliver(store, now=clock.now() + timedelta(minutes=5), zone=LONDON, send=send)

    assert report.failed == []
    [posted] = slack_api.posted("C0EDILEADS")
    assert posted["blocks"][0]["text"]["text"] == "Escalation: NO-2 is overdue"
    [row] = [m for m in outbox(store) if m.channel]
    assert row.platform_message_id == f"C0EDILEADS:{posted['ts']}"

    assert len(slack_api.posted("C0EDILEADS")) == 1


def test_an_archived_escalation_channel_is_reported_to_the_admins_once_and_holds_up_no_one_else(
    store: Database, clock: FakeClock, slack_api: SlackStandIn, northbridge: dict[str, str], send: SlackSender
) -> None:
    slack_api.add_channel("C0EDILEADS")
    slack_api.archive_channel("C0EDILEADS")
    with store.session() as session:
        plan = session.scalar(select(Plan))
        assert plan is not None
        plan.escalation_channel, plan.escalation_channel_name = "C0EDILEADS", "edi-leads"

    reports = []
    for minutes in (0, 5, 60, 24 * 60):
        now = clock.now() + timedelta(minutes=minutes)
        sweep(store, now=now, zone=LONDON)
        reports.append(deliver(store, now=now, zone=LONDON, send=send))

    assert reports[0].failed == ["#edi-leads: the channel is archived (is_archived, #edi-leads, C0EDILEADS)"]
    assert [r.failed for r in reports[1:]] == [[], [], []]
    assert slack_api.posted("C0EDILEADS") == []
    assert slack_api.posted(
        slack_api.dm_of(northbridge["Tom Okafor"]) or "-"
    )  # the owner's reminder still went
    priya = [m["text"] for m in slack_api.posted(slack_api.dm_of(northbridge["Priya Shah"]) or "-")]
    assert sum("couldn't post an escalation in #edi-leads" in text for text in priya) == 1


# -- exactly once: every post carries its outbox key, and a post an earlier try made is found by it
# ------------


def test_every_post_carries_its_outbox_key_and_can_be_found_by_it_pages_back(
    slack_api: SlackStandIn, client: WebClient, send: SlackSender
) -> None:
    slack_api.add_channel("C0EDILEADS")
    amina = slack_api.add_user("Amina Khan")
    before = datetime(2025, 11, 3, 9, 0, tzinfo=LONDON)  # the stand-in's clock starts at 09:30 that day

    send.to_channel(Channel("C0EDILEADS", "#edi-leads"), a_reminder(), key="#C0EDILEADS:2025-11-03:1")
    send(someone("Amina Khan", amina.id), a_reminder(), key="7:2025-11-03:1")
    for n in range(450):  # a busy channel: the escalation is three pages back
        client.chat_postMessage(channel="C0EDILEADS", text=f"chatter {n}")

    [escalation] = [m for m in slack_api.posted("C0EDILEADS") if "metadata" in m]
    assert escalation["metadata"] == {
        "event_type": OUTBOX_EVENT,
        "event_payload": {"key": "#C0EDILEADS:2025-11-03:1"},
    }
    assert send.find_posted(
        Channel("C0EDILEADS", "#edi-leads"), "#C0EDILEADS:2025-11-03:1", since=before
    ) == (f"C0EDILEADS:{escalation['ts']}")
    assert len(slack_api.calls_to("conversations.history")) == 3  # 200 a page, newest first
    dm = slack_api.dm_of(amina.id)
    [reminder] = slack_api.posted(dm)
    assert send.find_posted(someone("Amina Khan", amina.id), "7:2025-11-03:1", since=before) == (
        f"{dm}:{reminder['ts']}"
    )
    assert send.find_posted(someone("Amina Khan", amina.id), "7:2025-11-04:1", since=before) is None
    later = datetime(2025, 11, 4, 9, 0, tzinfo=LONDON)
    assert send.find_posted(someone("Amina Khan", amina.id), "7:2025-11-03:1", since=later) is None
    assert slack_api.keys_posted(OUTBOX_EVENT) == {"#C0EDILEADS:2025-11-03:1": 1, "7:2025-11-03:1": 1}


def test_a_post_whose_answer_never_came_back_is_found_and_kept_on_the_retry_not_sent_twice(
    store: Database, clock: FakeClock, slack_api: SlackStandIn, northbridge: dict[str, str]
) -> None:
    impatient = SlackSender(WebClient(token=slack_api.token, base_url=slack_api.url, timeout=1))
    sweep(store, now=clock.now(), zone=LONDON)
    slack_api.withhold_answer("chat.postMessage", after=1)  # Slack takes the second post; its "ok" is lost

    first = deliver(store, now=clock.now(), zone=LONDON, send=impatient)
    later = clock.now() + timedelta(minutes=5)
    second = deliver(store, now=later, zone=LONDON, send=impatient)

    assert (first.sent, first.retried, second.sent, second.adopted) == (4, 1, 1, 1)
    rows = outbox(store)
    assert slack_api.keys_posted(OUTBOX_EVENT) == {row.key: 1 for row in rows}
    assert all(row.status == "sent" for row in rows)
    [retried] = [row for row in rows if row.failures]
    channel, ts = str(retried.platform_message_id).split(":")
    assert [m["ts"] for m in slack_api.posted(channel)] == [ts]
