"""Reconciliation: a payment whose gateway call timed out is re-read until its outcome is known."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from payment_backend.clock import now
from payment_backend.jobs import enqueue
from payment_backend.models import OutboxJob, Payment
from payment_backend.services import intents, ledger

log = logging.getLogger(__name__)

# Delay after the n-th look that found nothing certain: seconds, then minutes, then hours; the
# last one repeats (never gives up: an unknown outcome is money in an unknown place).
RECHECK_DELAYS = intents.RECHECK_DELAYS


def mark_unknown(
    payment: Payment, reason: str, *, due_in: timedelta = RECHECK_DELAYS[0]
) -> OutboxJob:
    """Flag the payment and queue (or re-arm) its one reconciliation job, in the caller's transaction."""
    payment.outcome_unknown = True
    key = f"reconcile:{payment.id}"
    payload = {"payment_id": payment.id, "reason": reason}
    queued = enqueue("reconcile_payment", payload, unique_key=key, due_in=due_in)
    if queued.status != "pending":  # it settled once: look again (a pending look keeps its time)
        queued = enqueue("reconcile_payment", payload, unique_key=key, due_in=due_in, rearm=True)
    ledger.audit("payment.outcome_unknown", actor="system", payment_id=payment.id, reason=reason)
    return queued


def recheck_at(looks: int) -> datetime:
    """When to look again after this many inconclusive looks."""
    return now() + RECHECK_DELAYS[min(max(looks, 1), len(RECHECK_DELAYS)) - 1]
