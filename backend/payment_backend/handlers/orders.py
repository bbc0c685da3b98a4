"""Orders looked up at the gateway: the sweep's looks and settles after a timeout."""

from __future__ import annotations

import logging

from payment_backend.clock import now
from payment_backend.jobs import GATEWAY_RETRY, Retry, job
from payment_backend.models import OutboxJob
from payment_backend.services.order_sweep import look, settle_from_gateway
from payment_backend.vendors.base import GatewayUnavailable

log = logging.getLogger(__name__)


@job("check_order")
def check_order_job(outbox_job: OutboxJob) -> None:
    """One look at a live order (queued by the sweep); its next look is scheduled either way."""
    outcome = look(outbox_job.payload["order_id"])
    log.info("check_order %s: %s", outbox_job.payload["order_id"], outcome or "failed")


@job("settle_order")
def settle_order_job(outbox_job: OutboxJob) -> None:
    """Look an order up at the gateway after a timeout (retried while the gateway is down)."""
    try:
        result = settle_from_gateway(outbox_job.payload["order_id"], actor="job")
    except GatewayUnavailable as exc:
        raise Retry(now() + GATEWAY_RETRY, f"gateway unavailable: {exc}") from exc
    log.info("settle_order %s: %s", outbox_job.payload["order_id"], result)
