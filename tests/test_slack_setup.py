"""Setting edibot up on Slack: the manifest, the settings, OAuth installs, matching people, pacing, and
running."""

from __future__ import annotations

import re
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import httpx
import pytest
import yaml
from pydantic import SecretStr
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import select, text
from typer.testing import CliRunner

from bot.cli import app as cli_app
from bot.config import Settings
from bot.console import FakeClock
from bot.slack.app import SlackNotConfigured, create_app, installation_store
from bot.slack.edibot import SlackBot
from bot.slack.listeners.interactions import NEW_ACTION_SHORTCUT
from bot.slack.manifest import bot_scopes, manifest_for
from bot.slack.sender import SlackSender
from bot.slack.serve import request_threads, uvicorn_server
from bot.slack.workspaces import Workspaces
from handlers.messages import Reply
from handlers.registry import command_layer
from schedules.delivery import deliver
from schedules.planning import sweep
from schedules.sending import Recipient, Undeliverable
from storage.db import Database, sqlite_url
from storage.importing.service import import_plan
from storage.models import Person
from storage.people import import_people
from tests.conftest import sample_organisation
from tests.slack_standin import HISTORY_SCOPES, METHOD_SCOPES, SlackStandIn
from tests.slack_workspace import SlackWorkspace, _free_port, buttons_of
from tests.transcript import history, snapshot, store_state

LONDON = ZoneInfo("Europe/London")
SLACK_CODE = Path(__file__).resolve().parents[1] / "bot" / "slack"


# -- the manifest ------------------------------------------------------------------------------------------


def _methods_called_by_the_app() -> set[str]:
    """Every Web API method the Slack adapter's code calls (client.chat_postMessage → chat.postMessage)."""
    called: set[str] = set()
    for path in SLACK_CODE.rglob("*.py"):
        for name in re.findall(r"\bclient\.([a-z]+_[A-Za-z0-9_]+)\(", path.read_text(encoding="utf-8")):
            family, _, method = name.partition("_")
            called.add(f"{family}.{method}")
    return called


def test_the_manifest_asks_for_exactly_the_scopes_the_code_needs() -> None:
    called = _methods_called_by_the_app()
    assert {
        "chat.postMessage",
        "chat.update",
        "conversations.open",
        "views.open",
        "views.publish",
        "users.info",
        "users.lookupByEmail",
        "conversations.history",
    } <= called
    needed = {METHOD_SCOPES[method] for method in called if method in METHOD_SCOPES} | {"commands"}
    needed |= set(HISTORY_SCOPES.values())  # conversations.history: DMs, public and private channels

    assert set(bot_scopes()) == needed


def test_the_manifest_names_the_command_shortcut_and_events_the_app_listens_for() -> None:
    manifest = manifest_for("https://edibot.northbridge.example")

    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/edi"]
    assert [s["callback_id"] for s in manifest["features"]["shortcuts"]] == [NEW_ACTION_SHORTCUT]
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {"app_home_opened", "message.im"}
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert (
        manifest["settings"]["interactivity"]["request_url"]
        == "https://edibot.northbridge.example/slack/events"
    )
    assert manifest["oauth_config"]["redirect_urls"] == [
        "https://edibot.northbridge.example/slack/oauth_redirect"
    ]


def test_edibot_slack_manifest_prints_it_for_a_url_or_for_socket_mode() -> None:
    runner = CliRunner()

    http = runner.invoke(cli_app, ["slack", "manifest", "--url", "https://edibot.northbridge.example/"])
    socket = runner.invoke(cli_app, ["slack", "manifest"])
    refused = runner.invoke(cli_app, ["slack", "manifest", "--url", "http://edibot.northbridge.example"])

    assert http.exit_code == 0
    assert yaml.safe_load(http.stdout)["features"]["slash_commands"][0]["url"] == (
        "https://edibot.northbridge.example/slack/events"
    )
    settings = yaml.safe_load(socket.stdout)["settings"]
    assert settings["socket_mode_enabled"] is True and "request_url" not in settings["interactivity"]
    assert refused.exit_code != 0 and "not an https:// address" in refused.stderr


# -- settings and starting
# ------------------------------------------------------------------------------------


def test_a_malformed_slack_token_stops_edibot_at_start_naming_the_setting(tmp_path: Path) -> None:
    runner = CliRunner(env={"SLACK_BOT_TOKEN": "xoxp-a-user-token", "EDIBOT_DATA_DIR": str(tmp_path)})

    result = runner.invoke(cli_app, ["plans"])

    assert result.exit_code != 0
    assert "SLACK_BOT_TOKEN: a bot token starts with xoxb-" in result.stderr


def test_running_on_slack_without_a_signing_secret_says_where_to_find_it(tmp_path: Path) -> None:
    Database.open(sqlite_url(tmp_path)).dispose()  # installed: `edibot run` starts only on a database
    runner = CliRunner(
        env={
            "SLACK_BOT_TOKEN": "xoxb-1-2-abc",
            "EDIBOT_DATA_DIR": str(tmp_path),
            "SLACK_SIGNING_SECRET": None,
        }
    )

    result = runner.invoke(cli_app, ["run", "--slack-http"])

    assert result.exit_code != 0
    assert "SLACK_SIGNING_SECRET is not set" in result.stderr and "Basic Information" in result.stderr


def test_socket_mode_without_an_app_token_says_how_to_make_one(tmp_path: Path) -> None:
    Database.open(sqlite_url(tmp_path)).dispose()
    with SlackStandIn() as api:
        runner = CliRunner(
            env={
                "SLACK_BOT_TOKEN": api.token,
                "SLACK_SIGNING_SECRET": "s3cret",
                "EDIBOT_SLACK_API_URL": api.url,
                "EDIBOT_DATA_DIR": str(tmp_path),
                "SLACK_APP_TOKEN": None,
            }
        )
        result = runner.invoke(cli_app, ["run", "--slack-socket"])

    assert result.exit_code != 0
    assert "SLACK_APP_TOKEN is not set" in result.stderr and "connections:write" in result.stderr


def test_oauth_needs_both_halves_of_the_client_credentials(store: Database) -> None:
    bot = SlackBot(
        layer=command_layer(store, FakeClock(datetime(2025, 11, 3, tzinfo=LONDON))), database=store
    )
    settings = Settings(SLACK_SIGNING_SECRET=SecretStr("s"), SLACK_CLIENT_ID="123.456")

    with pytest.raises(SlackNotConfigured, match="SLACK_CLIENT_SECRET is not set"):
        create_app(bot, settings=settings)


# -- OAuth: installing into a workspace
# ------------------------------------------------------------------------


@pytest.fixture
def oauth_app(store: Database) -> Iterator[tuple[SlackStandIn, httpx.Client]]:
    with SlackStandIn(scopes=set(bot_scopes())) as api:
        settings = Settings(
            SLACK_SIGNING_SECRET=SecretStr("s3cret"),
            SLACK_CLIENT_ID=api.client_id,
            SLACK_CLIENT_SECRET=SecretStr(api.client_secret),
            slack_api_url=api.url,
            secret_key=SecretStr(KEY),
        )
        bot = SlackBot(
            layer=command_layer(store, FakeClock(datetime(2025, 11, 3, tzinfo=LONDON))), database=store
        )
        server = uvicorn_server(
            create_app(bot, settings=settings),
            signing_secret="s3cret",
            threads=request_threads(store),
            host="127.0.0.1",
            port=_free_port(),
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.01)
        port = server.config.port
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            yield api, http
        server.should_exit = True
        thread.join(timeout=10)
        bot.close()


def test_installing_into_a_workspace_keeps_its_token_in_our_database(
    store: Database, oauth_app: tuple[SlackStandIn, httpx.Client]
) -> None:
    api, http = oauth_app

    start = http.get("/slack/install")
    assert start.status_code == 200
    authorize = re.search(r'href="(https://slack.com/oauth/v2/authorize[^"]+)"', start.text)
    assert authorize, "the install page links to Slack's authorize page"
    query = parse_qs(urlparse(authorize.group(1).replace("&amp;", "&")).query)
    assert set(query["scope"][0].split(",")) == set(bot_scopes())
    api.codes.add("approved-code")

    # The browser carries back the state cookie the install page set (Secure, so httpx won't over http://).
    cookie = start.headers["set-cookie"].split(";", 1)[0]
    assert cookie == f"slack-app-oauth-state={query['state'][0]}"
    done = http.get(
        "/slack/oauth_redirect",
        params={"code": "approved-code", "state": query["state"][0]},
        headers={"Cookie": cookie},
    )

    assert done.status_code == 200, done.text
    with store.engine.connect() as connection:
        rows = connection.execute(text("SELECT team_id, bot_token FROM slack_bots")).all()
    assert [row.team_id for row in rows] == ["T0NORTHBR1"]
    assert api.token not in rows[0].bot_token and "xox" not in rows[0].bot_token  # encrypted at rest
    found = installation_store(store, _oauth_settings(api.client_id, KEY)).find_bot(
        enterprise_id=None, team_id="T0NORTHBR1"
    )
    assert found is not None and found.bot_token == api.token


def test_an_oauth_redirect_with_a_forged_state_installs_nothing(
    store: Database, oauth_app: tuple[SlackStandIn, httpx.Client]
) -> None:
    api, http = oauth_app
    api.codes.add("approved-code")

    done = http.get("/slack/oauth_redirect", params={"code": "approved-code", "state": "made-up"})

    assert done.status_code >= 400
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM slack_bots")).scalar() == 0


KEY = "dGhpcy1pcy1hLXRlc3Qta2V5LW9mLTMyLWJ5dGVzISE="  # a Fernet key: 32 bytes, url-safe base64
NEWER_KEY = "YW5vdGhlci10ZXN0LWtleS10aGF0LWlzLTMyLWJ5dGU="


def _oauth_settings(client_id: str, keys: str | None) -> Settings:
    return Settings(
        SLACK_SIGNING_SECRET=SecretStr("s3cret"),
        SLACK_CLIENT_ID=client_id,
        SLACK_CLIENT_SECRET=SecretStr("c"),
        secret_key=SecretStr(keys) if keys else None,
    )


def _stored_tokens(store: Database) -> list[str]:
    with store.engine.connect() as connection:
        return [row.bot_token for row in connection.execute(text("SELECT bot_token FROM slack_bots"))]


def test_oauth_without_a_secret_key_refuses_to_keep_tokens_and_says_how_to_make_one(store: Database) -> None:
    bot = SlackBot(
        layer=command_layer(store, FakeClock(datetime(2025, 11, 3, tzinfo=LONDON))), database=store
    )

    with pytest.raises(SlackNotConfigured, match="EDIBOT_SECRET_KEY is not set") as refused:
        create_app(bot, settings=_oauth_settings("123.456", None))

    assert "edibot slack new-key" in str(refused.value)


def test_a_malformed_secret_key_stops_edibot_at_start_naming_the_setting(tmp_path: Path) -> None:
    runner = CliRunner(env={"EDIBOT_SECRET_KEY": "password123", "EDIBOT_DATA_DIR": str(tmp_path)})

    result = runner.invoke(cli_app, ["plans"])

    assert result.exit_code != 0
    assert "EDIBOT_SECRET_KEY: key 1 is not a Fernet key" in result.stderr


def test_edibot_slack_new_key_prints_a_key_edibot_accepts() -> None:
    printed = CliRunner().invoke(cli_app, ["slack", "new-key"]).stdout.strip()

    assert Settings(secret_key=SecretStr(printed)).secret_keys == [printed]


def test_a_new_key_put_first_re_encrypts_every_token_when_edibot_starts_and_the_old_one_can_then_go(
    store: Database,
) -> None:
    _install(store, team="T0NORTHBR1", token="xoxb-1-northbridge", client_id="123.456")
    under_old = _stored_tokens(store)
    bot = SlackBot(
        layer=command_layer(store, FakeClock(datetime(2025, 11, 3, tzinfo=LONDON))), database=store
    )

    create_app(bot, settings=_oauth_settings("123.456", f"{NEWER_KEY},{KEY}"))  # starting re-encrypts

    assert _stored_tokens(store) != under_old
    only_new = installation_store(store, _oauth_settings("123.456", NEWER_KEY))
    found = only_new.find_bot(enterprise_id=None, team_id="T0NORTHBR1")
    assert found is not None and found.bot_token == "xoxb-1-northbridge"


def test_dropping_the_key_the_tokens_are_encrypted_with_stops_edibot_saying_to_keep_it(
    store: Database,
) -> None:
    _install(store, team="T0NORTHBR1", token="xoxb-1-northbridge", client_id="123.456")
    bot = SlackBot(
        layer=command_layer(store, FakeClock(datetime(2025, 11, 3, tzinfo=LONDON))), database=store
    )

    with pytest.raises(SlackNotConfigured, match="must stay in the list"):
        create_app(bot, settings=_oauth_settings("123.456", NEWER_KEY))


def test_tokens_an_older_edibot_kept_in_plain_text_are_encrypted_when_edibot_starts(store: Database) -> None:
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore  # noqa: PLC0415

    plain = SQLAlchemyInstallationStore(client_id="123.456", engine=store.engine)
    plain.save_bot(_installation(team="T0NORTHBR1", token="xoxb-1-northbridge").to_bot())
    assert _stored_tokens(store) == ["xoxb-1-northbridge"]
    bot = SlackBot(
        layer=command_layer(store, FakeClock(datetime(2025, 11, 3, tzinfo=LONDON))), database=store
    )

    create_app(bot, settings=_oauth_settings("123.456", KEY))

    assert "xox" not in _stored_tokens(store)[0]
    found = installation_store(store, _oauth_settings("123.456", KEY)).find_bot(
        enterprise_id=None, team_id="T0NORTHBR1"
    )
    assert found is not None and found.bot_token == "xoxb-1-northbridge"


# -- matching the people directory --------------------------------------------------------------------------


def test_match_people_finds_slack_ids_by_email_and_takes_slacks_time_zone_where_none_is_set(
    store: Database, tmp_path: Path, database_url: str
) -> None:
    people = tmp_path / "people.csv"
    people.write_text(
        "owner,name,email,timezone\n"
        "HR Manager,Amina Khan,amina.khan@northbridge.example,Europe/London\n"
        "Policy Team,Grace Liu,grace.liu@northbridge.example,\n"
        "Digital Services,Ewan Campbell,ewan.campbell@northbridge.example,\n",
        encoding="utf-8",
    )
    import_people(store, people, now=datetime(2025, 11, 3, tzinfo=LONDON))
    with SlackStandIn(scopes=set(bot_scopes())) as api:
        amina = api.add_user("Amina Khan", email="amina.khan@northbridge.example")
        grace = api.add_user("Grace Liu", email="Grace.Liu@northbridge.example", tz="Asia/Hong_Kong")
        runner = CliRunner(
            env={
                "SLACK_BOT_TOKEN": api.token,
                "EDIBOT_SLACK_API_URL": api.url,
                "EDIBOT_DATABASE_URL": database_url,
            }
        )
        result = runner.invoke(cli_app, ["slack", "match-people"])

    assert result.exit_code == 0, result.stderr
    assert "2 matched, 1 time zones set, 1 not found" in result.stdout
    assert "Ewan Campbell (ewan.campbell@northbridge.example): no Slack user has that email" in result.stdout
    with store.session() as session:
        found = {p.name: (p.slack_id, p.timezone) for p in session.scalars(select(Person))}
    assert found["Amina Khan"] == (amina.id, "Europe/London")  # the directory's own zone is kept
    assert found["Grace Liu"] == (grace.id, "Asia/Hong_Kong")
    assert found["Ewan Campbell"] == (None, None)


# -- pacing
# ------------------------------------------------------------------------------------------------------


def test_two_messages_to_one_person_are_a_second_apart_as_slack_asks() -> None:
    slept: list[float] = []
    moments = iter([100.0, 100.2, 105.0])
    with SlackStandIn() as api:
        amina = api.add_user("Amina Khan")
        ewan = api.add_user("Ewan Campbell")
        sender = SlackSender(
            WebClient(token=api.token, base_url=api.url), monotonic=lambda: next(moments), sleep=slept.append
        )
        sender(Recipient(id=0, name="Amina Khan", slack_id=amina.id), Reply.say("one"))
        sender(Recipient(id=0, name="Amina Khan", slack_id=amina.id), Reply.say("two"))
        sender(Recipient(id=0, name="Ewan Campbell", slack_id=ewan.id), Reply.say("three"))

    assert slept == [pytest.approx(0.8)]


# -- a reminder about several actions
# ------------------------------------------------------------------------------


def test_a_thread_reply_to_a_reminder_about_several_actions_must_name_one(store: Database) -> None:
    clock = FakeClock(datetime(2025, 11, 3, 9, 30, tzinfo=LONDON))
    with tempfile.TemporaryDirectory() as folder:
        plan = Path(folder) / "plan.csv"
        plan.write_text(
            "Action,Lead,Timescale\nBook the venue,Events Team,17/11/25\nSend the invites,Events "
            "Team,17/11/25\n",
            encoding="utf-8",
        )
        import_plan(store, plan, now=clock.now(), plan_name="Festival Plan")
        people = Path(folder) / "people.csv"
        people.write_text(
            "owner,name,email\nEvents Team,Ewan Campbell,ewan@northbridge.example\n", encoding="utf-8"
        )
        import_people(store, people, now=clock.now())
    with SlackWorkspace(store, clock) as slack:
        ewan = slack.person("Ewan Campbell")
        slack.command(ewan, "mine")
        sweep(store, now=clock.now(), zone=LONDON)
        deliver(store, now=clock.now(), zone=LONDON, send=SlackSender(slack.client))
        channel = slack.api.dm_of(ewan.id)
        assert channel
        message = slack.api.posted(channel)[0]
        refs = sorted({b["value"].split("|")[0] for b in buttons_of(message["blocks"])})
        assert len(refs) == 2
        before = store_state(store)

        slack.reply_in_thread(ewan, message, "done", channel=channel)
        asked = slack.api.posted(channel)[-1]["text"]
        slack.reply_in_thread(ewan, message, f"{refs[1].lower()} done", channel=channel)

        assert "start your reply with the one you mean" in asked and store_state(store) != before
        assert snapshot(store, refs[1])["status"] == "done"
        assert snapshot(store, refs[0])["status"] == "open"
        assert history(store, refs[1])[0].surface == "slack"


# -- reminders when edibot is installed by OAuth
# ----------------------------------------------------------------


def _installation(*, team: str, token: str) -> Installation:
    return Installation(
        app_id="A0EDIBOT01",
        team_id=team,
        team_name=f"Team {team}",
        bot_token=token,
        bot_id="B0EDIBOT01",
        bot_user_id="U0EDIBOT01",
        bot_scopes=bot_scopes(),
        user_id="U00000001",
        installed_at=time.time(),
    )


def _install(store: Database, *, team: str, token: str, client_id: str) -> None:
    """An installation as Bolt's OAuth flow saves it (see the install test above for the flow itself)."""
    installation_store(store, _oauth_settings(client_id, KEY)).save(_installation(team=team, token=token))


def test_reminders_go_through_the_workspace_each_person_is_in(store: Database) -> None:
    with SlackStandIn(scopes=set(bot_scopes())) as api:
        amina = api.add_user("Amina Khan", email="amina.khan@northbridge.example")
        _install(store, team="T0NORTHBR1", token=api.token, client_id=api.client_id)
        reach = Workspaces(
            base_url=api.url, installations=installation_store(store, _oauth_settings(api.client_id, KEY))
        )
        send = SlackSender(clients=reach.client_for)

        sent = send(Recipient(id=0, name="Amina Khan", slack_id=amina.id), Reply.say("one workspace"))
        _install(store, team="T0SECOND02", token="xoxb-second-workspace", client_id=api.client_id)
        unknown = Recipient(id=0, name="Sam Patel", slack_id="U0SAM")
        elsewhere = Recipient(id=0, name="Sam Patel", slack_id="U0SAM", slack_team_id="T0ELSEWHR")

        assert sent.startswith(api.dm_of(amina.id) or "?")
        with pytest.raises(Undeliverable, match="several Slack workspaces"):
            send(unknown, Reply.say("which workspace?"))
        with pytest.raises(Undeliverable, match="not installed in their Slack workspace"):
            send(elsewhere, Reply.say("not installed there"))


def test_someone_using_edibot_is_linked_to_their_workspace(
    slack_workspace_store: tuple[Database, FakeClock],
) -> None:
    store, clock = slack_workspace_store
    with SlackWorkspace(store, clock) as slack:
        amina = slack.person("Amina Khan")
        slack.command(amina, "mine")

    with store.session() as session:
        found = session.scalar(select(Person).where(Person.name == "Amina Khan"))
        assert found is not None and (found.slack_id, found.slack_team_id) == (amina.id, "T0NORTHBR1")


@pytest.fixture
def slack_workspace_store(store: Database) -> tuple[Database, FakeClock]:
    clock = FakeClock(datetime(2025, 11, 3, 9, 30, tzinfo=LONDON))
    sample_organisation(store, now=clock.now())
    return store, clock
