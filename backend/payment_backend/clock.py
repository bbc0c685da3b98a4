"""One injectable clock: wall time plus an offset that local and test mode can move.

The offset has two parts. The shared part lives in the database (table test_clock) in local and
test mode, so web and worker processes agree on test time: the test-clock API moves it
(advance_shared) and every process re-reads it at most once a second (OFFSET_TTL). The local
part belongs to this process only; tests move it directly (advance, set).
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from flask import Flask, current_app

log = logging.getLogger(__name__)

OFFSET_TTL = 1.0  # seconds a process trusts the shared offset it last read


class OffsetStore(Protocol):
    """Where the shared offset lives between processes."""

    def load(self) -> timedelta | None:
        """The stored offset (None when it cannot be read, e.g. before the migrations ran)."""

    def add(self, delta: timedelta) -> timedelta | None:
        """Add delta to the stored offset; returns the new offset (None when not stored)."""

    def store(self, offset: timedelta) -> timedelta | None:
        """Replace the stored offset; returns it (None when not stored)."""


class Clock:
    """Wall-clock time shifted by a shared offset (through a store, when given) and a local one."""

    def __init__(self, store: OffsetStore | None = None, ttl: float = OFFSET_TTL) -> None:
        self._lock = threading.Lock()
        self._loading = threading.Lock()
        self._local = timedelta()
        self._shared = timedelta()
        self._store = store
        self._ttl = ttl
        self._read_at = float("-inf")

    def now(self) -> datetime:
        """The current (possibly shifted) time, aware UTC."""
        return datetime.now(UTC) + self.offset()

    def offset(self) -> timedelta:
        """How far this clock is moved from wall time."""
        due = self._store is not None and time.monotonic() - self._read_at >= self._ttl
        # One thread re-reads; the others go on with the offset read last (at most a second old).
        if due and self._loading.acquire(blocking=False):
            try:
                loaded = self._store.load()  # type: ignore[union-attr]
                with self._lock:
                    self._read_at = time.monotonic()
                    if loaded is not None:
                        self._shared = loaded
            finally:
                self._loading.release()
        return self._shared + self._local

    def shared_offset(self) -> timedelta:
        """The part every process shares."""
        self.offset()
        return self._shared

    def advance_shared(self, seconds: float) -> datetime:
        """Move the shared time forward for every process (the test-clock API)."""
        delta = timedelta(seconds=seconds)
        stored = self._store.add(delta) if self._store is not None else None
        with self._lock:
            self._shared = stored if stored is not None else self._shared + delta
            self._read_at = time.monotonic()
        return self.now()

    def advance(self, seconds: float) -> datetime:
        """Move this process's clock (forward, or back with a negative number)."""
        with self._lock:
            self._local += timedelta(seconds=seconds)
        return self.now()

    def set(self, moment: datetime) -> datetime:
        """Jump this process's clock to a moment."""
        with self._lock:
            self._local = moment - datetime.now(UTC) - self._shared
        return self.now()

    def reset(self) -> datetime:
        """Back to wall-clock time (the shared offset too)."""
        with self._lock:
            self._local = timedelta()
        if self.shared_offset() and self._store is not None:
            stored = self._store.store(timedelta())
            with self._lock:
                self._shared = stored if stored is not None else timedelta()
                self._read_at = time.monotonic()
        return self.now()


class DatabaseOffset:
    """The shared offset in the test_clock table (one row), on connections of its own.

    Its connections come from an engine without a pool: reading the time never waits for the
    app's pool, nor joins a transaction of the app's session. Reads take no lock (autocommit);
    a write is a single statement.
    """

    def __init__(self, app: Flask) -> None:
        self._app = app
        self._engine: Any = None

    def _resolve(self) -> Any:
        if self._engine is None:
            from sqlalchemy import create_engine
            from sqlalchemy.pool import NullPool

            from payment_backend.database import configure, connect_args
            from payment_backend.extensions import db

            with self._app.app_context():
                url = db.engine.url
            engine = create_engine(url, poolclass=NullPool, connect_args=connect_args(url))
            self._engine = configure(engine)
        return self._engine

    def _run(self, *statements: tuple[str, tuple]) -> timedelta | None:
        try:
            connection = self._resolve().raw_connection()
            try:
                cursor = connection.cursor()
                for sql, params in statements:
                    cursor.execute(self._paramstyle(sql), params)
                cursor.execute("SELECT offset_us FROM test_clock WHERE id = 1")
                row = cursor.fetchone()
                cursor.close()
                connection.commit()
            finally:
                connection.close()
        except Exception as exc:  # no table yet (before the migrations), or the database is down
            log.debug("test clock offset not available: %s", exc)
            return None
        return timedelta(microseconds=row[0] if row else 0)

    def _paramstyle(self, sql: str) -> str:
        # sqlite3 takes ?, psycopg %s.
        return sql if self._engine.dialect.paramstyle == "qmark" else sql.replace("?", "%s")

    def load(self) -> timedelta | None:
        """The stored offset, or None when the table cannot be read."""
        return self._run()

    def add(self, delta: timedelta) -> timedelta | None:
        """Add delta in one statement (two processes moving the clock at once both count)."""
        return self._write("offset_us + ?", _micros(delta))

    def store(self, offset: timedelta) -> timedelta | None:
        """Replace the offset."""
        return self._write("?", _micros(offset))

    def _write(self, expression: str, micros: int) -> timedelta | None:
        at: Any = datetime.now(UTC)
        if self._resolve().dialect.name == "sqlite":
            at = at.strftime("%Y-%m-%d %H:%M:%S.%f")  # as SQLAlchemy stores datetimes there
        return self._run(
            (
                "INSERT INTO test_clock (id, offset_us, updated_at) "
                "SELECT 1, 0, ? WHERE NOT EXISTS (SELECT 1 FROM test_clock WHERE id = 1)",
                (at,),
            ),
            (
                f"UPDATE test_clock SET offset_us = {expression}, updated_at = ? WHERE id = 1",
                (micros, at),
            ),
        )


def _micros(delta: timedelta) -> int:
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def register_clock(app: Flask) -> None:
    """Give the app its clock; its shared offset lives in the database in local and test mode."""
    shared = app.config.get("PAYMENT_MODE") in ("local", "test")
    app.extensions["clock"] = Clock(DatabaseOffset(app) if shared else None)


def clock() -> Clock:
    """The app's clock."""
    return current_app.extensions["clock"]


def now() -> datetime:
    """The app clock's current time."""
    return clock().now()


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC (a naive value is taken as UTC), the one format of every answer."""
    if moment is None:
        return None
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat()
