"""Refunds: full or partial, never past what is left, whatever runs at the same time."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import g
from sqlalchemy import select

from payment_backend.errors import ApiError
from payment_backend.extensions import db
from payment_backend.models import GatewayIntent, Order, Payment
from payment_backend.models.payments import new_id
from payment_backend.services import intents, ledger
from payment_backend.services.notifications import notify
from payment_backend.services.reconciliation import mark_unknown
from payment_backend.vendors import gateway
from payment_backend.vendors.base import (
    GatewayCancel,
    GatewayError,
    GatewayPayment,
    GatewayUnavailable,
    RefundAccount,
)

log = logging.getLogger(__name__)

REFUNDABLE = ("paid", "partially_refunded")
UNKNOWN_ACTION = "payment.refund_unknown"
DONE_ACTION = intents.REFUND_DONE_ACTION


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
    checks the balance too (iamport `checksum`, Toss `refundableAmount`). Before the call an
    intent is committed on a connection of its own (services.intents), so a crash between the
    gateway's cancel and our commit leaves a trace the worker resolves from the gateway.
    refund_id names this refund for the gateway (Toss Idempotency-Key); by default it comes from
    the request's own Idempotency-Key, so a retried request cannot refund twice. A retry of a
    refund whose earlier call got no answer is reported done only when that very refund is seen
    at the gateway.
    """
    if amount is not None and amount <= 0:
        raise ApiError(422, "INVALID_AMOUNT", "The refund amount must be greater than zero.")
    refund_id = refund_id or g.get("idempotency_id") or new_id()
    locked = _lock(payment)
    earlier = _latest_attempt(locked.id, refund_id)
    if earlier is not None and earlier.status == "done":
        # This very refund was made (its caller died before answering; the worker recorded it).
        db.session.commit()
        return locked
    failed_before = earlier is not None and earlier.status == "failed"
    if failed_before:
        earlier = None
    if (locked.outcome_unknown or earlier is not None) and _catch_up(locked):
        db.session.commit()  # SQLite: the intent below is written on another connection
        locked = _lock(payment)
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
    elif failed_before:
        # Its key may hold the refused call's answer at Toss: this call is checked anew.
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
    known = sorted(c.vendor_cancel_id for c in locked.cancels)
    intent_id = intents.begin(
        "refund",
        vendor=locked.vendor,
        vendor_payment_id=locked.vendor_payment_id,
        payment_id=locked.id,
        currency=locked.currency,
        amount=amount,
        expected_remaining=remaining,
        gateway_key=gateway_key,
        known_cancel_ids=known,
        refund_id=refund_id,
        actor=actor,
        reason=reason,
        account=refund_account is not None,
    )
    attempt = {
        "amount": amount,
        "asked": amount if amount is not None else remaining,
        "expected_remaining": remaining,
        "gateway_key": gateway_key,
        "known_cancel_ids": known,
        "intent_id": intent_id,
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
        intents.unknown(intent_id, str(exc))
        _outcome_unknown(
            locked, actor=actor, reason=reason, refund_id=refund_id, error=str(exc), **attempt
        )
        raise  # 502 GATEWAY_UNAVAILABLE: the refund's outcome is reconciled; retry with its key
    except GatewayError as exc:
        intents.refused(intent_id, exc)
        if _refused(locked, earlier, actor=actor, amount=amount, refund_id=refund_id, error=exc):
            return locked  # refused because the earlier call of this refund landed meanwhile
        raise  # 409 GATEWAY_REFUSED with the gateway's code
    attributed = intents.attributed_cancel_ids(db.session.get(GatewayIntent, intent_id))
    cancel_id = _new_cancel_id(gp, known, attempt["asked"], attributed)
    intents.done(intent_id, gp, cancel_id)
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
        cancel_id=cancel_id,
    )
    db.session.commit()
    return locked


def _lock(payment: Payment) -> Payment:
    """The payment locked, its checkout order first (the checkout's lock order)."""
    if payment.source_schema == "checkout":
        ledger.lock(Order, payment.source_id)
    locked = ledger.lock(Payment, payment.id)
    if locked is None:
        db.session.rollback()
        raise ApiError(404, "PAYMENT_NOT_FOUND", "No such payment.")
    return locked


def _latest_attempt(payment_id: str, refund_id: str) -> GatewayIntent | None:
    """This refund's latest call at the gateway, if it made one."""
    recent = db.session.scalars(
        select(GatewayIntent)
        .where(GatewayIntent.payment_id == payment_id, GatewayIntent.kind == "refund")
        .order_by(GatewayIntent.id.desc())
        .limit(50)
    )
    return next((i for i in recent if i.detail.get("refund_id") == refund_id), None)


def _earlier_landed(
    locked: Payment, earlier: GatewayIntent, refund_account: RefundAccount | None
) -> str | None:
    """The gateway's id of the cancel an earlier unanswered call of this refund made, if it did
    (recording that intent done).

    An idempotent cancel (Toss) is repeated with its key and body; the gateway answers the first
    call's answer if it landed, runs it now if it never arrived, and refuses it when the balance
    it was checked against is gone. Otherwise (iamport, no idempotency): a cancel of the asked
    amount that the gateway did not have before the call and that no other refund of ours
    accounts for. Either way the earlier call can no longer land later: its balance check
    (iamport `checksum`, Toss `refundableAmount`) fails once any other cancel landed.
    """
    attributed = intents.attributed_cancel_ids(earlier)
    client = gateway(locked.vendor)
    if client.idempotent_cancel and earlier.gateway_key:
        try:
            gp = client.cancel(
                locked.vendor_payment_id,
                amount=earlier.amount,
                expected_remaining=earlier.expected_remaining,
                currency=locked.currency,
                reason=earlier.detail.get("reason", ""),
                idempotency_key=earlier.gateway_key,
                refund_account=refund_account,
            )
        except GatewayUnavailable as exc:
            db.session.rollback()
            raise _still_unknown() from exc
        except GatewayError:
            return None
        _catch_up(locked)
        cancel_id = _new_cancel_id(gp, earlier.known_cancel_ids, earlier.asked, attributed)
        intents.done(earlier.id, gp, cancel_id)
        return cancel_id or "unnamed"
    cancel_id = intents.landed_cancel(earlier, _current(locked), attributed)
    if cancel_id is not None:
        intents.done(earlier.id, _current(locked), cancel_id)
    return cancel_id


def _current(locked: Payment) -> GatewayPayment:
    """Our record as a gateway read (after a catch-up it is the gateway's latest)."""
    return GatewayPayment(
        vendor=locked.vendor,
        payment_id=locked.vendor_payment_id,
        order_id=locked.source_id,
        status=locked.status,
        method=locked.method,
        currency=locked.currency,
        amount=locked.amount,
        cancelled=locked.refunded,
        paid_at=locked.paid_at,
        cancels=[
            GatewayCancel(c.vendor_cancel_id, c.amount, c.reason, c.cancelled_at, {})
            for c in locked.cancels
        ],
    )


def _new_cancel_id(
    gp: GatewayPayment, known_cancel_ids: list[str], asked: int, attributed: set[str]
) -> str | None:
    """The cancel in gp that a call asking `asked` made (the latest such, if several)."""
    known = set(known_cancel_ids or ()) | attributed
    found = [
        c.vendor_cancel_id
        for c in gp.cancels
        if c.vendor_cancel_id not in known and c.amount == asked
    ]
    return found[-1] if found else None


def _record_done(
    locked: Payment, earlier: GatewayIntent, *, actor: str, refund_id: str, cancel_id: str
) -> None:
    ledger.audit(
        DONE_ACTION,
        actor=actor,
        payment_id=locked.id,
        amount=earlier.asked,
        reason=earlier.detail.get("reason", ""),
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


def _catch_up(locked: Payment) -> bool:
    """A previous call's outcome is unknown: read the gateway first (the row is locked);
    whether our record moved."""
    try:
        gp = gateway(locked.vendor).get_payment(locked.vendor_payment_id)
    except GatewayError as exc:
        db.session.rollback()
        raise GatewayUnavailable(f"catching up with {locked.vendor_payment_id}: {exc}") from exc
    except GatewayUnavailable:
        db.session.rollback()
        raise
    return _apply_if_changed(locked, gp)


def _apply_if_changed(locked: Payment, gp: GatewayPayment) -> bool:
    if ledger.follow_gateway(locked, gp):  # the order follows, the merchant is told
        ledger.audit("payment.caught_up", actor="system", payment_id=locked.id)
        return True
    return False


def _outcome_unknown(
    locked: Payment, *, actor: str, reason: str, refund_id: str, error: str, **attempt: object
) -> None:
    """Mark the payment unknown, queue its reconciliation and record what was asked, in one
    transaction (a retry of this refund tells from its intent whether the call landed)."""
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


def _refused(
    locked: Payment,
    earlier: GatewayIntent | None,
    *,
    actor: str,
    amount: int | None,
    refund_id: str,
    error: GatewayError,
) -> bool:
    """Record the refusal and catch up with the gateway (a cancel made elsewhere, or this
    refund's earlier call that landed meanwhile); commits. Whether the refund asked for is
    at the gateway after all (the earlier call's cancel): then it is answered as done."""
    try:
        gp = gateway(locked.vendor).get_payment(locked.vendor_payment_id)
    except (GatewayError, GatewayUnavailable):
        gp = None
    if gp is not None:
        _apply_if_changed(locked, gp)
        if earlier is not None and earlier.open:
            cancel_id = intents.landed_cancel(earlier, gp, intents.attributed_cancel_ids(earlier))
            if cancel_id is not None:
                intents.done(earlier.id, gp, cancel_id)
                _record_done(locked, earlier, actor=actor, refund_id=refund_id, cancel_id=cancel_id)
                db.session.commit()
                log.info("refund %s caught up after a refused retry: %s", refund_id, cancel_id)
                return True
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
    return False


def refund_order(order: Order, amount: int | None, reason: str, *, actor: str) -> Order:
    """Refund part or all of an order's payment; the order follows the payment's status."""
    if order.payment is None or order.status not in ("paid", "partially_refunded"):
        raise ApiError(
            409, "NOT_REFUNDABLE", f"Order {order.id} is {order.status}; nothing to refund."
        )
    refund(order.payment, amount, reason, actor=actor)  # the order follows its payment
    return db.session.get(Order, order.id)
