"""The checks every completion, webhook and sweep runs on a gateway payment."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from payment_backend.jobs import enqueue
from payment_backend.services import intents
from payment_backend.vendors import base, gateway
from payment_backend.vendors.base import GatewayError, GatewayPayment, GatewayUnavailable

log = logging.getLogger(__name__)

# A forged payment whose cancel failed is cancelled again by the worker this much later.
CANCEL_RETRY_AFTER = timedelta(seconds=30)
FORGERY_CANCEL_REASON = "Payment did not match the order; cancelled automatically"


@dataclass(frozen=True)
class Verdict:
    """The outcome of verifying a gateway payment against what we expect."""

    ok: bool
    code: str = ""  # AMOUNT_MISMATCH | ORDER_MISMATCH | CURRENCY_MISMATCH | PAYMENT_NOT_PAID | PAYMENT_NOT_COMPLETED
    message: str = ""
    forged: bool = False  # money moved that must go back
    detail: dict[str, Any] | None = None


def verify(
    gp: GatewayPayment,
    *,
    order_id: str,
    amount: int,
    currency: str,
    reported: int | None = None,
) -> Verdict:
    """Check the gateway's payment against our order: order id, currency, amounts, status."""
    charged = gp.status in (base.PAID, base.AWAITING_DEPOSIT)
    if gp.order_id != order_id:
        return Verdict(
            False,
            "ORDER_MISMATCH",
            "The payment belongs to another order.",
            detail={"expected_order_id": order_id, "payment_order_id": gp.order_id},
        )
    if gp.status == base.FAILED:
        return Verdict(
            False, "PAYMENT_NOT_PAID", f"The payment failed: {gp.failure or 'declined'}."
        )
    if gp.status == base.CANCELLED:
        return Verdict(False, "PAYMENT_NOT_PAID", "The payment was cancelled at the gateway.")
    if gp.status == base.READY:
        return Verdict(False, "PAYMENT_NOT_COMPLETED", "The payment has not been completed yet.")
    if gp.currency != currency:
        return Verdict(
            False,
            "CURRENCY_MISMATCH",
            f"The payment was made in {gp.currency}, the order is in {currency}.",
            forged=charged,
            detail={"expected_currency": currency, "paid_currency": gp.currency},
        )
    if gp.amount != amount or (reported is not None and reported != amount):
        return Verdict(
            False,
            "AMOUNT_MISMATCH",
            "The amount paid did not match the order; the payment was cancelled.",
            forged=charged,
            detail={"expected": amount, "paid": gp.amount, "reported": reported},
        )
    return Verdict(True)


def give_back(
    gp: GatewayPayment, *, reason: str, key: str, kind: str = "forgery"
) -> GatewayPayment:
    """Cancel all a payment still holds, or revoke its virtual account if nothing was deposited.

    The caller has just read gp from the gateway; the expected balance guards against a change
    in between (iamport checksum, Toss refundableAmount). An intent is committed before the
    call (services.intents): if the caller dies before recording the answer, the worker does.
    """
    client = gateway(gp.vendor)
    revoke = gp.status == base.AWAITING_DEPOSIT
    intent_id = intents.begin(
        kind,
        vendor=gp.vendor,
        vendor_payment_id=gp.payment_id,
        currency=gp.currency,
        amount=None,
        expected_remaining=gp.amount if revoke else gp.remaining,
        gateway_key=key,
        known_cancel_ids=[c.vendor_cancel_id for c in gp.cancels],
        reason=reason,
        revoke=revoke,
    )
    try:
        if revoke:
            answer = client.revoke(
                gp.payment_id, amount=gp.amount, currency=gp.currency, reason=reason
            )
        else:
            answer = client.cancel(
                gp.payment_id,
                amount=None,
                expected_remaining=gp.remaining,
                currency=gp.currency,
                reason=reason,
                idempotency_key=key,
            )
    except GatewayUnavailable as exc:
        intents.unknown(intent_id, str(exc))
        raise
    except GatewayError as exc:
        intents.refused(intent_id, exc)
        raise
    known = {c.vendor_cancel_id for c in gp.cancels}
    made = [c.vendor_cancel_id for c in answer.cancels if c.vendor_cancel_id not in known]
    intents.done(intent_id, answer, made[-1] if made else None)
    return answer


def cancel_forgery(
    gp: GatewayPayment, reason: str = FORGERY_CANCEL_REASON
) -> GatewayPayment | None:
    """Cancel everything still charged on a forged payment; None if the gateway could not be reached."""
    if gp.remaining <= 0:
        return gp
    if gp.status == base.AWAITING_DEPOSIT:
        reason = reason + " (virtual account revoked before deposit)"
    try:
        return give_back(gp, reason=reason, key=f"forgery-{gp.payment_id}")
    except (GatewayError, GatewayUnavailable) as exc:
        log.error(
            "could not cancel forged payment %s: %s; retrying from the outbox", gp.payment_id, exc
        )
        _queue_cancel(gp, reason)
        return None


def _queue_cancel(gp: GatewayPayment, reason: str) -> None:
    """Leave the cancel to the worker, in the caller's transaction (the caller commits)."""
    enqueue(
        "cancel_forgery",
        {"vendor": gp.vendor, "payment_id": gp.payment_id, "reason": reason},
        unique_key=f"forgery:{gp.vendor}:{gp.payment_id}",
        due_in=CANCEL_RETRY_AFTER,
    )
