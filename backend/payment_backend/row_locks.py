"""Row locks: SELECT ... FOR UPDATE on PostgreSQL; a lock per row inside the process on SQLite.

SQLite has no row locks, so two threads could settle the same payment at once (a completion and
its webhook). SQLite serves the demo and the tests, where one process serves every request, so a
process-wide lock per row, held until the transaction ends, gives the same serialization.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

WAIT_SECONDS = 30.0

_registry_guard = threading.Lock()
_registry: dict[str, threading.RLock] = {}


class RowLockTimeout(RuntimeError):
    """Another request held the row for too long."""


def hold(session: Session, name: str) -> None:
    """Take the process lock for name until session's transaction ends."""
    held: dict[str, threading.RLock] = session.info.setdefault("row_locks", {})
    if name in held:
        return
    with _registry_guard:
        row_lock = _registry.setdefault(name, threading.RLock())
    if not row_lock.acquire(timeout=WAIT_SECONDS):
        raise RowLockTimeout(f"{name} stayed locked for {WAIT_SECONDS:.0f} s")
    held[name] = row_lock


@event.listens_for(Session, "after_transaction_end")
def _release(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return
    held: dict[str, Any] = session.info.pop("row_locks", {})
    for row_lock in held.values():
        row_lock.release()
