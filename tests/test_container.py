"""The container's entrypoint, run outside Docker (this machine has none): the Dockerfile's own ENTRYPOINT,
CMD, ENV and HEALTHCHECK, read from the file, on a read-only copy of the application with a writable data
volume — as the image's non-root user finds them.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

from tests.edibot_process import EDIBOT, get, slack_environment, start_edibot, terminated
from tests.slack_standin import SlackStandIn
from tests.slack_workspace import _free_port

ROOT = Path(__file__).resolve().parents[1]
APP = ("bot", "handlers", "storage", "schedules", "pyproject.toml")


def final_stage(dockerfile: Path) -> list[tuple[str, str]]:
    """The final stage's instructions (name, argument), continuation lines joined."""
    joined = dockerfile.read_text().replace("\\\n", " ")
    lines = [
        line.strip() for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    stages = [n for n, line in enumerate(lines) if line.upper().startswith("FROM ")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines[stages[-1] :]]


def environment_of(stage: list[tuple[str, str]]) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, argument in stage:
        if name == "ENV":
            for pair in argument.split():
                key, _, value = pair.partition("=")
                found[key] = value.replace("$PATH", os.environ.get("PATH", ""))
    return found


def exec_form(stage: list[tuple[str, str]], name: str) -> list[str]:
    [argument] = [argument for n, argument in stage if n == name]
    if name == "HEALTHCHECK":
        argument = argument.split(" CMD ", 1)[1]
    value = json.loads(argument)
    assert isinstance(value, list)
    return [str(part) for part in value]


def snapshot(folder: Path) -> dict[str, float]:
    return {str(path.relative_to(folder)): path.stat().st_mtime for path in folder.rglob("*")}


def test_the_images_command_serves_from_a_read_only_app_with_a_writable_volume_and_passes_its_healthcheck(
    tmp_path: Path,
) -> None:
    stage = final_stage(ROOT / "Dockerfile")
    image_env = environment_of(stage)
    entrypoint, command = exec_form(stage, "ENTRYPOINT"), exec_form(stage, "CMD")
    healthcheck = exec_form(stage, "HEALTHCHECK")
    users = [argument for name, argument in stage if name == "USER"]

    app, data = tmp_path / "app", tmp_path / "data"
    app.mkdir()
    for part in APP:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, app / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, app / part)
    for path in [app, *app.rglob("*")]:  # read-only, as the image's files are to its user
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    data.mkdir(mode=0o700)
    before = snapshot(app)
    port = _free_port()

    with SlackStandIn() as api:
        env = {
            **slack_environment(api),
            **image_env,
            "EDIBOT_DATA_DIR": str(data),  # the volume, mounted at /data in the image
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "tmp" / "edibot-metrics"),  # the image's tmpfs
            "EDIBOT_HOST": "127.0.0.1",
            "EDIBOT_PORT": str(port),
            "PYTHONPATH": str(app),  # the application is this read-only copy
        }
        assert entrypoint == ["edibot"]
        first_run = subprocess.run(
            [EDIBOT, "init"], env=env, cwd=data, capture_output=True, text=True, timeout=120, check=False
        )  # the volume's first use: `docker compose run web init` (PostgreSQL needs none)
        with (tmp_path / "edibot.log").open("w+") as log:
            edibot = start_edibot(env, command, log=log)
            try:
                get(port, "/healthz", wait=90)
                healthy = subprocess.run(
                    [sys.executable if healthcheck[0] == "python" else healthcheck[0], *healthcheck[1:]],
                    env=env,
                    capture_output=True,
                    timeout=30,
                    check=False,
                )
                ready = get(port, "/readyz")
                stopped_in = terminated(edibot)
            finally:
                if edibot.poll() is None:
                    edibot.kill()
            log.seek(0)
            said = log.read()

    assert users == ["10001"]  # not root
    assert command[:2] == ["run", "--slack-http"]  # serves, not --help
    assert first_run.returncode == 0, first_run.stderr
    assert healthy.returncode == 0, healthy.stderr
    assert ready.status_code == 200, ready.text
    assert stopped_in < 10
    assert edibot.returncode == 0, said
    assert snapshot(app) == before  # nothing written in the application
    assert (data / "edibot.sqlite3").exists()  # everything written is in the volume
    assert all(line.startswith("{") for line in said.splitlines() if "edibot is running" not in line)


def test_the_lock_pins_every_dependency_the_project_declares_to_one_version() -> None:
    import re  # noqa: PLC0415
    import tomllib  # noqa: PLC0415

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    lines = [
        line for line in (ROOT / "requirements.lock").read_text().splitlines() if not line.startswith("#")
    ]
    pinned = dict(line.split("==") for line in lines)

    def name(requirement: str) -> str:
        return re.sub(r"[-_.]+", "-", re.split(r"[\[<>=!~ ;]", requirement, maxsplit=1)[0]).lower()

    assert all(re.fullmatch(r"[A-Za-z0-9_.\-]+==[A-Za-z0-9_.+\-]+", line) for line in lines)
    assert {name(requirement) for requirement in declared} <= {name(package) for package in pinned}
