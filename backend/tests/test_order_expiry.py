"""When unpaid orders are given up: derived from expires_at, set when the order's state moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from payment_backend.models import Order
from payment_backend.services.order_schedule import (
    DEPOSIT_GRACE,
    ORDER_LIFETIME,
    expiry,
    schedule_after_payment,
)
from payment_backend.vendors import base
from payment_backend.vendors.base import GatewayPayment

CREATED = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def order(status: str = "pending") -> Order:
    return Order(id="ord_x", vendor="iamport", status=status, created_at=CREATED)


def vbank(due: datetime | None) -> GatewayPayment:
    return GatewayPayment(
        vendor="iamport",
        payment_id="imp_1",
        order_id="ord_x",
        status=base.AWAITING_DEPOSIT,
        method="vbank",
        currency="KRW",
        amount=1000,
        cancelled=0,
        paid_at=None,
        vbank={"due": due},
    )


def test_an_unpaid_order_expires_after_its_lifetime():
    assert expiry(order()) == CREATED + ORDER_LIFETIME


def test_a_waiting_virtual_account_expires_after_its_due_date(app):
    waiting = order("awaiting_deposit")
    waiting.expires_at = CREATED + ORDER_LIFETIME  # as create_order set it
    due = CREATED + timedelta(days=3)
    with app.app_context():
        schedule_after_payment(waiting, vbank(due))
    assert expiry(waiting) == due + DEPOSIT_GRACE


def test_a_virtual_account_without_a_due_date_is_not_given_up_by_our_clock(app):
    waiting = order("awaiting_deposit")
    waiting.expires_at = CREATED + ORDER_LIFETIME
    with app.app_context():
        schedule_after_payment(waiting, vbank(None))
    assert expiry(waiting) is None  # before: revoked 40 minutes after the order was made
