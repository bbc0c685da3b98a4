"""Subscription renewals: one period of one subscription, paid once."""

from __future__ import annotations

import logging

from payment_backend.clock import now
from payment_backend.errors import ApiError
from payment_backend.extensions import db
from payment_backend.jobs import Retry, job
from payment_backend.models import OutboxJob
from payment_backend.services.subscriptions import UNAVAILABLE_RETRY, ensure_charged
from payment_backend.vendors.base import GatewayUnavailable

log = logging.getLogger(__name__)


@job("charge_subscription")
def charge_subscription_job(outbox_job: OutboxJob) -> None:
    """Get one period of one subscription paid (idempotent per subscription and period)."""
    payload = outbox_job.payload
    try:
        again_at = ensure_charged(
            payload["subscription_id"], int(payload["period"]), actor="worker"
        )
    except GatewayUnavailable as exc:
        db.session.rollback()
        raise Retry(now() + UNAVAILABLE_RETRY, f"gateway unavailable: {exc}") from exc
    except ApiError as exc:  # the subscription is gone
        log.warning("charge_subscription %s: %s", payload, exc.message)
        return
    if again_at is not None:
        raise Retry(again_at, "period not paid yet")
