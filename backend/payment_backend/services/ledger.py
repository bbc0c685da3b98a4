"""Our record of a payment, kept in step with what the gateway says."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, fields, is_dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, SessionTransaction, lazyload

from payment_backend import vendors
from payment_backend.clock import iso, now
from payment_backend.crypto import sealer
from payment_backend.extensions import db
from payment_backend.jobs import enqueue
from payment_backend.models import AuditEntry, Base, Order, Payment, PaymentCancel
from payment_backend.services.notifications import notify
from payment_backend.vendors import base
from payment_backend.vendors.base import GatewayPayment

# A pending refund whose payout time the gateway does not tell is looked up this often.
PENDING_REFUND_LOOK = timedelta(hours=1)
LOCKED = "ledger_locked_rows"  # session.info: the rows lock() took in this transaction
M = TypeVar("M", bound=Base)
T = TypeVar("T")
log = logging.getLogger(__name__)


def lock(model: type[M], key: Any) -> M | None:
    """Load a row locked until the transaction ends: SELECT ... FOR UPDATE on PostgreSQL; on
    SQLite the transaction holds the database's write lock from its BEGIN IMMEDIATE (see
    payment_backend.database), and the row is noted for intents.begin, which re-takes it."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.info.setdefault(LOCKED, {})[(model, key)] = None
    # Related rows are loaded afterwards, not joined: after waiting for the lock, PostgreSQL
    # re-reads only the locked row, so a joined row committed meanwhile (an order's payment, a
    # subscription's card) would be missing from the answer.
    return db.session.execute(
        select(model)
        .where(model.id == key)
        .options(lazyload("*"))
        .with_for_update(of=model)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def locked_rows() -> list[tuple[type[Base], Any]]:
    """The rows lock() took in this transaction, in order (SQLite only)."""
    return list(db.session.info.get(LOCKED, {}))


@event.listens_for(Session, "after_transaction_end")
def _forget_locked(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(LOCKED, None)


def once_more_on_conflict(action: Callable[[], T]) -> T:
    """Run action; if a concurrent writer inserted the same row first, roll back and run it again.

    A completion and its webhook can both try to record the same payment where no lock orders
    them (on SQLite, a transaction begun deferred: payment_backend.database). The second run sees
    the first one's row.
    """
    try:
        return action()
    except IntegrityError:
        db.session.rollback()
        return action()


# How far a payment has got; a gateway read older than our record would move it backwards.
PROGRESS = {"pending": 0, "awaiting_deposit": 1, "paid": 2, "partially_refunded": 3, "refunded": 4}


def is_stale(payment: Payment, gp: GatewayPayment) -> bool:
    """Whether gp was read before a change we already recorded (e.g. a refund in between)."""
    ours_ever = payment.refunded + payment.refund_pending
    ours_ever += sum(c.amount for c in payment.cancels if c.status == base.REFUND_FAILED)
    if gp.ever_cancelled < ours_ever or len(gp.cancels) < len(payment.cancels):
        return True
    settled = {c.vendor_cancel_id for c in payment.cancels if c.status != base.REFUND_PENDING}
    if any(c.status == base.REFUND_PENDING and c.vendor_cancel_id in settled for c in gp.cancels):
        return True  # a refund we know paid out (or failed) shown as still pending
    if gp.deposit_reversed:
        return False  # the gateway says it moved back: a deposit the bank reversed
    before, after = PROGRESS.get(payment.status), PROGRESS.get(status_of(gp))
    return before is not None and after is not None and after < before


def status_of(gp: GatewayPayment) -> str:
    """Our payment status from the gateway's state and the money returned (a pending refund is
    not returned yet)."""
    if gp.status == base.READY:
        return "pending"
    if gp.status == base.AWAITING_DEPOSIT:
        return "awaiting_deposit"
    if gp.status == base.FAILED:
        return "failed"
    if gp.status == base.CANCELLED and gp.paid_at is None:
        return "cancelled"
    if gp.returned == 0:
        return "paid"
    return "refunded" if gp.returned >= gp.amount else "partially_refunded"


def apply_gateway(payment: Payment, gp: GatewayPayment) -> None:
    """Copy the gateway's view onto our record; the caller holds the row lock.

    A read older than the record (taken before a concurrent change) is ignored.
    """
    if payment.sealed_data and is_stale(payment, gp):
        log.info("ignoring a stale read of payment %s", payment.id)
        return
    payment.method = gp.method
    payment.currency = gp.currency
    payment.amount = gp.amount
    payment.refunded = gp.returned
    payment.refund_pending = gp.refund_pending
    payment.status = status_of(gp)
    payment.outcome_unknown = False
    payment.sealed_data = sealer().seal(gp.raw)
    payment.easy_pay_provider = (gp.easy_pay or {}).get("provider")
    if gp.paid_at and payment.paid_at is None:
        payment.paid_at = gp.paid_at
    if gp.deposit_reversed:
        payment.paid_at = None
    _apply_cancels(payment, gp)
    if payment.cancelled_at is None and (gp.cancels or gp.status == base.CANCELLED):
        # Set once, from the gateway's first cancel (the seed overwrote it on every update).
        first = min((c.cancelled_at for c in gp.cancels), default=None)
        payment.cancelled_at = first or now()
    if payment.refund_pending and payment.id is not None:
        _watch_pending_refunds(payment, gp)


def _apply_cancels(payment: Payment, gp: GatewayPayment) -> None:
    """Add the gateway's new cancels; known ones take the gateway's refund state."""
    known = {c.vendor_cancel_id: c for c in payment.cancels}
    for cancel in gp.cancels:
        row = known.get(cancel.vendor_cancel_id)
        if row is not None:
            row.status, row.settles_at = cancel.status, cancel.settles_at
            continue
        row = PaymentCancel(
            vendor_cancel_id=cancel.vendor_cancel_id,
            amount=cancel.amount,
            reason=cancel.reason,
            status=cancel.status,
            settles_at=cancel.settles_at,
            cancelled_at=cancel.cancelled_at,
            sealed_data=sealer().seal(cancel.raw),
        )
        payment.cancels.append(row)
        known[cancel.vendor_cancel_id] = row


def _watch_pending_refunds(payment: Payment, gp: GatewayPayment) -> None:
    """Queue (or re-arm) the look at the gateway that settles the payment's pending refunds."""
    expected = [c.settles_at for c in gp.cancels if c.status == base.REFUND_PENDING]
    due = min((at for at in expected if at is not None), default=now() + PENDING_REFUND_LOOK)
    key, payload = f"refunds:{payment.id}", {"payment_id": payment.id}
    queued = enqueue("settle_refunds", payload, unique_key=key, due_at=due)
    if queued.status != "pending":  # settled before: look again for this one
        enqueue("settle_refunds", payload, unique_key=key, due_at=due, rearm=True)


def sync_order(payment: Payment, *, actor: str = "system") -> None:
    """The one place an order's status follows its payment's (every path that changes one).

    Callers lock the order before the payment (the checkout's lock order), so this never waits.
    """
    if payment.source_schema != "checkout":
        return
    order = db.session.get(Order, payment.source_id)
    if (
        order is not None
        and order.payment_id == payment.id
        and order.follow_payment(payment.status)
    ):
        audit(f"order.{order.status}", actor=actor, order_id=order.id, payment_id=payment.id)


def follow_gateway(
    payment: Payment, gp: GatewayPayment, *, actor: str = "system"
) -> tuple[str, str] | None:
    """Apply gp to the locked payment; if its status or refund moved, queue the merchant's
    notification, bring its order along and return (previous status, current status)."""
    before = (payment.status, payment.refunded, payment.refund_pending)
    # The views unseal the gateway data: only build them for a merchant who is notified.
    previous = payment_view(payment) if payment.webhook_url else None
    apply_gateway(payment, gp)
    if (payment.status, payment.refunded, payment.refund_pending) == before:
        return None
    sync_order(payment, actor=actor)
    if payment.webhook_url:
        db.session.flush()
        notify(payment, previous, payment_view(payment))
    return before[0], payment.status


def new_payment(
    gp: GatewayPayment, *, source: dict[str, str], store_id: str = "", **fields: Any
) -> Payment:
    """A record for a verified gateway payment (added to the session)."""
    payment = Payment(
        vendor=gp.vendor,
        store_id=store_id,
        vendor_payment_id=gp.payment_id,
        source_schema=source["schema"],
        source_table=source["table"],
        source_id=source["id"],
        cancels=[],
        **fields,
    )
    apply_gateway(payment, gp)
    db.session.add(payment)
    return payment


def gateway_data(payment: Payment) -> dict[str, Any]:
    """The gateway's payment object as last read."""
    return sealer().unseal(payment.sealed_data)


def last_read(payment: Payment) -> GatewayPayment:
    """The gateway's payment as last read, normalized (vbank, card, receipt)."""
    return vendors.normalize(payment.vendor, gateway_data(payment))


@dataclass(frozen=True)
class SeedVendor:
    """IPaymentVendor: the seed's vendor code, the store and the gateway's id of the record."""

    code: str
    store_id: str
    uid: str


@dataclass(frozen=True)
class SeedSource:
    """The caller's own reference of a record."""

    schema: str
    table: str
    id: str


@dataclass(frozen=True)
class CancelRecord:
    """IPaymentCancelHistory: one refund as the gateway recorded it."""

    id: str
    price: int
    reason: str
    created_at: datetime
    data: dict[str, Any]


@dataclass(frozen=True)
class PaymentRecord:
    """The seed's IPaymentHistory (amounts in minor units); schemas.service dumps it."""

    id: str
    vendor: SeedVendor
    source: SeedSource
    currency: str
    price: int
    refund: int | None
    status: str
    webhook_url: str | None
    created_at: datetime
    paid_at: datetime | None
    cancelled_at: datetime | None
    cancels: list[CancelRecord]
    data: dict[str, Any]


def payment_record(payment: Payment) -> PaymentRecord:
    """A payment as the seed's IPaymentHistory."""
    return PaymentRecord(
        id=payment.id,
        vendor=SeedVendor(
            vendors.SEED_CODES[payment.vendor], payment.store_id, payment.vendor_payment_id
        ),
        source=SeedSource(payment.source_schema, payment.source_table, payment.source_id),
        currency=payment.currency,
        price=payment.amount,
        refund=payment.refunded or None,
        status=payment.status,
        webhook_url=payment.webhook_url,
        created_at=payment.created_at,
        paid_at=payment.paid_at,
        cancelled_at=payment.cancelled_at,
        cancels=[
            CancelRecord(c.id, c.amount, c.reason, c.cancelled_at, sealer().unseal(c.sealed_data))
            for c in payment.cancels
        ],
        data=gateway_data(payment),
    )


def plain(value: Any) -> Any:
    """A view as JSON-ready data: data classes as dicts, moments in ISO 8601 UTC (clock.iso)."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def payment_view(payment: Payment) -> dict[str, Any]:
    """The payment record as the outbound webhooks carry it (previous and current)."""
    return plain(payment_record(payment))


def audit(
    action: str,
    *,
    actor: str,
    order_id: str | None = None,
    payment_id: str | None = None,
    **detail: Any,
) -> None:
    """Write an audit entry in the current transaction."""
    db.session.add(
        AuditEntry(
            at=now(),
            actor=actor,
            action=action,
            order_id=order_id,
            payment_id=payment_id,
            detail=detail,
        )
    )
