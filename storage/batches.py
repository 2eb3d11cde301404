"""Asking about many rows at once: ids in chunks, and `IN (...)` that stays one parameter on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from sqlalchemy import ColumnElement, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute, Session

_T = TypeVar("_T")

CHUNK = 500  # ids or keys per IN (...), well inside SQLite's and PostgreSQL's parameter limits


def among(
    session: Session, column: ColumnElement[_T] | InstrumentedAttribute[_T], items: list[_T]
) -> ColumnElement[bool]:
    """`column IN (items)`; on PostgreSQL `column = ANY(array)`, one parameter however many items.

    A statement with hundreds of parameters costs more to build, send and parse (psycopg re-reads every long
    query) than to run; the array keeps it short and the same every time.
    """
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, items, type_=ARRAY(column.type), unique=True))
    return column.in_(items)


def chunks(items: list[_T]) -> Iterable[list[_T]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]
