"""`edibot teams package`: the Teams app package (manifest.json and its two icons, zipped) to upload.

The manifest in bot/teams/appfiles/ names the bot by its Microsoft App ID, the address it is served from
(for the developer links and validDomains), and the command menu people see in the 1:1 chat and in a team.
The package is checked against what Teams' validator refuses (https://learn.microsoft.com/microsoftteams/
platform/resources/schema/manifest-schema): a GUID for the id, a bare host name for the domain, names and
descriptions within their lengths, at most 10 commands a scope, icons of 192×192 and 32×32 pixels.
"""

from __future__ import annotations

import json
import re
import struct
import uuid
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

FILES = Path(__file__).resolve().parent / "appfiles"
ICONS = {"color.png": (192, 192), "outline.png": (32, 32)}
SHORT_NAME, FULL_NAME, SHORT_DESCRIPTION, FULL_DESCRIPTION = 30, 100, 80, 4000
COMMANDS_PER_SCOPE, COMMAND_TITLE, COMMAND_DESCRIPTION = 10, 32, 128
MAX_URL = 2048
_HOST = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", re.IGNORECASE)


class PackageError(Exception):
    """A value the package can't be built with; the message says which and why."""


def manifest(
    *,
    app_id: str,
    domain: str,
    organisation: str,
    privacy_url: str | None = None,
    terms_url: str | None = None,
) -> dict[str, Any]:
    """The manifest for this bot, checked; PackageError for what Teams would refuse. The privacy and terms
    links are the organisation's own pages; without them, https://DOMAIN/privacy and /terms stand in."""
    try:
        app_id = str(uuid.UUID(app_id.strip()))
    except ValueError:
        raise PackageError(
            f"the app id '{app_id}' is not a GUID: it is the Microsoft App ID of your Azure Bot "
            "(the Application (client) ID of its Entra app registration)"
        ) from None
    host = domain.strip().lower()
    if not _HOST.match(host):
        raise PackageError(f"'{domain}' is not a host name such as edibot.example.org (no https://, no path)")
    links = {
        "PRIVACY_URL": _link("--privacy-url", privacy_url) or f"https://{host}/privacy",
        "TERMS_URL": _link("--terms-url", terms_url) or f"https://{host}/terms",
    }
    text = (FILES / "manifest.json").read_text(encoding="utf-8")
    for name, value in (
        ("APP_ID", app_id),
        ("DOMAIN", host),
        ("ORGANISATION", organisation.strip()),
        *links.items(),
    ):
        text = text.replace("{{" + name + "}}", json.dumps(value)[1:-1])
    built: dict[str, Any] = json.loads(text)
    _check(built)
    return built


def _link(option: str, url: str | None) -> str | None:
    """A page's address as Teams takes it: https, a host, at most 2,048 characters."""
    if url is None:
        return None
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or len(url) > MAX_URL:
        raise PackageError(f"{option}: '{url[:80]}' is not an https:// address Teams accepts")
    return url


def _check(built: dict[str, Any]) -> None:
    problems = []
    name, description = built["name"], built["description"]
    if not built["developer"]["name"] or len(built["developer"]["name"]) > 32:
        problems.append("the organisation's name must be 1 to 32 characters")
    for label, value, limit in (
        ("short name", name["short"], SHORT_NAME),
        ("full name", name["full"], FULL_NAME),
        ("short description", description["short"], SHORT_DESCRIPTION),
        ("full description", description["full"], FULL_DESCRIPTION),
    ):
        if len(value) > limit:
            problems.append(f"the {label} is {len(value)} characters, over {limit}")
    for bot in built["bots"]:
        for commands in bot.get("commandLists") or []:
            if len(commands["commands"]) > COMMANDS_PER_SCOPE:
                problems.append(f"{len(commands['commands'])} commands for {commands['scopes']}, over 10")
            for command in commands["commands"]:
                if len(command["title"]) > COMMAND_TITLE or len(command["description"]) > COMMAND_DESCRIPTION:
                    problems.append(f"the command '{command['title']}' is too long")
    if problems:
        raise PackageError("; ".join(problems))


def icon_size(data: bytes) -> tuple[int, int]:
    """A PNG's width and height, from its header."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise PackageError("an icon is not a PNG")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def build_package(
    *,
    app_id: str,
    domain: str,
    organisation: str,
    out: Path,
    privacy_url: str | None = None,
    terms_url: str | None = None,
) -> Path:
    """Writes the zip Teams takes (manifest.json and the icons, at its top level) to `out`."""
    built = manifest(
        app_id=app_id, domain=domain, organisation=organisation, privacy_url=privacy_url, terms_url=terms_url
    )
    icons = {name: (FILES / name).read_bytes() for name in ICONS}
    for name, data in icons.items():
        if icon_size(data) != ICONS[name]:
            raise PackageError(f"{name} must be {ICONS[name][0]}×{ICONS[name][1]} pixels")
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(built, ensure_ascii=False, indent=2))
        for name, data in icons.items():
            package.writestr(name, data)
    return out
