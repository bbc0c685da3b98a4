"""The owner's subscription figures, computed from the records (by the app clock's months, UTC)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from payment_backend.clock import now
from payment_backend.extensions import db
from payment_backend.models import ChargeAttempt, Subscription, SubscriptionCharge

MONTHS = 6
CURRENCY = "KRW"  # the plans' currency; subscriptions in another one are left out of the sums


def month_start(moment: datetime, back: int = 0) -> datetime:
    """The first instant of moment's month, `back` months earlier."""
    index = moment.year * 12 + moment.month - 1 - back
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def _count(*conditions: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(Subscription).where(*conditions)) or 0


def _mrr_at(moment: datetime) -> int:
    """Monthly recurring revenue of the subscriptions running at moment (monthly plans)."""
    return (
        db.session.scalar(
            select(func.coalesce(func.sum(Subscription.amount), 0)).where(
                Subscription.currency == CURRENCY,
                Subscription.activated_at.is_not(None),
                Subscription.activated_at < moment,
                (Subscription.canceled_at.is_(None)) | (Subscription.canceled_at >= moment),
            )
        )
        or 0
    )


def _month(start: datetime, end: datetime, *, until: datetime) -> dict[str, Any]:
    revenue = db.session.scalar(
        select(func.coalesce(func.sum(SubscriptionCharge.amount), 0)).where(
            SubscriptionCharge.currency == CURRENCY,
            SubscriptionCharge.status == "paid",
            SubscriptionCharge.paid_at >= start,
            SubscriptionCharge.paid_at < end,
        )
    )
    failed = db.session.scalar(
        select(func.count())
        .select_from(ChargeAttempt)
        .where(
            ChargeAttempt.outcome == "failed",
            ChargeAttempt.attempted_at >= start,
            ChargeAttempt.attempted_at < end,
        )
    )
    return {
        "month": f"{start.year:04d}-{start.month:02d}",
        "mrr": _mrr_at(min(end, until)),
        "new": _count(Subscription.activated_at >= start, Subscription.activated_at < end),
        "canceled": _count(Subscription.canceled_at >= start, Subscription.canceled_at < end),
        "revenue": revenue or 0,
        "failed": failed or 0,
    }


def dashboard() -> dict[str, Any]:
    """Active, past due, new and canceled this month, MRR, failed charges; the last 6 months."""
    moment = now()
    months = [
        _month(month_start(moment, back), month_start(moment, back - 1), until=moment)
        for back in range(MONTHS - 1, -1, -1)
    ]
    this_month = months[-1]
    mrr = (
        db.session.scalar(
            select(func.coalesce(func.sum(Subscription.amount), 0)).where(
                Subscription.currency == CURRENCY, Subscription.status == "active"
            )
        )
        or 0
    )
    return {
        "active": _count(Subscription.status == "active"),
        "past_due": _count(Subscription.status == "past_due"),
        "new_this_month": this_month["new"],
        "canceled_this_month": this_month["canceled"],
        "mrr": mrr,
        "currency": CURRENCY,
        "failed_charges_this_month": this_month["failed"],
        "months": months,
    }
