"""`edibot --version` names the installed edibot, and the changelog has an entry for it."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

from tests.conftest import CliRun

CHANGELOG = Path(__file__).resolve().parents[1] / "CHANGELOG.md"


def test_the_version_printed_is_the_package_s_and_the_changelog_describes_it(cli: CliRun) -> None:
    code, out, _ = cli("--version")
    version = metadata.version("edibot")
    assert code == 0 and out == f"edibot {version}\n"
    headings = re.findall(r"^## \[([^\]]+)\]", CHANGELOG.read_text(encoding="utf-8"), flags=re.MULTILINE)
    assert headings[0] == "Unreleased" and version in headings
