"""Only one scheduler leads at a time: a lease row renewed each round, plus a PostgreSQL advisory lock while it works."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

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
        self.holder = f"{uuid.uuid4().hex[:12]}"

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
    """On PostgreSQL, a session-level advisory lock for one round of work; elsewhere the lease alone guards it."""
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
