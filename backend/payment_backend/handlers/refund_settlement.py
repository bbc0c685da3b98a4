"""Pending refunds looked up at the gateway until they are paid out or fail."""

from __future__ import annotations

from payment_backend.clock import now
from payment_backend.jobs import GATEWAY_RETRY, Retry, job
from payment_backend.models import OutboxJob
from payment_backend.services.refund_settlement import settle_pending
from payment_backend.vendors.base import GatewayUnavailable


@job("settle_refunds")
def settle_refunds(outbox_job: OutboxJob) -> None:
    """Settle a payment's pending refunds from the gateway; look again while any is pending."""
    try:
        again = settle_pending(outbox_job.payload["payment_id"])
    except GatewayUnavailable as exc:
        raise Retry(now() + GATEWAY_RETRY, f"gateway unavailable: {exc}") from exc
    if again is not None:
        raise Retry(again, "refunds still pending at the gateway")
