"""Outbound webhook deliveries: one automatic attempt per run."""

from __future__ import annotations

from payment_backend.clock import now
from payment_backend.extensions import db
from payment_backend.jobs import GiveUp, Retry, job
from payment_backend.models import OutboxJob, WebhookDelivery
from payment_backend.services import circuits
from payment_backend.services.deliveries import deliver, retry_at
from payment_backend.services.ledger import lock


@job("deliver_webhook")
def deliver_webhook(outbox_job: OutboxJob) -> None:
    """The worker's job: one automatic attempt; reschedules itself on the retry schedule."""
    delivery = db.session.get(WebhookDelivery, outbox_job.payload["delivery_id"])
    if delivery is None or delivery.status != "pending":
        return  # deleted, or delivered by a replay meanwhile
    result = deliver(delivery)
    if not result.permanent:  # a refused URL says nothing about the endpoint's health
        destination = outbox_job.destination or circuits.destination_of(delivery.url)
        circuits.record(destination, result.ok, result.describe())
    delivery = lock(WebhookDelivery, delivery.id)
    if delivery.status == "delivered":
        return
    if result.ok:
        delivery.status = "delivered"
        delivery.next_attempt_at = None
        return
    # The job's attempts count the automatic tries only; replays do not move the schedule.
    when = None if result.permanent else retry_at(outbox_job.attempts, now())
    if when is None:
        delivery.status = "failed"
        delivery.next_attempt_at = None
        raise GiveUp(f"gave up after {outbox_job.attempts} attempts: {result.describe()}")
    delivery.next_attempt_at = when
    raise Retry(when, result.describe())
