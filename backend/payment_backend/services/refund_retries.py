"""A retried refund: what its earlier unanswered call did at the gateway, and catching up.

A refund call that got no answer (a timeout) may have landed. Its retry (the same refund id)
first finds out: it catches up with the gateway's state and, where the earlier call's cancel is
there, answers that refund as done instead of cancelling twice.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from payment_backend.errors import ApiError
from payment_backend.extensions import db
from payment_backend.models import GatewayIntent, Payment
from payment_backend.services import cancels, intents, ledger
from payment_backend.vendors import gateway
from payment_backend.vendors.base import (
    GatewayCancel,
    GatewayError,
    GatewayPayment,
    GatewayUnavailable,
    RefundAccount,
)

log = logging.getLogger(__name__)

DONE_ACTION = cancels.REFUND_DONE_ACTION


def latest_attempt(payment_id: str, refund_id: str) -> GatewayIntent | None:
    """This refund's latest call at the gateway, if it made one."""
    recent = db.session.scalars(
        select(GatewayIntent)
        .where(GatewayIntent.payment_id == payment_id, GatewayIntent.kind == "refund")
        .order_by(GatewayIntent.id.desc())
        .limit(50)
    )
    return next((i for i in recent if i.detail.get("refund_id") == refund_id), None)


def earlier_landed(
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
    attributed = cancels.attributed_cancel_ids(earlier)
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
            raise still_unknown() from exc
        except GatewayError:
            return None
        catch_up(locked)
        cancel_id = new_cancel_id(gp, earlier.known_cancel_ids, earlier.asked, attributed)
        intents.done(earlier.id, gp, cancel_id)
        return cancel_id or "unnamed"
    cancel_id = cancels.landed_cancel(earlier, current(locked), attributed)
    if cancel_id is not None:
        intents.done(earlier.id, current(locked), cancel_id)
    return cancel_id


def current(locked: Payment) -> GatewayPayment:
    """Our record as a gateway read (after a catch-up it is the gateway's latest)."""
    return GatewayPayment(
        vendor=locked.vendor,
        payment_id=locked.vendor_payment_id,
        order_id=locked.source_id,
        status=locked.status,
        method=locked.method,
        currency=locked.currency,
        amount=locked.amount,
        cancelled=locked.refunded + locked.refund_pending,
        paid_at=locked.paid_at,
        cancels=[
            GatewayCancel(
                c.vendor_cancel_id, c.amount, c.reason, c.cancelled_at, {}, c.status, c.settles_at
            )
            for c in locked.cancels
        ],
    )


def new_cancel_id(
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


def record_done(
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


def still_unknown() -> ApiError:
    return ApiError(
        502,
        "REFUND_OUTCOME_UNKNOWN",
        "The gateway has not settled the earlier call of this refund yet; retry later "
        "with the same Idempotency-Key.",
        headers={"Retry-After": "5"},
    )


def catch_up(locked: Payment) -> bool:
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
    return apply_if_changed(locked, gp)


def apply_if_changed(locked: Payment, gp: GatewayPayment) -> bool:
    if ledger.follow_gateway(locked, gp):  # the order follows, the merchant is told
        ledger.audit("payment.caught_up", actor="system", payment_id=locked.id)
        return True
    return False


def refused(
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
        apply_if_changed(locked, gp)
        if earlier is not None and earlier.open:
            cancel_id = cancels.landed_cancel(earlier, gp, cancels.attributed_cancel_ids(earlier))
            if cancel_id is not None:
                intents.done(earlier.id, gp, cancel_id)
                record_done(locked, earlier, actor=actor, refund_id=refund_id, cancel_id=cancel_id)
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
