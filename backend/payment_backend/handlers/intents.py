"""Write-ahead gateway intents their callers did not close."""

from __future__ import annotations

from payment_backend.clock import now
from payment_backend.extensions import db
from payment_backend.jobs import GiveUp, Retry, job
from payment_backend.models import GatewayIntent, OutboxJob, Payment
from payment_backend.services.intents import IN_FLIGHT, recheck_after, resolve, settle_payment
from payment_backend.vendors import gateway
from payment_backend.vendors.base import GatewayUnavailable, PaymentNotFound


@job("resolve_intent")
def resolve_intent(outbox_job: OutboxJob) -> None:
    """Look at an intent its caller did not close: record what the gateway shows, or look again."""
    intent = db.session.get(GatewayIntent, outbox_job.payload["intent_id"])
    if intent is None or not intent.open:
        return
    if intent.status == "pending" and now() - intent.created_at < IN_FLIGHT:
        raise Retry(intent.created_at + IN_FLIGHT, "its caller may still wait for the answer")
    try:
        gp = gateway(intent.vendor).get_payment(intent.vendor_payment_id)
    except GatewayUnavailable as exc:
        raise Retry(now() + recheck_after(intent.looks), f"gateway unreachable: {exc}") from exc
    except PaymentNotFound as exc:
        raise GiveUp(f"the gateway has no payment {intent.vendor_payment_id}") from exc
    if intent.payment_id and db.session.get(Payment, intent.payment_id) is not None:
        settle_payment(intent.payment_id, gp, actor="worker")
        intent = db.session.get(GatewayIntent, intent.id)
    else:
        resolve(intent, gp, actor="worker")
    if intent.open:
        raise Retry(now() + recheck_after(intent.looks), "the gateway does not explain it yet")
