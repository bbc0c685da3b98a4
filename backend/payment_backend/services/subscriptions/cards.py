"""Replacing the card of a live subscription: a new billing key, then a past-due retry with it."""

from __future__ import annotations

from typing import Any

from payment_backend.errors import ApiError
from payment_backend.extensions import db
from payment_backend.models import Subscription
from payment_backend.services import ledger, reservations
from payment_backend.services.subscriptions.activation import (
    card_proof,
    check_key_issue,
    issue_key,
    read_payment,
    record_key,
)
from payment_backend.services.subscriptions.booking import book, unbook
from payment_backend.services.subscriptions.events import changed
from payment_backend.services.subscriptions.periods import (
    LIVE,
    card_order_id,
    disarm,
    lock,
    new_customer_key,
    open_charge,
)
from payment_backend.services.subscriptions.recording import charge_now
from payment_backend.services.subscriptions.views import setup, summary
from payment_backend.vendors import gateway
from payment_backend.vendors.base import GatewayUnavailable


def start_card_change(sub_id: str) -> dict[str, Any]:
    """A new billing key to set up in the browser: the setup for it."""
    sub = lock(sub_id)
    if sub.status not in LIVE:
        raise ApiError(
            409,
            "SUBSCRIPTION_NOT_ACTIVE",
            f"Subscription {sub.id} is {sub.status}; no card to change.",
        )
    sub.card_changes += 1
    sub.pending_customer_key = new_customer_key()
    db.session.commit()
    return setup(sub)


def confirm_card(sub_id: str, proof: dict[str, Any]) -> Subscription:
    """Switch to the new billing key; a past-due period is retried with it at once.

    GatewayUnavailable changes nothing and rises: the same confirmation can be sent again.
    """
    sub = lock(sub_id)
    try:
        _confirm_card(sub, proof)
    except GatewayUnavailable:
        db.session.rollback()
        raise
    except ApiError:
        db.session.commit()
        raise
    db.session.commit()
    return sub


def _confirm_card(sub: Subscription, proof: dict[str, Any]) -> None:
    if sub.status not in LIVE:
        raise ApiError(409, "SUBSCRIPTION_NOT_ACTIVE", f"Subscription {sub.id} is {sub.status}.")
    if not sub.pending_customer_key:
        if _same_card_confirmation(sub, proof):
            return
        raise ApiError(409, "NO_CARD_CHANGE", "Start a card change first (POST .../card).")
    new_key = sub.pending_customer_key
    key_proof = card_proof(sub, proof)
    if gateway(sub.vendor).window_pays:
        gp = read_payment(sub.vendor, key_proof.payment_id or "")
        order_id = card_order_id(sub.id, sub.card_changes)
        check_key_issue(sub, gp, order_id=order_id, amount=0, actor="subscriber")
    reservation = record_key(sub, issue_key(sub, key_proof, new_key))
    previous = summary(sub)
    old = sub.reservation
    sub.reservation = reservation
    sub.customer_key = new_key
    sub.pending_customer_key = None
    ledger.audit("subscription.card_changed", actor="subscriber", subscription=sub.id)
    pending = open_charge(sub)
    if pending is not None and pending.scheduled_with:
        unbook(sub, pending)  # booked under the old key: booked again under the new one
        if pending.attempts == 0:
            book(sub, pending)
    reservations.forget(old, "card replaced")
    if sub.status == "past_due" and pending is not None:
        charge_now(sub, pending, actor="subscriber")  # the retry runs at once
        if pending.status == "paid":
            disarm(sub, pending.period)
    changed(sub, previous, actor="subscriber")


def _same_card_confirmation(sub: Subscription, proof: dict[str, Any]) -> bool:
    """Whether a confirmation repeats the one that installed the current card (a reload)."""
    key_proof = gateway(sub.vendor).key_proof(proof)
    if not gateway(sub.vendor).window_pays:
        return key_proof.customer_key == sub.customer_key
    if not key_proof.payment_id or not sub.card_changes:
        return False
    gp = read_payment(sub.vendor, key_proof.payment_id)
    return (
        gp.order_id == card_order_id(sub.id, sub.card_changes)
        and gp.billing_customer == sub.customer_key
    )
