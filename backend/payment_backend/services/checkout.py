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
from payment_backend.models import Order, OutboxJob, Payment, Product
from payment_backend.models.orders import ORDER_STATUS_BY_PAYMENT
from payment_backend.services import ledger
from payment_backend.services.notifications import notify
from payment_backend.services.verification import cancel_forgery, verify
from payment_backend.vendors import VENDORS, base, gateway
from payment_backend.vendors.base import (
    GatewayError,
    GatewayPayment,
    GatewayUnavailable,
    PaymentNotFound,
)
from payment_backend.worker import Retry, job

log = logging.getLogger(__name__)

METHODS = ("card", "vbank")
CHECKOUT_SOURCE = {"schema": "checkout", "table": "orders"}
MAX_QUANTITY = 100

UNAVAILABLE = "The payment gateway is unreachable. Please try again in a moment."


def unavailable(exc: Exception) -> ApiError:
    """The gateway could not be reached."""
    log.warning("gateway unavailable: %s", exc)
    return ApiError(502, "GATEWAY_UNAVAILABLE", UNAVAILABLE)


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
    """Price the items from the catalog, pre-register the amount (iamport), and store the order."""
    if vendor not in VENDORS:
        raise ApiError(422, "UNKNOWN_VENDOR", f"vendor must be one of {', '.join(VENDORS)}")
    if method not in METHODS:
        raise ApiError(422, "UNKNOWN_METHOD", f"method must be one of {', '.join(METHODS)}")
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
    if vendor == "iamport" and current_app.config["IAMPORT_PREPARE"]:
        try:
            gateway(vendor).prepare(order.id, order.amount, order.currency)
        except GatewayUnavailable as exc:
            raise unavailable(exc) from exc
        except GatewayError as exc:
            raise ApiError(
                502, "GATEWAY_REFUSED", f"The gateway refused the order: {exc.message}"
            ) from exc
        order.prepared_at = now()
    db.session.add(order)
    db.session.commit()
    return order


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
    """Verify gp against the locked order and move the order on; the caller commits.

    Returns the error to answer with (the order's state is already updated), or None when paid.
    """
    if order.status == "rejected":
        if order.payment and order.payment.vendor_payment_id == gp.payment_id:
            # e.g. the worker finally cancelled the forged payment: keep the record in step.
            ledger.follow_gateway(ledger.lock(Payment, order.payment.id), gp)
        return ApiError(409, order.failure["code"], order.failure["message"], **_detail(order))
    verdict = verify(
        gp, order_id=order.id, amount=order.amount, currency=order.currency, reported=reported
    )
    if verdict.ok:
        if order.payment and order.payment.vendor_payment_id != gp.payment_id:
            return ApiError(409, "ORDER_ALREADY_PAID", "The order was paid with another payment.")
        payment = _record(order, gp)
        previous = order.status
        order.status = ORDER_STATUS_BY_PAYMENT.get(payment.status, order.status)
        order.failure = None
        if previous != order.status:
            ledger.audit(
                f"order.{order.status}", actor=actor, order_id=order.id, payment_id=payment.id
            )
        return None
    if verdict.code == "ORDER_MISMATCH":
        # The payment is someone else's; it is settled against its own order, never this one.
        error = _fail(order, "rejected", verdict.code, verdict.message, **(verdict.detail or {}))
        _settle_foreign(gp, actor=actor)
        return error
    if verdict.code == "PAYMENT_NOT_COMPLETED":
        return ApiError(409, verdict.code, verdict.message)
    if verdict.code == "PAYMENT_NOT_PAID":
        if order.status == "pending":
            return _fail(order, "failed", verdict.code, verdict.message)
        if order.payment:  # a later cancel at the gateway: keep the record in step
            _record(order, gp)
        return ApiError(409, verdict.code, verdict.message)
    # Forged: the money actually taken goes back, then the order is rejected.
    after = cancel_forgery(gp) if verdict.forged else gp
    detail = dict(verdict.detail or {})
    if after is None:
        detail["refund_pending"] = True  # cancel_forgery left a job that retries the cancel
    if order.payment is None or order.payment.vendor_payment_id == gp.payment_id:
        _record(order, after or gp)
    return _fail(order, "rejected", verdict.code, verdict.message, **detail)


def _detail(order: Order) -> dict[str, Any]:
    return {k: v for k, v in (order.failure or {}).items() if k not in ("code", "message")}


def _settle_foreign(gp: GatewayPayment, *, actor: str) -> None:
    """A payment reported for the wrong order: settle it against its own order, or refund it."""
    own = db.session.get(Order, gp.order_id) if gp.order_id else None
    if own is not None:
        own = ledger.lock(Order, own.id)
        settle(own, gp, reported=None, actor=actor)
    elif gp.status in (base.PAID, base.AWAITING_DEPOSIT):
        cancel_forgery(gp, reason="Payment for an order this shop never made; cancelled")
        ledger.audit("payment.orphan_cancelled", actor=actor, vendor_payment_id=gp.payment_id)


def complete(order_id: str, vendor: str, payment_id: str, reported: int) -> Order:
    """Verify-on-complete: the browser's report, the gateway's payment and our order must agree."""
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
    if vendor == "toss" and reported != order.amount and order.payment is None:
        # Never confirm an amount the buyer did not agree to: nothing is charged.
        error = _fail(
            order,
            "rejected",
            "AMOUNT_MISMATCH",
            "The amount paid did not match the order; the payment was cancelled.",
            expected=order.amount,
            paid=0,
            reported=reported,
        )
        db.session.commit()
        raise error
    try:
        if vendor == "toss" and order.payment is None:
            gp = gateway(vendor).confirm(payment_id, order.id, order.amount, order.currency)
        else:
            gp = gateway(vendor).get_payment(payment_id)
    except PaymentNotFound as exc:
        db.session.rollback()
        raise ApiError(
            404, "PAYMENT_NOT_FOUND", f"The gateway has no payment {payment_id}."
        ) from exc
    except GatewayUnavailable as exc:
        db.session.rollback()
        _queue_settle(order_id)
        raise unavailable(exc) from exc
    except GatewayError as exc:
        error = _fail(
            order,
            "failed",
            "PAYMENT_NOT_PAID",
            f"The gateway refused the payment: {exc.message}",
            gateway_code=exc.code,
        )
        db.session.commit()
        raise error from exc
    error = settle(order, gp, reported=reported, actor="checkout")
    db.session.commit()
    if error:
        raise error
    return order


def _queue_settle(order_id: str) -> None:
    """Look the order up at the gateway later (the sweep's job for one order)."""
    db.session.add(
        OutboxJob(
            kind="settle_order",
            payload={"order_id": order_id},
            due_at=now() + timedelta(seconds=30),
            created_at=now(),
        )
    )
    db.session.commit()


def gateway_payment(order: Order) -> GatewayPayment | None:
    """The order's payment as the gateway has it now: by its payment id, else by the order id."""
    client = gateway(order.vendor)
    if order.payment:
        return client.get_payment(order.payment.vendor_payment_id)
    return client.find_by_order(order.id)


def settle_from_gateway(order_id: str, *, actor: str) -> str:
    """Look a pending order up at the gateway by its order id and settle it (sweep, jobs)."""
    order = db.session.get(Order, order_id)
    if order is None:
        return "unknown order"
    gp = gateway_payment(order)
    if gp is None:
        return "no payment at the gateway"
    if order.vendor == "toss" and gp.raw.get("status") == "IN_PROGRESS":
        # The buyer authenticated but never came back: confirm with the server's amount.
        try:
            gp = gateway(order.vendor).confirm(
                gp.payment_id, order.id, order.amount, order.currency
            )
        except GatewayError as exc:
            return f"confirm refused: {exc.code}"
    order = ledger.lock(Order, order_id)
    settle(order, gp, reported=None, actor=actor)
    db.session.commit()
    return order.status


def sweep_pending_orders(older_than: timedelta = timedelta(minutes=2), limit: int = 100) -> int:
    """Settle pending orders that have a payment at the gateway; returns how many changed."""
    cutoff = now() - older_than
    ids = db.session.scalars(
        select(Order.id)
        .where(Order.status.in_(("pending", "awaiting_deposit")), Order.created_at < cutoff)
        .order_by(Order.created_at)
        .limit(limit)
    ).all()
    changed = 0
    for order_id in ids:
        before = db.session.get(Order, order_id).status
        try:
            after = settle_from_gateway(order_id, actor="sweep")
        except GatewayUnavailable as exc:
            db.session.rollback()
            log.warning("sweep: gateway unavailable for %s: %s", order_id, exc)
            continue
        changed += after != before
    return changed


def report_failure(order_id: str, code: str, message: str) -> Order:
    """The browser reports a declined card or a closed window; only a pending order changes."""
    order = get_order(order_id, lock=True)
    if order.status == "pending":
        order.status = "failed"
        order.failure = {"code": code[:50] or "PAYMENT_FAILED", "message": message[:500]}
        ledger.audit("order.failed", actor="browser", order_id=order.id, code=code)
    db.session.commit()
    return order


def refund_order(order: Order, amount: int | None, reason: str, *, actor: str) -> Order:
    """Refund part or all of an order's payment; the order follows the payment's status."""
    from payment_backend.services.refunds import refund

    if order.payment is None or order.status not in ("paid", "partially_refunded"):
        raise ApiError(
            409, "NOT_REFUNDABLE", f"Order {order.id} is {order.status}; nothing to refund."
        )
    payment = refund(order.payment, amount, reason, actor=actor)
    order = ledger.lock(Order, order.id)
    order.status = ORDER_STATUS_BY_PAYMENT.get(payment.status, order.status)
    db.session.commit()
    return order


def simulate_deposit(order: Order) -> Order:
    """Ask the fake gateway to deposit into the order's virtual account, then settle the order."""
    import requests

    if order.payment is None or order.status != "awaiting_deposit":
        raise ApiError(409, "NOT_AWAITING_DEPOSIT", f"Order {order.id} is {order.status}.")
    base_url = current_app.config[
        "IAMPORT_API_URL" if order.vendor == "iamport" else "TOSS_API_URL"
    ]
    try:
        response = requests.post(
            f"{base_url.rstrip('/')}/__control/deposit/{order.payment.vendor_payment_id}",
            timeout=10,
        )
    except requests.RequestException as exc:
        raise unavailable(exc) from exc
    if response.status_code != 200:
        raise ApiError(
            502, "GATEWAY_REFUSED", f"The fake gateway refused the deposit: {response.text[:200]}"
        )
    settle_from_gateway(order.id, actor="simulate-deposit")
    return db.session.get(Order, order.id)


@job("settle_order")
def settle_order_job(outbox_job: OutboxJob) -> None:
    """Look an order up at the gateway after a timeout (retried while the gateway is down)."""
    try:
        result = settle_from_gateway(outbox_job.payload["order_id"], actor="job")
    except GatewayUnavailable as exc:
        raise Retry(now() + timedelta(minutes=1), f"gateway unavailable: {exc}") from exc
    log.info("settle_order %s: %s", outbox_job.payload["order_id"], result)
