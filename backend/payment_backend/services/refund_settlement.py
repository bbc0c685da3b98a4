"""Pending refunds (a virtual account's transfer back to the buyer), settled from the gateway.

A pending refund is off the gateway's balance but not money returned: it counts neither as
refunded nor as refundable. The gateway says how it ended (a webhook, or this look): paid out,
it counts as refunded; failed, its amount is refundable again.
"""

from __future__ import annotations

import logging
from datetime import datetime

from payment_backend.clock import now
from payment_backend.extensions import db
from payment_backend.models import Order, Payment
from payment_backend.services import ledger
from payment_backend.vendors import base, gateway

log = logging.getLogger(__name__)


def settle_pending(payment_id: str) -> datetime | None:
    """Re-read a payment with pending refunds and record how they went; commits. Returns when to
    look again (None: nothing pending). GatewayUnavailable when the gateway does not answer."""
    payment = db.session.get(Payment, payment_id)
    if payment is None or not payment.refund_pending:
        db.session.rollback()
        return None
    gp = gateway(payment.vendor).get_payment(payment.vendor_payment_id)
    if payment.source_schema == "checkout":
        ledger.lock(Order, payment.source_id)  # the checkout's lock order: order, then payment
    locked = ledger.lock(Payment, payment_id)
    if locked is None:
        db.session.rollback()
        return None
    before = {c.vendor_cancel_id: c.status for c in locked.cancels}
    ledger.follow_gateway(locked, gp, actor="worker")
    for cancel in locked.cancels:
        was = before.get(cancel.vendor_cancel_id)
        if was == base.REFUND_PENDING and cancel.status != base.REFUND_PENDING:
            ledger.audit(
                "payment.refund_paid_out"
                if cancel.status == base.REFUND_DONE
                else "payment.refund_failed",
                actor="worker",
                payment_id=locked.id,
                cancel_id=cancel.vendor_cancel_id,
                amount=cancel.amount,
            )
    again = next_look(locked) if locked.refund_pending else None
    db.session.commit()
    log.info("pending refunds of %s: %s", payment_id, "still pending" if again else "settled")
    return again


def next_look(payment: Payment) -> datetime:
    """When to read the payment again for its pending refunds."""
    expected = [
        c.settles_at
        for c in payment.cancels
        if c.status == base.REFUND_PENDING and c.settles_at is not None and c.settles_at > now()
    ]
    return min(expected, default=now() + ledger.PENDING_REFUND_LOOK)
