"""Inbound gateway webhooks: stored with their processing job, processed once, the payment re-read."""

from __future__ import annotations

import hmac
import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from payment_backend.clock import now
from payment_backend.crypto import sealer
from payment_backend.errors import ApiError
from payment_backend.extensions import db
from payment_backend.jobs import Retry, enqueue
from payment_backend.models import InboundWebhook, Order, OutboxJob, Payment
from payment_backend.models.payments import new_id
from payment_backend.services import ledger, subscriptions, surplus
from payment_backend.services.checkout import settle
from payment_backend.vendors import gateway
from payment_backend.vendors.base import (
    GatewayError,
    GatewayPayment,
    GatewayUnavailable,
    WebhookRefused,
)

log = logging.getLogger(__name__)


# The request that stored a delivery processes it at once; its job waits this long before the
# worker takes over (a crash, a lost connection, a gateway that did not answer).
PROCESS_GRACE = timedelta(seconds=30)
DUPLICATE = "duplicate ignored"


def receive(
    vendor: str, body: dict[str, Any], headers: dict[str, str], raw: bytes | None = None
) -> str:
    """Store a delivery (its processing enqueued with it), then process it unless it was already.

    raw (the exact bytes received) lets a gateway that signs its webhooks authenticate the
    delivery first: a refused one is answered 401 and stored nowhere.
    """
    hook_id = store(vendor, body, headers, raw)
    if hook_id is None:
        return DUPLICATE
    return process(hook_id, body)


def store(
    vendor: str, body: dict[str, Any], headers: dict[str, str], raw: bytes | None = None
) -> str | None:
    """Store a delivery and its process_webhook job in one transaction; returns its id.

    An exact repeat returns the stored delivery's id while it is unprocessed (so a delivery the
    first receiver never finished is processed now), None once it has been processed.
    """
    try:
        dedupe_key = gateway(vendor).parse_webhook(body, headers, raw).dedupe_key
    except WebhookRefused as exc:
        log.warning("inbound %s webhook refused: %s", vendor, exc.code or exc.message)
        raise ApiError(
            401, "INVALID_SIGNATURE", f"The webhook is not authentic: {exc.message}"
        ) from exc
    hook_id = new_id()
    db.session.add(
        InboundWebhook(
            id=hook_id,
            vendor=vendor,
            dedupe_key=dedupe_key,
            sealed_body=sealer().seal(body),
            headers=headers,
            received_at=now(),
        )
    )
    enqueue(
        "process_webhook",
        {"inbound_webhook_id": hook_id},
        unique_key=_job_key(hook_id),
        due_in=PROCESS_GRACE,
    )
    try:
        db.session.commit()
        return hook_id
    except IntegrityError:
        db.session.rollback()
    stored = db.session.execute(
        select(InboundWebhook.id, InboundWebhook.processed_at).where(
            InboundWebhook.dedupe_key == dedupe_key
        )
    ).first()
    db.session.rollback()
    if stored is None or stored.processed_at is not None:
        return None
    return stored.id


def _job_key(hook_id: str) -> str:
    return f"inbound:{hook_id}"


def process(hook_id: str, body: dict[str, Any], *, in_job: bool = False) -> str:
    """Re-read the payment a stored webhook names and settle our records; returns what happened.

    The delivery's row stays locked until it is marked processed, so of two receivers of one
    delivery (a redelivery, the worker) one processes it and the other finds it done.
    """
    hook = ledger.lock(InboundWebhook, hook_id)
    if hook is None or hook.processed_at is not None:
        db.session.commit()
        return DUPLICATE
    vendor = hook.vendor
    client = gateway(vendor)
    notice = client.parse_webhook(body, hook.headers or {})
    if notice.noted:
        return _finish(hook, f"{notice.noted} (noted)")
    try:
        if notice.payment_id:
            gp = client.get_payment(notice.payment_id)
        elif notice.order_id:
            gp = client.find_by_order(notice.order_id)
        else:
            return _finish(hook, "ignored: names no payment")
    except GatewayUnavailable as exc:
        db.session.rollback()  # unprocessed: its job, or a redelivery, processes it later
        if in_job:
            raise Retry(now() + timedelta(minutes=1), f"gateway unavailable: {exc}") from exc
        log.info("inbound %s webhook %s deferred: gateway unavailable", vendor, hook_id)
        return "deferred: gateway unavailable"
    except GatewayError as exc:
        return _finish(hook, f"ignored: gateway says {exc.code or exc.message}")
    if gp is None:
        return _finish(hook, "ignored: no such payment at the gateway")
    if notice.secret is not None and not hmac.compare_digest(
        notice.secret.encode(), str(gp.secret or "").encode()
    ):
        result = _finish(hook, "refused: DEPOSIT_CALLBACK secret does not match")
        if in_job:
            return result
        raise ApiError(403, "INVALID_SECRET", "The deposit callback's secret does not match.")
    result = ledger.once_more_on_conflict(
        lambda: _apply_and_flush(hook_id, gp, actor=f"webhook:{vendor}")
    )
    return _finish(db.session.get(InboundWebhook, hook_id), result)


def _apply_and_flush(hook_id: str, gp: GatewayPayment, *, actor: str) -> str:
    ledger.lock(InboundWebhook, hook_id)  # again after a rollback (SQLite's second try)
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
    """Mark the delivery processed and its job done (unless a worker runs it), and commit."""
    hook.processed_at = now()
    hook.result = result[:200]
    db.session.execute(
        update(OutboxJob)
        .where(
            OutboxJob.unique_key == _job_key(hook.id),
            OutboxJob.status == "pending",
            OutboxJob.leased_until.is_(None),
        )
        .values(status="done", finished_at=now())
    )
    db.session.commit()
    log.info("inbound %s webhook %s: %s", hook.vendor, hook.id, result)
    return result
