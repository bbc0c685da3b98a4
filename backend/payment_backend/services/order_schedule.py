"""When a live order is next looked up at the gateway, and when it expires."""

from __future__ import annotations

from datetime import datetime, timedelta

from payment_backend.clock import now
from payment_backend.models import Order
from payment_backend.models.orders import LIVE_STATUSES
from payment_backend.services import ledger
from payment_backend.vendors import base, gateway
from payment_backend.vendors.base import GatewayError, GatewayPayment, GatewayUnavailable

# An unpaid order (card window, or a virtual account not issued yet) expires this long after it
# was created: the gateways' 30-minute payment window plus a grace.
ORDER_LIFETIME = timedelta(minutes=40)
# A virtual account is given up this long after its due date (a deposit in flight may land).
DEPOSIT_GRACE = timedelta(hours=1)
# Delay before the n-th look at a live order (the last repeats).
CHECK_DELAYS = (
    timedelta(minutes=2),
    timedelta(minutes=2),
    timedelta(minutes=4),
    timedelta(minutes=8),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=6),
)

# An order given up while a window-paying gateway may still approve one of its payments is looked
# up again this much later: a late approval whose webhook was lost is found and refunded.
LATE_LOOKS = (timedelta(hours=1), timedelta(hours=24))


def first_check_at(order: Order) -> datetime:
    """When a new order is first looked up by the sweep."""
    return order.created_at + CHECK_DELAYS[0]


def expiry(order: Order) -> datetime | None:
    """When an order that is still unpaid is given up (None: not before the gateway says so)."""
    if order.expires_at is not None:
        return order.expires_at
    if order.status == "awaiting_deposit":
        # An order from before expires_at existed: its account's due date, as last read.
        due = (ledger.last_read(order.payment).vbank or {}).get("due") if order.payment else None
        return due + DEPOSIT_GRACE if due else None
    return order.created_at + ORDER_LIFETIME


def schedule_after_payment(order: Order, gp: GatewayPayment) -> None:
    """A paid order needs no more looks; one awaiting a deposit is looked at until its due date."""
    if order.status == "awaiting_deposit":
        due = (gp.vbank or {}).get("due")
        # No due date from the gateway: never revoked by our clock, only by the gateway's.
        order.expires_at = due + DEPOSIT_GRACE if due else None
        order.next_check_at = now() + CHECK_DELAYS[-1]
    elif order.status not in LIVE_STATUSES:
        order.next_check_at = None


def reschedule(order: Order) -> None:
    """Push the order's next look back, or stop looking once it has settled."""
    if order.status not in LIVE_STATUSES:
        order.next_check_at = None
        return
    order.checks = (order.checks or 0) + 1
    at = now() + CHECK_DELAYS[min(order.checks, len(CHECK_DELAYS) - 1)]
    deadline = expiry(order)
    order.next_check_at = min(at, deadline) if deadline and deadline > now() else at


def approvable_later(order: Order, *, failed_too: bool = False) -> bool:
    """Whether the gateway may still approve a payment of the order by itself: one its window
    left ready (or failed, which can turn paid) where the window pays without our confirm.
    Unknown when the gateway does not answer, and then assumed."""
    client = gateway(order.vendor)
    if client.confirms:
        return False
    undecided = (base.READY, base.FAILED) if failed_too else (base.READY,)
    try:
        return any(gp.status in undecided for gp in client.find_all_by_order(order.id))
    except (GatewayError, GatewayUnavailable):
        return True
