"""Which cancel at the gateway a call of ours made: matching the gateway's cancels to our calls.

A gateway lists a payment's cancels without saying who asked for them; a call of ours is known
by the balance it was checked against and the amount it asked. These match the two, leaving
out cancels other calls of ours account for.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from payment_backend.clock import now
from payment_backend.extensions import db
from payment_backend.models import AuditEntry, GatewayIntent
from payment_backend.vendors.base import GatewayPayment

REFUND_DONE_ACTION = "payment.refunded"  # refunds.DONE_ACTION: what a retry of a refund reads


def evidence(gp: GatewayPayment) -> dict[str, Any]:
    """What a decision was based on: the gateway's state and cancels (no personal data)."""
    return {
        "status": gp.status,
        "amount": gp.amount,
        "cancelled": gp.cancelled,
        "cancels": [[c.vendor_cancel_id, c.amount] for c in gp.cancels],
        "read_at": now().isoformat(),
    }


def attributed_cancel_ids(intent: GatewayIntent) -> set[str]:
    """Cancels other calls of ours are recorded as having made on the same payment."""
    ids = set(
        db.session.scalars(
            select(GatewayIntent.cancel_id).where(
                GatewayIntent.vendor == intent.vendor,
                GatewayIntent.vendor_payment_id == intent.vendor_payment_id,
                GatewayIntent.id != intent.id,
                GatewayIntent.status == "done",
                GatewayIntent.cancel_id.is_not(None),
            )
        )
    )
    if intent.payment_id:
        entries = db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.payment_id == intent.payment_id,
                AuditEntry.action == REFUND_DONE_ACTION,
            )
        )
        ids |= {e.detail["cancel_id"] for e in entries if e.detail.get("cancel_id")}
    return ids


def landed_cancel(intent: GatewayIntent, gp: GatewayPayment, attributed: set[str]) -> str | None:
    """The cancel the intent's call made, if the gateway shows it: one of the asked amount that
    the gateway did not have before the call and that no other call of ours accounts for."""
    known = set(intent.known_cancel_ids or ()) | attributed
    for cancel in gp.cancels:
        if cancel.vendor_cancel_id not in known and cancel.amount == intent.asked:
            return cancel.vendor_cancel_id
    return None
