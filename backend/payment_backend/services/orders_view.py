"""The order the browser and the owner see: frozen views of an Order, dumped by schemas.checkout."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from payment_backend.models import Order, Payment, SurplusPayment
from payment_backend.money import format_amount
from payment_backend.services.ledger import gateway_data, last_read
from payment_backend.vendors import gateway


def _browser_hints(order: Order) -> dict[str, str]:
    """What the browser passes to the gateway's SDK for this order."""
    return gateway(order.vendor).window_hints(order.currency)


SURPLUS_NOTICES = {
    "refunding": "A payment the order did not need is being refunded ({amount}).",
    "refunded": "A payment the order did not need was refunded ({amount}).",
    "needs_refund_account": "A deposit the order did not need ({amount}) can be refunded once "
    "the shop has your bank account: please contact the shop.",
    "refund_failed": "A payment the order did not need ({amount}) could not be refunded "
    "automatically; the shop has been told.",
}


@dataclass(frozen=True)
class SurplusView:
    """A payment the order did not need, refunded by the worker."""

    payment_id: str
    amount: int
    refunded: int
    currency: str
    reason: str
    status: str
    detected_at: datetime


@dataclass(frozen=True)
class PaymentView:
    """The order's payment, as last read from its gateway."""

    payment_id: str
    status: str
    method: str
    amount: int
    refunded: int
    refund_pending: int
    gateway_status: str | None
    paid_at: datetime | None
    card: dict[str, Any] | None
    receipt_url: str | None
    vbank: dict[str, Any] | None
    easy_pay: dict[str, Any] | None


@dataclass(frozen=True)
class RefundView:
    """One cancel of the order's payment."""

    amount: int
    reason: str
    status: str  # done | pending | failed
    settles_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class OrderView:
    """An order with its payment, refunds, failure and surplus."""

    order_id: str
    vendor: str
    method: str
    name: str
    amount: int
    currency: str
    status: str
    items: list[dict[str, Any]]
    buyer: dict[str, Any] | None
    refunded: int
    refund_pending: int
    refundable: int
    payment: PaymentView | None
    refunds: list[RefundView]
    failure: dict[str, Any] | None
    surplus: list[SurplusView]
    notice: str | None
    created_at: datetime
    updated_at: datetime | None
    pg: str | None = None  # window hints of gateways that take them (iamport)
    notice_url: str | None = None


def _surplus_view(row: SurplusPayment) -> SurplusView:
    return SurplusView(
        payment_id=row.vendor_payment_id,
        amount=row.amount,
        refunded=row.refunded,
        currency=row.currency,
        reason=row.reason,
        status=row.status,
        detected_at=row.created_at,
    )


def _notice(order: Order) -> str | None:
    """What the buyer should know about money the order did not need."""
    lines = [
        SURPLUS_NOTICES[row.status].format(amount=format_amount(row.amount, row.currency))
        for row in order.surplus
        if row.status in SURPLUS_NOTICES
    ]
    return " ".join(lines) or None


def _payment_view(payment: Payment) -> PaymentView:
    gp = last_read(payment)
    return PaymentView(
        payment_id=payment.vendor_payment_id,
        status=payment.status,
        method=payment.method,
        amount=payment.amount,
        refunded=payment.refunded,
        refund_pending=payment.refund_pending,
        gateway_status=gateway_data(payment).get("status"),
        paid_at=payment.paid_at,
        card=gp.card,
        receipt_url=gp.receipt_url,
        vbank=gp.vbank,
        easy_pay=gp.easy_pay,
    )


def order_view(order: Order) -> OrderView:
    """An order with its payment, refunds and failure."""
    payment = order.payment
    paid = payment is not None and payment.status in ("paid", "partially_refunded", "refunded")
    return OrderView(
        order_id=order.id,
        vendor=order.vendor,
        method=order.method,
        name=order.name,
        amount=order.amount,
        currency=order.currency,
        status=order.status,
        items=order.items,
        buyer=order.buyer,
        refunded=payment.refunded if payment else 0,
        refund_pending=payment.refund_pending if payment else 0,
        refundable=payment.remaining if paid and order.status != "rejected" else 0,
        payment=_payment_view(payment) if payment else None,
        refunds=[
            RefundView(
                amount=c.amount,
                reason=c.reason,
                status=c.status,
                settles_at=c.settles_at,
                created_at=c.cancelled_at,
            )
            for c in (payment.cancels if payment else [])
        ],
        failure=order.failure,
        surplus=[_surplus_view(row) for row in order.surplus],
        notice=_notice(order),
        created_at=order.created_at,
        updated_at=order.updated_at,
        **_browser_hints(order),
    )
