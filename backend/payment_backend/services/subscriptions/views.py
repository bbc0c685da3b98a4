"""What the subscriber sees: a subscription, its charges, the setup of its card window.

Views are data classes; schemas/subscriptions.py dumps them for the API, and ledger.plain()
makes them the JSON of the outbound webhooks (moments as clock.iso, the one format of every answer).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from payment_backend.extensions import db
from payment_backend.models import Payment, Subscription, SubscriptionCharge
from payment_backend.services.subscriptions.periods import (
    LIVE,
    card_order_id,
    charge_order_id,
    open_charge,
    period_end,
    period_start,
)
from payment_backend.vendors import gateway
from payment_backend.vendors.base import KeyWindow


@dataclass(frozen=True)
class PlanTerms:
    """The plan as subscribed (the amount is the one locked in when subscribing)."""

    id: int
    name: str
    amount: int
    currency: str
    interval: str


@dataclass(frozen=True)
class RetryView:
    """While past_due: how many attempts failed and when the next one runs."""

    attempt: int
    next_retry_at: datetime | None


@dataclass(frozen=True)
class ChargeView:
    """A period's charge as the subscriber sees it."""

    id: int
    period: int
    amount: int
    currency: str
    status: str
    due_at: datetime | None
    scheduled_at: datetime | None
    attempted_at: datetime | None
    failed_at: datetime | None
    paid_at: datetime | None
    failure: str | None
    attempts: int
    key_issue: bool
    payment_id: str | None
    refunded: int


@dataclass(frozen=True)
class SubscriptionSummary:
    """A subscription without its charges (webhook bodies, comparisons)."""

    subscription_id: str
    vendor: str
    plan: PlanTerms
    status: str
    card: dict[str, Any] | None
    current_period: int | None
    current_period_start: datetime | None
    current_period_end: datetime | None
    next_charge_at: datetime | None
    next_charge_amount: int | None
    access_until: datetime | None
    canceled_at: datetime | None
    cancel_reason: str | None
    retry: RetryView | None
    buyer: dict[str, Any] | None
    created_at: datetime


@dataclass(frozen=True)
class SubscriptionView(SubscriptionSummary):
    """The Subscription of the browser contract: charges oldest first, setup while one is open."""

    charges: list[ChargeView]
    setup: dict[str, Any] | None = None


def charge_view(charge: SubscriptionCharge) -> ChargeView:
    """A charge as the subscriber sees it."""
    tried = [a.attempted_at for a in charge.attempt_log]
    last = max(tried) if tried else None
    return ChargeView(
        id=charge.id,
        period=charge.period,
        amount=charge.amount,
        currency=charge.currency,
        status=charge.status,
        due_at=charge.due_at,
        scheduled_at=charge.due_at if charge.status == "scheduled" else None,
        attempted_at=last,
        failed_at=last if charge.status == "failed" else None,
        paid_at=charge.paid_at,
        failure=charge.failure,
        attempts=charge.attempts,
        key_issue=charge.key_issue,
        payment_id=charge.vendor_payment_id,
        refunded=_refunded(charge),
    )


def _refunded(charge: SubscriptionCharge) -> int:
    """What the owner refunded of a paid period (minor units)."""
    if not charge.payment_id:
        return 0
    payment = db.session.get(Payment, charge.payment_id)
    return payment.refunded if payment else 0


def _summary_fields(sub: Subscription) -> dict[str, Any]:
    plan = sub.plan
    pending = open_charge(sub) if sub.status in LIVE and sub.paid_periods > 0 else None
    retry = None
    if sub.status == "past_due" and pending is not None and pending.attempts:
        retry = RetryView(attempt=pending.attempts, next_retry_at=pending.due_at)
    paid = sub.paid_periods
    return {
        "subscription_id": sub.id,
        "vendor": sub.vendor,
        "plan": PlanTerms(plan.id, plan.name, sub.amount, sub.currency, plan.interval),
        "status": sub.status,
        "card": sub.reservation.card if sub.reservation else None,
        "current_period": paid or None,
        "current_period_start": period_start(sub, paid) if paid else None,
        "current_period_end": period_end(sub, paid) if paid else None,
        "next_charge_at": pending.due_at if pending else None,
        "next_charge_amount": pending.amount if pending else None,
        "access_until": sub.access_until,
        "canceled_at": sub.canceled_at,
        "cancel_reason": sub.cancel_reason,
        "retry": retry,
        "buyer": sub.buyer,
        "created_at": sub.created_at,
    }


def summary(sub: Subscription) -> SubscriptionSummary:
    """The subscription without its charges (webhook bodies, comparisons)."""
    return SubscriptionSummary(**_summary_fields(sub))


def view(sub: Subscription) -> SubscriptionView:
    """The subscription with its charges, and the setup while a card window is open."""
    pending_setup = setup(sub) if sub.pending_customer_key and sub.status != "canceled" else None
    return SubscriptionView(
        **_summary_fields(sub),
        charges=[charge_view(c) for c in sorted(sub.charges, key=lambda c: c.period)],
        setup=pending_setup,
    )


def setup(sub: Subscription) -> dict[str, Any]:
    """What the browser hands to the gateway's SDK to issue the pending billing key."""
    first = sub.status == "incomplete"
    plan = sub.plan
    # The first card pays the first period in the same window (where the window pays);
    # a replacement card pays nothing.
    window = KeyWindow(
        customer_key=sub.pending_customer_key or "",
        order_id=charge_order_id(sub.id, 1) if first else card_order_id(sub.id, sub.card_changes),
        amount=sub.amount if first else 0,
        currency=sub.currency,
        name=(f"{plan.name} (first {plan.interval})" if first else f"{plan.name} (card)")[:40],
    )
    return gateway(sub.vendor).key_setup(window)
