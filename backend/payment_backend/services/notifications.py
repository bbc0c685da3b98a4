"""Outbound notifications to a merchant's webhook_url, written to the outbox with the change."""

from __future__ import annotations

from typing import Any

from payment_backend.clock import now
from payment_backend.crypto import sealer
from payment_backend.extensions import db
from payment_backend.models import OutboxJob, Payment, WebhookDelivery
from payment_backend.models.payments import new_id


def notify(
    payment: Payment, previous: dict[str, Any] | None, current: dict[str, Any]
) -> WebhookDelivery | None:
    """Queue {id, source, previous, current} for the payment's webhook_url, in this transaction."""
    if not payment.webhook_url:
        return None
    delivery_id = new_id()
    body = {
        "id": delivery_id,
        "source": current["source"],
        "previous": previous,
        "current": current,
    }
    delivery = WebhookDelivery(
        id=delivery_id,
        payment_id=payment.id,
        url=payment.webhook_url,
        sealed_body=sealer().seal(body),
        next_attempt_at=now(),
        created_at=now(),
    )
    db.session.add(delivery)
    db.session.add(
        OutboxJob(
            kind="deliver_webhook",
            payload={"delivery_id": delivery_id},
            due_at=now(),
            created_at=now(),
        )
    )
    return delivery
