"""Inbound gateway webhooks: stored first, repeats ignored, the payment re-read from the gateway."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from payment_backend.clock import now
from payment_backend.crypto import sealer
from payment_backend.errors import ApiError
from payment_backend.extensions import db
from payment_backend.models import InboundWebhook, Order, OutboxJob, Payment
from payment_backend.services import ledger, subscriptions, surplus
from payment_backend.services.checkout import settle
from payment_backend.vendors import gateway
from payment_backend.vendors.base import GatewayError, GatewayPayment, GatewayUnavailable
from payment_backend.worker import Retry, job

log = logging.getLogger(__name__)


def store(vendor: str, body: dict[str, Any], headers: dict[str, str]) -> InboundWebhook | None:
    """Store a delivery; None when the exact same delivery was stored before."""
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False)
    dedupe_key = hashlib.sha256(f"{vendor}:{canonical}".encode()).hexdigest()
    hook = InboundWebhook(
        vendor=vendor,
        dedupe_key=dedupe_key,
        sealed_body=sealer().seal(body),
        headers=headers,
        received_at=now(),
    )
    db.session.add(hook)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    return hook


def payment_reference(vendor: str, body: dict[str, Any]) -> tuple[str | None, str | None]:
    """(payment id, order id) named by a webhook body; only a hint, never trusted."""
    if vendor == "iamport":
        return body.get("imp_uid"), body.get("merchant_uid")
    data = body.get("data") if isinstance(body.get("data"), dict) else body
    return data.get("paymentKey"), data.get("orderId")


def process(hook: InboundWebhook, body: dict[str, Any], *, in_job: bool = False) -> str:
    """Re-read the payment a stored webhook names and settle our records; returns what happened."""
    vendor = hook.vendor
    if body.get("eventType") == "BILLING_DELETED":
        return _finish(hook, "billing key deleted (noted)")
    payment_id, order_id = payment_reference(vendor, body)
    client = gateway(vendor)
    try:
        if payment_id:
            gp = client.get_payment(payment_id)
        elif order_id:
            gp = client.find_by_order(order_id)
        else:
            return _finish(hook, "ignored: names no payment")
    except GatewayUnavailable as exc:
        if in_job:
            raise Retry(now() + timedelta(minutes=1), f"gateway unavailable: {exc}") from exc
        db.session.add(
            OutboxJob(
                kind="process_webhook",
                payload={"inbound_webhook_id": hook.id},
                unique_key=f"inbound:{hook.id}",
                due_at=now() + timedelta(seconds=30),
                created_at=now(),
            )
        )
        return _finish(hook, "deferred: gateway unavailable")
    except GatewayError as exc:
        return _finish(hook, f"ignored: gateway says {exc.code or exc.message}")
    if gp is None:
        return _finish(hook, "ignored: no such payment at the gateway")
    secret = body.get("secret")
    if (
        vendor == "toss"
        and secret is not None
        and not hmac.compare_digest(str(secret).encode(), str(gp.secret or "").encode())
    ):
        _finish(hook, "refused: DEPOSIT_CALLBACK secret does not match")
        raise ApiError(403, "INVALID_SECRET", "The deposit callback's secret does not match.")
    result = ledger.once_more_on_conflict(lambda: _apply_and_flush(gp, actor=f"webhook:{vendor}"))
    return _finish(hook, result)


def _apply_and_flush(gp: GatewayPayment, *, actor: str) -> str:
    result = apply(gp, actor=actor)
    db.session.flush()
    return result


def apply(gp: GatewayPayment, *, actor: str) -> str:
    """Bring an order, a subscription's period or a service-API payment in step with the gateway."""
    order = ledger.lock(Order, gp.order_id) if gp.order_id else None
    if order is not None:
        before = order.status
        settle(order, gp, reported=None, actor=actor)
        return f"order {order.id}: {before} -> {order.status}"
    charged = subscriptions.apply_webhook(gp, actor=actor)
    if charged is not None:
        return f"subscription {gp.order_id}: {charged}"
    payment = db.session.scalars(
        select(Payment).where(
            Payment.vendor == gp.vendor, Payment.vendor_payment_id == gp.payment_id
        )
    ).one_or_none()
    if payment is None:
        if surplus.is_checkout_order_id(gp.order_id) and surplus.holds_money(gp):
            # An order id of ours with no order: money nobody counts. Re-read, so cancel it.
            surplus.record(gp, order_id=gp.order_id, reason="orphan", actor=actor)
            return f"orphan payment {gp.payment_id}: refunding"
        return "unknown payment (not registered yet)"
    payment = ledger.lock(Payment, payment.id)
    moved = ledger.follow_gateway(payment, gp)
    if moved is None:
        return f"payment {payment.id}: unchanged"
    previous, current = moved
    return f"payment {payment.id}: {previous} -> {current}"


def _finish(hook: InboundWebhook, result: str) -> str:
    hook.processed_at = now()
    hook.result = result[:200]
    db.session.commit()
    log.info("inbound %s webhook %s: %s", hook.vendor, hook.id, result)
    return result


@job("process_webhook")
def process_webhook_job(outbox_job: OutboxJob) -> None:
    """Process a stored webhook whose gateway was unreachable when it arrived."""
    hook = db.session.get(InboundWebhook, outbox_job.payload["inbound_webhook_id"])
    process(hook, sealer().unseal(hook.sealed_body), in_job=True)
