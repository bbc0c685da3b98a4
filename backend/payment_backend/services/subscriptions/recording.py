"""Recording what the gateway says about a period: paid once, declined and retried, or refunded."""

from __future__ import annotations

from sqlalchemy import select

from payment_backend.clock import now
from payment_backend.extensions import db
from payment_backend.models import ChargeAttempt, Payment, Subscription, SubscriptionCharge
from payment_backend.services import ledger
from payment_backend.services.subscriptions.booking import key_charge, plan_next
from payment_backend.services.subscriptions.cancellation import end
from payment_backend.services.subscriptions.events import changed, charge_event
from payment_backend.services.subscriptions.periods import CHARGE_SOURCE, RETRY_DELAYS, arm
from payment_backend.services.subscriptions.views import summary
from payment_backend.services.verification import cancel_forgery, verify
from payment_backend.vendors import base, gateway
from payment_backend.vendors.base import GatewayError, GatewayPayment


def charge_now(sub: Subscription, charge: SubscriptionCharge, *, actor: str) -> str:
    """Charge the period with the billing key now and record the outcome.

    Raises GatewayUnavailable when the outcome is unknown: nothing is recorded, and the next
    try repeats the same request for the same order id, which the gateway charges at most once.
    """
    try:
        gp = gateway(sub.vendor).charge_key(key_charge(sub, charge))
    except GatewayError as exc:
        return record_failed(sub, charge, exc.message or exc.code, None, actor=actor)
    return apply(sub, charge, gp, actor=actor)


def apply(sub: Subscription, charge: SubscriptionCharge, gp: GatewayPayment, *, actor: str) -> str:
    """Bring a period in step with a gateway payment made for it."""
    if gp.status == base.PAID:
        return record_paid(sub, charge, gp, actor=actor)
    if gp.status == base.FAILED:
        return record_failed(sub, charge, gp.failure or "declined", gp.payment_id, actor=actor)
    if gp.status == base.CANCELLED and charge.payment_id:
        payment = ledger.lock(Payment, charge.payment_id)
        if payment is not None and payment.vendor_payment_id == gp.payment_id:
            ledger.apply_gateway(payment, gp)  # refunded by the owner: the record follows
            return f"period {charge.period}: payment {payment.status}"
    return "unchanged"


def _second_payment(
    sub: Subscription, charge: SubscriptionCharge, gp: GatewayPayment, *, actor: str
) -> str:
    """A second payment for a period already paid: it goes back."""
    # The gateways refuse a second payment for the same order id, so this takes a bug or a
    # console action.
    cancel_forgery(gp, "Second charge for a subscription period already paid; refunded")
    ledger.audit(
        "subscription.duplicate_refunded",
        actor=actor,
        subscription=sub.id,
        period=charge.period,
        vendor_payment_id=gp.payment_id,
    )
    return "duplicate payment refunded"


def _payment_record(charge: SubscriptionCharge, gp: GatewayPayment) -> Payment:
    """Our payment record of the gateway payment (created once)."""
    payment = db.session.scalars(
        select(Payment).where(
            Payment.vendor == gp.vendor, Payment.vendor_payment_id == gp.payment_id
        )
    ).one_or_none()
    if payment is None:
        payment = ledger.new_payment(
            gp, source={**CHARGE_SOURCE, "id": charge.order_id}, created_at=now()
        )
        db.session.flush()
    return payment


def record_paid(
    sub: Subscription,
    charge: SubscriptionCharge,
    gp: GatewayPayment,
    *,
    actor: str,
    announce: bool = True,
) -> str:
    """A paid gateway payment for a period: counted once; the next period planned once."""
    if charge.status == "paid":
        if charge.vendor_payment_id == gp.payment_id:
            return "unchanged"
        return _second_payment(sub, charge, gp, actor=actor)
    verdict = verify(gp, order_id=charge.order_id, amount=charge.amount, currency=charge.currency)
    if not verdict.ok:
        if verdict.forged:
            cancel_forgery(gp)
        return record_failed(
            sub, charge, f"{verdict.code}: {verdict.message}", gp.payment_id, actor=actor
        )
    moment = now()
    payment = _payment_record(charge, gp)
    previous = summary(sub)
    charge.status = "paid"
    charge.paid_at = gp.paid_at or moment
    charge.vendor_payment_id = gp.payment_id
    charge.payment_id = payment.id
    charge.failure = None
    charge.attempts += 1
    charge.attempt_log.append(
        ChargeAttempt(vendor_payment_id=gp.payment_id, outcome="paid", attempted_at=moment)
    )
    sub.paid_periods = max(sub.paid_periods, charge.period)
    if sub.status == "past_due":
        sub.status = "active"
    ledger.audit(
        "subscription.charge_paid",
        actor=actor,
        payment_id=payment.id,
        subscription=sub.id,
        period=charge.period,
        key_issue=charge.key_issue,
    )
    charge_event(sub, charge, "paid")
    plan_next(sub, charge.period + 1)
    if announce and sub.status != "incomplete":  # an activation announces itself
        changed(sub, previous, actor=actor)
    return f"period {charge.period} paid"


def record_failed(
    sub: Subscription,
    charge: SubscriptionCharge,
    failure: str,
    vendor_payment_id: str | None,
    *,
    actor: str,
) -> str:
    """A declined attempt: past_due and the next retry, or canceled after the last one."""
    if charge.status == "paid":
        return "stale decline of a paid period (ignored)"
    if vendor_payment_id is not None and any(
        a.vendor_payment_id == vendor_payment_id for a in charge.attempt_log
    ):
        return "unchanged"
    moment = now()
    previous = summary(sub)
    charge.attempts += 1
    charge.status = "failed"
    charge.failure = (failure or "declined")[:500]
    charge.first_failed_at = charge.first_failed_at or moment
    charge.attempt_log.append(
        ChargeAttempt(
            vendor_payment_id=vendor_payment_id,
            outcome="failed",
            failure=charge.failure,
            attempted_at=moment,
        )
    )
    ledger.audit(
        "subscription.charge_failed",
        actor=actor,
        subscription=sub.id,
        period=charge.period,
        attempt=charge.attempts,
        reason=charge.failure,
    )
    charge_event(sub, charge, "failed")
    if sub.status == "incomplete":
        return f"period {charge.period} declined (not subscribed)"
    retries = charge.attempts - 1
    if retries >= len(RETRY_DELAYS):
        reason = f"Payment failed after {len(RETRY_DELAYS)} retries: {charge.failure}"
        end(sub, reason, actor=actor, ended_by="dunning")
        changed(sub, previous, actor=actor)
        return f"period {charge.period} declined; canceled"
    charge.due_at = charge.first_failed_at + RETRY_DELAYS[retries]
    sub.status = "past_due"
    arm(sub, charge.period, charge.due_at)
    changed(sub, previous, actor=actor)
    return f"period {charge.period} declined; retry at {charge.due_at.isoformat()}"
