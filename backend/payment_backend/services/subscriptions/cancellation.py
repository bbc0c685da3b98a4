"""The end of a subscription (by the subscriber, or after the last declined retry), and refunds."""

from __future__ import annotations

from payment_backend.clock import now
from payment_backend.errors import ApiError
from payment_backend.extensions import db
from payment_backend.models import Payment, Subscription
from payment_backend.services import ledger, reservations
from payment_backend.services.refunds import refund
from payment_backend.services.subscriptions.booking import unbook
from payment_backend.services.subscriptions.events import changed
from payment_backend.services.subscriptions.periods import charge_of, disarm, get, lock, period_end
from payment_backend.services.subscriptions.views import summary
from payment_backend.vendors.base import GatewayUnavailable


def cancel(sub_id: str, reason: str | None, *, actor: str = "subscriber") -> Subscription:
    """Stop future charges; access runs to the end of the paid period; nothing is refunded.

    GatewayUnavailable (a booking not revoked) cancels nothing: better no cancel than a live one.
    """
    sub = lock(sub_id)
    if sub.status == "canceled":
        return sub
    previous = summary(sub)
    try:
        end(sub, reason or "Canceled by the subscriber", actor=actor)
    except GatewayUnavailable:
        db.session.rollback()
        raise
    changed(sub, previous, actor=actor)
    db.session.commit()
    return sub


def end(sub: Subscription, reason: str, *, actor: str, ended_by: str = "subscriber") -> None:
    """Cancel: revoke what is booked, drop what is queued, keep the paid period's access.

    ended_by: `subscriber` (asked to) or `dunning` (the last retry of a renewal declined)."""
    moment = now()
    for charge in list(sub.charges):
        if charge.status == "paid":
            continue
        unbook(sub, charge)  # raises GatewayUnavailable: better no cancel than a live booking
        disarm(sub, charge.period)
        if charge.attempts == 0:
            sub.charges.remove(charge)  # never attempted: it simply will not happen
            db.session.delete(charge)
    sub.status = "canceled"
    sub.canceled_at = moment
    sub.cancel_reason = reason[:500]
    sub.ended_by = ended_by
    sub.access_until = period_end(sub, sub.paid_periods) if sub.paid_periods else moment
    sub.pending_customer_key = None
    reservations.forget(sub.reservation, "subscription canceled")
    ledger.audit("subscription.canceled", actor=actor, subscription=sub.id, reason=reason)


def refund_charge(sub_id: str, period: int, amount: int | None, reason: str) -> Subscription:
    """The owner refunds a paid period (all that is left, or a part); cancelling never does."""
    sub = get(sub_id)
    charge = charge_of(sub, period)
    payment = db.session.get(Payment, charge.payment_id) if charge and charge.payment_id else None
    if payment is None:
        raise ApiError(409, "NOT_REFUNDABLE", f"Period {period} of {sub_id} was not paid.")
    refund(payment, amount, reason, actor="owner")  # commits
    ledger.audit(
        "subscription.charge_refunded",
        actor="owner",
        payment_id=payment.id,
        subscription=sub_id,
        period=period,
        amount=amount,
    )
    db.session.commit()
    return get(sub_id)
