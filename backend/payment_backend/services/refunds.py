"""Refunds: full or partial, never past what is left, whatever runs at the same time."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import g
from sqlalchemy import select

from payment_backend.errors import ApiError
from payment_backend.extensions import db
from payment_backend.models import AuditEntry, Payment
from payment_backend.models.payments import new_id
from payment_backend.services import ledger
from payment_backend.services.notifications import notify
from payment_backend.services.reconciliation import mark_unknown
from payment_backend.vendors import gateway
from payment_backend.vendors.base import (
    GatewayError,
    GatewayPayment,
    GatewayUnavailable,
    RefundAccount,
)

log = logging.getLogger(__name__)

REFUNDABLE = ("paid", "partially_refunded")
UNKNOWN_ACTION = "payment.refund_unknown"


def refund(
    payment: Payment,
    amount: int | None,
    reason: str,
    *,
    actor: str,
    refund_account: RefundAccount | None = None,
    refund_id: str | None = None,
) -> Payment:
    """Refund amount (None: all that is left) at the gateway and record it; commits.

    The payment row stays locked from the balance check to the recorded answer, and the gateway
    checks the balance too (iamport `checksum`, Toss `refundableAmount`). refund_id names this
    refund for the gateway (Toss Idempotency-Key); by default it comes from the request's own
    Idempotency-Key, so a retried request cannot refund twice.
    """
    if amount is not None and amount <= 0:
        raise ApiError(422, "INVALID_AMOUNT", "The refund amount must be greater than zero.")
    refund_id = refund_id or g.get("idempotency_id") or new_id()
    locked = ledger.lock(Payment, payment.id)
    if locked is None:
        db.session.rollback()
        raise ApiError(404, "PAYMENT_NOT_FOUND", "No such payment.")
    earlier = _unknown_attempt(locked.id, refund_id)
    if locked.outcome_unknown or earlier is not None:
        _catch_up(locked)
    if earlier is not None and locked.refunded > earlier.get("refunded_before", locked.refunded):
        # A retry of a refund whose gateway call timed out, and that call went through.
        db.session.commit()
        return locked
    if locked.status not in REFUNDABLE:
        status = locked.status
        db.session.rollback()
        raise ApiError(409, "NOT_REFUNDABLE", f"The payment is {status}; nothing to refund.")
    remaining = locked.remaining
    if amount is not None and amount > remaining:
        db.session.rollback()
        raise ApiError(
            409,
            "OVER_REFUND",
            f"Only {remaining} is left to refund.",
            remaining=remaining,
            requested=amount,
        )
    previous = ledger.payment_view(locked)
    try:
        gp = gateway(locked.vendor).cancel(
            locked.vendor_payment_id,
            amount=amount,
            expected_remaining=remaining,
            currency=locked.currency,
            reason=reason,
            idempotency_key=f"refund-{refund_id}",
            refund_account=refund_account,
        )
    except GatewayUnavailable as exc:
        _outcome_unknown(
            locked, actor=actor, amount=amount, reason=reason, refund_id=refund_id, error=str(exc)
        )
        raise ApiError(
            502,
            "GATEWAY_UNAVAILABLE",
            "The gateway did not answer; the refund's outcome will be reconciled. "
            "Retry with the same Idempotency-Key, or read the payment later.",
        ) from exc
    except GatewayError as exc:
        _refused(locked, actor=actor, amount=amount, error=exc)
        raise ApiError(
            409,
            "GATEWAY_REFUSED",
            exc.message or "The gateway refused the refund.",
            gateway_code=exc.code,
        ) from exc
    ledger.apply_gateway(locked, gp)
    notify(locked, previous, ledger.payment_view(locked))
    ledger.audit(
        "payment.refunded",
        actor=actor,
        payment_id=locked.id,
        amount=amount if amount is not None else remaining,
        reason=reason,
        refund_id=refund_id,
        refunded=locked.refunded,
    )
    db.session.commit()
    return locked


def _catch_up(locked: Payment) -> None:
    """A previous call's outcome is unknown: read the gateway first (the row is locked)."""
    try:
        gp = gateway(locked.vendor).get_payment(locked.vendor_payment_id)
    except (GatewayError, GatewayUnavailable) as exc:
        db.session.rollback()
        raise ApiError(
            502,
            "GATEWAY_UNAVAILABLE",
            "The outcome of an earlier gateway call is not known yet; retry later.",
        ) from exc
    _apply_if_changed(locked, gp)


def _apply_if_changed(locked: Payment, gp: GatewayPayment) -> None:
    if ledger.follow_gateway(locked, gp):
        ledger.audit("payment.caught_up", actor="system", payment_id=locked.id)


def _unknown_attempt(payment_id: str, refund_id: str) -> dict | None:
    """The audit detail of an earlier attempt of this refund whose outcome was unknown."""
    entries = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.payment_id == payment_id, AuditEntry.action == UNKNOWN_ACTION)
        .order_by(AuditEntry.id.desc())
        .limit(20)
    )
    return next((e.detail for e in entries if e.detail.get("refund_id") == refund_id), None)


def _outcome_unknown(
    locked: Payment, *, actor: str, amount, reason: str, refund_id: str, error: str
) -> None:
    """Mark the payment unknown and queue its reconciliation, in one transaction."""
    mark_unknown(locked, f"refund {refund_id}: {error[:200]}", due_in=timedelta())
    ledger.audit(
        UNKNOWN_ACTION,
        actor=actor,
        payment_id=locked.id,
        amount=amount,
        reason=reason,
        refund_id=refund_id,
        refunded_before=locked.refunded,
        error=error[:500],
    )
    db.session.commit()


def _refused(locked: Payment, *, actor: str, amount, error: GatewayError) -> None:
    """Record the refusal; if our record was behind the gateway (a cancel made elsewhere), catch up."""
    try:
        gp = gateway(locked.vendor).get_payment(locked.vendor_payment_id)
    except (GatewayError, GatewayUnavailable):
        gp = None
    if gp is not None:
        _apply_if_changed(locked, gp)
    ledger.audit(
        "payment.refund_refused",
        actor=actor,
        payment_id=locked.id,
        amount=amount,
        gateway_code=error.code,
        message=error.message[:500],
    )
    db.session.commit()
    log.info("gateway refused a refund of %s on %s: %s", amount, locked.id, error.message)
