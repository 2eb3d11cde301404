"""edibot's settings, read once at start from EDIBOT_* environment variables and an optional .env file."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.rules.defaults import WEEKLY_CAP


class SettingsError(Exception):
    """A setting is wrong; the message names the environment variable and what it should be."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EDIBOT_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default=Path("data"), description="Folder for the SQLite database and exports.")
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("EDIBOT_DATABASE_URL", "DATABASE_URL"),
        description="SQLAlchemy URL; unset means a SQLite file in the data folder.",
    )
    timezone: str = Field(default="Europe/London", description="The organisation's home time zone.")
    max_import_mb: int = Field(default=20, ge=1, le=500, description="Largest plan file accepted.")
    daily_nudge_cap: int = Field(default=1, ge=1, le=10, description="Reminder messages per person per day.")
    weekly_nudge_cap: int = Field(
        default=WEEKLY_CAP,
        ge=1,
        le=7,
        description="Reminder messages per person per week (deadline-day and 3-day reminders still go).",
    )
    log_level: str = Field(default="WARNING", pattern=r"(?i)^(DEBUG|INFO|WARNING|ERROR)$")
    log_format: str = Field(
        default="text",
        pattern=r"(?i)^(text|json)$",
        description="text: readable lines in a terminal; json: one JSON object a line, for a log collector.",
    )
    log_levels: str = Field(
        default="",
        description="Levels per module, overriding log_level: 'slack_bolt=WARNING,schedules.delivery=DEBUG'.",
    )

    # Slack (see README, "Connecting Slack"). The usual Slack names work, with or without EDIBOT_.
    slack_bot_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("EDIBOT_SLACK_BOT_TOKEN", "SLACK_BOT_TOKEN"),
        description="Bot token (xoxb-…) of a single-workspace install.",
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("EDIBOT_SLACK_SIGNING_SECRET", "SLACK_SIGNING_SECRET"),
        description="Signs every request Slack sends us; requests without a valid signature are refused.",
    )
    slack_app_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("EDIBOT_SLACK_APP_TOKEN", "SLACK_APP_TOKEN"),
        description="App-level token (xapp-…) with connections:write, for Socket Mode.",
    )
    slack_client_id: str | None = Field(
        default=None,
        validation_alias=AliasChoices("EDIBOT_SLACK_CLIENT_ID", "SLACK_CLIENT_ID"),
        description="OAuth client id, for installing into several workspaces.",
    )
    slack_client_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("EDIBOT_SLACK_CLIENT_SECRET", "SLACK_CLIENT_SECRET"),
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Fernet keys (comma-separated, newest first) encrypting Slack tokens in the database.",
    )
    slack_api_url: str = Field(
        default="https://slack.com/api/", description="Slack's Web API; tests point it at a local stand-in."
    )

    # Microsoft Teams (see README, "Microsoft Teams"): the Entra app registration behind the Azure Bot.
    teams_app_id: str | None = Field(
        default=None,
        validation_alias=AliasChoices("EDIBOT_TEAMS_APP_ID", "TEAMS_APP_ID"),
        description="The bot's Microsoft App ID (its Entra application's client id).",
    )
    teams_app_password: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("EDIBOT_TEAMS_APP_PASSWORD", "TEAMS_APP_PASSWORD"),
        description="A client secret of that Entra application.",
    )
    teams_tenant_id: str | None = Field(
        default=None,
        description="The Entra tenant of a single-tenant bot; unset for a multi-tenant one "
        "(botframework.com).",
    )
    teams_login_url: str = Field(
        default="https://login.microsoftonline.com",
        description="Entra's login host (another for a sovereign cloud); tests point it at a local stand-in.",
    )
    teams_service_url: str = Field(
        default="https://smba.trafficmanager.net/teams/",
        description="The Bot Connector's address for chats edibot starts itself (a person's first reminder, "
        "a channel's escalation); a chat someone started is answered where Teams said.",
    )
    teams_openid_url: str = Field(
        default="https://login.botframework.com/v1/.well-known/openidconfiguration",
        description="The Bot Framework's OpenID metadata, naming the keys that sign every Teams request.",
    )

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("a bot token starts with xoxb- (OAuth & Permissions → Bot User OAuth Token)")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("an app-level token starts with xapp- (Basic Information → App-Level Tokens)")
        return value

    @field_validator("secret_key")
    @classmethod
    def _fernet_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return value
        from cryptography.fernet import Fernet  # noqa: PLC0415 — only a set-up with a key loads it

        keys = [key.strip() for key in value.get_secret_value().split(",") if key.strip()]
        if not keys:
            raise ValueError("no key given; `edibot slack new-key` makes one")
        for number, key in enumerate(keys, start=1):
            try:
                Fernet(key)
            except ValueError:
                raise ValueError(
                    f"key {number} is not a Fernet key (32 bytes, url-safe base64); "
                    "`edibot slack new-key` makes one"
                ) from None
        return value

    @property
    def secret_keys(self) -> list[str]:
        """The keys in EDIBOT_SECRET_KEY, newest (the one that encrypts) first; none when it is not set."""
        raw = self.secret_key.get_secret_value() if self.secret_key else ""
        return [key.strip() for key in raw.split(",") if key.strip()]

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"'{value}' is not an IANA time zone such as Europe/London") from error
        return value

    @field_validator("log_levels")
    @classmethod
    def _module_levels(cls, value: str) -> str:
        parse_levels(value)
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str | None) -> str | None:
        if value and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("use a sqlite:/// or postgresql:// URL")
        return value

    @property
    def effective_database_url(self) -> str:
        from storage.db import sqlite_url  # noqa: PLC0415 — settings load without the database (--help)

        return self.database_url or sqlite_url(self.data_dir)


LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def parse_levels(value: str) -> dict[str, str]:
    """'module=LEVEL,module=LEVEL' as a mapping; ValueError naming the first part that isn't one."""
    levels: dict[str, str] = {}
    for part in (piece.strip() for piece in value.split(",")):
        if not part:
            continue
        name, equals, level = (side.strip() for side in part.partition("="))
        if not equals or not name or level.upper() not in LEVELS:
            raise ValueError(
                f"'{part}' is not module=LEVEL (LEVEL one of {', '.join(LEVELS)}), "
                "as in slack_bolt=WARNING,schedules.delivery=DEBUG"
            )
        levels[name] = level.upper()
    return levels


ENV_NAMES = {
    "database_url": "DATABASE_URL",
    **{
        name: name.upper()
        for name in (
            "slack_bot_token",
            "slack_signing_secret",
            "slack_app_token",
            "slack_client_id",
            "slack_client_secret",
            "teams_app_id",
            "teams_app_password",
        )
    },
}


def load_settings() -> Settings:
    """Settings from the environment, or a SettingsError naming every wrong variable."""
    try:
        return Settings()
    except ValidationError as error:
        problems = []
        for issue in error.errors():
            field = str(issue["loc"][0]) if issue["loc"] else "?"
            # A field read through an alias is reported under the variable's own name (EDIBOT_DATABASE_URL).
            name = field if field.isupper() else ENV_NAMES.get(field, f"EDIBOT_{field.upper()}")
            problems.append(f"{name}: {issue['msg'].removeprefix('Value error, ')}")
        raise SettingsError("Setting problem — " + "; ".join(problems)) from None
