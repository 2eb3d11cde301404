"""The Slack app manifest (manifest.yml beside this file): its scopes for OAuth, and a copy for a given
URL."""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

MANIFEST = Path(__file__).with_name("manifest.yml")
PLACEHOLDER = "https://edibot.example.org"


class ManifestError(Exception):
    """The URL given for the manifest is not one Slack can call."""


@cache
def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return loaded


def bot_scopes() -> list[str]:
    return list(manifest()["oauth_config"]["scopes"]["bot"])


def manifest_for(url: str | None) -> dict[str, Any]:
    """The manifest for HTTP mode at `url` (https://…), or for Socket Mode when `url` is None."""
    result = copy.deepcopy(manifest())
    settings = result["settings"]
    if url is None:
        settings["socket_mode_enabled"] = True
        settings["event_subscriptions"].pop("request_url", None)
        settings["interactivity"].pop("request_url", None)
        for command in result["features"]["slash_commands"]:
            command.pop("url", None)
        result["oauth_config"].pop("redirect_urls", None)
        return result
    parsed = urlparse(url)
    if parsed.scheme != "https" or not parsed.netloc:
        raise ManifestError(f"'{url}' is not an https:// address; Slack only calls apps over HTTPS.")
    # People paste the events address Slack shows them; the manifest adds /slack/events itself.
    base = url.rstrip("/").removesuffix("/slack/events").rstrip("/")
    placed: dict[str, Any] = yaml.safe_load(
        yaml.safe_dump(result, sort_keys=False).replace(PLACEHOLDER, base)
    )
    return placed


def manifest_yaml(url: str | None) -> str:
    return yaml.safe_dump(manifest_for(url), sort_keys=False, allow_unicode=True)
