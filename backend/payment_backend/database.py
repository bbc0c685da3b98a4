"""SQLite's transactions as SQLAlchemy documents them for the sqlite3 driver ("Transactions with
SQLite and the sqlite3 driver"): the driver's own BEGIN is switched off (isolation_level None) and
SQLAlchemy emits BEGIN itself, so reads belong to their transaction and SQLite's serializable
isolation holds across processes (the app, `flask worker`, gunicorn workers).

A transaction that writes starts with BEGIN IMMEDIATE: it takes the database's one write lock
before its first read, so what it read cannot change before it commits, and two writers wait for
each other (the busy timeout) instead of deadlocking. That lock is what SELECT ... FOR UPDATE is on
PostgreSQL, for the whole database. A read-only request (GET, HEAD, OPTIONS) begins deferred: in
WAL mode it reads a snapshot and never waits for a writer. A deferred transaction that writes
after all stays serializable: SQLite refuses its write if another writer committed since its
snapshot ("database is locked", a transient error: payment_backend.transient), where an
IMMEDIATE one would have waited.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from flask import has_request_context, request
from sqlalchemy import Engine, event
from sqlalchemy.engine import URL, make_url

# Longer than the longest write transaction: a refund holds the write lock across its gateway call
# (vendors.http.TIMEOUT, twice when the Toss client repeats the POST: about 36 s).
BUSY_TIMEOUT_SECONDS = 60
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
NOT_WRITES = frozenset({"SELECT", "BEGIN", "PRAGMA", "SAVEPOINT", "RELEASE"})

WROTE = "sqlite_wrote"  # Connection.info: this transaction has written
# Set by writing() / reading(); None: decided by the request's method.
_expected: ContextVar[bool | None] = ContextVar("sqlite_expected_write", default=None)


class LockInterrupted(RuntimeError):
    """SQLite: a row the transaction had locked changed while it committed part of its work (see
    services.intents.begin); the work is to be done again from a fresh read."""


def is_sqlite(url: str | URL) -> bool:
    """Whether url names a SQLite database."""
    return make_url(url).get_backend_name() == "sqlite"


def connect_args(url: str | URL) -> dict[str, Any]:
    """The driver's arguments for url: on SQLite, how long a writer waits for the write lock."""
    return {"timeout": BUSY_TIMEOUT_SECONDS} if is_sqlite(url) else {}


def writing() -> contextlib.AbstractContextManager[None]:
    """Transactions begun inside take SQLite's write lock first (the worker's jobs; requests
    other than GET, HEAD and OPTIONS do so without this)."""
    return _expecting(write=True)


def reading() -> contextlib.AbstractContextManager[None]:
    """Transactions begun inside only read, whatever the request: they never wait for a writer."""
    return _expecting(write=False)


@contextlib.contextmanager
def _expecting(*, write: bool) -> Iterator[None]:
    token = _expected.set(write)
    try:
        yield
    finally:
        _expected.reset(token)


def will_write() -> bool:
    """Whether a transaction begun now is expected to write."""
    expected = _expected.get()
    if expected is not None:
        return expected
    return has_request_context() and request.method not in READ_ONLY_METHODS


def configure(engine: Engine) -> Engine:
    """Apply the recipe to a SQLite engine (nothing else is touched); returns engine."""
    if engine.dialect.name != "sqlite" or event.contains(engine, "begin", _begin):
        return engine
    event.listen(engine, "connect", _connect)
    event.listen(engine, "begin", _begin)
    event.listen(engine, "before_cursor_execute", _note_write)
    return engine


def has_written(connection: Any) -> bool:
    """Whether the transaction on connection (SQLite) has written anything."""
    return bool(connection.info.get(WROTE))


def _connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # the driver emits no BEGIN; _begin does
    # Readers see a snapshot and never block the writer (nor it them); kept in the file once set.
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
    finally:
        cursor.close()


def _begin(connection: Any) -> None:
    connection.info[WROTE] = False
    connection.exec_driver_sql("BEGIN IMMEDIATE" if will_write() else "BEGIN")


def _note_write(connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
    words = statement.split(None, 1)
    if not words or words[0].upper() not in NOT_WRITES:
        connection.info[WROTE] = True
