"""Refunds: full or partial, never past what is left, whatever runs at the same time."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import g
from sqlalchemy import select

from payment_backend.errors import ApiError
from payment_backend.extensions import db
from payment_backend.models import AuditEntry, Order, Payment
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
DONE_ACTION = "payment.refunded"


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
    Idempotency-Key, so a retried request cannot refund twice. A retry of a refund whose earlier
    call got no answer is reported done only when that very refund is seen at the gateway.
    """
    if amount is not None and amount <= 0:
        raise ApiError(422, "INVALID_AMOUNT", "The refund amount must be greater than zero.")
    refund_id = refund_id or g.get("idempotency_id") or new_id()
    if payment.source_schema == "checkout":
        ledger.lock(Order, payment.source_id)  # the order before its payment, as checkout does
    locked = ledger.lock(Payment, payment.id)
    if locked is None:
        db.session.rollback()
        raise ApiError(404, "PAYMENT_NOT_FOUND", "No such payment.")
    earlier = _unknown_attempt(locked.id, refund_id)
    if locked.outcome_unknown or earlier is not None:
        _catch_up(locked)
    gateway_key = f"refund-{refund_id}"
    if earlier is not None:
        cancel_id = _earlier_landed(locked, earlier, refund_account)
        if cancel_id is not None:
            # A retry of a refund whose gateway call timed out, and that very call went through.
            _record_done(locked, earlier, actor=actor, refund_id=refund_id, cancel_id=cancel_id)
            db.session.commit()
            return locked
        # It did not, and never will (the balance it was checked against is gone, or the
        # new call below is checked against the same one): this call is the refund.
        gateway_key = f"refund-{refund_id}-at-{locked.remaining}"
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
    attempt = {
        "amount": amount,
        "asked": amount if amount is not None else remaining,
        "expected_remaining": remaining,
        "gateway_key": gateway_key,
        "known_cancel_ids": sorted(c.vendor_cancel_id for c in locked.cancels),
    }
    try:
        gp = gateway(locked.vendor).cancel(
            locked.vendor_payment_id,
            amount=amount,
            expected_remaining=remaining,
            currency=locked.currency,
            reason=reason,
            idempotency_key=gateway_key,
            refund_account=refund_account,
        )
    except GatewayUnavailable as exc:
        _outcome_unknown(
            locked, actor=actor, reason=reason, refund_id=refund_id, error=str(exc), **attempt
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
    ledger.sync_order(locked)
    notify(locked, previous, ledger.payment_view(locked))
    ledger.audit(
        DONE_ACTION,
        actor=actor,
        payment_id=locked.id,
        amount=attempt["asked"],
        reason=reason,
        refund_id=refund_id,
        refunded=locked.refunded,
        cancel_id=_new_cancel_id(gp, attempt, set()),
    )
    db.session.commit()
    return locked


def _earlier_landed(
    locked: Payment, earlier: dict[str, Any], refund_account: RefundAccount | None
) -> str | None:
    """The gateway's id of the cancel an earlier unanswered call of this refund made, if it did.

    Toss: the call is repeated with its Idempotency-Key and body; Toss answers the first call's
    answer if it landed, runs it now if it never arrived, and refuses it when the balance it was
    checked against is gone. iamport (no idempotency): a cancel of the asked amount that the
    gateway did not have before the call and that no other refund of ours accounts for. Either
    way the earlier call can no longer land later: its balance check (iamport `checksum`, Toss
    `refundableAmount`) fails once any other cancel landed.
    """
    attributed = _attributed_cancel_ids(locked.id)
    if locked.vendor == "toss" and earlier.get("gateway_key"):
        try:
            gp = gateway(locked.vendor).cancel(
                locked.vendor_payment_id,
                amount=earlier.get("amount"),
                expected_remaining=earlier["expected_remaining"],
                currency=locked.currency,
                reason=earlier.get("reason", ""),
                idempotency_key=earlier["gateway_key"],
                refund_account=refund_account,
            )
        except GatewayUnavailable as exc:
            db.session.rollback()
            raise _still_unknown() from exc
        except GatewayError:
            return None
        _catch_up(locked)
        return _new_cancel_id(gp, earlier, attributed) or "unnamed"
    if not earlier.get("asked"):
        return None
    known = set(earlier.get("known_cancel_ids") or ())
    for cancel in locked.cancels:
        if (
            cancel.vendor_cancel_id not in known
            and cancel.vendor_cancel_id not in attributed
            and cancel.amount == earlier["asked"]
        ):
            return cancel.vendor_cancel_id
    return None


def _new_cancel_id(gp: GatewayPayment, attempt: dict[str, Any], attributed: set[str]) -> str | None:
    """The cancel in gp that a call asking attempt["asked"] made (the latest such, if several)."""
    known = set(attempt.get("known_cancel_ids") or ()) | attributed
    found = [
        c.vendor_cancel_id
        for c in gp.cancels
        if c.vendor_cancel_id not in known and c.amount == attempt.get("asked")
    ]
    return found[-1] if found else None


def _record_done(
    locked: Payment, earlier: dict[str, Any], *, actor: str, refund_id: str, cancel_id: str
) -> None:
    ledger.audit(
        DONE_ACTION,
        actor=actor,
        payment_id=locked.id,
        amount=earlier.get("asked"),
        reason=earlier.get("reason", ""),
        refund_id=refund_id,
        refunded=locked.refunded,
        cancel_id=cancel_id,
        after_unknown=True,
    )


def _still_unknown() -> ApiError:
    return ApiError(
        502,
        "REFUND_OUTCOME_UNKNOWN",
        "The gateway has not settled the earlier call of this refund yet; retry later "
        "with the same Idempotency-Key.",
        headers={"Retry-After": "5"},
    )


def _attributed_cancel_ids(payment_id: str) -> set[str]:
    """Gateway cancel ids that refunds of ours are recorded as having made."""
    entries = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.payment_id == payment_id, AuditEntry.action == DONE_ACTION
        )
    )
    return {e.detail["cancel_id"] for e in entries if e.detail.get("cancel_id")}


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
    """The audit detail of this refund's latest call, if its outcome was unknown."""
    entries = db.session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.payment_id == payment_id,
            AuditEntry.action.in_((UNKNOWN_ACTION, DONE_ACTION)),
        )
        .order_by(AuditEntry.id.desc())
        .limit(50)
    )
    latest = next((e for e in entries if e.detail.get("refund_id") == refund_id), None)
    return latest.detail if latest is not None and latest.action == UNKNOWN_ACTION else None


def _outcome_unknown(
    locked: Payment, *, actor: str, reason: str, refund_id: str, error: str, **attempt: Any
) -> None:
    """Mark the payment unknown, queue its reconciliation and record what was asked, in one
    transaction (a retry of this refund tells from it whether the call landed)."""
    mark_unknown(locked, f"refund {refund_id}: {error[:200]}", due_in=timedelta())
    ledger.audit(
        UNKNOWN_ACTION,
        actor=actor,
        payment_id=locked.id,
        reason=reason,
        refund_id=refund_id,
        refunded_before=locked.refunded,
        error=error[:500],
        **attempt,
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
