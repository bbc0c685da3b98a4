"""Surplus: money a gateway took for an order id of ours that our records do not count.

A second payment for an order, a payment that arrives after the order was rejected or expired,
or a payment for an order id of our format that has no order at all: each is recorded here and
cancelled at the gateway by the worker, after re-reading it, so that for every order id the net
amount the gateway holds equals what our records count as paid.
"""

from __future__ import annotations

import logging
import re

from sqlalchemy import select

from payment_backend.extensions import db
from payment_backend.jobs import enqueue
from payment_backend.models import Order, Payment, SurplusPayment
from payment_backend.models.orders import FOLLOWING_STATUSES
from payment_backend.services import ledger
from payment_backend.vendors import base
from payment_backend.vendors.base import GatewayPayment

log = logging.getLogger(__name__)

# The order ids checkout makes (services.checkout.create_order): ord_ and 20 hex digits.
CHECKOUT_ORDER_ID = re.compile(r"ord_[0-9a-f]{20}")
REFUND_REASON = "Payment the order did not need; refunded automatically"
# Gateway codes that mean a deposited virtual account needs the buyer's account to refund.
NEEDS_ACCOUNT = ("INVALID_REFUND_ACCOUNT_INFO", "INVALID_REFUND_ACCOUNT_NUMBER", "INVALID_BANK")


def is_checkout_order_id(order_id: str | None) -> bool:
    """Whether order_id has the form of the order ids checkout creates."""
    return bool(order_id and CHECKOUT_ORDER_ID.fullmatch(order_id))


def holds_money(gp: GatewayPayment) -> bool:
    """Whether the payment holds money, or a virtual account that may still take some."""
    return gp.status in (base.PAID, base.AWAITING_DEPOSIT) and gp.remaining > 0


def record(gp: GatewayPayment, *, order_id: str, reason: str, actor: str) -> SurplusPayment:
    """Record a surplus payment and queue its refund, in the caller's transaction (idempotent)."""
    known = db.session.scalars(
        select(SurplusPayment).where(
            SurplusPayment.vendor == gp.vendor,
            SurplusPayment.vendor_payment_id == gp.payment_id,
        )
    ).first()
    if known is not None:
        return known
    row = SurplusPayment(
        order_id=order_id,
        vendor=gp.vendor,
        vendor_payment_id=gp.payment_id,
        currency=gp.currency,
        amount=gp.amount,
        refunded=gp.cancelled,
        reason=reason,
        status="refunding",
    )
    db.session.add(row)
    enqueue(
        "refund_surplus",
        {"vendor": gp.vendor, "payment_id": gp.payment_id},
        unique_key=f"surplus:{gp.vendor}:{gp.payment_id}",
    )
    ledger.audit(
        "payment.surplus",
        actor=actor,
        order_id=order_id if is_checkout_order_id(order_id) else None,
        vendor_payment_id=gp.payment_id,
        reason=reason,
        amount=gp.remaining,
        gateway_status=gp.status,
    )
    log.warning(
        "surplus payment %s for %s (%s, %d held): refunding",
        gp.payment_id,
        order_id,
        reason,
        gp.remaining,
    )
    return row


def counted_by_order(row: SurplusPayment) -> bool:
    """Whether the row's payment is the one its order counts as paid (never to be refunded)."""
    order = db.session.get(Order, row.order_id)
    return (
        order is not None
        and order.payment is not None
        and order.payment.vendor_payment_id == row.vendor_payment_id
        and order.status in FOLLOWING_STATUSES
    )


def follow_recorded(row: SurplusPayment, gp: GatewayPayment) -> None:
    """If a record of ours names the payment (an expired order's late deposit), keep it in step."""
    payment = db.session.scalars(
        select(Payment).where(
            Payment.vendor == row.vendor, Payment.vendor_payment_id == row.vendor_payment_id
        )
    ).first()
    if payment is not None:
        if payment.source_schema == "checkout":
            ledger.lock(Order, payment.source_id)  # the order before its payment
        ledger.follow_gateway(ledger.lock(Payment, payment.id), gp)
