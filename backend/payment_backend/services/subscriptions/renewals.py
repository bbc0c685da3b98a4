"""Renewals: the charge job's work for a period, and the gateway's word on one (webhooks).

How a period gets paid, once:

- Every period has one SubscriptionCharge row (unique per subscription and period) with an
  order id derived from both (`sub_..._p3`), which is the gateway's order id; the gateways refuse
  a second payment for it, and we never create a charge row from what a webhook says: rows are
  created only when the previous period is paid, under the subscription's lock.
- A gateway that books ahead (iamport): each later period is booked at the gateway when the
  previous one is paid; the booking's webhook (or, if it is lost, the charge job's look-up of
  the booking) records it. Else (Toss) the charge job charges the period when due.
- A declined renewal makes the subscription past_due and is retried 1, 3 and 5 days after the
  first failure; after the last retry it is canceled.
"""

from __future__ import annotations

import logging
from datetime import datetime

from payment_backend.clock import now
from payment_backend.errors import ApiError
from payment_backend.extensions import db
from payment_backend.models import Subscription, SubscriptionCharge
from payment_backend.services import ledger
from payment_backend.services.subscriptions.activation import activate_by_payment
from payment_backend.services.subscriptions.booking import book, next_look_at
from payment_backend.services.subscriptions.periods import (
    BOOK_MARGIN,
    FIRST_PERIOD_LOOKS,
    LIVE,
    ORDER_ID,
    SCHEDULE_GRACE,
    charge_of,
    charge_order_id,
    lock,
)
from payment_backend.services.subscriptions.recording import apply, charge_now
from payment_backend.services.verification import cancel_forgery
from payment_backend.vendors import base, gateway
from payment_backend.vendors.base import GatewayPayment, GatewayUnavailable

log = logging.getLogger(__name__)


def ensure_charged(sub_id: str, period: int, *, actor: str) -> datetime | None:
    """The charge job's work: get the period paid if it is due; returns when to look again.

    Raises GatewayUnavailable when the gateway did not answer (the job tries again).
    """
    sub = lock(sub_id)
    client = gateway(sub.vendor)
    first = period == 1 and client.window_pays and charge_of(sub, 1) is None
    if first and sub.status in ("incomplete", "canceled"):
        return _settle_first_period(sub, actor=actor)
    if sub.status not in LIVE:
        return None
    charge = charge_of(sub, period)
    if charge is None or charge.status == "paid":
        return None
    moment = now()
    if client.books_ahead and charge.attempts == 0:
        if charge.scheduled_with:
            booking = client.booking(charge.order_id)
            if booking is not None and booking.status == base.BOOKED:
                return max(charge.due_at, moment) + SCHEDULE_GRACE  # not run yet
            if booking is not None and booking.status == base.RAN and booking.payment_id:
                apply(sub, charge, client.get_payment(booking.payment_id), actor=actor)
                return _next_look(sub, charge)
            charge.scheduled_with = None  # revoked or gone: charge it ourselves when due
        elif moment < charge.due_at - BOOK_MARGIN:
            book(sub, charge)
            return _next_look(sub, charge)
    if moment < charge.due_at:
        return charge.due_at
    charge_now(sub, charge, actor=actor)
    return _next_look(sub, charge)


def _settle_first_period(sub: Subscription, *, actor: str) -> datetime | None:
    """A browser that never came back and a lost webhook: the key-issuing payment is looked up
    by its order id; paid, it activates the subscription as the browser would."""
    gp = gateway(sub.vendor).find_by_order(charge_order_id(sub.id, 1))
    if sub.status == "canceled":
        if gp is not None and gp.status == base.PAID and gp.remaining > 0:
            # Paid in the window after the subscription was canceled: nothing is owed.
            cancel_forgery(gp, "Charged after the subscription was canceled; refunded")
            ledger.audit("subscription.late_charge_refunded", actor=actor, subscription=sub.id)
        return None
    if gp is None or gp.status != base.PAID:
        # Not paid (yet): the buyer may still be at the window, or try again; for a day.
        moment = now()
        ahead = [sub.created_at + after for after in FIRST_PERIOD_LOOKS]
        return next((at for at in ahead if at > moment), None)
    try:
        activate_by_payment(sub, gp, actor=actor)
    except ApiError as error:  # not ours to keep (a forged amount is refunded by the check)
        log.warning("subscription %s not activated by the sweep: %s", sub.id, error.message)
    return None


def _next_look(sub: Subscription, charge: SubscriptionCharge) -> datetime | None:
    if sub.status not in LIVE or charge.status == "paid":
        return None
    return next_look_at(charge)


def apply_webhook(gp: GatewayPayment, *, actor: str) -> str | None:
    """A re-read gateway payment for one of our subscription order ids; None if it is not one.

    Only a period we created can be recorded: a webhook never creates a charge, a key-issuing
    payment only ever activates (period 1), and repeats or late arrivals find their period
    already settled and change nothing.
    """
    match = ORDER_ID.match(gp.order_id or "")
    if match is None:
        return None
    sub_id, kind, number = match.group(1), match.group(2), int(match.group(3))
    if db.session.get(Subscription, sub_id) is None:
        return None
    sub = lock(sub_id)
    if kind == "c":
        return "card replacement payment (confirmed by the browser)"
    if number == 1 and sub.status == "incomplete":
        return _activate_by_webhook(sub, gp, actor=actor)
    charge = charge_of(sub, number)
    unpaid = charge is None or charge.status != "paid"
    if sub.status == "canceled" and unpaid and gp.status == base.PAID and gp.remaining > 0:
        # Charged after the subscriber canceled (a booking that ran while it was revoked, a
        # card window finished after the cancel): nothing is owed, so it goes back.
        cancel_forgery(gp, "Charged after the subscription was canceled; refunded")
        ledger.audit(
            "subscription.late_charge_refunded",
            actor=actor,
            subscription=sub.id,
            vendor_payment_id=gp.payment_id,
        )
        return "charge after cancel refunded"
    if charge is None:
        return f"no period {number} to record (ignored)"
    return apply(sub, charge, gp, actor=actor)


def _activate_by_webhook(sub: Subscription, gp: GatewayPayment, *, actor: str) -> str:
    if not gateway(sub.vendor).window_pays:
        return "first period (activated by the browser)"
    try:
        activate_by_payment(sub, gp, actor=actor)
    except ApiError as error:
        return f"not activated: {error.code}"
    except GatewayUnavailable:
        # Left to the browser and the first-period look-ups.
        return "not activated: GATEWAY_UNAVAILABLE"
    return "activated by the key-issuing payment"
