"""`edibot teams package`: the zip an admin uploads to Teams, as Teams' validator would check it."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from bot.teams.manifest import icon_size
from handlers.registry import command_layer
from storage.db import Database
from tests.conftest import CliRun, FakeClock
from tests.teams_standin import APP_ID


def test_the_package_names_the_bot_its_address_and_commands_edibot_has(
    cli: CliRun, tmp_path: Path, store: Database, clock: FakeClock
) -> None:
    out = tmp_path / "edibot-teams.zip"

    code, said, _ = cli(
        "teams", "package", "--app-id", APP_ID, "--domain", "edibot.northbridge.example", "--out", str(out)
    )

    assert code == 0 and "Upload an app" in said
    assert "give your organisation's pages with --privacy-url and --terms-url" in said
    with zipfile.ZipFile(out) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
        assert icon_size(package.read("color.png")) == (192, 192)
        assert icon_size(package.read("outline.png")) == (32, 32)
    assert manifest["id"] == manifest["bots"][0]["botId"] == APP_ID
    assert manifest["validDomains"] == ["edibot.northbridge.example"]
    assert manifest["developer"]["privacyUrl"] == "https://edibot.northbridge.example/privacy"
    known = command_layer(store, clock).commands
    for commands in manifest["bots"][0]["commandLists"]:
        for command in commands["commands"]:
            assert command["title"].split()[0] in known, command  # the menu offers only what edibot does


def test_a_package_teams_would_refuse_is_not_built(cli: CliRun, tmp_path: Path) -> None:
    out = tmp_path / "edibot-teams.zip"

    not_a_guid = cli(
        "teams", "package", "--app-id", "edibot", "--domain", "edibot.example.org", "--out", str(out)
    )
    a_url = cli(
        "teams", "package", "--app-id", APP_ID, "--domain", "https://edibot.example.org/", "--out", str(out)
    )

    assert not_a_guid[0] != 0 and "is not a GUID" in not_a_guid[2]
    assert a_url[0] != 0 and "is not a host name" in a_url[2]
    assert not out.exists()


def test_the_package_links_the_organisations_own_privacy_and_terms_pages(cli: CliRun, tmp_path: Path) -> None:
    out = tmp_path / "edibot-teams.zip"
    pages = (
        "--privacy-url",
        "https://northbridge.example/privacy",
        "--terms-url",
        "https://northbridge.example/it",
    )

    code, said, _ = cli(
        "teams", "package", "--app-id", APP_ID, "--domain", "edibot.example.org", "--out", str(out), *pages
    )

    assert code == 0 and "--privacy-url" not in said
    with zipfile.ZipFile(out) as package:
        developer = json.loads(package.read("manifest.json"))["developer"]
    assert developer["privacyUrl"] == "https://northbridge.example/privacy"
    assert developer["termsOfUseUrl"] == "https://northbridge.example/it"


def test_a_privacy_link_teams_would_refuse_is_named_and_nothing_is_built(cli: CliRun, tmp_path: Path) -> None:
    out = tmp_path / "edibot-teams.zip"
    for bad in ("http://northbridge.example/privacy", "northbridge.example/privacy", "https://" + "a" * 2100):
        code, _, err = cli(
            "teams",
            "package",
            "--app-id",
            APP_ID,
            "--domain",
            "edibot.example.org",
            "--out",
            str(out),
            "--privacy-url",
            bad,
        )
        assert code != 0 and "--privacy-url" in err and "https://" in err
    assert not out.exists()
