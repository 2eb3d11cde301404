"""Slack OAuth installations in our database, their tokens encrypted at rest with keys from EDIBOT_SECRET_KEY.

slack_sdk's SQLAlchemy store writes bot, user and refresh tokens (and an incoming webhook's secret URL) as
they are, so a database dump or a copy of the SQLite file was enough to act as edibot in every workspace that
installed it. This store is slack_sdk's own, on its own tables, with those columns given a type that encrypts
a value on its way in and decrypts it on its way out (Fernet: AES-128-CBC with an HMAC-SHA256, so a value
altered in the database is refused rather than read). Nothing queries by a token, so random ciphertexts are
no loss.

Rotation: EDIBOT_SECRET_KEY is a comma-separated list of keys, newest first. The first encrypts; any of them
decrypts; `reseal()` (run when the Slack app starts) re-encrypts every value under the first key, and also
encrypts tokens written before encryption was on. So: put a new key first, restart, then drop the old one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from sqlalchemy import Column, Dialect, Engine, Integer, MetaData, Table, Text, select, update
from sqlalchemy.types import TypeDecorator

from storage.models import SLACK_SECRET_COLUMNS

_PLAIN_PREFIXES = ("xox", "https://hooks.slack.com/")  # how tokens written before encryption was on look


class SecretKeyError(Exception):
    """EDIBOT_SECRET_KEY cannot open what the database holds; the message says what to do."""


def new_key() -> str:
    """A fresh key for EDIBOT_SECRET_KEY."""
    return Fernet.generate_key().decode("ascii")


class Cipher:
    """Encrypts under the first key, decrypts under any."""

    def __init__(self, keys: Sequence[str]) -> None:
        self._first = Fernet(keys[0])
        self._any = MultiFernet([Fernet(key) for key in keys])

    def seal(self, value: str) -> str:
        return self._first.encrypt(value.encode("utf-8")).decode("ascii")

    def open(self, value: str) -> str:
        """The clear value; a token written before encryption was on is returned as it is."""
        try:
            return self._any.decrypt(value.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeEncodeError):
            if value.startswith(_PLAIN_PREFIXES):
                return value
            raise SecretKeyError(
                "A Slack token in the database cannot be decrypted with any key in EDIBOT_SECRET_KEY: the "
                "key it was encrypted with must stay in the list (after the new one) until edibot has "
                "restarted with both."
            ) from None

    def is_current(self, value: str) -> bool:
        """Whether the value is encrypted under the first key (nothing to reseal)."""
        try:
            self._first.decrypt(value.encode("ascii"))
        except (InvalidToken, UnicodeEncodeError):
            return False
        return True


class Sealed(TypeDecorator[str]):
    """A text column whose values are stored encrypted."""

    impl = Text
    cache_ok = False  # it carries a cipher, which is not part of a statement's cache key

    def __init__(self, cipher: Cipher) -> None:
        super().__init__()
        self.cipher = cipher

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.cipher.seal(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else self.cipher.open(str(value))


class EncryptedInstallationStore(SQLAlchemyInstallationStore):
    """slack_sdk's installation store whose token columns are encrypted (see the module docstring)."""

    def __init__(
        self,
        *,
        cipher: Cipher,
        client_id: str,
        engine: Engine,
        bots_table_name: str,
        installations_table_name: str,
    ) -> None:
        super().__init__(
            client_id=client_id,
            engine=engine,
            bots_table_name=bots_table_name,
            installations_table_name=installations_table_name,
        )
        self.cipher = cipher
        for table in (self.bots, self.installations):
            for name in SLACK_SECRET_COLUMNS:
                if name in table.c:
                    table.c[name].type = Sealed(cipher)

    def reseal(self) -> int:
        """Encrypts under the first key every value not yet under it: plain (an older edibot) or an older key.

        Returns how many values were rewritten.
        """
        rewritten = 0
        with self.engine.begin() as connection:
            for sealed in (self.bots, self.installations):
                plain = _plain_copy(sealed)
                columns = [plain.c[name] for name in SLACK_SECRET_COLUMNS if name in plain.c]
                for row in connection.execute(select(plain.c.id, *columns)).mappings():
                    changes = {
                        column.name: self.cipher.seal(self.cipher.open(row[column.name]))
                        for column in columns
                        if row[column.name] is not None and not self.cipher.is_current(row[column.name])
                    }
                    if changes:
                        connection.execute(update(plain).where(plain.c.id == row["id"]).values(**changes))
                        rewritten += len(changes)
        return rewritten


def _plain_copy(table: Table) -> Table:
    """The table as stored (secret columns as plain text), to read and write ciphertexts as they are."""
    columns: list[Column[Any]] = [Column("id", Integer, primary_key=True)]
    columns += [Column(name, Text) for name in SLACK_SECRET_COLUMNS if name in table.c]
    return Table(table.name, MetaData(), *columns)
