"""The Order JSON the browser and the owner see."""

from __future__ import annotations

from typing import Any

from flask import current_app

from payment_backend.clock import iso
from payment_backend.models import Order, SurplusPayment
from payment_backend.money import format_amount
from payment_backend.services.ledger import gateway_data, last_read
from payment_backend.services.urls import iamport_notice_url


def _browser_hints(order: Order) -> dict[str, str]:
    """What the browser passes to the gateway's SDK for this order."""
    if order.vendor != "iamport":
        return {}
    config = current_app.config
    return {
        "pg": config["IAMPORT_PG"] if order.currency == "KRW" else config["IAMPORT_OVERSEAS_PG"],
        "notice_url": iamport_notice_url(),
    }


SURPLUS_NOTICES = {
    "refunding": "A payment the order did not need is being refunded ({amount}).",
    "refunded": "A payment the order did not need was refunded ({amount}).",
    "needs_refund_account": "A deposit the order did not need ({amount}) can be refunded once "
    "the shop has your bank account: please contact the shop.",
    "refund_failed": "A payment the order did not need ({amount}) could not be refunded "
    "automatically; the shop has been told.",
}


def _surplus_view(row: SurplusPayment) -> dict[str, Any]:
    return {
        "payment_id": row.vendor_payment_id,
        "amount": row.amount,
        "refunded": row.refunded,
        "currency": row.currency,
        "reason": row.reason,
        "status": row.status,
        "detected_at": iso(row.created_at),
    }


def _notice(order: Order) -> str | None:
    """What the buyer should know about money the order did not need."""
    lines = [
        SURPLUS_NOTICES[row.status].format(amount=format_amount(row.amount, row.currency))
        for row in order.surplus
        if row.status in SURPLUS_NOTICES
    ]
    return " ".join(lines) or None


def order_view(order: Order) -> dict[str, Any]:
    """An order with its payment, refunds and failure."""
    payment = order.payment
    refunded = payment.refunded if payment else 0
    paid = payment is not None and payment.status in ("paid", "partially_refunded", "refunded")
    view: dict[str, Any] = {
        "order_id": order.id,
        "vendor": order.vendor,
        "method": order.method,
        "name": order.name,
        "amount": order.amount,
        "currency": order.currency,
        "status": order.status,
        "items": order.items,
        "buyer": order.buyer,
        "refunded": refunded,
        "refundable": payment.remaining if paid and order.status != "rejected" else 0,
        "payment": None,
        "refunds": [],
        "failure": order.failure,
        "surplus": [_surplus_view(row) for row in order.surplus],
        "notice": _notice(order),
        **_browser_hints(order),
        "created_at": iso(order.created_at),
        "updated_at": iso(order.updated_at),
    }
    if payment is not None:
        raw = gateway_data(payment)
        gp = last_read(payment)
        view["payment"] = {
            "payment_id": payment.vendor_payment_id,
            "status": payment.status,
            "amount": payment.amount,
            "refunded": payment.refunded,
            "gateway_status": raw.get("status"),
            "paid_at": iso(payment.paid_at),
            "card": gp.card,
            "receipt_url": gp.receipt_url,
            "vbank": {**gp.vbank, "due": iso(gp.vbank["due"])} if gp.vbank else None,
        }
        view["refunds"] = [
            {"amount": c.amount, "reason": c.reason, "created_at": iso(c.cancelled_at)}
            for c in payment.cancels
        ]
    return view
