"""Recurring chores as self-re-arming jobs: the order sweep and the idempotency purge.

Each chore is one outbox row (a unique key per chore) that runs, then asks to run again after its
period; `keep_armed` (called by every worker as it starts, and now and then) puts a missing or
stranded row back, so a chore never depends on one worker's timers.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from payment_backend.clock import now
from payment_backend.jobs import Retry, enqueue, job
from payment_backend.models import OutboxJob
from payment_backend.services import idempotency
from payment_backend.services.order_sweep import queue_due_looks

log = logging.getLogger(__name__)

# kind -> how often it runs.
CHORES = {
    "sweep_orders": timedelta(seconds=60),  # pending orders whose browser never came back
    "purge_idempotency": timedelta(hours=1),  # idempotency keys older than 24 h
}


def key(kind: str) -> str:
    """The unique key of a chore's one row."""
    return f"chore:{kind}"


def keep_armed() -> None:
    """Make every chore's row exist and be pending, due within its period (the caller commits).

    A row due further ahead than its period (the test clock was moved back) is brought forward.
    """
    for kind, every in CHORES.items():
        queued = enqueue(kind, {}, unique_key=key(kind))
        if queued.status != "pending" or queued.due_at > now() + every:
            enqueue(kind, {}, unique_key=key(kind), rearm=True)


@job("sweep_orders")
def sweep_orders(outbox_job: OutboxJob) -> None:
    """Queue a look at each live order that is due for one, then sweep again after a period."""
    queued = queue_due_looks()
    if queued:
        log.info("sweep queued a look at %d orders", queued)
    raise Retry(now() + CHORES["sweep_orders"], f"next sweep (queued {queued})")


@job("purge_idempotency")
def purge_idempotency(outbox_job: OutboxJob) -> None:
    """Delete idempotency keys older than 24 hours, then again after a period."""
    purged = idempotency.purge_expired()
    if purged:
        log.info("purged %d idempotency keys older than 24 h", purged)
    raise Retry(now() + CHORES["purge_idempotency"], f"next purge (purged {purged})")
