"""A PostgreSQL server of the test's own — initdb in a temporary folder, on a free loopback port — that a test
may stop, restart or kill without touching the shared test database other tests (and workers) use.

It needs the server's binaries (Debian's postgresql package, which `.ci/run` installs); without them the
tests that use it skip and say so. Run as root (as CI does), the server runs as the `postgres` user, since
PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.slack_workspace import _free_port

USER = "edibot"


def _binaries() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))
    return found[-1].parent if found else None


class PostgresServer:
    """One private server: `url` for SQLAlchemy; `restart`, `stop` and `start` as an operator would."""

    def __init__(self) -> None:
        binaries = _binaries()
        if binaries is None:
            pytest.skip("PostgreSQL's server binaries are not installed (Debian: apt-get install postgresql)")
        self.bin = binaries
        # Not pytest's tmp_path: its folders are private to root, where the postgres user can't reach.
        self.folder = folder = Path(tempfile.mkdtemp(prefix="edibot-postgres-"))
        self.data = folder / "data"
        self.port = _free_port()
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            shutil.chown(folder, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", USER, "-A", "trust", "--no-sync", "-E", "UTF8")
        self.start()
        self.url = f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"), "-w", "start"
        )

    def stop(self) -> None:
        """A fast shutdown: every session is ended and its open transaction rolled back."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()


def private_postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.folder, ignore_errors=True)
