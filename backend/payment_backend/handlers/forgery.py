"""Forged payments whose first cancel failed."""

from __future__ import annotations

import logging

from payment_backend.clock import now
from payment_backend.jobs import GATEWAY_RETRY, GiveUp, Retry, job
from payment_backend.models import OutboxJob
from payment_backend.services.inbound import apply
from payment_backend.services.verification import give_back
from payment_backend.vendors import base, gateway
from payment_backend.vendors.base import GatewayError, GatewayUnavailable

log = logging.getLogger(__name__)


@job("cancel_forgery")
def cancel_forgery_job(outbox_job: OutboxJob) -> None:
    """Cancel a forged payment whose first cancel failed, then bring our records in step."""
    payload = outbox_job.payload
    client = gateway(payload["vendor"])
    try:
        gp = client.get_payment(payload["payment_id"])
        if gp.remaining > 0 and gp.status in (base.PAID, base.AWAITING_DEPOSIT):
            gp = give_back(gp, reason=payload["reason"], key=f"forgery-{gp.payment_id}")
    except GatewayUnavailable as exc:
        raise Retry(now() + GATEWAY_RETRY, f"gateway unavailable: {exc}") from exc
    except GatewayError as exc:
        raise GiveUp(f"the gateway refused to cancel forged payment: {exc.message}") from exc
    log.info(
        "forged payment %s cancelled: %s", gp.payment_id, apply(gp, actor="job:cancel_forgery")
    )
