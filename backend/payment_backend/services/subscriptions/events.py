"""The subscription's outbound webhooks and audit entries."""

from __future__ import annotations

from flask import current_app

from payment_backend.extensions import db
from payment_backend.models import Subscription, SubscriptionCharge
from payment_backend.services import ledger
from payment_backend.services.ledger import plain
from payment_backend.services.notifications import notify_event
from payment_backend.services.subscriptions.periods import SUBSCRIPTION_SOURCE
from payment_backend.services.subscriptions.views import (
    SubscriptionSummary,
    charge_view,
    summary,
)


def emit(
    event: str, sub: Subscription, previous: SubscriptionSummary | None, current: object
) -> None:
    """Queue an outbound webhook about the subscription (previous and current as JSON)."""
    notify_event(
        current_app.config.get("SUBSCRIPTION_WEBHOOK_URL"),
        event,
        source={**SUBSCRIPTION_SOURCE, "id": sub.id},
        previous=plain(previous),
        current=plain(current),
    )


def changed(sub: Subscription, previous: SubscriptionSummary, *, actor: str) -> None:
    """Notify and audit a change of the subscription, if anything the subscriber sees changed."""
    db.session.flush()
    current = summary(sub)
    # Compared as answered (a moment read back naive from SQLite equals the one set aware).
    if plain(current) != plain(previous):
        emit("subscription.updated", sub, previous, current)
        ledger.audit(
            "subscription.updated",
            actor=actor,
            subscription=sub.id,
            status=sub.status,
            before=previous.status,
            period=sub.paid_periods,
        )


def charge_event(sub: Subscription, charge: SubscriptionCharge, outcome: str) -> None:
    """Notify the outcome of a period's charge (paid or failed)."""
    emit(f"subscription.charge.{outcome}", sub, None, charge_view(charge))
