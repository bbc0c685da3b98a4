"""Refunds: full or partial, never past what is left, whatever runs at the same time."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import g

from payment_backend.database import LockInterrupted
from payment_backend.errors import ApiError
from payment_backend.extensions import db
from payment_backend.models import GatewayIntent, Order, Payment
from payment_backend.models.payments import new_id
from payment_backend.services import cancels, intents, ledger
from payment_backend.services import refund_retries as retries
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
# SQLite: how often one refund's check may be cut short by other writers (each made progress).
INTERRUPTIONS = 5
UNKNOWN_ACTION = "payment.refund_unknown"
DONE_ACTION = retries.DONE_ACTION


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
    intent is committed (services.intents.begin), so a crash between the
    gateway's cancel and our commit leaves a trace the worker resolves from the gateway.
    refund_id names this refund for the gateway (Toss Idempotency-Key); by default it comes from
    the request's own Idempotency-Key, so a retried request cannot refund twice. A retry of a
    refund whose earlier call got no answer is reported done only when that very refund is seen
    at the gateway. On SQLite, a refund whose payment changed while its intent was committed
    (LockInterrupted) is checked again from the start.
    """
    if amount is not None and amount <= 0:
        raise ApiError(422, "INVALID_AMOUNT", "The refund amount must be greater than zero.")
    refund_id = refund_id or g.get("idempotency_id") or new_id()
    for _ in range(INTERRUPTIONS - 1):
        try:
            return _refund(payment, amount, reason, actor, refund_account, refund_id)
        except LockInterrupted:
            log.info("refund %s: the payment changed before the call; checking again", refund_id)
    return _refund(payment, amount, reason, actor, refund_account, refund_id)


def _refund(
    payment: Payment,
    amount: int | None,
    reason: str,
    actor: str,
    refund_account: RefundAccount | None,
    refund_id: str,
) -> Payment:
    """One try of refund(): resume, check, call the gateway, record."""
    locked, earlier, gateway_key, done = _resume(payment, refund_id, refund_account, actor)
    if done:
        db.session.commit()
        return locked
    _check_refundable(locked, amount)
    call = RefundCall(refund_id, gateway_key, amount, reason, actor, refund_account, earlier)
    return _cancel_at_gateway(locked, call)


@dataclass(frozen=True)
class RefundCall:
    """One refund call to the gateway, as checked against our records."""

    refund_id: str
    gateway_key: str  # the gateway's idempotency key for this very call
    amount: int | None  # None: all that is left
    reason: str
    actor: str
    refund_account: RefundAccount | None
    earlier: GatewayIntent | None  # an earlier call of this refund that got no answer


def _resume(
    payment: Payment, refund_id: str, refund_account: RefundAccount | None, actor: str
) -> tuple[Payment, GatewayIntent | None, str, bool]:
    """(the payment locked, an earlier unanswered call of this refund, the gateway key of this
    call, whether this refund is already done)."""
    locked = _lock(payment)
    earlier = retries.latest_attempt(locked.id, refund_id)
    if earlier is not None and earlier.status == "done":
        # This very refund was made (its caller died before answering; the worker recorded it).
        return locked, earlier, "", True
    failed_before = earlier is not None and earlier.status == "failed"
    if failed_before:
        earlier = None
    if (locked.outcome_unknown or earlier is not None) and retries.catch_up(locked):
        db.session.commit()  # the intent below commits first (SQLite: it joins written work)
        locked = _lock(payment)
    if earlier is not None:
        cancel_id = retries.earlier_landed(locked, earlier, refund_account)
        if cancel_id is not None:
            # A retry of a refund whose gateway call timed out, and that very call went through.
            retries.record_done(
                locked, earlier, actor=actor, refund_id=refund_id, cancel_id=cancel_id
            )
            return locked, earlier, "", True
        # It did not, and never will (the balance it was checked against is gone, or the
        # new call below is checked against the same one): this call is the refund.
        return locked, earlier, f"refund-{refund_id}-at-{locked.remaining}", False
    if failed_before:
        # Its key may hold the refused call's answer at Toss: this call is checked anew.
        return locked, None, f"refund-{refund_id}-at-{locked.remaining}", False
    return locked, None, f"refund-{refund_id}", False


def _check_refundable(locked: Payment, amount: int | None) -> None:
    """Refuse (and release the lock) unless the payment can refund amount."""
    if locked.status not in REFUNDABLE:
        status = locked.status
        db.session.rollback()
        raise ApiError(409, "NOT_REFUNDABLE", f"The payment is {status}; nothing to refund.")
    remaining = locked.remaining  # a refund still being paid out is not refundable again
    if remaining <= 0:
        pending = locked.refund_pending
        db.session.rollback()
        raise ApiError(
            409,
            "NOT_REFUNDABLE",
            "Nothing is left to refund" + (f"; {pending} is being refunded." if pending else "."),
            remaining=0,
            refund_pending=pending,
        )
    if amount is not None and amount > remaining:
        db.session.rollback()
        raise ApiError(
            409,
            "OVER_REFUND",
            f"Only {remaining} is left to refund.",
            remaining=remaining,
            requested=amount,
            refund_pending=locked.refund_pending,
        )


def _cancel_at_gateway(locked: Payment, call: RefundCall) -> Payment:
    """Write the intent, ask the gateway, record its answer; commits."""
    previous = ledger.payment_view(locked)
    remaining = locked.remaining
    known = sorted(c.vendor_cancel_id for c in locked.cancels)
    intent_id = intents.begin(
        "refund",
        vendor=locked.vendor,
        vendor_payment_id=locked.vendor_payment_id,
        payment_id=locked.id,
        currency=locked.currency,
        amount=call.amount,
        expected_remaining=remaining,
        gateway_key=call.gateway_key,
        known_cancel_ids=known,
        refund_id=call.refund_id,
        actor=call.actor,
        reason=call.reason,
        account=call.refund_account is not None,
    )
    attempt = {
        "amount": call.amount,
        "asked": call.amount if call.amount is not None else remaining,
        "expected_remaining": remaining,
        "gateway_key": call.gateway_key,
        "known_cancel_ids": known,
        "intent_id": intent_id,
    }
    try:
        gp = gateway(locked.vendor).cancel(
            locked.vendor_payment_id,
            amount=call.amount,
            expected_remaining=remaining,
            currency=locked.currency,
            reason=call.reason,
            idempotency_key=call.gateway_key,
            refund_account=call.refund_account,
        )
    except GatewayUnavailable as exc:
        intents.unknown(intent_id, str(exc))
        _outcome_unknown(locked, call, str(exc), attempt)
        raise  # 502 GATEWAY_UNAVAILABLE: the refund's outcome is reconciled; retry with its key
    except GatewayError as exc:
        intents.refused(intent_id, exc)
        if retries.refused(
            locked,
            call.earlier,
            actor=call.actor,
            amount=call.amount,
            refund_id=call.refund_id,
            error=exc,
        ):
            return locked  # refused because the earlier call of this refund landed meanwhile
        raise  # 409 GATEWAY_REFUSED with the gateway's code
    _record_answer(locked, gp, call, previous, attempt)
    return locked


def _record_answer(
    locked: Payment,
    gp: GatewayPayment,
    call: RefundCall,
    previous: dict[str, Any],
    attempt: dict[str, Any],
) -> None:
    """Record the gateway's answer to this refund call, notify, audit; commits."""
    intent_id = attempt["intent_id"]
    attributed = cancels.attributed_cancel_ids(db.session.get(GatewayIntent, intent_id))
    cancel_id = retries.new_cancel_id(gp, attempt["known_cancel_ids"], attempt["asked"], attributed)
    intents.done(intent_id, gp, cancel_id)
    ledger.apply_gateway(locked, gp)
    ledger.sync_order(locked)
    notify(locked, previous, ledger.payment_view(locked))
    ledger.audit(
        DONE_ACTION,
        actor=call.actor,
        payment_id=locked.id,
        amount=attempt["asked"],
        reason=call.reason,
        refund_id=call.refund_id,
        refunded=locked.refunded,
        cancel_id=cancel_id,
    )
    db.session.commit()


def _lock(payment: Payment) -> Payment:
    """The payment locked, its checkout order first (the checkout's lock order)."""
    if payment.source_schema == "checkout":
        ledger.lock(Order, payment.source_id)
    locked = ledger.lock(Payment, payment.id)
    if locked is None:
        db.session.rollback()
        raise ApiError(404, "PAYMENT_NOT_FOUND", "No such payment.")
    return locked


def _outcome_unknown(
    locked: Payment, call: RefundCall, error: str, attempt: dict[str, Any]
) -> None:
    """Mark the payment unknown, queue its reconciliation and record what was asked, in one
    transaction (a retry of this refund tells from its intent whether the call landed)."""
    mark_unknown(locked, f"refund {call.refund_id}: {error[:200]}", due_in=timedelta())
    ledger.audit(
        UNKNOWN_ACTION,
        actor=call.actor,
        payment_id=locked.id,
        reason=call.reason,
        refund_id=call.refund_id,
        refunded_before=locked.refunded,
        error=error[:500],
        **attempt,
    )
    db.session.commit()


def refund_order(
    order: Order,
    amount: int | None,
    reason: str,
    *,
    actor: str,
    refund_account: RefundAccount | None = None,
) -> Order:
    """Refund part or all of an order's payment; the order follows the payment's status.

    A deposited virtual account is refunded by bank transfer, so it needs the buyer's account
    (422 REFUND_ACCOUNT_REQUIRED without one); other payments ignore it.
    """
    if order.payment is None or order.status not in ("paid", "partially_refunded"):
        raise ApiError(
            409, "NOT_REFUNDABLE", f"Order {order.id} is {order.status}; nothing to refund."
        )
    if order.payment.method != "vbank":
        refund_account = None
    elif refund_account is None:
        raise ApiError(
            422,
            "REFUND_ACCOUNT_REQUIRED",
            "A virtual-account payment is refunded to the buyer's bank account: "
            "give refund_account {bank, account, holder}.",
        )
    # the order follows its payment
    refund(order.payment, amount, reason, actor=actor, refund_account=refund_account)
    return db.session.get(Order, order.id)
