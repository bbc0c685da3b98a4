"""Subscribing: a subscription waiting for its first card, then activated by the card's proof.

Two ways a gateway issues a billing key (vendors/base.py Billing): a window that pays
(`window_pays`: the first period is the payment that issued the key, recorded as period 1 with
key_issue=True and counted for nothing else), or a window that hands back an authorization for
the key, after which the first period is charged at once.
"""

from __future__ import annotations

import secrets
from typing import Any

from payment_backend.clock import now
from payment_backend.errors import ApiError
from payment_backend.extensions import db
from payment_backend.models import Plan, Reservation, Subscription
from payment_backend.services import ledger, reservations
from payment_backend.services.subscriptions.booking import plan_next
from payment_backend.services.subscriptions.events import changed, emit
from payment_backend.services.subscriptions.periods import (
    FIRST_PERIOD_LOOKS,
    LIVE,
    RESERVATION_SOURCE,
    arm,
    charge_of,
    charge_order_id,
    lock,
    new_charge,
    new_customer_key,
)
from payment_backend.services.subscriptions.recording import charge_now, record_paid
from payment_backend.services.subscriptions.views import summary
from payment_backend.services.verification import cancel_forgery, verify
from payment_backend.vendors import VENDORS, base, gateway, valid_payment_id
from payment_backend.vendors.base import (
    BillingKey,
    BillingKeyNotFound,
    GatewayError,
    GatewayPayment,
    GatewayUnavailable,
    KeyProof,
    PaymentNotFound,
)


def create(plan_id: int, vendor: str, buyer: dict[str, Any] | None) -> Subscription:
    """A subscription waiting for its first card (status incomplete), with the setup to use."""
    if vendor not in VENDORS:
        raise ApiError(422, "UNKNOWN_VENDOR", f"vendor must be one of {', '.join(VENDORS)}")
    plan = db.session.get(Plan, plan_id)
    if plan is None or not plan.active:
        raise ApiError(422, "UNKNOWN_PLAN", f"No plan {plan_id}.")
    sub = Subscription(
        id="sub_" + secrets.token_hex(10),
        vendor=vendor,
        plan_id=plan.id,
        plan=plan,
        amount=plan.amount,
        currency=plan.currency,
        status="incomplete",
        buyer=buyer or None,
        pending_customer_key=new_customer_key(),
        card_changes=0,
        paid_periods=0,
        charges=[],
        created_at=now(),
    )
    client = gateway(vendor)
    if client.window_pays:
        # The key window then refuses any other amount for the first period (GatewayError and
        # GatewayUnavailable rise to the caller: nothing is recorded).
        client.prepare(charge_order_id(sub.id, 1), sub.amount, sub.currency)
    db.session.add(sub)
    db.session.flush()
    if client.window_pays:
        # Should the browser never come back and the webhook be lost, this finds the payment.
        arm(sub, 1, sub.created_at + FIRST_PERIOD_LOOKS[0])
    emit("subscription.created", sub, None, summary(sub))
    ledger.audit("subscription.created", actor="browser", subscription=sub.id, plan=plan.id)
    db.session.commit()
    return sub


def activate(sub_id: str, proof: dict[str, Any]) -> Subscription:
    """The browser's proof of the first card: verify it, pay period 1, plan the renewals.

    GatewayUnavailable rises after what was recorded is committed: the first charge's outcome is
    unknown, the key and the period stay as they are, and the same activation again repeats the
    same request (the same order id, the same idempotency key).
    """
    sub = lock(sub_id)
    try:
        if sub.status != "incomplete":
            if _same_activation(sub, proof):
                return sub
            raise ApiError(
                409,
                "SUBSCRIPTION_NOT_INCOMPLETE",
                f"Subscription {sub.id} is {sub.status}; it was activated already.",
            )
        key_proof = card_proof(sub, proof)
        if gateway(sub.vendor).window_pays:
            gp = read_payment(sub.vendor, key_proof.payment_id or "")
            activate_by_payment(sub, gp, actor="browser")
        else:
            _activate_by_charge(sub, key_proof, actor="browser")
    except (ApiError, GatewayUnavailable):
        db.session.commit()  # what was recorded on the way (declines, audit) stays
        raise
    db.session.commit()
    return sub


def card_proof(sub: Subscription, proof: dict[str, Any]) -> KeyProof:
    """The card window's proof, with every field the gateway needs (422 otherwise)."""
    client = gateway(sub.vendor)
    for name in client.proof_fields:
        if not proof.get(name):
            raise ApiError(422, "VALIDATION_ERROR", f"{name} is required for this gateway.")
    key_proof = client.key_proof(proof)
    if key_proof.customer_key is not None and key_proof.customer_key != sub.pending_customer_key:
        raise ApiError(
            409, "CUSTOMER_KEY_MISMATCH", "The card was registered for another customer."
        )
    return key_proof


def _same_activation(sub: Subscription, proof: dict[str, Any]) -> bool:
    """Whether an activation repeats the one that activated the subscription (a page reload)."""
    if sub.status not in LIVE:
        return False
    key_proof = gateway(sub.vendor).key_proof(proof)
    if gateway(sub.vendor).window_pays:
        first = next((c for c in sub.charges if c.period == 1), None)
        return first is not None and first.vendor_payment_id == key_proof.payment_id
    return sub.reservation is not None and key_proof.customer_key == sub.customer_key


def read_payment(vendor: str, payment_id: str) -> GatewayPayment:
    """The payment a card window made, re-read from its gateway (422, 404)."""
    if not valid_payment_id(vendor, payment_id):
        raise ApiError(422, "INVALID_PAYMENT_ID", f"That is not a {vendor} payment id.")
    try:
        return gateway(vendor).get_payment(payment_id)
    except PaymentNotFound as exc:
        raise ApiError(
            404, "PAYMENT_NOT_FOUND", f"The gateway has no payment {payment_id}."
        ) from exc


def check_key_issue(
    sub: Subscription, gp: GatewayPayment, *, order_id: str, amount: int, actor: str
) -> None:
    """The checks that make a window's payment the key-issuing payment we asked for.

    Its order id is ours, its billing customer is the one handed to this browser, it issued the
    key (not a charge with it), and it paid exactly `amount`. A charge of another amount is
    given back at the gateway.
    """
    if gp.order_id != order_id:
        raise ApiError(
            409,
            "ORDER_MISMATCH",
            "The payment belongs to another order.",
            expected_order_id=order_id,
            payment_order_id=gp.order_id,
        )
    if gp.billing_customer != sub.pending_customer_key:
        raise ApiError(
            409, "BILLING_KEY_MISMATCH", "The payment did not issue this subscription's card."
        )
    if gp.key_usage not in (None, "issue"):
        raise ApiError(409, "NOT_KEY_ISSUE", "The payment is not the one that registered the card.")
    if gp.status == base.FAILED:
        ledger.audit(
            "subscription.card_declined", actor=actor, subscription=sub.id, reason=gp.failure
        )
        raise ApiError(
            402, "CHARGE_DECLINED", f"The card was declined: {gp.failure or 'declined'}."
        )
    if gp.status == base.READY:
        raise ApiError(409, "PAYMENT_NOT_COMPLETED", "The card window has not finished yet.")
    verdict = verify(gp, order_id=order_id, amount=amount, currency=sub.currency)
    if verdict.ok or (amount == 0 and gp.status == base.PAID and gp.amount == 0):
        return
    if verdict.forged:
        cancel_forgery(gp)
        ledger.audit(
            "subscription.forgery_cancelled",
            actor=actor,
            subscription=sub.id,
            vendor_payment_id=gp.payment_id,
            expected=amount,
            paid=gp.amount,
        )
    raise ApiError(409, verdict.code, verdict.message, **(verdict.detail or {}))


def issue_key(sub: Subscription, proof: KeyProof, customer_key: str) -> BillingKey:
    """The billing key the window's proof stands for, as the gateway holds it (409 if none)."""
    try:
        return gateway(sub.vendor).issue_key(proof, customer_key)
    except BillingKeyNotFound as exc:
        raise ApiError(409, "BILLING_KEY_MISSING", "The gateway holds no such card.") from exc
    except GatewayError as exc:
        raise ApiError(
            409,
            "CARD_NOT_REGISTERED",
            f"The gateway did not issue a billing key: {exc.message}",
            gateway_code=exc.code,
        ) from exc


def record_key(sub: Subscription, key: BillingKey) -> Reservation:
    """Record the subscription's new billing key (sealed; not readable through the service API)."""
    reservation = reservations.record(
        sub.vendor,
        uid=key.key,
        customer_key=sub.pending_customer_key or "",
        data=key.raw,
        card=key.card,
        source={**RESERVATION_SOURCE, "id": f"{sub.id}:{secrets.token_hex(6)}"},
        title=sub.plan.name,
    )
    db.session.flush()
    return reservation


def activate_by_payment(sub: Subscription, gp: GatewayPayment, *, actor: str) -> None:
    """Period 1 is the key-issuing payment: checked, recorded as key_issue, never again."""
    order_id = charge_order_id(sub.id, 1)
    check_key_issue(sub, gp, order_id=order_id, amount=sub.amount, actor=actor)
    customer_key = sub.pending_customer_key or ""
    key = issue_key(sub, KeyProof(payment_id=gp.payment_id), customer_key)
    previous = summary(sub)
    sub.reservation = record_key(sub, key)
    sub.customer_key = customer_key
    _start(sub)
    charge = new_charge(sub, 1, due_at=sub.anchor_at, key_issue=True)
    record_paid(sub, charge, gp, actor=actor, announce=False)
    changed(sub, previous, actor=actor)


def _activate_by_charge(sub: Subscription, proof: KeyProof, *, actor: str) -> None:
    """Issue the billing key, then charge period 1 with it; a decline leaves it incomplete."""
    customer_key = sub.pending_customer_key or ""
    previous = summary(sub)
    if sub.reservation is None or sub.customer_key != customer_key:
        sub.reservation = record_key(sub, issue_key(sub, proof, customer_key))
        sub.customer_key = customer_key
    # else: a retry after the gateway did not answer the first charge; the key is issued.
    sub.anchor_at = now()
    charge = charge_of(sub, 1) or new_charge(sub, 1, due_at=sub.anchor_at)
    charge.due_at = sub.anchor_at
    charge_now(sub, charge, actor=actor)  # still incomplete: a decline arms no retry
    if charge.status != "paid":
        # Not subscribed: the key goes; the browser may try another card on the same setup.
        reservations.forget(sub.reservation, "first charge declined")
        sub.reservation, sub.customer_key, sub.anchor_at = None, None, None
        raise ApiError(402, "CHARGE_DECLINED", f"The card was declined: {charge.failure}.")
    _start(sub)
    plan_next(sub, 2)
    changed(sub, previous, actor=actor)


def _start(sub: Subscription) -> None:
    """Active from now: the billing anchor is the first period's start."""
    moment = now()
    sub.status = "active"
    sub.anchor_at = sub.anchor_at or moment
    sub.activated_at = moment
    sub.pending_customer_key = None
