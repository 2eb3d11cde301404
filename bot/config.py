"""edibot's settings, read once at start from EDIBOT_* environment variables and an optional .env file."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.db import sqlite_url


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
    log_level: str = Field(default="WARNING", pattern=r"(?i)^(DEBUG|INFO|WARNING|ERROR)$")

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"'{value}' is not an IANA time zone such as Europe/London") from error
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str | None) -> str | None:
        if value and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("use a sqlite:/// or postgresql:// URL")
        return value

    @property
    def effective_database_url(self) -> str:
        return self.database_url or sqlite_url(self.data_dir)


ENV_NAMES = {"database_url": "DATABASE_URL"}


def load_settings() -> Settings:
    """Settings from the environment, or a SettingsError naming every wrong variable."""
    try:
        return Settings()
    except ValidationError as error:
        problems = []
        for issue in error.errors():
            field = str(issue["loc"][0]) if issue["loc"] else "?"
            name = ENV_NAMES.get(field, f"EDIBOT_{field.upper()}")
            problems.append(f"{name}: {issue['msg'].removeprefix('Value error, ')}")
        raise SettingsError("Setting problem — " + "; ".join(problems)) from None
