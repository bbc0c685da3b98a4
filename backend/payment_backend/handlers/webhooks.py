"""Inbound gateway webhooks stored but not processed by their request."""

from __future__ import annotations

from payment_backend.crypto import sealer
from payment_backend.extensions import db
from payment_backend.jobs import job
from payment_backend.models import InboundWebhook, OutboxJob
from payment_backend.services.inbound import process


@job("process_webhook")
def process_webhook_job(outbox_job: OutboxJob) -> None:
    """Process a stored webhook the request that stored it did not finish (or could not)."""
    hook = db.session.get(InboundWebhook, outbox_job.payload["inbound_webhook_id"])
    if hook is None or hook.processed_at is not None:
        return
    process(hook.id, sealer().unseal(hook.sealed_body), in_job=True)
