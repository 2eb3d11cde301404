"""`edibot doctor`: checks everything edibot needs (settings, data folder, database, schema, Slack, Teams, the
scheduler's lock, the clock and time zone data) and says, for each thing wrong, what it is and how to fix it.

Each check is a function from what the checks before it found to one `Check`; a check whose ground is
missing (no database to ask about the schema) says so as "skipped" rather than failing twice for one cause.
Nothing is changed: the database is opened without migrating and never created, Slack is asked only
auth.test, Entra only for a token. Platforms that are not configured are skipped, so a console-only set-up
is healthy with neither.
"""

from __future__ import annotations

import getpass
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select, text
from sqlalchemy.exc import InterfaceError, OperationalError

from bot.config import Settings
from storage.db import (
    Database,
    DatabaseGone,
    DatabaseMissing,
    DatabaseUnreachable,
    sqlite_path,
    unreachable,
    why_unusable,
)
from storage.models import HistoryEntry, Leadership

Status = Literal["ok", "problem", "skipped"]
CLOCK_SKEW = timedelta(minutes=2)  # beyond this, reminders go out at visibly wrong times


@dataclass(frozen=True)
class Check:
    """One thing checked: its name, how it went, what was found, and (when wrong) how to fix it."""

    name: str
    status: Status
    found: str
    fix: str = ""


@dataclass
class Findings:
    """What the checks have found so far, for the checks after them."""

    settings: Settings | None
    settings_error: str | None
    now: datetime
    clock_fixed: bool = False  # --now: the time is pretended, so it is not compared with the server's
    database: Database | None = None
    revision: str | None = None
    checks: list[Check] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return all(check.status != "problem" for check in self.checks)


def run_checks(
    settings: Settings | None, *, settings_error: str | None, now: datetime, clock_fixed: bool = False
) -> Findings:
    """Every check, in order; the database they open is closed again."""
    findings = Findings(settings=settings, settings_error=settings_error, now=now, clock_fixed=clock_fixed)
    steps: list[Callable[[Findings], Check]] = [
        configuration,
        data_folder,
        database,
        migrations,
        slack,
        teams,
        scheduler_lock,
        clock_and_zones,
    ]
    try:
        for step in steps:
            findings.checks.append(step(findings))
    finally:
        if findings.database is not None:
            findings.database.dispose()
    return findings


def _skipped(name: str, why: str) -> Check:
    return Check(name, "skipped", why)


# -- configuration and data folder ------------------------------------------------------------------------


def configuration(found: Findings) -> Check:
    settings = found.settings
    if settings is None:
        return Check(
            "Configuration",
            "problem",
            found.settings_error or "the settings could not be read",
            "Correct the variables named (in the environment or the .env file edibot reads), then run "
            "edibot doctor again.",
        )
    path = sqlite_path(settings.effective_database_url)
    where = f"SQLite in {path.parent}" if path is not None else "PostgreSQL (DATABASE_URL)"
    platforms = [
        name
        for name, on in (("Slack", _slack_configured(settings)), ("Teams", _teams_configured(settings)))
        if on
    ]
    return Check(
        "Configuration",
        "ok",
        f"settings read: database {where}, time zone {settings.timezone}, "
        f"platforms: {', '.join(platforms) or 'none (console only)'}",
    )


def data_folder(found: Findings) -> Check:
    settings = found.settings
    if settings is None:
        return _skipped("Data folder", "the configuration must be fixed first")
    folder = settings.data_dir.absolute()
    uses_sqlite = sqlite_path(settings.effective_database_url) is not None
    if not folder.exists() and not folder.is_symlink():
        if not uses_sqlite:
            return Check(
                "Data folder", "ok", f"{folder} is not there; with PostgreSQL edibot does not need it"
            )
        return Check(
            "Data folder",
            "problem",
            f"{folder} does not exist (or is in a folder that does not)",
            "Run `edibot init` to make it and an empty database in it, or point EDIBOT_DATA_DIR at the "
            "folder that holds edibot's database.",
        )
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        why = (
            f"this user ({getpass.getuser()}) may not write in it"
            if isinstance(error, PermissionError)
            else why_unusable(folder, error)
        )
        return Check(
            "Data folder",
            "problem",
            f"edibot can't write in {folder}: {why}",
            "Give the user edibot runs as write access to it (chown/chmod), or point EDIBOT_DATA_DIR at a "
            "folder it can write.",
        )
    return Check("Data folder", "ok", f"{folder} is writable")


# -- database and schema ----------------------------------------------------------------------------------


def database(found: Findings) -> Check:
    settings = found.settings
    if settings is None:
        return _skipped("Database", "the configuration must be fixed first")
    url = settings.effective_database_url
    try:
        opened = Database.open(url, migrate=False, create="never")
    except (DatabaseMissing, DatabaseUnreachable) as error:
        return Check("Database", "problem", str(error), _database_fix(settings))
    try:
        with opened.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except (OperationalError, InterfaceError) as error:
        opened.dispose()
        return Check("Database", "problem", str(unreachable(url, error)), _database_fix(settings))
    except DatabaseGone as error:
        opened.dispose()
        return Check("Database", "problem", str(error), _database_fix(settings))
    found.database = opened
    shown = sqlite_path(url) or opened.engine.url.render_as_string(hide_password=True)
    return Check("Database", "ok", f"{opened.engine.dialect.name} at {shown} answers")


def _database_fix(settings: Settings) -> str:
    if settings.database_url:
        return (
            "Check that the server is running and reachable from here, and that DATABASE_URL names the "
            "database, user and password (postgresql://USER:PASSWORD@HOST:5432/DATABASE)."
        )
    return "Run `edibot init` for a new database, or put the database file back from a backup."


def migrations(found: Findings) -> Check:
    if found.database is None:
        return _skipped("Schema", "the database must be reachable first")
    from alembic.script import ScriptDirectory  # noqa: PLC0415 — only doctor and restore read the scripts
    from alembic.util.exc import CommandError  # noqa: PLC0415

    from storage.backup import schema_revision  # noqa: PLC0415
    from storage.db import alembic_config  # noqa: PLC0415

    engine = found.database.engine
    script = ScriptDirectory.from_config(alembic_config(engine))
    head = script.get_current_head()
    with engine.connect() as connection:
        current = schema_revision(connection)
    found.revision = current
    if current == head:
        return Check("Schema", "ok", f"at revision {head}, the newest this edibot knows")
    if current is None:
        return Check(
            "Schema",
            "problem",
            "the database is empty: it has no edibot tables",
            "Run `edibot init` to make them (or `edibot restore FILE` to load a backup).",
        )
    try:
        script.get_revision(current)
    except CommandError:
        return Check(
            "Schema",
            "problem",
            f"at revision {current}, which this edibot (revisions up to {head}) does not know: a newer "
            "edibot has upgraded it",
            "Run the newer edibot that upgraded it; an older one must not use this database.",
        )
    return Check(
        "Schema",
        "problem",
        f"at revision {current}; this edibot needs {head}",
        "Back it up (`edibot backup FILE`), then run `edibot init`, which upgrades it to the newest revision "
        "and changes nothing else (`edibot run` also upgrades it when it starts).",
    )


# -- platforms --------------------------------------------------------------------------------------------


def _slack_configured(settings: Settings) -> bool:
    return any(
        (
            settings.slack_bot_token,
            settings.slack_client_id,
            settings.slack_signing_secret,
            settings.slack_app_token,
        )
    )


def _teams_configured(settings: Settings) -> bool:
    return bool(settings.teams_app_id or settings.teams_app_password)


def slack(found: Findings) -> Check:
    settings = found.settings
    if settings is None:
        return _skipped("Slack", "the configuration must be fixed first")
    if not _slack_configured(settings):
        return _skipped("Slack", "not configured (no SLACK_BOT_TOKEN or SLACK_CLIENT_ID)")
    from slack_sdk import WebClient  # noqa: PLC0415 — Slack's SDK loads only when Slack is configured
    from slack_sdk.errors import SlackApiError, SlackClientError  # noqa: PLC0415

    if settings.slack_signing_secret is None:
        return Check(
            "Slack",
            "problem",
            "SLACK_SIGNING_SECRET is not set, so edibot can't check that requests come from Slack",
            "Copy it from your app's Basic Information → App Credentials at https://api.slack.com/apps.",
        )
    tokens: list[tuple[str, str]] = []  # (which, token)
    if settings.slack_client_id:
        problem, tokens = _installed_tokens(found, settings)
        if problem is not None:
            return problem
        if not tokens:
            return Check(
                "Slack",
                "ok",
                "OAuth is set up; no workspace has installed edibot yet (open https://YOUR-HOST/slack/install)",
            )
    elif settings.slack_bot_token is not None:
        tokens = [("SLACK_BOT_TOKEN", settings.slack_bot_token.get_secret_value())]
    else:
        return Check(
            "Slack",
            "problem",
            "SLACK_BOT_TOKEN is not set (nor SLACK_CLIENT_ID for OAuth installs)",
            "Install the app to your workspace and copy the Bot User OAuth Token (xoxb-…) from OAuth & "
            "Permissions.",
        )
    teams_seen = []
    for which, token in tokens:
        client = WebClient(token=token, base_url=settings.slack_api_url, timeout=10)
        try:
            answer = client.auth_test()
        except SlackApiError as error:
            code = error.response.get("error", "refused")
            return Check(
                "Slack",
                "problem",
                f"Slack refused {which} ({code})",
                "Copy the Bot User OAuth Token (xoxb-…) again from your app's OAuth & Permissions page; if "
                "the app was uninstalled or its token revoked, reinstall it."
                if code in ("invalid_auth", "not_authed", "token_revoked", "account_inactive")
                else "See Slack's error code in its API documentation for auth.test.",
            )
        except (SlackClientError, OSError) as error:
            return Check(
                "Slack",
                "problem",
                f"Slack's API at {settings.slack_api_url} could not be reached ({error})",
                "Check this host's outbound HTTPS access to slack.com (a proxy or firewall).",
            )
        teams_seen.append(f"{answer.get('team')} ({answer.get('team_id')}) as @{answer.get('user')}")
    return Check("Slack", "ok", "Slack accepts the token of " + ", ".join(teams_seen))


def _installed_tokens(found: Findings, settings: Settings) -> tuple[Check | None, list[tuple[str, str]]]:
    """The bot token of every workspace that installed edibot by OAuth, decrypted; or the problem."""
    if settings.slack_client_secret is None:
        return Check(
            "Slack",
            "problem",
            "SLACK_CLIENT_ID is set but SLACK_CLIENT_SECRET is not",
            "Copy the Client Secret from your app's Basic Information → App Credentials, or unset "
            "SLACK_CLIENT_ID for a single workspace (SLACK_BOT_TOKEN).",
        ), []
    if found.database is None or found.revision is None:
        return _skipped("Slack", "OAuth installs are kept in the database, which must be reachable first"), []
    from bot.slack.app import SlackNotConfigured, installation_store  # noqa: PLC0415
    from bot.slack.installations import SecretKeyError  # noqa: PLC0415
    from storage.models import SLACK_BOTS, Base  # noqa: PLC0415

    try:
        store = installation_store(found.database, settings)
    except SlackNotConfigured as error:
        return Check("Slack", "problem", str(error), "Set EDIBOT_SECRET_KEY (see above)."), []
    bots = Base.metadata.tables[SLACK_BOTS]
    with found.database.engine.connect() as connection:
        teams = connection.execute(
            select(bots.c.enterprise_id, bots.c.team_id)
            .where(bots.c.client_id == settings.slack_client_id)
            .distinct()
        ).all()
    tokens = []
    for enterprise, team in teams:
        try:
            bot = store.find_bot(enterprise_id=enterprise, team_id=team)
        except SecretKeyError as error:
            return Check(
                "Slack",
                "problem",
                str(error),
                "Set EDIBOT_SECRET_KEY to the key the tokens were encrypted with (the newest first).",
            ), []
        if bot is not None and bot.bot_token:
            tokens.append((f"the bot token of workspace {team}", bot.bot_token))
    return None, tokens


def teams(found: Findings) -> Check:
    settings = found.settings
    if settings is None:
        return _skipped("Teams", "the configuration must be fixed first")
    if not _teams_configured(settings):
        return _skipped("Teams", "not configured (no EDIBOT_TEAMS_APP_ID)")
    from requests import RequestException  # noqa: PLC0415 — msal's HTTP client

    from bot.teams.auth import (  # noqa: PLC0415 — only when configured
        ConnectorAuthError,
        TeamsNotConfigured,
        connector_tokens,
    )

    try:
        connector_tokens(settings).token()
    except TeamsNotConfigured as error:
        return Check(
            "Teams", "problem", str(error), "Set both EDIBOT_TEAMS_APP_ID and EDIBOT_TEAMS_APP_PASSWORD."
        )
    except ConnectorAuthError as error:
        return Check(
            "Teams",
            "problem",
            str(error),
            "Make a new client secret under the Entra app registration's Certificates & secrets (they "
            "expire) and set EDIBOT_TEAMS_APP_PASSWORD to its Value; check EDIBOT_TEAMS_TENANT_ID for a "
            "single-tenant bot.",
        )
    except (RequestException, ValueError) as error:
        return Check(
            "Teams",
            "problem",
            f"Entra at {settings.teams_login_url} could not be reached ({str(error).splitlines()[0]})",
            "Check this host's outbound HTTPS access to login.microsoftonline.com (a proxy or firewall).",
        )
    return Check(
        "Teams", "ok", f"Entra gives edibot (app {settings.teams_app_id}) a token for the Bot Connector"
    )


# -- scheduler, clock and zones ---------------------------------------------------------------------------


def scheduler_lock(found: Findings) -> Check:
    if found.database is None or found.revision is None:
        return _skipped("Scheduler lock", "the database must be reachable first")
    with found.database.session() as session:
        lease = session.get(Leadership, "scheduler")
    if lease is None:
        return Check("Scheduler lock", "ok", "free: no edibot has run the scheduler on this database yet")
    zone = found.now.tzinfo
    until = lease.lease_until.astimezone(zone)
    if lease.lease_until > found.now:
        return Check(
            "Scheduler lock",
            "ok",
            f"held by process {lease.holder} until {until:%H:%M:%S} (a running edibot leads the reminders)",
        )
    return Check(
        "Scheduler lock",
        "ok",
        f"free: the last leader ({lease.holder}) let it go at {until:%-d %b %Y %H:%M}; if edibot should be "
        "running now, it has stopped",
    )


def clock_and_zones(found: Findings) -> Check:
    try:
        london = ZoneInfo("Europe/London")
    except ZoneInfoNotFoundError:
        return Check(
            "Clock and time zones",
            "problem",
            "no time zone data: Europe/London is unknown",
            "Install the system's tzdata package (or `pip install tzdata`).",
        )
    if datetime(2025, 7, 1, 12, tzinfo=london).utcoffset() != timedelta(hours=1):
        return Check(
            "Clock and time zones",
            "problem",
            "the time zone data is wrong: Europe/London is not an hour ahead of UTC in summer",
            "Reinstall the system's tzdata package (or `pip install tzdata`).",
        )
    now = found.now
    if found.database is not None and found.revision is not None:
        with found.database.session() as session:
            latest = session.scalar(select(func.max(HistoryEntry.at)))
            server = (
                session.scalar(text("SELECT now()"))
                if found.database.engine.dialect.name == "postgresql"
                else None
            )
        if latest is not None and latest > now + timedelta(days=1):
            return Check(
                "Clock and time zones",
                "problem",
                f"this system's clock says {now:%-d %b %Y %H:%M}, but the database holds changes made at "
                f"{latest.astimezone(now.tzinfo):%-d %b %Y %H:%M}: the clock is behind",
                "Set the system clock right (enable NTP: timedatectl set-ntp true).",
            )
        if server is not None and abs(server - now) > CLOCK_SKEW and not found.clock_fixed:
            return Check(
                "Clock and time zones",
                "problem",
                f"this system's clock and the database server's differ by {abs(server - now)}",
                "Keep both clocks right with NTP (timedatectl set-ntp true).",
            )
    return Check(
        "Clock and time zones",
        "ok",
        f"time zone data present; it is {now.astimezone(london):%a %-d %b %Y %H:%M %Z} in London",
    )


# -- the report -------------------------------------------------------------------------------------------

MARK = {"ok": "ok", "problem": "PROBLEM", "skipped": "skipped"}


def report_lines(findings: Findings) -> list[str]:
    """The checks as the terminal shows them: one line each, and under a problem, how to fix it."""
    width = max(len(check.name) for check in findings.checks)
    lines = []
    for check in findings.checks:
        lines.append(f"{MARK[check.status]:<8} {check.name:<{width}}  {check.found}")
        if check.fix:
            lines.append(f"{'':<8} {'':<{width}}  Fix: {check.fix}")
    problems = sum(check.status == "problem" for check in findings.checks)
    lines.append(
        "Everything configured works."
        if not problems
        else f"{problems} problem{'s' if problems > 1 else ''} found: fix {'them' if problems > 1 else 'it'} "
        "as said above, then run edibot doctor again."
    )
    return lines
