"""The sweep: every live order looked up at the gateway, fairly, until it settles or expires."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from payment_backend.clock import now
from payment_backend.extensions import db
from payment_backend.jobs import enqueue
from payment_backend.models import Order, Payment
from payment_backend.models.orders import LIVE_STATUSES, OPEN_STATUSES
from payment_backend.services import ledger
from payment_backend.services.checkout import settle
from payment_backend.services.order_schedule import (
    LATE_LOOKS,
    expiry,
    reschedule,
)
from payment_backend.services.verification import give_back
from payment_backend.vendors import base, gateway
from payment_backend.vendors.base import GatewayError, GatewayPayment, GatewayUnavailable

log = logging.getLogger(__name__)

# Orders looked up per pass of the sweep (the worker sweeps once a minute): a bound on the
# gateway calls it makes, however many carts were abandoned.
SWEEP_BATCH = 30


@dataclass
class SweepResult:
    """What one pass of the sweep did."""

    looked: int = 0
    changed: int = 0
    expired: int = 0
    errors: int = 0


def gateway_payment(order: Order) -> GatewayPayment | None:
    """The order's payment as the gateway has it now: by its payment id, else by the order id."""
    client = gateway(order.vendor)
    if order.payment:
        return client.get_payment(order.payment.vendor_payment_id)
    return client.find_by_order(order.id)


def _in_settling_order(order: Order, found: list[GatewayPayment]) -> list[GatewayPayment]:
    """The order's own payment first, then paid ones, then virtual accounts, then the rest."""
    recorded = order.payment.vendor_payment_id if order.payment else None
    rank = {base.PAID: 1, base.AWAITING_DEPOSIT: 2}
    return sorted(
        found,
        key=lambda gp: (gp.payment_id != recorded, rank.get(gp.status, 3), gp.paid_at is None),
    )


def settle_from_gateway(order_id: str, *, actor: str) -> str:
    """Look an order up at the gateway by its order id and settle every payment made for it."""
    order = db.session.get(Order, order_id)
    if order is None:
        return "unknown order"
    client = gateway(order.vendor)
    found = client.find_all_by_order(order.id)
    if order.payment and all(gp.payment_id != order.payment.vendor_payment_id for gp in found):
        found.append(client.get_payment(order.payment.vendor_payment_id))
    for gp in _in_settling_order(order, found):
        if client.awaits_confirm(gp) and order.payment is None and order.status in OPEN_STATUSES:
            # The buyer authenticated but never came back: confirm with the server's amount.
            try:
                gp = client.confirm(gp.payment_id, order.id, order.amount, order.currency)
            except GatewayError as exc:
                log.info("sweep: confirm of %s refused: %s", gp.payment_id, exc.code)
                continue
        order = ledger.lock(Order, order_id)
        settle(order, gp, reported=None, actor=actor)
        db.session.commit()
    return db.session.get(Order, order_id).status


def _expire(order_id: str, *, actor: str) -> bool:
    """Give up an order whose time has passed; a waiting virtual account is revoked first."""
    order = ledger.lock(Order, order_id)
    if order is None or order.status not in LIVE_STATUSES:
        return False
    if order.status == "awaiting_deposit":
        payment = ledger.lock(Payment, order.payment.id)
        gp = gateway(order.vendor).get_payment(payment.vendor_payment_id)
        if gp.status == base.AWAITING_DEPOSIT:
            gp = give_back(
                gp,
                reason="The virtual account was not deposited in time",
                key=f"expire-{gp.payment_id}",
                kind="expire",
            )
        ledger.follow_gateway(payment, gp)
        if payment.status not in ("cancelled", "failed"):
            db.session.rollback()
            return False  # the deposit came after all: settle it on the next look
    order.status = "expired"
    order.next_check_at = None
    order.failure = {"code": "ORDER_EXPIRED", "message": "The order was not paid in time."}
    ledger.audit("order.expired", actor=actor, order_id=order.id)
    db.session.commit()
    # A window that pays by itself may still be paid after the order expired (opened before,
    # paid within its own lifetime), and the webhook may never come: look again later, whether
    # or not the gateway shows anything yet (found by the money-invariant state machine).
    if not gateway(order.vendor).confirms:
        for after in LATE_LOOKS:
            key = f"late-look:{order.id}:{int(after.total_seconds())}"
            enqueue("settle_order", {"order_id": order.id}, unique_key=key, due_in=after)
        db.session.commit()
    return True


def check_order(order_id: str, *, actor: str = "sweep") -> tuple[str, str]:
    """One look at a live order: settle what the gateway has, expire it when its time is up,
    and schedule the next look. Returns (status before, status after)."""
    order = db.session.get(Order, order_id)
    if order is None:
        return "unknown", "unknown"
    before = order.status
    if before not in LIVE_STATUSES:  # settled since the look was queued
        order.next_check_at = None
        db.session.commit()
        return before, before
    settle_from_gateway(order_id, actor=actor)
    order = db.session.get(Order, order_id)
    deadline = expiry(order)
    if order.status in LIVE_STATUSES and deadline is not None and now() >= deadline:
        _expire(order_id, actor=actor)
    order = ledger.lock(Order, order_id)
    reschedule(order)
    after = order.status
    db.session.commit()
    return before, after


def look(order_id: str, *, actor: str = "sweep") -> tuple[str, str] | None:
    """check_order that never raises: on an error the order's next look is pushed back.

    Returns (status before, status after), or None when the look failed.
    """
    try:
        return check_order(order_id, actor=actor)
    except Exception as exc:  # one order's trouble never stops the others
        db.session.rollback()
        if isinstance(exc, GatewayUnavailable):
            log.warning("look at %s: gateway unavailable: %s", order_id, exc)
        else:
            log.exception("look at %s failed", order_id)
        order = ledger.lock(Order, order_id)
        if order is not None:
            reschedule(order)
        db.session.commit()
        return None


def _due_orders(limit: int) -> list[str]:
    return list(
        db.session.scalars(
            select(Order.id)
            .where(Order.status.in_(LIVE_STATUSES), Order.next_check_at <= now())
            .order_by(Order.next_check_at, Order.id)
            .limit(limit)
        )
    )


def sweep_pending_orders(limit: int = SWEEP_BATCH) -> SweepResult:
    """Look up the live orders whose next look is due, now, oldest-due first, at most limit."""
    result = SweepResult()
    for order_id in _due_orders(limit):
        result.looked += 1
        outcome = look(order_id)
        if outcome is None:
            result.errors += 1
            continue
        before, after = outcome
        result.changed += before != after
        result.expired += after == "expired"
    return result


# While a look is queued, the order is not queued again for this long.
QUEUED_LOOK = timedelta(minutes=10)


def queue_due_looks(limit: int = SWEEP_BATCH) -> int:
    """The worker's sweep: one check_order job per live order due for a look, at most limit.

    No gateway call happens here, so a slow gateway delays only the looks themselves, and the
    worker's other jobs (deliveries, refunds) run beside them.
    """
    queued = 0
    for order_id in _due_orders(limit):
        order = ledger.lock(Order, order_id)
        if order is None or order.next_check_at is None or order.next_check_at > now():
            db.session.rollback()
            continue  # another worker queued it meanwhile
        order.next_check_at = now() + QUEUED_LOOK
        enqueue("check_order", {"order_id": order_id})
        db.session.commit()
        queued += 1
    return queued
