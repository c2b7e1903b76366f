"""Database plumbing shared by every feature: SQLite pragmas, write transactions taken up
front on SQLite, and a timezone-aware UTC timestamp type.

On SQLite, a request that may write (any method but GET/HEAD/OPTIONS) and any block inside
:func:`write_transaction` start with ``BEGIN IMMEDIATE``: the write lock is taken before the
first read, so two concurrent writers queue on the busy timeout instead of one failing
half-way. Reads stay deferred and run in parallel under WAL.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TypeVar

from flask import has_request_context, request
from sqlalchemy import DateTime, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.types import TypeDecorator

from lets_site.extensions import db

T = TypeVar("T")
SQLITE_BUSY_TIMEOUT_MS = 15000
RETRY_SQLSTATES = ("40P01", "40001")  # deadlock detected, serialization failure
RETRY_ATTEMPTS = 3
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_write_intent: ContextVar[bool] = ContextVar("lets_write_intent", default=False)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC; always gives back aware UTC datetimes."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# Schema objects that features make with raw DDL (full-text search tables, triggers and
# indexes), not with models: Alembic's autogenerate must not report them as differences.
_unmanaged_prefixes: set[str] = set()


def register_unmanaged(*prefixes: str) -> None:
    _unmanaged_prefixes.update(prefixes)


def include_object(obj: Any, name: str | None, type_: str, reflected: bool,
                   compare_to: Any) -> bool:
    """Alembic ``include_object`` hook (given to Flask-Migrate in wiring.py)."""
    return not (reflected and compare_to is None and bool(name)
                and str(name).startswith(tuple(_unmanaged_prefixes)))


@contextmanager
def write_transaction() -> Iterator[None]:
    """Mark the transactions begun inside this block as writes (``BEGIN IMMEDIATE`` on
    SQLite). For command-line code; web requests that may write are marked already."""
    token = _write_intent.set(True)
    try:
        yield
    finally:
        _write_intent.reset(token)


def retrying(call: Callable[[], T]) -> T:
    """Run a service call; if PostgreSQL aborted it for a deadlock or a serialization
    failure (another transaction won the race), roll back and run it again (three tries in
    all). Only for a call that is the whole transaction so far: the rollback undoes it."""
    for attempt in range(RETRY_ATTEMPTS):
        try:
            return call()
        except OperationalError as exc:
            if (getattr(exc.orig, "sqlstate", None) not in RETRY_SQLSTATES
                    or attempt == RETRY_ATTEMPTS - 1):
                raise
            db.session.rollback()
    raise AssertionError("unreachable")


def _wants_write() -> bool:
    if _write_intent.get():
        return True
    return has_request_context() and request.method not in _SAFE_METHODS


@event.listens_for(Engine, "connect")
def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Let SQLAlchemy's "begin" event below issue BEGIN, so we choose its kind.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _on_begin(conn: Connection) -> None:
    if conn.dialect.name != "sqlite":
        return
    conn.exec_driver_sql("BEGIN IMMEDIATE" if _wants_write() else "BEGIN")
