"""Reconciliation: a payment whose gateway call timed out is re-read until its outcome is known."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select

from payment_backend.clock import now
from payment_backend.extensions import db
from payment_backend.jobs import GiveUp, Retry, job
from payment_backend.models import OutboxJob, Payment
from payment_backend.services import intents, ledger
from payment_backend.vendors import base, gateway
from payment_backend.vendors.base import GatewayUnavailable, PaymentNotFound

log = logging.getLogger(__name__)

# Delay after the n-th look that found nothing certain: seconds, then minutes, then hours; the
# last one repeats (never gives up: an unknown outcome is money in an unknown place).
RECHECK_DELAYS = intents.RECHECK_DELAYS


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


@job("reconcile_payment")
def reconcile_payment(outbox_job: OutboxJob) -> None:
    """Re-read the payment until the gateway's state explains every call of ours left open.

    A late cancel may land long after our client gave up, so a read showing the payment
    untouched settles nothing: the look is audited and repeated with backoff (services.intents
    decides when a call is explained, or provably never made).
    """
    payment = db.session.get(Payment, outbox_job.payload["payment_id"])
    if payment is None:
        return
    if not payment.outcome_unknown and not intents.open_intents(payment.id):
        return  # a webhook or another job already settled it
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

    before = (payment.status, payment.refunded)
    payment, still_open = intents.settle_payment(payment.id, gp, actor="worker")
    if payment is None:
        return
    if still_open:
        raise Retry(
            recheck_at(outbox_job.attempts),
            f"{still_open} call(s) of ours not explained by the gateway yet",
        )
    ledger.audit(
        "payment.reconciled",
        actor="worker",
        payment_id=payment.id,
        before=before[0],
        after=payment.status,
        refunded=payment.refunded,
        gateway=intents.evidence(gp),
    )
    log.info(
        "payment %s reconciled: %s -> %s (refunded %d)",
        payment.id,
        before[0],
        payment.status,
        payment.refunded,
    )
