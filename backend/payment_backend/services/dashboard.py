"""The owner's subscription figures by calendar month in the settlement time zone (Asia/Seoul).

Computed from the records at the app clock's now (the test clock moves it): who joined, who
canceled, who was churned by dunning (canceled after the last declined retry), who was still
subscribed at the month's end, what the charges brought in and what was refunded of them.
Views are data classes; schemas/subscriptions.py dumps them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from payment_backend.clock import now
from payment_backend.extensions import db
from payment_backend.models import ChargeAttempt, PaymentCancel, Subscription, SubscriptionCharge
from payment_backend.services.settlement import zone_of

DEFAULT_MONTHS = 6
CURRENCY = "KRW"  # the plans' currency; subscriptions in another one are left out of the sums
LIVE = ("active", "past_due")


@dataclass(frozen=True)
class MonthFigures:
    """One calendar month: members joined, canceled, churned, active at its end; money in and out."""

    month: str  # YYYY-MM
    start: datetime
    end: datetime
    joined: int
    canceled: int  # by the subscriber
    churned: int  # by dunning: the last retry of a renewal declined
    active_at_end: int  # subscribed (active or past due) at the month's end, or now
    mrr: int  # the plans' amounts of those subscribers
    revenue: int  # paid charges (minor units)
    refunds: int  # refunded of subscription charges (minor units)
    failed: int  # declined charge attempts

    @property
    def net(self) -> int:
        """Revenue less refunds."""
        return self.revenue - self.refunds

    @property
    def new(self) -> int:
        """The same as joined (the name older clients read)."""
        return self.joined


@dataclass(frozen=True)
class Dashboard:
    """This month's figures, now's counts, and the last months oldest first."""

    active: int
    past_due: int
    mrr: int
    currency: str
    timezone: str
    months: list[MonthFigures]

    @property
    def this_month(self) -> MonthFigures:
        """The month of now."""
        return self.months[-1]


def month_start(moment: datetime, back: int = 0, *, zone: Any) -> datetime:
    """The first instant of moment's month in zone, `back` months earlier (negative: later)."""
    local = moment.astimezone(zone)
    index = local.year * 12 + local.month - 1 - back
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=zone)


def _count(*conditions: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(Subscription).where(*conditions)) or 0


def _sum(column: Any, *conditions: Any, join: Any = None) -> int:
    statement = select(func.coalesce(func.sum(column), 0))
    if join is not None:
        statement = statement.join(*join)
    return db.session.scalar(statement.where(*conditions)) or 0


def _subscribed_at(moment: datetime) -> tuple[Any, ...]:
    """Conditions: activated before moment and not canceled by then."""
    return (
        Subscription.activated_at.is_not(None),
        Subscription.activated_at < moment,
        Subscription.canceled_at.is_(None) | (Subscription.canceled_at >= moment),
    )


def _ended(start: datetime, end: datetime, by: str) -> int:
    dunning = Subscription.ended_by == "dunning"
    return _count(
        Subscription.activated_at.is_not(None),
        Subscription.canceled_at >= start,
        Subscription.canceled_at < end,
        dunning if by == "dunning" else (Subscription.ended_by.is_(None) | ~dunning),
    )


def _month(start: datetime, end: datetime, *, until: datetime) -> MonthFigures:
    cut = min(end, until)
    in_month = (start, end)
    return MonthFigures(
        month=f"{start.year:04d}-{start.month:02d}",
        start=start,
        end=end,
        joined=_count(Subscription.activated_at >= start, Subscription.activated_at < end),
        canceled=_ended(*in_month, by="subscriber"),
        churned=_ended(*in_month, by="dunning"),
        active_at_end=_count(*_subscribed_at(cut)),
        mrr=_sum(Subscription.amount, Subscription.currency == CURRENCY, *_subscribed_at(cut)),
        revenue=_sum(
            SubscriptionCharge.amount,
            SubscriptionCharge.currency == CURRENCY,
            SubscriptionCharge.status == "paid",
            SubscriptionCharge.paid_at >= start,
            SubscriptionCharge.paid_at < end,
        ),
        refunds=_sum(
            PaymentCancel.amount,
            SubscriptionCharge.currency == CURRENCY,
            PaymentCancel.cancelled_at >= start,
            PaymentCancel.cancelled_at < end,
            join=(SubscriptionCharge, SubscriptionCharge.payment_id == PaymentCancel.payment_id),
        ),
        failed=db.session.scalar(
            select(func.count())
            .select_from(ChargeAttempt)
            .where(
                ChargeAttempt.outcome == "failed",
                ChargeAttempt.attempted_at >= start,
                ChargeAttempt.attempted_at < end,
            )
        )
        or 0,
    )


def dashboard(months: int = DEFAULT_MONTHS) -> Dashboard:
    """Now's active and past-due counts and MRR; the last `months` calendar months."""
    moment = now()
    name = current_app.config.get("SETTLEMENT_TIMEZONE") or "Asia/Seoul"
    zone = zone_of(name)
    figures = [
        _month(
            month_start(moment, back, zone=zone),
            month_start(moment, back - 1, zone=zone),
            until=moment,
        )
        for back in range(months - 1, -1, -1)
    ]
    return Dashboard(
        active=_count(Subscription.status == "active"),
        past_due=_count(Subscription.status == "past_due"),
        mrr=_sum(
            Subscription.amount, Subscription.currency == CURRENCY, Subscription.status.in_(LIVE)
        ),
        currency=CURRENCY,
        timezone=name,
        months=figures,
    )
