"""Browser checkout: server-priced orders, verify-on-complete, and settling from webhooks or sweeps."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from payment_backend.clock import now
from payment_backend.errors import ApiError
from payment_backend.extensions import db
from payment_backend.jobs import enqueue
from payment_backend.models import Order, Payment, Product
from payment_backend.models.orders import MAX_QUANTITY, OPEN_STATUSES, ORDER_STATUS_BY_PAYMENT
from payment_backend.services import ledger, surplus
from payment_backend.services.notifications import notify
from payment_backend.services.order_schedule import (
    ORDER_LIFETIME,
    approvable_later,
    first_check_at,
    schedule_after_payment,
)
from payment_backend.services.verification import cancel_forgery, verify
from payment_backend.vendors import VENDORS, gateway, valid_payment_id
from payment_backend.vendors.base import (
    GatewayError,
    GatewayPayment,
    GatewayUnavailable,
    PaymentNotFound,
)

log = logging.getLogger(__name__)

METHODS = ("card", "vbank")
CHECKOUT_SOURCE = {"schema": "checkout", "table": "orders"}

# A payment the gateway did not answer for is looked up by the worker this much later.
SETTLE_AFTER_TIMEOUT = timedelta(seconds=30)


def get_order(order_id: str, *, lock: bool = False) -> Order:
    """An order (404 ORDER_NOT_FOUND); lock: its row locked for this transaction."""
    order = ledger.lock(Order, order_id) if lock else db.session.get(Order, order_id)
    if order is None:
        raise ApiError(404, "ORDER_NOT_FOUND", f"No order {order_id}.")
    return order


def _order_name(lines: list[dict[str, Any]]) -> str:
    first = lines[0]
    name = first["name"] + (f" x{first['quantity']}" if first["quantity"] > 1 else "")
    if len(lines) > 1:
        name += f" and {len(lines) - 1} more"
    return name[:100]


def create_order(
    vendor: str, method: str, items: list[dict[str, int]], buyer: dict | None
) -> Order:
    """Price the items from the catalog, pre-register the amount (iamport), and store the order.

    Raises GatewayUnavailable or GatewayError when iamport's pre-registration fails.
    """
    if vendor not in VENDORS:
        raise ApiError(422, "UNKNOWN_VENDOR", f"vendor must be one of {', '.join(VENDORS)}")
    if method not in METHODS:
        raise ApiError(422, "UNKNOWN_METHOD", f"method must be one of {', '.join(METHODS)}")
    lines, currency = _priced_lines(method, items)
    order = Order(
        id="ord_" + secrets.token_hex(10),
        vendor=vendor,
        method=method,
        name=_order_name(lines),
        amount=sum(line["unit_price"] * line["quantity"] for line in lines),
        currency=currency,
        status="pending",
        items=lines,
        buyer=buyer,
        created_at=now(),
    )
    order.expires_at = order.created_at + ORDER_LIFETIME
    order.next_check_at = first_check_at(order)
    client = gateway(vendor)
    if client.prepares:
        client.prepare(order.id, order.amount, order.currency)
        order.prepared_at = now()
    db.session.add(order)
    db.session.commit()
    return order


def _priced_lines(method: str, items: list[dict[str, int]]) -> tuple[list[dict[str, Any]], str]:
    """The order's lines priced from the catalog, and their one currency (422 otherwise)."""
    wanted: dict[int, int] = {}
    for item in items:
        wanted[item["product_id"]] = wanted.get(item["product_id"], 0) + item["quantity"]
    products = {
        p.id: p
        for p in db.session.scalars(select(Product).where(Product.id.in_(wanted), Product.active))
    }
    missing = sorted(set(wanted) - set(products))
    if missing:
        raise ApiError(
            422, "UNKNOWN_PRODUCT", f"No such product: {missing[0]}", product_ids=missing
        )
    if any(q > MAX_QUANTITY for q in wanted.values()):
        raise ApiError(422, "QUANTITY_TOO_LARGE", f"At most {MAX_QUANTITY} of a product per order.")
    currencies = {products[pid].currency for pid in wanted}
    if len(currencies) > 1:
        raise ApiError(422, "MIXED_CURRENCY", "All items of an order must share one currency.")
    currency = currencies.pop()
    if method == "vbank" and currency != "KRW":
        raise ApiError(422, "METHOD_NOT_AVAILABLE", "Virtual accounts take Korean won only.")
    lines = [
        {
            "product_id": pid,
            "name": products[pid].name,
            "unit_price": products[pid].price,
            "quantity": qty,
        }
        for pid, qty in wanted.items()
    ]
    return lines, currency


def _fail(order: Order, status: str, code: str, message: str, **detail: Any) -> ApiError:
    """Record why an order did not go through and return the error to answer with."""
    order.status = status
    order.failure = {"code": code, "message": message, **detail}
    ledger.audit(f"order.{status}", actor="checkout", order_id=order.id, code=code, **detail)
    return ApiError(409, code, message, **detail)


def _record(order: Order, gp: GatewayPayment) -> Payment:
    """Create or update the payment record of an order from the gateway's view."""
    if order.payment is not None:
        # The order is locked; the payment is locked too, as a refund may be changing it.
        payment = ledger.lock(Payment, order.payment.id)
        ledger.follow_gateway(payment, gp)
        return payment
    payment = ledger.new_payment(
        gp,
        source={**CHECKOUT_SOURCE, "id": order.id},
        webhook_url=current_app.config.get("CHECKOUT_WEBHOOK_URL") or None,
    )
    db.session.flush()
    order.payment_id = payment.id
    order.payment = payment
    if payment.webhook_url:
        notify(payment, None, ledger.payment_view(payment))
    return payment


def settle(
    order: Order, gp: GatewayPayment, *, reported: int | None, actor: str
) -> ApiError | None:
    """Verify gp, a payment made for this locked order, and move the order on; the caller commits.

    An order counts one payment: the first that verifies while the order is open. Any other
    payment that holds money (a second one, one after a rejection or expiry) is surplus and is
    refunded by the worker. Returns the error to answer with, or None when the order is fine.
    """
    if gp.order_id != order.id:
        raise ValueError(f"payment {gp.payment_id} is not for order {order.id}")
    if order.payment is not None and order.payment.vendor_payment_id == gp.payment_id:
        return _follow(order, gp, actor=actor)
    if order.payment is not None or order.status not in OPEN_STATUSES:
        return _surplus(order, gp, actor=actor)
    verdict = verify(
        gp, order_id=order.id, amount=order.amount, currency=order.currency, reported=reported
    )
    if verdict.ok:
        payment = _record(order, gp)
        previous = order.status
        order.status = ORDER_STATUS_BY_PAYMENT.get(payment.status, order.status)
        order.failure = None
        schedule_after_payment(order, gp)
        if previous != order.status:
            ledger.audit(
                f"order.{order.status}", actor=actor, order_id=order.id, payment_id=payment.id
            )
        return None
    if verdict.code == "PAYMENT_NOT_COMPLETED":
        return ApiError(409, verdict.code, verdict.message)
    if verdict.code == "PAYMENT_NOT_PAID":
        if order.status == "pending":
            return _fail(order, "failed", verdict.code, verdict.message)
        return ApiError(409, verdict.code, verdict.message)
    # Forged: the money actually taken goes back, then the order is rejected.
    after = cancel_forgery(gp) if verdict.forged else gp
    detail = dict(verdict.detail or {})
    if after is None:
        detail["refund_pending"] = True  # cancel_forgery left a job that retries the cancel
    _record(order, after or gp)
    order.next_check_at = None
    return _fail(order, "rejected", verdict.code, verdict.message, **detail)


def _follow(order: Order, gp: GatewayPayment, *, actor: str) -> ApiError | None:
    """The order's own payment moved at the gateway (a deposit, a refund, a cancel): follow it."""
    payment = ledger.lock(Payment, order.payment.id)
    previous = order.status
    ledger.follow_gateway(payment, gp, actor=actor)  # the order follows (ledger.sync_order)
    if previous != order.status:
        schedule_after_payment(order, gp)
    if order.status == "rejected":
        return ApiError(409, order.failure["code"], order.failure["message"], **_detail(order))
    if order.status in ("expired", "cancelled") and surplus.holds_money(gp):
        # e.g. a deposit into a virtual account after its order expired
        surplus.record(gp, order_id=order.id, reason="order_closed", actor=actor)
        return _closed(order, refund_pending=True)
    if payment.status == "failed":
        return ApiError(409, "PAYMENT_NOT_PAID", f"The payment failed: {gp.failure or 'declined'}.")
    return None


def _surplus(order: Order, gp: GatewayPayment, *, actor: str) -> ApiError:
    """A payment the order does not count: whatever it holds is refunded by the worker."""
    pending = surplus.holds_money(gp)
    if pending:
        reason = "second_payment" if order.payment is not None else "order_closed"
        surplus.record(gp, order_id=order.id, reason=reason, actor=actor)
    if order.payment is not None and order.status != "rejected":
        return ApiError(
            409,
            "ORDER_ALREADY_PAID",
            "The order was paid with another payment"
            + ("; this one is refunded." if pending else "."),
            **({"refund_pending": True} if pending else {}),
        )
    return _closed(order, refund_pending=pending)


def _closed(order: Order, *, refund_pending: bool = False) -> ApiError:
    """The order takes no payment any more (rejected, expired, cancelled)."""
    return ApiError(
        409,
        "ORDER_CLOSED",
        f"Order {order.id} is {order.status} and takes no payment"
        + ("; this payment is refunded." if refund_pending else "."),
        order_status=order.status,
        **({"refund_pending": True} if refund_pending else {}),
    )


def _detail(order: Order) -> dict[str, Any]:
    return {k: v for k, v in (order.failure or {}).items() if k not in ("code", "message")}


def complete(order_id: str, vendor: str, payment_id: str, reported: int) -> Order:
    """Verify-on-complete: the browser's report, the gateway's payment and our order must agree.

    The browser's claim is never trusted to touch a payment made for another order id: such a
    payment is answered ORDER_MISMATCH and left alone (its own order is looked up later).
    """
    if not valid_payment_id(vendor, payment_id):
        raise ApiError(422, "INVALID_PAYMENT_ID", f"That is not a {vendor} payment id.")
    order = get_order(order_id, lock=True)
    if vendor != order.vendor:
        raise ApiError(409, "VENDOR_MISMATCH", f"Order {order_id} is paid through {order.vendor}.")
    if (
        order.payment
        and order.payment.vendor_payment_id == payment_id
        and order.status != "rejected"
    ):
        db.session.commit()
        return order  # completing twice gives the same answer
    confirming = _may_confirm(order, reported)
    gp = _read_or_confirm(order, payment_id, confirming=confirming)
    if gp.order_id != order.id:
        db.session.rollback()
        if surplus.is_checkout_order_id(gp.order_id) and db.session.get(Order, gp.order_id):
            _queue_settle(gp.order_id)  # its own order looks it up, by the usual rules
        raise _mismatch(order.id, gp.order_id)
    error = settle(order, gp, reported=reported, actor="checkout")
    db.session.commit()
    if error:
        raise error
    return order


def _may_confirm(order: Order, reported: int) -> bool:
    """Whether this completion confirms the payment at the gateway (gateways that confirm), or
    refuse: never confirm for an order that takes no payment, nor an amount the buyer did not
    agree to (nothing is charged either way)."""
    if not gateway(order.vendor).confirms:
        return False
    if order.payment is not None or order.status not in OPEN_STATUSES:
        error = (
            ApiError(409, "ORDER_ALREADY_PAID", "The order was paid with another payment.")
            if order.payment is not None and order.status != "rejected"
            else _closed(order)
        )
        db.session.rollback()
        raise error
    if reported != order.amount:
        error = _fail(
            order,
            "rejected",
            "AMOUNT_MISMATCH",
            "The amount paid did not match the order; the payment was cancelled.",
            expected=order.amount,
            paid=0,
            reported=reported,
        )
        order.next_check_at = None
        db.session.commit()
        raise error
    return True


def _read_or_confirm(order: Order, payment_id: str, *, confirming: bool) -> GatewayPayment:
    """The gateway's payment, confirmed first where this completion confirms it; a refusal is
    recorded on the order (or answered ORDER_MISMATCH for another order's payment)."""
    vendor, order_id = order.vendor, order.id
    try:
        if confirming:
            return gateway(vendor).confirm(payment_id, order.id, order.amount, order.currency)
        return gateway(vendor).get_payment(payment_id)
    except PaymentNotFound as exc:
        db.session.rollback()
        raise ApiError(
            404, "PAYMENT_NOT_FOUND", f"The gateway has no payment {payment_id}."
        ) from exc
    except GatewayUnavailable:
        db.session.rollback()
        _queue_settle(order_id)
        raise
    except GatewayError as exc:
        foreign = _foreign_order_id(vendor, payment_id, order.id)
        if foreign is not None:
            db.session.rollback()
            raise _mismatch(order.id, foreign) from exc
        # A decline at approval (Toss: the card passed the window, confirm refused it).
        error = _fail(
            order,
            "failed",
            "PAYMENT_DECLINED",
            f"The payment was declined: {exc.message}".rstrip(". ") + ".",
            gateway_code=exc.code,
        )
        db.session.commit()
        raise error from exc


def _foreign_order_id(vendor: str, payment_id: str, order_id: str) -> str | None:
    """The order id of a payment whose confirm was refused, when it is not this order's."""
    try:
        gp = gateway(vendor).get_payment(payment_id)
    except (GatewayError, GatewayUnavailable):
        return None
    return gp.order_id if gp.order_id != order_id else None


def _mismatch(order_id: str, payment_order_id: str | None) -> ApiError:
    """A payment made for another order id: nothing about it or this order changes."""
    return ApiError(
        409,
        "ORDER_MISMATCH",
        "The payment belongs to another order; nothing was changed.",
        expected_order_id=order_id,
        payment_order_id=payment_order_id,
    )


def _queue_settle(order_id: str) -> None:
    """Look the order up at the gateway later (the sweep's job for one order)."""
    enqueue("settle_order", {"order_id": order_id}, due_in=SETTLE_AFTER_TIMEOUT)
    db.session.commit()


def report_failure(order_id: str, code: str, message: str) -> Order:
    """The browser reports a declined card or a closed window; only a pending order changes,
    and not while the gateway may still approve its payment (the sweep settles it then)."""
    undecided = approvable_later(get_order(order_id))
    order = get_order(order_id, lock=True)
    if order.status == "pending" and not undecided:
        order.status = "failed"
        order.failure = {"code": code[:50] or "PAYMENT_FAILED", "message": message[:500]}
        ledger.audit("order.failed", actor="browser", order_id=order.id, code=code)
    db.session.commit()
    return order
