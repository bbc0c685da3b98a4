"""Billing-key subscriptions: subscribe, activate, renew each period, retry declines, cancel.

How a period gets paid, once:

- Every period has one SubscriptionCharge row (unique per subscription and period) with an
  order id derived from both (`sub_..._p3`), which is the gateway's merchant_uid / orderId; the
  gateways refuse a second payment for it, and we never create a charge row from what a webhook
  says: rows are created only when the previous period is paid, under the subscription's lock.
- PortOne: period 1 is the payment that issued the billing key (IMP.request_pay with
  customer_uid). It is recognised by its merchant_uid (`..._p1`), its customer_uid (the one we
  handed out) and customer_uid_usage `issue`, recorded as period 1 with key_issue=True, and
  counts for nothing else. Each later period is booked one ahead with
  /subscribe/payments/schedule when the previous one is paid; the schedule's webhook (or, if it
  is lost, the charge job's look-up of the schedule) records it.
- Toss: the billing key is issued, then period 1 is charged at once; each later period is
  charged by the worker's charge_subscription job when due (Idempotency-Key per attempt).
- A declined renewal makes the subscription past_due and is retried 1, 3 and 5 days after the
  first failure (PortOne: /subscribe/payments/again); after the last retry it is canceled.
"""

from __future__ import annotations

import calendar
import logging
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select, update

from payment_backend.clock import iso, now
from payment_backend.errors import ApiError
from payment_backend.extensions import db
from payment_backend.jobs import enqueue
from payment_backend.models import (
    ChargeAttempt,
    OutboxJob,
    Payment,
    Plan,
    Reservation,
    Subscription,
    SubscriptionCharge,
)
from payment_backend.services import ledger, reservations
from payment_backend.services.checkout import UNAVAILABLE
from payment_backend.services.notifications import notify_event
from payment_backend.services.urls import iamport_notice_url
from payment_backend.services.verification import cancel_forgery, verify
from payment_backend.vendors import VENDORS, base, gateway, valid_payment_id
from payment_backend.vendors.base import (
    GatewayError,
    GatewayPayment,
    GatewayUnavailable,
    PaymentNotFound,
)
from payment_backend.vendors.iamport import customer_card
from payment_backend.vendors.toss import billing_card

log = logging.getLogger(__name__)

# Retries of a declined renewal, counted from the first decline; then the subscription ends.
RETRY_DELAYS = (timedelta(days=1), timedelta(days=3), timedelta(days=5))
# PortOne: the charge job looks the schedule up this long after it was due (a lost webhook).
SCHEDULE_GRACE = timedelta(minutes=15)
# PortOne: a schedule is booked only if it is due later than this; else it is charged directly.
BOOK_MARGIN = timedelta(minutes=1)
# Gateway unreachable: when the charge job tries again.
UNAVAILABLE_RETRY = timedelta(minutes=1)
# PortOne: when an incomplete subscription's key-issuing payment is looked up, counted from its
# creation: soon, then backing off, for a day; an abandoned one costs these few gateway calls.
FIRST_PERIOD_LOOKS = tuple(timedelta(minutes=m) for m in (10, 30, 90, 4 * 60, 10 * 60, 24 * 60))

CHARGE_SOURCE = {"schema": "subscriptions", "table": "subscription_charges"}
RESERVATION_SOURCE = {"schema": "subscriptions", "table": "billing_keys"}
SUBSCRIPTION_SOURCE = {"schema": "subscriptions", "table": "subscriptions"}
ORDER_ID = re.compile(r"^(sub_[0-9a-f]{20})_([pc])(\d+)$")
TOSS_SUCCESS_PATH = "/subscriptions/toss/success"
TOSS_FAIL_PATH = "/subscriptions/toss/fail"
LIVE = ("active", "past_due")

# -- periods and ids ---------------------------------------------------------------------------


def add_months(moment: datetime, months: int) -> datetime:
    """moment plus whole months, the day clamped to the month's end (Jan 31 + 1 = Feb 28)."""
    month0 = moment.month - 1 + months
    year, month = moment.year + month0 // 12, month0 % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def period_start(sub: Subscription, period: int) -> datetime:
    """When period n (1-based) begins; always counted from the anchor, so dates never drift."""
    assert sub.anchor_at is not None
    return add_months(sub.anchor_at, period - 1)


def period_end(sub: Subscription, period: int) -> datetime:
    """When period n ends (the next one begins)."""
    return period_start(sub, period + 1)


def charge_order_id(sub_id: str, period: int) -> str:
    """The gateway order id of a period: merchant_uid (PortOne) and orderId (Toss)."""
    return f"{sub_id}_p{period}"


def card_order_id(sub_id: str, change: int) -> str:
    """The merchant_uid of the zero-amount window that issues a replacement billing key."""
    return f"{sub_id}_c{change}"


def _new_customer_key() -> str:
    # Random and unguessable, as Toss asks of a customerKey; also the PortOne customer_uid.
    return "cus_" + secrets.token_hex(12)


def _charge_name(sub: Subscription, period: int) -> str:
    return f"{sub.plan.name} ({sub.plan.interval} {period})"[:40]


# -- reading -----------------------------------------------------------------------------------


def plans() -> list[Plan]:
    """The plans on offer."""
    return list(db.session.scalars(select(Plan).where(Plan.active).order_by(Plan.id)))


def get(sub_id: str) -> Subscription:
    """A subscription (404 SUBSCRIPTION_NOT_FOUND)."""
    sub = db.session.get(Subscription, sub_id)
    if sub is None:
        raise ApiError(404, "SUBSCRIPTION_NOT_FOUND", f"No subscription {sub_id}.")
    return sub


def lock(sub_id: str) -> Subscription:
    """The subscription row, locked for this transaction (404 when unknown).

    PostgreSQL: SELECT ... FOR UPDATE. SQLite has no row locks, so a no-op UPDATE takes the
    database's write lock first: activation by the browser and by the webhook, a job and a card
    change, run one after the other there too.
    """
    if db.engine.dialect.name == "sqlite":
        db.session.execute(
            update(Subscription)
            .where(Subscription.id == sub_id)
            .values(updated_at=Subscription.updated_at)
            .execution_options(synchronize_session=False)
        )
    sub = ledger.lock(Subscription, sub_id)
    if sub is None:
        raise ApiError(404, "SUBSCRIPTION_NOT_FOUND", f"No subscription {sub_id}.")
    return sub


def _charge(sub: Subscription, period: int) -> SubscriptionCharge | None:
    return db.session.scalars(
        select(SubscriptionCharge)
        .where(SubscriptionCharge.subscription_id == sub.id, SubscriptionCharge.period == period)
        .execution_options(populate_existing=True)
    ).one_or_none()


def open_charge(sub: Subscription) -> SubscriptionCharge | None:
    """The charge not paid yet (the next renewal, or the declined one being retried)."""
    unpaid = [c for c in sub.charges if c.status != "paid"]
    return min(unpaid, key=lambda c: c.period) if unpaid else None


def charge_view(charge: SubscriptionCharge) -> dict[str, Any]:
    """A charge as the subscriber sees it."""
    tried = [a.attempted_at for a in charge.attempt_log]
    return {
        "id": charge.id,
        "period": charge.period,
        "amount": charge.amount,
        "currency": charge.currency,
        "status": charge.status,
        "due_at": iso(charge.due_at),
        "scheduled_at": iso(charge.due_at) if charge.status == "scheduled" else None,
        "attempted_at": iso(max(tried)) if tried else None,
        "failed_at": iso(max(tried)) if tried and charge.status == "failed" else None,
        "paid_at": iso(charge.paid_at),
        "failure": charge.failure,
        "attempts": charge.attempts,
        "key_issue": charge.key_issue,
        "payment_id": charge.vendor_payment_id,
        "refunded": _refunded(charge),
    }


def _refunded(charge: SubscriptionCharge) -> int:
    """What the owner refunded of a paid period (minor units)."""
    if not charge.payment_id:
        return 0
    payment = db.session.get(Payment, charge.payment_id)
    return payment.refunded if payment else 0


def summary(sub: Subscription) -> dict[str, Any]:
    """The subscription without its charges (webhook bodies, comparisons)."""
    plan = sub.plan
    live = sub.status in LIVE and sub.paid_periods > 0
    pending = open_charge(sub) if live else None
    retry = None
    if sub.status == "past_due" and pending is not None and pending.attempts:
        retry = {"attempt": pending.attempts, "next_retry_at": iso(pending.due_at)}
    return {
        "subscription_id": sub.id,
        "vendor": sub.vendor,
        "plan": {
            "id": plan.id,
            "name": plan.name,
            "amount": sub.amount,
            "currency": sub.currency,
            "interval": plan.interval,
        },
        "status": sub.status,
        "card": sub.reservation.card if sub.reservation else None,
        "current_period": sub.paid_periods or None,
        "current_period_start": iso(period_start(sub, sub.paid_periods))
        if sub.paid_periods
        else None,
        "current_period_end": iso(period_end(sub, sub.paid_periods)) if sub.paid_periods else None,
        "next_charge_at": iso(pending.due_at) if pending else None,
        "next_charge_amount": pending.amount if pending else None,
        "access_until": iso(sub.access_until),
        "canceled_at": iso(sub.canceled_at),
        "cancel_reason": sub.cancel_reason,
        "retry": retry,
        "buyer": sub.buyer,
        "created_at": iso(sub.created_at),
    }


def view(sub: Subscription) -> dict[str, Any]:
    """The Subscription of the browser contract: charges oldest first, setup while one is open."""
    body = summary(sub)
    body["charges"] = [charge_view(c) for c in sorted(sub.charges, key=lambda c: c.period)]
    if sub.pending_customer_key and sub.status != "canceled":
        body["setup"] = setup(sub)
    return body


def setup(sub: Subscription) -> dict[str, Any]:
    """What the browser hands to the gateway's SDK to issue the pending billing key."""
    config = current_app.config
    if sub.vendor == "toss":
        return {
            "customer_key": sub.pending_customer_key,
            "client_key": config["TOSS_CLIENT_KEY"],
            "success_url_path": TOSS_SUCCESS_PATH,
            "fail_url_path": TOSS_FAIL_PATH,
        }
    first = sub.status == "incomplete"
    return {
        "customer_uid": sub.pending_customer_key,
        # The first card pays the first period in the same window; a replacement pays nothing.
        "merchant_uid": charge_order_id(sub.id, 1)
        if first
        else card_order_id(sub.id, sub.card_changes),
        "amount": sub.amount if first else 0,
        "currency": sub.currency,
        "name": (
            f"{sub.plan.name} (first {sub.plan.interval})" if first else f"{sub.plan.name} (card)"
        )[:40],
        "pg": config["IAMPORT_PG"],
        "notice_url": iamport_notice_url(),
    }


# -- events ------------------------------------------------------------------------------------


def _source(sub: Subscription) -> dict[str, str]:
    return {**SUBSCRIPTION_SOURCE, "id": sub.id}


def _emit(event: str, sub: Subscription, previous: dict | None, current: dict) -> None:
    notify_event(
        current_app.config.get("SUBSCRIPTION_WEBHOOK_URL"),
        event,
        source=_source(sub),
        previous=previous,
        current=current,
    )


def _changed(sub: Subscription, previous: dict[str, Any], *, actor: str) -> None:
    """Notify and audit a change of the subscription, if anything the subscriber sees changed."""
    db.session.flush()
    current = summary(sub)
    if current != previous:
        _emit("subscription.updated", sub, previous, current)
        ledger.audit(
            "subscription.updated",
            actor=actor,
            subscription=sub.id,
            status=sub.status,
            before=previous["status"],
            period=sub.paid_periods,
        )


def _charge_event(sub: Subscription, charge: SubscriptionCharge, outcome: str) -> None:
    _emit(f"subscription.charge.{outcome}", sub, None, charge_view(charge))


# -- subscribing -------------------------------------------------------------------------------


def create(plan_id: int, vendor: str, buyer: dict[str, Any] | None) -> Subscription:
    """A subscription waiting for its first card (status incomplete), with the setup to use."""
    if vendor not in VENDORS:
        raise ApiError(422, "UNKNOWN_VENDOR", f"vendor must be one of {', '.join(VENDORS)}")
    plan = db.session.get(Plan, plan_id)
    if plan is None or not plan.active:
        raise ApiError(422, "UNKNOWN_PLAN", f"No plan {plan_id}.")
    sub = Subscription(
        id="sub_" + secrets.token_hex(10),
        vendor=vendor,
        plan_id=plan.id,
        plan=plan,
        amount=plan.amount,
        currency=plan.currency,
        status="incomplete",
        buyer=buyer or None,
        pending_customer_key=_new_customer_key(),
        card_changes=0,
        paid_periods=0,
        charges=[],
        created_at=now(),
    )
    if vendor == "iamport" and current_app.config["IAMPORT_PREPARE"]:
        # The billing-key window then refuses any other amount for the first period.
        try:
            gateway(vendor).prepare(charge_order_id(sub.id, 1), sub.amount, sub.currency)
        except GatewayUnavailable as exc:
            raise ApiError(502, "GATEWAY_UNAVAILABLE", UNAVAILABLE) from exc
        except GatewayError as exc:
            raise ApiError(
                502, "GATEWAY_REFUSED", f"The gateway refused the subscription: {exc.message}"
            ) from exc
    db.session.add(sub)
    db.session.flush()
    if vendor == "iamport":
        # Should the browser never come back and the webhook be lost, this finds the payment.
        _arm(sub, 1, sub.created_at + FIRST_PERIOD_LOOKS[0])
    _emit("subscription.created", sub, None, summary(sub))
    ledger.audit("subscription.created", actor="browser", subscription=sub.id, plan=plan.id)
    db.session.commit()
    return sub


def activate(sub_id: str, proof: dict[str, Any]) -> Subscription:
    """The browser's proof of the first card: verify it, pay period 1, book the renewals."""
    sub = lock(sub_id)
    try:
        if sub.status != "incomplete":
            if _same_activation(sub, proof):
                return sub
            raise ApiError(
                409,
                "SUBSCRIPTION_NOT_INCOMPLETE",
                f"Subscription {sub.id} is {sub.status}; it was activated already.",
            )
        if sub.vendor == "iamport":
            imp_uid = _required(proof, "imp_uid")
            _activate_iamport(sub, _read_payment("iamport", imp_uid), actor="browser")
        else:
            _activate_toss(
                sub, _required(proof, "auth_key"), _required(proof, "customer_key"), "browser"
            )
    except ApiError:
        db.session.commit()  # what was recorded on the way (declines, audit) stays
        raise
    except GatewayUnavailable as exc:
        # The first charge's outcome is unknown: the key and the period stay as they are, and
        # the same activation again repeats the same request (Toss: the same Idempotency-Key).
        db.session.commit()
        raise ApiError(502, "GATEWAY_UNAVAILABLE", UNAVAILABLE) from exc
    db.session.commit()
    return sub


def _required(proof: dict[str, Any], name: str) -> str:
    value = proof.get(name)
    if not value:
        raise ApiError(422, "VALIDATION_ERROR", f"{name} is required for this gateway.")
    return str(value)


def _same_activation(sub: Subscription, proof: dict[str, Any]) -> bool:
    """Whether an activation repeats the one that activated the subscription (a page reload)."""
    if sub.status not in LIVE:
        return False
    if sub.vendor == "iamport":
        first = next((c for c in sub.charges if c.period == 1), None)
        return first is not None and first.vendor_payment_id == proof.get("imp_uid")
    return sub.reservation is not None and proof.get("customer_key") == sub.customer_key


def _read_payment(vendor: str, payment_id: str) -> GatewayPayment:
    if not valid_payment_id(vendor, payment_id):
        raise ApiError(422, "INVALID_PAYMENT_ID", f"That is not a {vendor} payment id.")
    try:
        return gateway(vendor).get_payment(payment_id)
    except PaymentNotFound as exc:
        raise ApiError(
            404, "PAYMENT_NOT_FOUND", f"The gateway has no payment {payment_id}."
        ) from exc
    except GatewayUnavailable as exc:
        raise ApiError(502, "GATEWAY_UNAVAILABLE", UNAVAILABLE) from exc


def _check_key_issue(
    sub: Subscription, gp: GatewayPayment, *, order_id: str, amount: int, actor: str
) -> None:
    """The checks that make a PortOne payment the key-issuing payment we asked for.

    Its merchant_uid is ours, its customer_uid is the one handed to this browser, its
    customer_uid_usage is `issue`, and it paid exactly `amount`. A charge of another amount is
    given back at the gateway.
    """
    raw = gp.raw
    if gp.order_id != order_id:
        raise ApiError(
            409,
            "ORDER_MISMATCH",
            "The payment belongs to another order.",
            expected_order_id=order_id,
            payment_order_id=gp.order_id,
        )
    if raw.get("customer_uid") != sub.pending_customer_key:
        raise ApiError(
            409, "BILLING_KEY_MISMATCH", "The payment did not issue this subscription's card."
        )
    if raw.get("customer_uid_usage") not in (None, "issue"):
        raise ApiError(409, "NOT_KEY_ISSUE", "The payment is not the one that registered the card.")
    if gp.status == base.FAILED:
        ledger.audit(
            "subscription.card_declined", actor=actor, subscription=sub.id, reason=gp.failure
        )
        raise ApiError(
            402, "CHARGE_DECLINED", f"The card was declined: {gp.failure or 'declined'}."
        )
    if gp.status == base.READY:
        raise ApiError(409, "PAYMENT_NOT_COMPLETED", "The card window has not finished yet.")
    verdict = verify(gp, order_id=order_id, amount=amount, currency=sub.currency)
    if verdict.ok or (amount == 0 and gp.status == base.PAID and gp.amount == 0):
        return
    if verdict.forged:
        cancel_forgery(gp)
        ledger.audit(
            "subscription.forgery_cancelled",
            actor=actor,
            subscription=sub.id,
            vendor_payment_id=gp.payment_id,
            expected=amount,
            paid=gp.amount,
        )
    raise ApiError(409, verdict.code, verdict.message, **(verdict.detail or {}))


def _activate_iamport(sub: Subscription, gp: GatewayPayment, *, actor: str) -> None:
    """Period 1 is the key-issuing payment: checked, recorded as key_issue, never again."""
    order_id = charge_order_id(sub.id, 1)
    _check_key_issue(sub, gp, order_id=order_id, amount=sub.amount, actor=actor)
    customer_uid = sub.pending_customer_key
    try:
        customer = gateway("iamport").get_customer(customer_uid)
    except PaymentNotFound as exc:
        raise ApiError(409, "BILLING_KEY_MISSING", "The gateway holds no such card.") from exc
    except GatewayUnavailable as exc:
        raise ApiError(502, "GATEWAY_UNAVAILABLE", UNAVAILABLE) from exc
    previous = summary(sub)
    sub.reservation = _reservation(sub, customer_uid, customer, customer_card(customer))
    sub.customer_key = customer_uid
    _start(sub)
    charge = _new_charge(sub, 1, due_at=sub.anchor_at, key_issue=True)
    _record_paid(sub, charge, gp, actor=actor, announce=False)
    _changed(sub, previous, actor=actor)


def _activate_toss(sub: Subscription, auth_key: str, customer_key: str, actor: str) -> None:
    """Issue the billing key, then charge period 1 with it; a decline leaves it incomplete."""
    if customer_key != sub.pending_customer_key:
        raise ApiError(
            409, "CUSTOMER_KEY_MISMATCH", "The card was registered for another customer."
        )
    previous = summary(sub)
    if sub.reservation is None or sub.customer_key != customer_key:
        billing = _issue_toss_key(auth_key, customer_key)
        sub.reservation = _reservation(sub, billing["billingKey"], billing, billing_card(billing))
        sub.customer_key = customer_key
    # else: a retry after the gateway did not answer the first charge; the key is issued.
    sub.anchor_at = now()
    charge = _charge(sub, 1) or _new_charge(sub, 1, due_at=sub.anchor_at)
    charge.due_at = sub.anchor_at
    _charge_now(sub, charge, actor=actor)  # still incomplete: a decline arms no retry
    if charge.status != "paid":
        # Not subscribed: the key goes; the browser may try another card on the same setup.
        reservations.forget(sub.reservation, "first charge declined")
        sub.reservation, sub.customer_key, sub.anchor_at = None, None, None
        raise ApiError(402, "CHARGE_DECLINED", f"The card was declined: {charge.failure}.")
    _start(sub)
    _plan_next(sub, 2, actor=actor)
    _changed(sub, previous, actor=actor)


def _issue_toss_key(auth_key: str, customer_key: str) -> dict[str, Any]:
    try:
        return gateway("toss").issue_billing_key(auth_key, customer_key)
    except GatewayUnavailable as exc:
        raise ApiError(502, "GATEWAY_UNAVAILABLE", UNAVAILABLE) from exc
    except GatewayError as exc:
        raise ApiError(
            409,
            "CARD_NOT_REGISTERED",
            f"The gateway did not issue a billing key: {exc.message}",
            gateway_code=exc.code,
        ) from exc


def _reservation(sub: Subscription, key: str, data: dict, card: dict) -> Reservation:
    """Record the subscription's new billing key (sealed; not readable through the service API)."""
    reservation = reservations.record(
        sub.vendor,
        uid=key,
        customer_key=sub.pending_customer_key or "",
        data=data,
        card=card,
        source={**RESERVATION_SOURCE, "id": f"{sub.id}:{secrets.token_hex(6)}"},
        title=sub.plan.name,
    )
    db.session.flush()
    return reservation


def _start(sub: Subscription) -> None:
    """Active from now: the billing anchor is the first period's start."""
    moment = now()
    sub.status = "active"
    sub.anchor_at = sub.anchor_at or moment
    sub.activated_at = moment
    sub.pending_customer_key = None


def _new_charge(
    sub: Subscription, period: int, *, due_at: datetime, key_issue: bool = False
) -> SubscriptionCharge:
    charge = SubscriptionCharge(
        subscription_id=sub.id,
        period=period,
        key_issue=key_issue,
        order_id=charge_order_id(sub.id, period),
        amount=sub.amount,
        currency=sub.currency,
        status="scheduled",
        due_at=due_at,
        attempts=0,
        created_at=now(),
    )
    sub.charges.append(charge)
    db.session.flush()
    return charge


# -- recording what the gateway says -------------------------------------------------------------


def _attempted(charge: SubscriptionCharge, vendor_payment_id: str | None) -> bool:
    return vendor_payment_id is not None and any(
        a.vendor_payment_id == vendor_payment_id for a in charge.attempt_log
    )


def _record_paid(
    sub: Subscription,
    charge: SubscriptionCharge,
    gp: GatewayPayment,
    *,
    actor: str,
    announce: bool = True,
) -> str:
    """A paid gateway payment for a period: counted once; the next period booked once."""
    if charge.status == "paid":
        if charge.vendor_payment_id == gp.payment_id:
            return "unchanged"
        # A second payment for a period already paid (the gateways refuse one for the same
        # order id, so this takes a bug or a console action): it goes back.
        cancel_forgery(gp, "Second charge for a subscription period already paid; refunded")
        ledger.audit(
            "subscription.duplicate_refunded",
            actor=actor,
            subscription=sub.id,
            period=charge.period,
            vendor_payment_id=gp.payment_id,
        )
        return "duplicate payment refunded"
    verdict = verify(gp, order_id=charge.order_id, amount=charge.amount, currency=charge.currency)
    if not verdict.ok:
        if verdict.forged:
            cancel_forgery(gp)
        return _record_failed(
            sub, charge, f"{verdict.code}: {verdict.message}", gp.payment_id, actor=actor
        )
    moment = now()
    payment = db.session.scalars(
        select(Payment).where(
            Payment.vendor == gp.vendor, Payment.vendor_payment_id == gp.payment_id
        )
    ).one_or_none()
    if payment is None:
        payment = ledger.new_payment(
            gp, source={**CHARGE_SOURCE, "id": charge.order_id}, created_at=moment
        )
        db.session.flush()
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
    _charge_event(sub, charge, "paid")
    _plan_next(sub, charge.period + 1, actor=actor)
    if announce and sub.status != "incomplete":  # an activation announces itself
        _changed(sub, previous, actor=actor)
    return f"period {charge.period} paid"


def _record_failed(
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
    if _attempted(charge, vendor_payment_id):
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
    _charge_event(sub, charge, "failed")
    if sub.status == "incomplete":
        return f"period {charge.period} declined (not subscribed)"
    retries = charge.attempts - 1
    if retries >= len(RETRY_DELAYS):
        _end(
            sub,
            f"Payment failed after {len(RETRY_DELAYS)} retries: {charge.failure}",
            actor=actor,
        )
        _changed(sub, previous, actor=actor)
        return f"period {charge.period} declined; canceled"
    charge.due_at = charge.first_failed_at + RETRY_DELAYS[retries]
    sub.status = "past_due"
    _arm(sub, charge.period, charge.due_at)
    _changed(sub, previous, actor=actor)
    return f"period {charge.period} declined; retry at {charge.due_at.isoformat()}"


def _apply(sub: Subscription, charge: SubscriptionCharge, gp: GatewayPayment, *, actor: str) -> str:
    """Bring a period in step with a gateway payment made for it."""
    if gp.status == base.PAID:
        return _record_paid(sub, charge, gp, actor=actor)
    if gp.status == base.FAILED:
        return _record_failed(sub, charge, gp.failure or "declined", gp.payment_id, actor=actor)
    if gp.status == base.CANCELLED and charge.payment_id:
        payment = ledger.lock(Payment, charge.payment_id)
        if payment is not None and payment.vendor_payment_id == gp.payment_id:
            ledger.apply_gateway(payment, gp)  # refunded by the owner: the record follows
            return f"period {charge.period}: payment {payment.status}"
    return "unchanged"


def apply_webhook(gp: GatewayPayment, *, actor: str) -> str | None:
    """A re-read gateway payment for one of our subscription order ids; None if it is not one.

    Only a period we created can be recorded: a webhook never creates a charge, a key-issuing
    payment only ever activates (period 1), and repeats or late arrivals find their period
    already settled and change nothing.
    """
    match = ORDER_ID.match(gp.order_id or "")
    if match is None:
        return None
    sub_id, kind, number = match.group(1), match.group(2), int(match.group(3))
    if db.session.get(Subscription, sub_id) is None:
        return None
    sub = lock(sub_id)
    if kind == "c":
        return "card replacement payment (confirmed by the browser)"
    if number == 1 and sub.status == "incomplete":
        if sub.vendor != "iamport":
            return "first period (activated by the browser)"
        try:
            _activate_iamport(sub, gp, actor=actor)
        except ApiError as error:
            return f"not activated: {error.code}"
        return "activated by the key-issuing payment"
    charge = _charge(sub, number)
    unpaid = charge is None or charge.status != "paid"
    if sub.status == "canceled" and unpaid and gp.status == base.PAID and gp.remaining > 0:
        # Charged after the subscriber canceled (a schedule that ran while it was revoked, a
        # card window finished after the cancel): nothing is owed, so it goes back.
        cancel_forgery(gp, "Charged after the subscription was canceled; refunded")
        ledger.audit(
            "subscription.late_charge_refunded",
            actor=actor,
            subscription=sub.id,
            vendor_payment_id=gp.payment_id,
        )
        return "charge after cancel refunded"
    if charge is None:
        return f"no period {number} to record (ignored)"
    return _apply(sub, charge, gp, actor=actor)


# -- renewals ------------------------------------------------------------------------------------


def _plan_next(sub: Subscription, period: int, *, actor: str) -> None:
    """Create the next period's charge (once) and arrange for it to be charged when due."""
    if sub.status not in LIVE or _charge(sub, period) is not None:
        return
    charge = _new_charge(sub, period, due_at=period_start(sub, period))
    if sub.vendor == "iamport":
        _book(sub, charge)
    else:
        _arm(sub, charge.period, charge.due_at)


def _book(sub: Subscription, charge: SubscriptionCharge) -> None:
    """PortOne: book the charge as a schedule under the current billing key (one ahead)."""
    client = gateway("iamport")
    try:
        client.schedule(
            sub.customer_key,
            merchant_uid=charge.order_id,
            schedule_at=charge.due_at,
            amount=charge.amount,
            currency=charge.currency,
            name=_charge_name(sub, charge.period),
            buyer=sub.buyer,
            notice_url=iamport_notice_url(),
        )
        charge.scheduled_with = sub.customer_key
    except GatewayUnavailable as exc:
        log.warning("schedule of %s not booked (gateway unreachable): %s", charge.order_id, exc)
    except GatewayError as exc:
        # Booked by an earlier try whose answer was lost? PortOne refuses a duplicate.
        try:
            booked = client.get_schedule(charge.order_id)
        except (GatewayError, GatewayUnavailable):
            booked = None
        if (
            booked
            and booked.get("schedule_status") == "scheduled"
            and booked.get("customer_uid") == sub.customer_key
        ):
            charge.scheduled_with = sub.customer_key
        else:
            log.warning("schedule of %s refused: %s", charge.order_id, exc.message)
    # The job looks the schedule up after it was due (PortOne sends its webhook only once).
    due_at = charge.due_at + SCHEDULE_GRACE if charge.scheduled_with else charge.due_at
    _arm(sub, charge.period, due_at)


def _unbook(charge: SubscriptionCharge) -> None:
    """PortOne: revoke the schedule booked for a charge (raises GatewayUnavailable)."""
    if charge.scheduled_with:
        gateway("iamport").unschedule(charge.scheduled_with, [charge.order_id])
        charge.scheduled_with = None


def _job_key(sub: Subscription, period: int) -> str:
    return f"charge:{sub.id}:{period}"


def _arm(sub: Subscription, period: int, due_at: datetime) -> None:
    """Queue (or re-arm) the one charge job of a period, in this transaction."""
    enqueue(
        "charge_subscription",
        {"subscription_id": sub.id, "period": period},
        unique_key=_job_key(sub, period),
        due_at=due_at,
        rearm=True,
    )


def _disarm(sub: Subscription, period: int) -> None:
    queued = db.session.scalars(
        select(OutboxJob).where(OutboxJob.unique_key == _job_key(sub, period))
    ).first()
    if queued is not None and queued.status == "pending":
        queued.status, queued.finished_at, queued.last_error = "done", now(), "subscription ended"


def _charge_now(sub: Subscription, charge: SubscriptionCharge, *, actor: str) -> str:
    """Charge the period with the billing key now and record the outcome.

    Raises GatewayUnavailable when the outcome is unknown: nothing is recorded, and the next
    try repeats the same request (Toss: the same Idempotency-Key; PortOne: the same
    merchant_uid, which PortOne refuses to charge twice).
    """
    try:
        gp = _charge_with_key(sub, charge)
    except GatewayError as exc:
        # Toss DUPLICATED_ORDER_ID, PortOne "already paid": an earlier try whose answer was
        # lost went through.
        if sub.vendor == "iamport" or exc.code == "DUPLICATED_ORDER_ID":
            paid = gateway(sub.vendor).find_by_order(charge.order_id)
            if paid is not None and paid.status == base.PAID:
                return _record_paid(sub, charge, paid, actor=actor)
        return _record_failed(sub, charge, exc.message or exc.code, None, actor=actor)
    return _apply(sub, charge, gp, actor=actor)


def _charge_with_key(sub: Subscription, charge: SubscriptionCharge) -> GatewayPayment:
    """One charge of the period at the gateway with the subscription's billing key."""
    key = reservations.billing_key(sub.reservation)
    if sub.vendor == "toss":
        return gateway("toss").charge_billing(
            key,
            customer_key=sub.customer_key,
            order_id=charge.order_id,
            order_name=_charge_name(sub, charge.period),
            amount=charge.amount,
            currency=charge.currency,
            idempotency_key=f"{charge.order_id}-attempt-{charge.attempts + 1}",
            buyer=sub.buyer,
        )
    return gateway("iamport").again(
        key,
        merchant_uid=charge.order_id,
        amount=charge.amount,
        currency=charge.currency,
        name=_charge_name(sub, charge.period),
        buyer=sub.buyer,
        notice_url=iamport_notice_url(),
    )


def ensure_charged(sub_id: str, period: int, *, actor: str) -> datetime | None:
    """The charge job's work: get the period paid if it is due; returns when to look again."""
    sub = lock(sub_id)
    first = period == 1 and sub.vendor == "iamport" and _charge(sub, 1) is None
    if first and sub.status in ("incomplete", "canceled"):
        return _settle_first_period(sub, actor=actor)
    if sub.status not in LIVE:
        return None
    charge = _charge(sub, period)
    if charge is None or charge.status == "paid":
        return None
    moment = now()
    if sub.vendor == "iamport" and charge.attempts == 0:
        if charge.scheduled_with:
            schedule = gateway("iamport").get_schedule(charge.order_id)
            state = (schedule or {}).get("schedule_status")
            if state == "scheduled":
                return max(charge.due_at, moment) + SCHEDULE_GRACE  # not run yet
            if state == "executed" and schedule.get("imp_uid"):
                _apply(
                    sub, charge, gateway("iamport").get_payment(schedule["imp_uid"]), actor=actor
                )
                return _next_look(sub, charge)
            charge.scheduled_with = None  # revoked or gone: charge it ourselves when due
        elif moment < charge.due_at - BOOK_MARGIN:
            _book(sub, charge)
            return _next_look(sub, charge)
    if moment < charge.due_at:
        return charge.due_at
    _charge_now(sub, charge, actor=actor)
    return _next_look(sub, charge)


def _settle_first_period(sub: Subscription, *, actor: str) -> datetime | None:
    """PortOne: a browser that never came back and a lost webhook. The key-issuing payment is
    looked up by its merchant_uid; paid, it activates the subscription as the browser would."""
    gp = gateway("iamport").find_by_order(charge_order_id(sub.id, 1))
    if sub.status == "canceled":
        if gp is not None and gp.status == base.PAID and gp.remaining > 0:
            # Paid in the window after the subscription was canceled: nothing is owed.
            cancel_forgery(gp, "Charged after the subscription was canceled; refunded")
            ledger.audit("subscription.late_charge_refunded", actor=actor, subscription=sub.id)
        return None
    if gp is None or gp.status != base.PAID:
        # Not paid (yet): the buyer may still be at the window, or try again; for a day.
        return _next_first_period_look(sub)
    try:
        _activate_iamport(sub, gp, actor=actor)
    except ApiError as error:  # not ours to keep (a forged amount is refunded by the check)
        log.warning("subscription %s not activated by the sweep: %s", sub.id, error.message)
    return None


def _next_first_period_look(sub: Subscription) -> datetime | None:
    """The next look-up time of the schedule still ahead, or None when the watch is over."""
    moment = now()
    ahead = [sub.created_at + after for after in FIRST_PERIOD_LOOKS]
    return next((at for at in ahead if at > moment), None)


def _next_look(sub: Subscription, charge: SubscriptionCharge) -> datetime | None:
    if sub.status not in LIVE or charge.status == "paid":
        return None
    if sub.vendor == "iamport" and charge.attempts == 0 and charge.scheduled_with:
        return charge.due_at + SCHEDULE_GRACE
    return charge.due_at


# -- cancel and card replacement ----------------------------------------------------------------


def cancel(sub_id: str, reason: str | None, *, actor: str = "subscriber") -> Subscription:
    """Stop future charges; access runs to the end of the paid period; nothing is refunded."""
    sub = lock(sub_id)
    if sub.status == "canceled":
        return sub
    previous = summary(sub)
    try:
        _end(sub, reason or "Canceled by the subscriber", actor=actor)
    except GatewayUnavailable as exc:
        db.session.rollback()
        raise ApiError(502, "GATEWAY_UNAVAILABLE", UNAVAILABLE) from exc
    _changed(sub, previous, actor=actor)
    db.session.commit()
    return sub


def _end(sub: Subscription, reason: str, *, actor: str) -> None:
    """Cancel: revoke what is booked, drop what is queued, keep the paid period's access."""
    moment = now()
    for charge in list(sub.charges):
        if charge.status == "paid":
            continue
        if sub.vendor == "iamport":
            _unbook(charge)  # raises GatewayUnavailable: better no cancel than a live schedule
        _disarm(sub, charge.period)
        if charge.attempts == 0:
            sub.charges.remove(charge)  # never attempted: it simply will not happen
            db.session.delete(charge)
    sub.status = "canceled"
    sub.canceled_at = moment
    sub.cancel_reason = reason[:500]
    sub.access_until = period_end(sub, sub.paid_periods) if sub.paid_periods else moment
    sub.pending_customer_key = None
    reservations.forget(sub.reservation, "subscription canceled")
    ledger.audit("subscription.canceled", actor=actor, subscription=sub.id, reason=reason)


def start_card_change(sub_id: str) -> dict[str, Any]:
    """A new billing key to set up in the browser: the setup for it."""
    sub = lock(sub_id)
    if sub.status not in LIVE:
        raise ApiError(
            409,
            "SUBSCRIPTION_NOT_ACTIVE",
            f"Subscription {sub.id} is {sub.status}; no card to change.",
        )
    sub.card_changes += 1
    sub.pending_customer_key = _new_customer_key()
    db.session.commit()
    return setup(sub)


def confirm_card(sub_id: str, proof: dict[str, Any]) -> Subscription:
    """Switch to the new billing key; a past-due period is retried with it at once."""
    sub = lock(sub_id)
    try:
        _confirm_card(sub, proof)
    except GatewayUnavailable as exc:
        db.session.rollback()
        raise ApiError(502, "GATEWAY_UNAVAILABLE", UNAVAILABLE) from exc
    except ApiError:
        db.session.commit()
        raise
    db.session.commit()
    return sub


def _confirm_card(sub: Subscription, proof: dict[str, Any]) -> None:
    if sub.status not in LIVE:
        raise ApiError(409, "SUBSCRIPTION_NOT_ACTIVE", f"Subscription {sub.id} is {sub.status}.")
    if not sub.pending_customer_key:
        if _same_card_confirmation(sub, proof):
            return
        raise ApiError(409, "NO_CARD_CHANGE", "Start a card change first (POST .../card).")
    new_key = sub.pending_customer_key
    if sub.vendor == "iamport":
        gp = _read_payment("iamport", _required(proof, "imp_uid"))
        _check_key_issue(
            sub, gp, order_id=card_order_id(sub.id, sub.card_changes), amount=0, actor="subscriber"
        )
        try:
            customer = gateway("iamport").get_customer(new_key)
        except PaymentNotFound as exc:
            raise ApiError(409, "BILLING_KEY_MISSING", "The gateway holds no such card.") from exc
        reservation = _reservation(sub, new_key, customer, customer_card(customer))
    else:
        if _required(proof, "customer_key") != new_key:
            raise ApiError(
                409, "CUSTOMER_KEY_MISMATCH", "The card was registered for another customer."
            )
        billing = _issue_toss_key(_required(proof, "auth_key"), new_key)
        reservation = _reservation(sub, billing["billingKey"], billing, billing_card(billing))
    previous = summary(sub)
    old = sub.reservation
    sub.reservation = reservation
    sub.customer_key = new_key
    sub.pending_customer_key = None
    ledger.audit("subscription.card_changed", actor="subscriber", subscription=sub.id)
    pending = open_charge(sub)
    if pending is not None and sub.vendor == "iamport" and pending.scheduled_with:
        _unbook(pending)  # booked under the old key: booked again under the new one
        if pending.attempts == 0:
            _book(sub, pending)
    reservations.forget(old, "card replaced")
    if sub.status == "past_due" and pending is not None:
        _charge_now(sub, pending, actor="subscriber")  # the retry runs at once
        if pending.status == "paid":
            _disarm(sub, pending.period)
    _changed(sub, previous, actor="subscriber")


def _same_card_confirmation(sub: Subscription, proof: dict[str, Any]) -> bool:
    """Whether a confirmation repeats the one that installed the current card (a reload)."""
    if sub.vendor == "toss":
        return proof.get("customer_key") == sub.customer_key
    if not proof.get("imp_uid") or not sub.card_changes:
        return False
    gp = _read_payment("iamport", str(proof["imp_uid"]))
    return (
        gp.order_id == card_order_id(sub.id, sub.card_changes)
        and gp.raw.get("customer_uid") == sub.customer_key
    )


def refund_charge(sub_id: str, period: int, amount: int | None, reason: str) -> Subscription:
    """The owner refunds a paid period (all that is left, or a part); cancelling never does."""
    from payment_backend.services.refunds import refund

    sub = get(sub_id)
    charge = _charge(sub, period)
    payment = db.session.get(Payment, charge.payment_id) if charge and charge.payment_id else None
    if payment is None:
        raise ApiError(409, "NOT_REFUNDABLE", f"Period {period} of {sub_id} was not paid.")
    refund(payment, amount, reason, actor="owner")  # commits
    ledger.audit(
        "subscription.charge_refunded",
        actor="owner",
        payment_id=payment.id,
        subscription=sub_id,
        period=period,
        amount=amount,
    )
    db.session.commit()
    return get(sub_id)


def list_all(limit: int = 200) -> list[Subscription]:
    """Subscriptions, newest first (the owner's list)."""
    return list(
        db.session.scalars(
            select(Subscription).order_by(Subscription.created_at.desc()).limit(limit)
        ).unique()
    )
