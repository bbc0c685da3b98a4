"""Surplus payments given back at the gateway."""

from __future__ import annotations

import logging

from sqlalchemy import select

from payment_backend.clock import now
from payment_backend.extensions import db
from payment_backend.jobs import GATEWAY_RETRY, GiveUp, Retry, job
from payment_backend.models import OutboxJob, SurplusPayment
from payment_backend.services import ledger
from payment_backend.services.surplus import (
    NEEDS_ACCOUNT,
    REFUND_REASON,
    counted_by_order,
    follow_recorded,
    holds_money,
    is_checkout_order_id,
)
from payment_backend.services.verification import give_back
from payment_backend.vendors import gateway
from payment_backend.vendors.base import GatewayError, GatewayUnavailable

log = logging.getLogger(__name__)


@job("refund_surplus")
def refund_surplus_job(outbox_job: OutboxJob) -> None:
    """Re-read a surplus payment and cancel whatever it still holds."""
    payload = outbox_job.payload
    row = db.session.scalars(
        select(SurplusPayment).where(
            SurplusPayment.vendor == payload["vendor"],
            SurplusPayment.vendor_payment_id == payload["payment_id"],
        )
    ).one()
    if counted_by_order(row):
        row.status = "refund_failed"
        raise GiveUp("the order counts this payment as paid; not refunded")
    client = gateway(row.vendor)
    try:
        gp = client.get_payment(row.vendor_payment_id)
        if gp.order_id != row.order_id:
            raise GiveUp(f"the payment belongs to {gp.order_id!r}, not {row.order_id!r}")
        if holds_money(gp):
            gp = give_back(gp, reason=REFUND_REASON, key=f"surplus-{gp.payment_id}", kind="surplus")
    except GatewayUnavailable as exc:
        raise Retry(now() + GATEWAY_RETRY, f"gateway unavailable: {exc}") from exc
    except GatewayError as exc:
        row.status = "needs_refund_account" if exc.code in NEEDS_ACCOUNT else "refund_failed"
        row.detail = {"gateway_code": exc.code, "message": exc.message[:500]}
        ledger.audit(
            f"payment.surplus_{row.status}",
            actor="worker",
            vendor_payment_id=row.vendor_payment_id,
            gateway_code=exc.code,
        )
        raise GiveUp(f"the gateway refused to refund surplus payment: {exc.message}") from exc
    row.refunded = gp.cancelled
    row.status = "refunded"
    follow_recorded(row, gp)
    ledger.audit(
        "payment.surplus_refunded",
        actor="worker",
        order_id=row.order_id if is_checkout_order_id(row.order_id) else None,
        vendor_payment_id=row.vendor_payment_id,
        refunded=gp.cancelled,
    )
    log.info("surplus payment %s refunded (%d)", row.vendor_payment_id, gp.cancelled)
