"""Payments whose gateway outcome is unknown, re-read until explained."""

from __future__ import annotations

import logging

from payment_backend.extensions import db
from payment_backend.jobs import GiveUp, Retry, job
from payment_backend.models import OutboxJob, Payment
from payment_backend.services import cancels, intents, ledger
from payment_backend.services.reconciliation import recheck_at
from payment_backend.vendors import base, gateway
from payment_backend.vendors.base import GatewayUnavailable, PaymentNotFound

log = logging.getLogger(__name__)


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
        gateway=cancels.evidence(gp),
    )
    log.info(
        "payment %s reconciled: %s -> %s (refunded %d)",
        payment.id,
        before[0],
        payment.status,
        payment.refunded,
    )
