"""Only one scheduler leads at a time: a lease row renewed each round, plus a PostgreSQL advisory lock while
it works."""

from __future__ import annotations

import fcntl
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, or_, select, text, update
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.models import Leadership

ADVISORY_KEY = 0x0ED1B07  # the scheduler's advisory lock number on PostgreSQL


class Leader:
    """Holds (or fails to hold) the scheduler lease for this process."""

    def __init__(
        self, database: Database, *, name: str = "scheduler", lease: timedelta = timedelta(minutes=2)
    ) -> None:
        self.database = database
        self.name = name
        self.lease = lease
        self.holder = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"  # which process leads, for whoever looks

    def acquire(self, now: datetime) -> bool:
        """True if this process leads until now + lease: it renewed its lease, or took over an expired one."""
        with self.database.session() as session:
            taken = session.execute(
                update(Leadership)
                .where(
                    Leadership.name == self.name,
                    or_(Leadership.holder == self.holder, Leadership.lease_until < now),
                )
                .values(holder=self.holder, lease_until=now + self.lease)
            )
            if taken.rowcount == 1:  # type: ignore[attr-defined]
                return True
            exists = session.scalar(select(Leadership.name).where(Leadership.name == self.name))
            if exists is not None:
                return False
        try:
            with self.database.session() as session:
                session.execute(
                    insert(Leadership).values(
                        name=self.name, holder=self.holder, lease_until=now + self.lease
                    )
                )
        except IntegrityError:
            return False  # another process created the row first: it leads
        return True

    def release(self) -> None:
        with self.database.session() as session:
            session.execute(
                update(Leadership)
                .where(Leadership.name == self.name, Leadership.holder == self.holder)
                .values(lease_until=datetime(1970, 1, 1).astimezone())
            )


@contextmanager
def exclusive(database: Database) -> Iterator[bool]:
    """One round of work at a time across processes, however long it takes (the lease alone could run out
    mid-send).

    PostgreSQL: a session-level advisory lock. SQLite: an exclusive lock on a file beside the database.
    """
    if database.engine.dialect.name == "sqlite":
        with _file_lock(database) as got:
            yield got
        return
    if database.engine.dialect.name != "postgresql":
        yield True
        return
    with database.engine.connect() as connection:
        got = bool(
            connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}).scalar()
        )
        try:
            yield got
        finally:
            if got:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
                connection.commit()


@contextmanager
def _file_lock(database: Database) -> Iterator[bool]:
    path = database.engine.url.database
    if not path or path == ":memory:":
        yield True
        return
    with Path(f"{path}.scheduler.lock").open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False  # another process is mid-round
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
