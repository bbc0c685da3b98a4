"""Periods of a subscription: their dates and order ids, their charge rows, their charge jobs."""

from __future__ import annotations

import calendar
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select

from payment_backend.clock import now
from payment_backend.errors import ApiError
from payment_backend.extensions import db
from payment_backend.jobs import enqueue
from payment_backend.models import OutboxJob, Plan, Subscription, SubscriptionCharge
from payment_backend.services import ledger

# Retries of a declined renewal, counted from the first decline; then the subscription ends.
RETRY_DELAYS = (timedelta(days=1), timedelta(days=3), timedelta(days=5))
# Booked ahead: the charge job looks the booking up this long after it was due (a lost webhook).
SCHEDULE_GRACE = timedelta(minutes=15)
# Booked ahead only if due later than this; else it is charged directly.
BOOK_MARGIN = timedelta(minutes=1)
# Gateway unreachable: when the charge job tries again.
UNAVAILABLE_RETRY = timedelta(minutes=1)
# A window that pays the first period: when an incomplete subscription's payment is looked up,
# counted from its creation: soon, then backing off, for a day; an abandoned one costs a few calls.
FIRST_PERIOD_LOOKS = tuple(timedelta(minutes=m) for m in (10, 30, 90, 4 * 60, 10 * 60, 24 * 60))

CHARGE_SOURCE = {"schema": "subscriptions", "table": "subscription_charges"}
RESERVATION_SOURCE = {"schema": "subscriptions", "table": "billing_keys"}
SUBSCRIPTION_SOURCE = {"schema": "subscriptions", "table": "subscriptions"}
ORDER_ID = re.compile(r"^(sub_[0-9a-f]{20})_([pc])(\d+)$")
LIVE = ("active", "past_due")
CHARGE_JOB = "charge_subscription"


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
    """The order id of the window that issues a replacement billing key (and pays nothing)."""
    return f"{sub_id}_c{change}"


def new_customer_key() -> str:
    """A customer key for a new billing key: random and unguessable, as Toss asks."""
    return "cus_" + secrets.token_hex(12)


def charge_name(sub: Subscription, period: int) -> str:
    """What the card statement calls a period's charge."""
    return f"{sub.plan.name} ({sub.plan.interval} {period})"[:40]


def plans() -> list[Plan]:
    """The plans on offer."""
    return list(db.session.scalars(select(Plan).where(Plan.active).order_by(Plan.id)))


def list_all(limit: int = 200) -> list[Subscription]:
    """Subscriptions, newest first (the owner's list)."""
    return list(
        db.session.scalars(
            select(Subscription).order_by(Subscription.created_at.desc()).limit(limit)
        ).unique()
    )


def get(sub_id: str) -> Subscription:
    """A subscription (404 SUBSCRIPTION_NOT_FOUND)."""
    sub = db.session.get(Subscription, sub_id)
    if sub is None:
        raise ApiError(404, "SUBSCRIPTION_NOT_FOUND", f"No subscription {sub_id}.")
    return sub


def lock(sub_id: str) -> Subscription:
    """The subscription row, locked for this transaction (404 when unknown).

    PostgreSQL: SELECT ... FOR UPDATE; SQLite: the write lock its transaction took at BEGIN
    IMMEDIATE (payment_backend.database).
    """
    sub = ledger.lock(Subscription, sub_id)
    if sub is None:
        raise ApiError(404, "SUBSCRIPTION_NOT_FOUND", f"No subscription {sub_id}.")
    return sub


def charge_of(sub: Subscription, period: int) -> SubscriptionCharge | None:
    """The charge row of a period, as the database has it now."""
    return db.session.scalars(
        select(SubscriptionCharge)
        .where(SubscriptionCharge.subscription_id == sub.id, SubscriptionCharge.period == period)
        .execution_options(populate_existing=True)
    ).one_or_none()


def open_charge(sub: Subscription) -> SubscriptionCharge | None:
    """The charge not paid yet (the next renewal, or the declined one being retried)."""
    unpaid = [c for c in sub.charges if c.status != "paid"]
    return min(unpaid, key=lambda c: c.period) if unpaid else None


def new_charge(
    sub: Subscription, period: int, *, due_at: datetime, key_issue: bool = False
) -> SubscriptionCharge:
    """The charge row of a period (created once: unique per subscription and period)."""
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


def _job_key(sub: Subscription, period: int) -> str:
    return f"charge:{sub.id}:{period}"


def arm(sub: Subscription, period: int, due_at: datetime) -> None:
    """Queue (or re-arm) the one charge job of a period, in this transaction."""
    enqueue(
        CHARGE_JOB,
        {"subscription_id": sub.id, "period": period},
        unique_key=_job_key(sub, period),
        due_at=due_at,
        rearm=True,
    )


def disarm(sub: Subscription, period: int) -> None:
    """Drop the charge job of a period if it is still waiting."""
    queued = db.session.scalars(
        select(OutboxJob).where(OutboxJob.unique_key == _job_key(sub, period))
    ).first()
    if queued is not None and queued.status == "pending":
        queued.status, queued.finished_at, queued.last_error = "done", now(), "subscription ended"
