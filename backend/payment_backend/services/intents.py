"""Write-ahead intents: a gateway call that moves money is committed before it is made, and its
outcome recorded after; the worker resolves what a crash or a timeout left open by reading the
gateway (iamport `cancel_history`, Toss `cancels[]` and a replay of the same Idempotency-Key),
never by guessing."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.orm import Session

from payment_backend.clock import now
from payment_backend.database import LockInterrupted, has_written
from payment_backend.extensions import db
from payment_backend.jobs import enqueue
from payment_backend.models import GatewayIntent, Order, Payment
from payment_backend.services import ledger
from payment_backend.services.cancels import (
    REFUND_DONE_ACTION,
    attributed_cancel_ids,
    evidence,
    landed_cancel,
)
from payment_backend.vendors import base, gateway
from payment_backend.vendors.base import (
    GatewayError,
    GatewayPayment,
    GatewayUnavailable,
)
from payment_backend.vendors.http import TIMEOUT

log = logging.getLogger(__name__)

# The worker's first look at an intent; the caller normally records its outcome long before.
RESOLVE_AFTER = timedelta(minutes=2)
# A call older than this no longer waits for its answer: connect and read timeouts, twice (the
# Toss client repeats a POST once), and a margin; a pending intent this old lost its caller.
IN_FLIGHT = timedelta(seconds=2 * sum(TIMEOUT) + 15)
# iamport cannot be asked whether a call arrived: a call whose cancel is not there while the
# balance it was checked against still stands is taken as never made only after this many looks
# spread over at least SETTLE (the gateway's own settling time, generously).
UNTOUCHED_LOOKS = 3
SETTLE = timedelta(minutes=5)
# Delay after the n-th inconclusive look (the last repeats): seconds, then minutes, then hours.
RECHECK_DELAYS = (
    timedelta(seconds=10),
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=3),
)


def recheck_after(looks: int) -> timedelta:
    """How long to wait after this many inconclusive looks."""
    return RECHECK_DELAYS[min(max(looks, 1), len(RECHECK_DELAYS)) - 1]


def begin(
    kind: str,
    *,
    vendor: str,
    vendor_payment_id: str,
    currency: str,
    amount: int | None,
    expected_remaining: int,
    gateway_key: str,
    payment_id: str | None = None,
    known_cancel_ids: list[str] | None = None,
    **detail: Any,
) -> int:
    """Commit the intent and its resolve_intent job before the call; returns the intent's id.

    PostgreSQL: on a connection of its own, so the caller keeps its row locks (the mutual
    exclusion of refunds) while the intent is already durable. SQLite has one writer, whose lock
    is the caller's: the intent commits with the caller's transaction, which takes the rows it
    had locked again at once; if one changed in between, the intent is withdrawn (never called)
    and LockInterrupted raised. A caller that has written already keeps its work uncommitted:
    the intent joins its transaction instead.
    """
    if payment_id is None:
        payment_id = db.session.scalars(
            select(Payment.id).where(
                Payment.vendor == vendor, Payment.vendor_payment_id == vendor_payment_id
            )
        ).first()
    intent = GatewayIntent(
        kind=kind,
        vendor=vendor,
        vendor_payment_id=vendor_payment_id,
        payment_id=payment_id,
        currency=currency,
        amount=amount,
        expected_remaining=expected_remaining,
        gateway_key=gateway_key,
        known_cancel_ids=sorted(known_cancel_ids or ()),
        status="pending",
        detail=detail,
        looks=0,
        created_at=now(),
    )
    with _own_transaction(withdraw=intent) as session:
        session.add(intent)
        session.flush()
        enqueue(
            "resolve_intent",
            {"intent_id": intent.id},
            unique_key=f"intent:{intent.id}",
            due_in=RESOLVE_AFTER,
            session=session,
        )
        return intent.id


def unknown(intent_id: int, error: str) -> None:
    """The call got no answer: reconciliation reads the gateway (committed at once)."""
    with _own_transaction() as session:
        intent = session.get(GatewayIntent, intent_id)
        if intent is not None and intent.status == "pending":
            intent.status = "unknown"
            intent.detail = {**intent.detail, "error": error[:500]}


def refused(intent_id: int, error: GatewayError) -> None:
    """The gateway refused the call: nothing moved (committed at once)."""
    with _own_transaction() as session:
        intent = session.get(GatewayIntent, intent_id)
        if intent is not None and intent.open:
            _settle(intent, "failed", None, None, f"refused: {error.code} {error.message[:200]}")


def done(intent_id: int, gp: GatewayPayment, cancel_id: str | None) -> GatewayIntent:
    """The call succeeded; recorded in the caller's transaction, with what it applies."""
    intent = db.session.get(GatewayIntent, intent_id)
    if intent.status != "done":
        _settle(intent, "done", cancel_id, gp, "the gateway answered")
    return intent


class _own_transaction:  # noqa: N801 (used as a context manager)
    """A session committed on exit: on PostgreSQL on a connection of its own; on SQLite the
    caller's, its locked rows taken again after the commit (see begin)."""

    def __init__(self, *, withdraw: GatewayIntent | None = None) -> None:
        self._withdraw = withdraw

    def __enter__(self) -> Session:
        self._sqlite = db.session.get_bind().dialect.name == "sqlite"
        self._session = db.session() if self._sqlite else Session(_engine())
        self._joined = self._sqlite and _caller_has_written()
        return self._session

    def __exit__(self, exc_type: object, *_: object) -> None:
        if self._joined:
            if exc_type is None:
                self._session.flush()
        elif self._sqlite:
            if exc_type is None:
                _commit_and_relock(self._session, self._withdraw)
        else:
            try:
                if exc_type is None:
                    self._session.commit()
            finally:
                self._session.close()


def _commit_and_relock(session: Session, withdraw: GatewayIntent | None) -> None:
    """SQLite: commit the caller's transaction, then lock its rows again; the intent withdraw,
    just written, is withdrawn if one of them changed in between."""
    rows = ledger.locked_rows()
    session.flush()
    before = [_row_state(model, key) for model, key in rows]
    session.commit()
    for model, key in rows:
        ledger.lock(model, key)
    if withdraw is None or [_row_state(m, k) for m, k in rows] == before:
        return
    _settle(withdraw, "failed", None, None, "not called: a row it was checked against changed")
    session.commit()
    raise LockInterrupted("a locked row changed while the intent was committed")


def _row_state(model: type, key: Any) -> Any:
    table = model.__table__
    return db.session.execute(select(table).where(table.c.id == key)).one_or_none()


def _engine() -> Engine:
    """The engine intents are written with: on PostgreSQL a pool of its own.

    The caller holds a connection of the app's pool and a row lock while it writes the intent;
    with one pool, requests queued behind that lock could hold every connection and the lock
    holder would wait for one for ever. Intents' connections never wait for a row lock.
    """
    if db.engine.dialect.name != "postgresql":
        return db.engine
    engines = current_app.extensions.setdefault("intent_engines", {})
    url = db.engine.url
    if url not in engines:
        engines[url] = create_engine(url, pool_size=2, max_overflow=8, pool_pre_ping=True)
    return engines[url]


def _caller_has_written() -> bool:
    """SQLite only: whether the caller's transaction has written (or is about to)."""
    session = db.session()
    if session.new or session.dirty or session.deleted:
        return True
    return session.in_transaction() and has_written(session.connection())


# -- resolution ---------------------------------------------------------------------------------


def explain(
    intent: GatewayIntent, gp: GatewayPayment, attributed: set[str]
) -> tuple[str | None, str | None, str]:
    """(done | failed | None when not explained yet, the cancel's id, why) from a gateway read."""
    if intent.detail.get("revoke"):
        if gp.status == base.CANCELLED:
            return "done", None, "the virtual account is revoked"
        if gp.status != base.AWAITING_DEPOSIT:
            return "failed", None, f"the payment is {gp.status}: a revoke can no longer land"
    else:
        cancel_id = landed_cancel(intent, gp, attributed)
        if cancel_id is not None:
            return "done", cancel_id, "its cancel is at the gateway"
        if gp.remaining != intent.expected_remaining:
            return (
                "failed",
                None,
                f"not at the gateway, and the balance it was checked against "
                f"({intent.expected_remaining}) is gone ({gp.remaining}): it can never land",
            )
    age = now() - intent.created_at
    if age >= max(IN_FLIGHT, SETTLE) and intent.looks + 1 >= UNTOUCHED_LOOKS:
        return "failed", None, f"the payment is untouched {int(age.total_seconds())} s later"
    return None, None, "the payment is untouched so far; the call may still land"


def _replay(intent: GatewayIntent) -> GatewayPayment | str | None:
    """The same call under the same idempotency key (idempotent_cancel); the first answer if it
    landed, the call now if it never arrived. "refused" when it can never land; None when
    unanswered."""
    client = gateway(intent.vendor)
    if not client.idempotent_cancel or intent.detail.get("revoke") or intent.detail.get("account"):
        return None
    try:
        return client.cancel(
            intent.vendor_payment_id,
            amount=intent.amount,
            expected_remaining=intent.expected_remaining,
            currency=intent.currency,
            reason=intent.detail.get("reason", ""),
            idempotency_key=intent.gateway_key,
        )
    except GatewayUnavailable:
        return None
    except GatewayError:
        return "refused"


def _settle(
    intent: GatewayIntent,
    status: str,
    cancel_id: str | None,
    gp: GatewayPayment | None,
    why: str,
) -> None:
    intent.status = status
    intent.cancel_id = cancel_id
    intent.resolved_at = now()
    intent.evidence = {"why": why, **({"gateway": evidence(gp)} if gp is not None else {})}


def resolve(intent: GatewayIntent, gp: GatewayPayment, *, actor: str) -> GatewayPayment:
    """One look at an open intent against a fresh read; returns the latest read (a Toss replay
    may bring a newer one). The caller holds the payment's lock, if we have a record of it."""
    attributed = attributed_cancel_ids(intent)
    status, cancel_id, why = explain(intent, gp, attributed)
    if status is None and now() - intent.created_at >= IN_FLIGHT:
        replayed = _replay(intent)
        if replayed == "refused":
            status, why = "failed", "the replay of its Idempotency-Key was refused: it never landed"
        elif isinstance(replayed, GatewayPayment):
            gp = replayed
            status, cancel_id, why = explain(intent, gp, attributed)
            if status != "done":
                status, why = "done", "the replay of its Idempotency-Key was answered"
    if status is None:
        intent.looks += 1
        if intent.status == "pending" and now() - intent.created_at >= IN_FLIGHT:
            intent.status = "unknown"  # its caller is gone
        intent.evidence = {"why": why, "gateway": evidence(gp)}
        action = "intent.still_unknown"
    else:
        _settle(intent, status, cancel_id, gp, why)
        action = f"intent.{status}"
        if status == "done" and intent.kind == "refund" and intent.payment_id:
            # What a retry of the same refund reads to answer "done" (services.refunds).
            ledger.audit(
                REFUND_DONE_ACTION,
                actor=actor,
                payment_id=intent.payment_id,
                amount=intent.asked,
                reason=intent.detail.get("reason", ""),
                refund_id=intent.detail.get("refund_id"),
                cancel_id=cancel_id,
                resolved_by_intent=intent.id,
            )
    ledger.audit(
        action,
        actor=actor,
        payment_id=intent.payment_id,
        intent_id=intent.id,
        kind=intent.kind,
        vendor_payment_id=intent.vendor_payment_id,
        asked=intent.asked,
        why=why,
        gateway=evidence(gp),
    )
    log.info("intent %s (%s %s): %s, %s", intent.id, intent.kind, intent.asked, action, why)
    return gp


def open_intents(payment_id: str) -> list[GatewayIntent]:
    """The payment's intents whose outcome is not known, oldest first."""
    return list(
        db.session.scalars(
            select(GatewayIntent)
            .where(
                GatewayIntent.payment_id == payment_id,
                GatewayIntent.status.in_(("pending", "unknown")),
            )
            .order_by(GatewayIntent.id)
        )
    )


def settle_payment(
    payment_id: str, gp: GatewayPayment, *, actor: str
) -> tuple[Payment | None, int]:
    """Follow a fresh read of our payment and look at its open intents, under the order's and
    the payment's locks; returns (the locked payment, how many intents are still open).

    The caller commits. The payment stays outcome_unknown while an intent is open.
    """
    order_id = db.session.scalars(select(Order.id).where(Order.payment_id == payment_id)).first()
    if order_id:
        ledger.lock(Order, order_id)  # the order before its payment
    payment = ledger.lock(Payment, payment_id)
    if payment is None:
        return None, 0
    ledger.follow_gateway(payment, gp)  # notifies the merchant once; the order follows
    still_open = 0
    for intent in open_intents(payment_id):
        if intent.status == "pending" and now() - intent.created_at < IN_FLIGHT:
            still_open += 1  # its caller may still be waiting for the answer
            continue
        latest = resolve(intent, gp, actor=actor)
        if latest is not gp:
            ledger.follow_gateway(payment, latest)
            gp = latest
        still_open += intent.open
    payment.outcome_unknown = still_open > 0
    return payment, still_open
