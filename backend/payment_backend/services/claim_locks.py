"""Who holds an idempotency claim right now: a lock per key that dies with its holder.

PostgreSQL: a session-level advisory lock on a connection of the claim's own; SQLite (one
machine): an flock on a file per key beside the database. A holder that dies takes its lock with
it (connection or process gone), so a key is never held by a timer.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import time
from pathlib import Path
from typing import Protocol

from flask import Flask, current_app
from sqlalchemy import Connection, Engine, create_engine, text

from payment_backend.config import POOL_RECYCLE_SECONDS
from payment_backend.extensions import db

log = logging.getLogger(__name__)

# PostgreSQL: the claims' own pool, per process (one connection per request in a claim).
LOCK_POOL_SIZE = 5
LOCK_POOL_OVERFLOW = 20


class ClaimLocks(Protocol):
    """The locks one request holds for its claims, released together."""

    def try_lock(self, scope: str, key: str) -> bool:
        """Take the lock of (scope, key) without waiting; False when a live holder has it."""

    def release(self) -> None:
        """Let every lock go."""


def _digest(scope: str, key: str) -> bytes:
    return hashlib.sha256(f"{scope}\0{key}".encode()).digest()


class AdvisoryLocks:
    """PostgreSQL: pg_try_advisory_lock on a connection of a pool of its own (outside the app's
    pool), unlocked explicitly before the connection goes back; a connection whose unlock
    failed is closed for good instead, which ends its session and every lock it held."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: Connection | None = None
        self._taken: list[int] = []

    def try_lock(self, scope: str, key: str) -> bool:
        """Take the session-level advisory lock on the key's hash."""
        if self._connection is None:
            self._connection = self._engine.connect()
        number = int.from_bytes(_digest(scope, key)[:8], "big", signed=True)
        locked = self._connection.execute(text("SELECT pg_try_advisory_lock(:n)"), {"n": number})
        if not locked.scalar():
            return False
        self._taken.append(number)
        return True

    def release(self) -> None:
        """Unlock what was taken and give the connection back (or close it: see the class)."""
        connection, self._connection = self._connection, None
        taken, self._taken = self._taken, []
        if connection is None:
            return
        unlock = text("SELECT pg_advisory_unlock(:n)")
        try:
            unlocked = all(connection.execute(unlock, {"n": n}).scalar() for n in taken)
        except Exception:
            log.warning("advisory unlock failed; closing its connection", exc_info=True)
            unlocked = False
        if not unlocked:
            connection.invalidate()
        connection.close()


class FileLocks:
    """SQLite (one machine): flock on a lock file per key, released by the kernel on exit.

    One file per key, never shared: a lock striped over keys would answer a request 409 for
    another key's live claim. A stale file is removed only by whoever holds its lock, and a lock
    counts only while its file is still the one at that path.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._held: dict[str, int] = {}  # file name -> file descriptor

    def try_lock(self, scope: str, key: str) -> bool:
        """Take the key's lock (already ours when another claim of this request has it)."""
        name = _digest(scope, key).hex()
        if name in self._held:
            return True
        path = self.folder / name[:2] / f"{name}.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(3):  # the file may be removed (stale) between our open and our lock
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            if _same_file(fd, path):
                self._held[name] = fd
                return True
            os.close(fd)
        return False

    def release(self) -> None:
        """Close the files (closing releases their locks)."""
        for fd in self._held.values():
            os.close(fd)
        self._held.clear()


def _same_file(fd: int, path: Path) -> bool:
    """Whether the open file is still the one at path (not removed or replaced meanwhile)."""
    try:
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False


def purge_lock_files(folder: Path, older_than: float) -> int:
    """Remove the key files not used for older_than seconds that no claim holds; how many."""
    removed = 0
    cutoff = time.time() - older_than
    for path in folder.glob("*/*.lock"):
        try:
            if path.stat().st_mtime >= cutoff:
                continue
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if _same_file(fd, path):
                path.unlink()
                removed += 1
        except BlockingIOError:
            pass  # a live claim
        finally:
            os.close(fd)
    return removed


def claim_locks() -> ClaimLocks:
    """Fresh locks for this request's claims, on this app's database."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    url = db.engine.url
    if url.get_backend_name() == "postgresql":
        engine = app.extensions.get("idempotency_lock_engine")
        if engine is None:
            # A pool of its own: a claim's connection is never one a request waits for, and a
            # request does not pay for a new PostgreSQL session (AdvisoryLocks unlocks first).
            engine = create_engine(
                url,
                isolation_level="AUTOCOMMIT",
                pool_size=LOCK_POOL_SIZE,
                max_overflow=LOCK_POOL_OVERFLOW,
                pool_recycle=POOL_RECYCLE_SECONDS,
            )
            app.extensions["idempotency_lock_engine"] = engine
        return AdvisoryLocks(engine)
    return FileLocks(_lock_folder(app, url.database))


def _lock_folder(app: Flask, database: str | None) -> Path:
    if database and database != ":memory:":
        path = Path(database)
        return path.with_name(f"{path.name}.claims")
    return Path(app.instance_path) / "idempotency-claims"
