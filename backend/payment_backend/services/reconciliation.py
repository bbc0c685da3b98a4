"""Reconciliation: a payment whose gateway call timed out is re-read until its outcome is known."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from payment_backend.clock import now
from payment_backend.extensions import db
from payment_backend.models import Order, OutboxJob, Payment
from payment_backend.services import ledger
from payment_backend.services.notifications import notify
from payment_backend.vendors import base, gateway
from payment_backend.vendors.base import GatewayUnavailable, PaymentNotFound
from payment_backend.worker import GiveUp, Retry, job

log = logging.getLogger(__name__)

# Delay after the n-th look that found nothing certain; the last one repeats (never gives up:
# an unknown outcome is money in an unknown place).
RECHECK_DELAYS = (
    timedelta(seconds=10),
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=1),
)


def mark_unknown(
    payment: Payment, reason: str, *, due_in: timedelta = RECHECK_DELAYS[0]
) -> OutboxJob:
    """Flag the payment and queue (or re-arm) its one reconciliation job, in the caller's transaction."""
    payment.outcome_unknown = True
    unique_key = f"reconcile:{payment.id}"
    queued = db.session.scalars(select(OutboxJob).where(OutboxJob.unique_key == unique_key)).first()
    if queued is None:
        queued = OutboxJob(
            kind="reconcile_payment",
            payload={"payment_id": payment.id, "reason": reason},
            unique_key=unique_key,
            due_at=now() + due_in,
            created_at=now(),
        )
        db.session.add(queued)
    elif queued.status != "pending":
        queued.status, queued.due_at, queued.finished_at = "pending", now() + due_in, None
    ledger.audit("payment.outcome_unknown", actor="system", payment_id=payment.id, reason=reason)
    return queued


def recheck_at(looks: int) -> datetime:
    """When to look again after this many inconclusive looks."""
    return now() + RECHECK_DELAYS[min(max(looks, 1), len(RECHECK_DELAYS)) - 1]


def _summary(view: dict[str, Any]) -> tuple:
    return (
        view["status"],
        view["refund"],
        view["paid_at"],
        view["cancelled_at"],
        len(view["cancels"]),
    )


@job("reconcile_payment")
def reconcile_payment(outbox_job: OutboxJob) -> None:
    """Re-read the payment from the gateway; apply it under the row lock once it is settled."""
    payment = db.session.get(Payment, outbox_job.payload["payment_id"])
    if payment is None or not payment.outcome_unknown:
        return  # gone, or a webhook or another job already settled it
    try:
        gp = gateway(payment.vendor).get_payment(payment.vendor_payment_id)
    except GatewayUnavailable as exc:
        raise Retry(recheck_at(outbox_job.attempts), f"gateway unreachable: {exc}") from exc
    except PaymentNotFound as exc:
        ledger.audit("payment.reconcile_failed", actor="worker", payment_id=payment.id)
        raise GiveUp(f"the gateway has no payment {payment.vendor_payment_id}") from exc
    if gp.status == base.READY:
        # Not settled at the gateway yet (e.g. a confirm still in flight); it ends paid or failed.
        raise Retry(recheck_at(outbox_job.attempts), "the gateway has not settled the payment")

    # Same lock order as the checkout code: the order first, then its payment.
    order_id = db.session.scalars(select(Order.id).where(Order.payment_id == payment.id)).first()
    if order_id:
        ledger.lock(Order, order_id)
    payment = ledger.lock(Payment, payment.id)
    if payment is None or not payment.outcome_unknown:
        return
    previous = ledger.payment_view(payment)
    ledger.apply_gateway(payment, gp)  # clears outcome_unknown
    db.session.flush()
    current = ledger.payment_view(payment)
    changed = _summary(previous) != _summary(current)
    ledger.sync_order(payment)
    if changed:
        notify(payment, previous, current)
    ledger.audit(
        "payment.reconciled",
        actor="worker",
        payment_id=payment.id,
        before=previous["status"],
        after=current["status"],
        refunded=payment.refunded,
    )
    log.info(
        "payment %s reconciled: %s -> %s (refunded %d)",
        payment.id,
        previous["status"],
        current["status"],
        payment.refunded,
    )
