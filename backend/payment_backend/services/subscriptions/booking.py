"""The next period: created once, then booked at the gateway or queued for the worker."""

from __future__ import annotations

import logging
from datetime import datetime

from payment_backend.models import Subscription, SubscriptionCharge
from payment_backend.services import reservations
from payment_backend.services.subscriptions.periods import (
    LIVE,
    SCHEDULE_GRACE,
    arm,
    charge_name,
    charge_of,
    new_charge,
    period_start,
)
from payment_backend.vendors import base, gateway
from payment_backend.vendors.base import GatewayError, GatewayUnavailable, KeyCharge

log = logging.getLogger(__name__)


def key_charge(sub: Subscription, charge: SubscriptionCharge) -> KeyCharge:
    """The period's charge with the subscription's billing key, as the gateway is asked it."""
    return KeyCharge(
        key=reservations.billing_key(sub.reservation),
        customer_key=sub.customer_key or "",
        order_id=charge.order_id,
        name=charge_name(sub, charge.period),
        amount=charge.amount,
        currency=charge.currency,
        buyer=sub.buyer,
        attempt=charge.attempts + 1,
    )


def plan_next(sub: Subscription, period: int) -> None:
    """Create the next period's charge (once) and arrange for it to be charged when due."""
    if sub.status not in LIVE or charge_of(sub, period) is not None:
        return
    charge = new_charge(sub, period, due_at=period_start(sub, period))
    if gateway(sub.vendor).books_ahead:
        book(sub, charge)
    else:
        arm(sub, charge.period, charge.due_at)


def book(sub: Subscription, charge: SubscriptionCharge) -> None:
    """Book the charge at the gateway under the current billing key (one period ahead)."""
    client = gateway(sub.vendor)
    try:
        client.book(key_charge(sub, charge), charge.due_at)
        charge.scheduled_with = sub.customer_key
    except GatewayUnavailable as exc:
        log.warning("charge %s not booked (gateway unreachable): %s", charge.order_id, exc)
    except GatewayError as exc:
        # Booked by an earlier try whose answer was lost? The gateway refuses a duplicate.
        if _booked_already(sub, charge):
            charge.scheduled_with = sub.customer_key
        else:
            log.warning("charge %s not booked: %s", charge.order_id, exc.message)
    arm(sub, charge.period, next_look_at(charge))


def _booked_already(sub: Subscription, charge: SubscriptionCharge) -> bool:
    try:
        booked = gateway(sub.vendor).booking(charge.order_id)
    except (GatewayError, GatewayUnavailable):
        return False
    return (
        booked is not None
        and booked.status == base.BOOKED
        and booked.customer_key == sub.customer_key
    )


def unbook(sub: Subscription, charge: SubscriptionCharge) -> None:
    """Revoke the booking of a charge, if it has one (raises GatewayUnavailable)."""
    if charge.scheduled_with:
        gateway(sub.vendor).unbook(charge.scheduled_with, charge.order_id)
        charge.scheduled_with = None


def next_look_at(charge: SubscriptionCharge) -> datetime:
    """When the charge job looks at a period: when due, or (booked) a while after."""
    # The gateway runs a booking itself and sends its webhook once: the job looks it up after.
    if charge.attempts == 0 and charge.scheduled_with:
        return charge.due_at + SCHEDULE_GRACE
    return charge.due_at
