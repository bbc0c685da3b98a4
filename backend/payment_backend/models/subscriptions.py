"""Plans, subscriptions and their charges, billing keys (reservations), and the shared test clock."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from payment_backend.models.base import Base, Timestamp, utcnow
from payment_backend.models.payments import new_id

SUBSCRIPTION_STATUSES = ("incomplete", "active", "past_due", "canceled")
CHARGE_STATUSES = ("scheduled", "paid", "failed")


class Plan(Base):
    """A recurring price: amount in the currency's minor unit per interval."""

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    interval: Mapped[str] = mapped_column(String(10), default="month")
    active: Mapped[bool] = mapped_column(default=True)


class Reservation(Base):
    """A billing key, as the seed's payment_reservations: the key and the gateway's data sealed.

    `uid_digest` is a keyed hash of vendor and key, so the same key cannot be recorded twice
    without storing it in the clear. Reservations made by subscriptions have no password and
    cannot be read through the service API.
    """

    __tablename__ = "reservations"
    __table_args__ = (
        UniqueConstraint("vendor", "uid_digest"),
        UniqueConstraint("source_schema", "source_table", "source_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    vendor: Mapped[str] = mapped_column(String(16))
    store_id: Mapped[str] = mapped_column(String(100), default="")
    uid_digest: Mapped[str] = mapped_column(String(64))
    sealed_uid: Mapped[str] = mapped_column(Text)
    customer_key: Mapped[str] = mapped_column(String(300))
    source_schema: Mapped[str] = mapped_column(String(100))
    source_table: Mapped[str] = mapped_column(String(100))
    source_id: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200), default="")
    card: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)  # company, masked no.
    sealed_data: Mapped[str] = mapped_column(Text)
    password_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    deleted_at: Mapped[datetime | None] = mapped_column(Timestamp, default=None)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, index=True)


class Subscription(Base):
    """A subscriber's plan, paid each period with a billing key."""

    __tablename__ = "subscriptions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    vendor: Mapped[str] = mapped_column(String(16))
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    # The price is fixed when subscribing; a later change of the plan does not move it.
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), default="incomplete", index=True)
    buyer: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # The gateway's customer of the billing key in use (iamport customer_uid, Toss customerKey).
    customer_key: Mapped[str | None] = mapped_column(String(100), default=None)
    # A billing key being set up in the browser (first card or a replacement), not confirmed yet.
    pending_customer_key: Mapped[str | None] = mapped_column(String(100), default=None)
    card_changes: Mapped[int] = mapped_column(Integer, default=0)
    reservation_id: Mapped[str | None] = mapped_column(ForeignKey("reservations.id"), default=None)
    # Period n runs from anchor + (n-1) intervals to anchor + n intervals.
    anchor_at: Mapped[datetime | None] = mapped_column(Timestamp, default=None)
    activated_at: Mapped[datetime | None] = mapped_column(Timestamp, default=None, index=True)
    paid_periods: Mapped[int] = mapped_column(Integer, default=0)
    canceled_at: Mapped[datetime | None] = mapped_column(Timestamp, default=None, index=True)
    cancel_reason: Mapped[str | None] = mapped_column(String(500), default=None)
    ended_by: Mapped[str | None] = mapped_column(String(20), default=None)  # subscriber | dunning
    access_until: Mapped[datetime | None] = mapped_column(Timestamp, default=None)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)

    plan: Mapped[Plan] = relationship(lazy="joined")
    reservation: Mapped[Reservation | None] = relationship(lazy="joined")
    charges: Mapped[list[SubscriptionCharge]] = relationship(
        back_populates="subscription", order_by="SubscriptionCharge.period", lazy="selectin"
    )


class SubscriptionCharge(Base):
    """What one period costs and how its payment went: one row per subscription and period.

    The unique (subscription, period) is the idempotency rule of renewals: however many
    webhooks, jobs or workers report a period, it is charged and counted once. The payment that
    issued the billing key is marked `key_issue` (period 1 of a PortOne subscription).
    """

    __tablename__ = "subscription_charges"
    __table_args__ = (UniqueConstraint("subscription_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[str] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"))
    period: Mapped[int] = mapped_column(Integer)
    key_issue: Mapped[bool] = mapped_column(default=False)
    # The gateway's merchant_uid / orderId: derived from subscription and period, so a repeat
    # of the same charge is refused by the gateway too.
    order_id: Mapped[str] = mapped_column(String(64), unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), default="scheduled", index=True)
    # When the next attempt is due: the period's start, then each retry.
    due_at: Mapped[datetime] = mapped_column(Timestamp)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    first_failed_at: Mapped[datetime | None] = mapped_column(Timestamp, default=None)
    failure: Mapped[str | None] = mapped_column(String(500), default=None)
    # PortOne: the schedule booked for this period (customer_uid it was booked under).
    scheduled_with: Mapped[str | None] = mapped_column(String(100), default=None)
    paid_at: Mapped[datetime | None] = mapped_column(Timestamp, default=None, index=True)
    vendor_payment_id: Mapped[str | None] = mapped_column(String(200), default=None)
    payment_id: Mapped[str | None] = mapped_column(
        ForeignKey("payments.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)

    subscription: Mapped[Subscription] = relationship(back_populates="charges")
    attempt_log: Mapped[list[ChargeAttempt]] = relationship(
        back_populates="charge", order_by="ChargeAttempt.id", lazy="selectin"
    )


class ChargeAttempt(Base):
    """One try at the gateway for a period; a gateway payment is recorded once."""

    __tablename__ = "subscription_charge_attempts"
    __table_args__ = (UniqueConstraint("charge_id", "vendor_payment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    charge_id: Mapped[int] = mapped_column(
        ForeignKey("subscription_charges.id", ondelete="CASCADE"), index=True
    )
    # None for a Toss decline, which creates no payment at the gateway.
    vendor_payment_id: Mapped[str | None] = mapped_column(String(200), default=None)
    outcome: Mapped[str] = mapped_column(String(20))  # paid | failed
    failure: Mapped[str | None] = mapped_column(String(500), default=None)
    attempted_at: Mapped[datetime] = mapped_column(Timestamp, index=True)

    charge: Mapped[SubscriptionCharge] = relationship(back_populates="attempt_log")


class TestClockOffset(Base):
    """Local and test mode: how far the app clock is moved, shared by web and worker processes."""

    __tablename__ = "test_clock"
    __test__ = False  # not a pytest test class

    id: Mapped[int] = mapped_column(primary_key=True)
    offset_us: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
