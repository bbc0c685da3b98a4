"""Outbound notifications to a merchant's webhook_url, written to the outbox with the change."""

from __future__ import annotations

from typing import Any

from payment_backend.clock import now
from payment_backend.crypto import sealer
from payment_backend.extensions import db
from payment_backend.jobs import enqueue
from payment_backend.logs import request_id
from payment_backend.models import Payment, WebhookDelivery
from payment_backend.models.payments import new_id
from payment_backend.services.circuits import destination_of


def notify(
    payment: Payment, previous: dict[str, Any] | None, current: dict[str, Any]
) -> WebhookDelivery | None:
    """Queue {id, source, previous, current} for the payment's webhook_url, in this transaction."""
    if not payment.webhook_url:
        return None
    return notify_event(
        payment.webhook_url,
        "payment.updated",
        source=current["source"],
        previous=previous,
        current=current,
        payment_id=payment.id,
    )


def notify_event(
    url: str | None,
    event: str,
    *,
    source: dict[str, Any],
    previous: dict[str, Any] | None,
    current: dict[str, Any],
    payment_id: str | None = None,
) -> WebhookDelivery | None:
    """Queue a signed notification of any event to url, delivered by the worker with retries.

    Payment notifications are {id, source, previous, current}, as the seed sends them; other
    events add {"event": ...} so one endpoint can tell them apart.
    """
    if not url:
        return None
    delivery_id = new_id()
    body: dict[str, Any] = {"id": delivery_id}
    if event != "payment.updated":
        body["event"] = event
    body.update(source=source, previous=previous, current=current)
    delivery = WebhookDelivery(
        id=delivery_id,
        payment_id=payment_id,
        event=event,
        url=url,
        sealed_body=sealer().seal(body),
        next_attempt_at=now(),
        created_at=now(),
    )
    db.session.add(delivery)
    # The worker restores the request id, so logs and the webhook carry it on.
    enqueue(
        "deliver_webhook",
        {"delivery_id": delivery_id, "request_id": request_id.get()},
        destination=destination_of(url),
    )
    return delivery
