"""Jobs: what services ask the worker to do later, in the transactional outbox.

Services `enqueue` a kind of job with its payload, in their own transaction; handlers
(`payment_backend/handlers/`) are registered per kind with `@job`; `worker.py` claims due jobs
and runs their handlers. A handler ends normally (done), or raises `Retry` (run again at a time)
or `GiveUp` (never again); any other exception is a failure the worker backs off from.

This module imports models and the clock only, so that every layer may use it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from payment_backend.clock import now
from payment_backend.extensions import db
from payment_backend.models import OutboxJob

Handler = Callable[[OutboxJob], None]

# A job that found the gateway unreachable runs again after this long.
GATEWAY_RETRY = timedelta(minutes=1)

# Among due jobs the lower priority runs first: what a merchant or a gateway waits for, then
# checks and reconciliation, then chores, then renewals (a month boundary queues thousands).
PRIORITIES: dict[str, int] = {
    "process_webhook": 0,
    "deliver_webhook": 0,
    "cancel_forgery": 0,
    "refund_surplus": 1,
    "resolve_intent": 1,
    "reconcile_payment": 1,
    "settle_refunds": 1,
    "check_order": 1,
    "settle_order": 1,
    "sweep_orders": 2,
    "purge_idempotency": 2,
    "charge_subscription": 3,
}
DEFAULT_PRIORITY = 2

# kind -> handler; filled by @job when the handler modules are imported (handlers.load()).
HANDLERS: dict[str, Handler] = {}


class Retry(Exception):
    """Raised by a handler: not done yet, run again at `at` (its database changes are kept)."""

    def __init__(self, at: datetime, reason: str) -> None:
        super().__init__(reason)
        self.at = at
        self.reason = reason


class GiveUp(Exception):
    """Raised by a handler: never run again (its database changes are kept)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def job(kind: str) -> Callable[[Handler], Handler]:
    """Register a handler for a job kind: @job("charge_subscription")."""

    def register(handler: Handler) -> Handler:
        known = HANDLERS.get(kind)
        if known is not None and _name(known) != _name(handler):  # a reload may re-register
            raise ValueError(f"{kind!r} is already handled by {_name(known)}")
        HANDLERS[kind] = handler
        return handler

    return register


def _name(handler: Handler) -> str:
    return f"{handler.__module__}.{handler.__qualname__}"


def enqueue(
    kind: str,
    payload: dict[str, Any],
    *,
    unique_key: str | None = None,
    due_in: timedelta = timedelta(0),
    due_at: datetime | None = None,
    rearm: bool = False,
    destination: str | None = None,
    session: Session | None = None,
) -> OutboxJob:
    """Add a job to the caller's transaction (the caller commits); returns it.

    unique_key makes this idempotent: if a job with that key exists it is returned as it is, or
    with rearm it becomes pending again, due at the new time. due_at (app clock) wins over due_in.
    destination: where the job sends something (services.circuits.destination_of), so that one
    slow or failing destination delays only its own jobs.
    """
    session = session or db.session
    when = due_at if due_at is not None else now() + due_in
    if unique_key is not None:
        queued = _queued(session, unique_key)
        if queued is not None:
            if rearm:
                queued.status, queued.due_at, queued.finished_at = "pending", when, None
                queued.payload = payload
            return queued
    queued = OutboxJob(
        kind=kind,
        payload=payload,
        unique_key=unique_key,
        status="pending",
        due_at=when,
        attempts=0,
        failures=0,
        created_at=now(),
        priority=PRIORITIES.get(kind, DEFAULT_PRIORITY),
        destination=destination,
    )
    session.add(queued)
    return queued


def _queued(session: Session, unique_key: str) -> OutboxJob | None:
    """The job with that key, added in this transaction or stored."""
    for added in session.new:
        if isinstance(added, OutboxJob) and added.unique_key == unique_key:
            return added
    # No autoflush: the caller's other pending rows (e.g. a duplicate) fail at its commit, as
    # the caller expects, not here.
    with session.no_autoflush:
        return session.scalars(select(OutboxJob).where(OutboxJob.unique_key == unique_key)).first()
