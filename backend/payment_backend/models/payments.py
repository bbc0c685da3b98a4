"""Payments as the gateway reports them, their cancels, and who may read them."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from payment_backend.models.base import Base, Timestamp, Timestamped, utcnow

# Our own view of a payment, whatever the gateway calls it.
PAYMENT_STATUSES = (
    "pending",  # not completed at the gateway yet (only seen while reconciling)
    "awaiting_deposit",
    "paid",
    "partially_refunded",
    "refunded",
    "cancelled",  # cancelled before it was ever paid (e.g. a virtual account revoked)
    "failed",
)


def new_id() -> str:
    """A random UUID as text."""
    return str(uuid.uuid4())


class Payment(Timestamped, Base):
    """One payment at one gateway, referenced by its source (the caller's order)."""

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("vendor", "vendor_payment_id"),
        UniqueConstraint("source_schema", "source_table", "source_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    vendor: Mapped[str] = mapped_column(String(16))
    store_id: Mapped[str] = mapped_column(String(100), default="")
    vendor_payment_id: Mapped[str] = mapped_column(String(200))
    source_schema: Mapped[str] = mapped_column(String(100))
    source_table: Mapped[str] = mapped_column(String(100))
    source_id: Mapped[str] = mapped_column(String(100))
    method: Mapped[str] = mapped_column(String(16), default="card")
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)
    refunded: Mapped[int] = mapped_column(BigInteger, default=0)  # money returned
    # Refunds taken off the gateway's balance but not paid out yet (a virtual account's transfer).
    refund_pending: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # Easy pay (간편결제): the provider the buyer paid with (tosspay, naverpay, kakaopay, ...).
    easy_pay_provider: Mapped[str | None] = mapped_column(String(30), default=None)
    status: Mapped[str] = mapped_column(String(20), index=True)
    paid_at: Mapped[datetime | None] = mapped_column(Timestamp, default=None)
    cancelled_at: Mapped[datetime | None] = mapped_column(Timestamp, default=None)
    # True while a gateway call timed out and the outcome is not known yet.
    outcome_unknown: Mapped[bool] = mapped_column(default=False)
    sealed_data: Mapped[str] = mapped_column(Text)
    password_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    webhook_url: Mapped[str | None] = mapped_column(String(1024), default=None)

    cancels: Mapped[list[PaymentCancel]] = relationship(
        back_populates="payment",
        order_by="(PaymentCancel.cancelled_at, PaymentCancel.created_at)",
        lazy="selectin",
    )

    @property
    def remaining(self) -> int:
        """What can still be refunded: neither returned nor on its way back."""
        return self.amount - self.refunded - self.refund_pending


class PaymentCancel(Base):
    """One cancel (refund) at the gateway; unique per gateway cancel id."""

    __tablename__ = "payment_cancels"
    __table_args__ = (UniqueConstraint("payment_id", "vendor_cancel_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    payment_id: Mapped[str] = mapped_column(ForeignKey("payments.id", ondelete="CASCADE"))
    vendor_cancel_id: Mapped[str] = mapped_column(String(200))
    amount: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(500), default="")
    # done | pending (taken off the balance, not paid out yet) | failed (the amount is back)
    status: Mapped[str] = mapped_column(String(16), default="done", server_default="done")
    settles_at: Mapped[datetime | None] = mapped_column(Timestamp, default=None)
    cancelled_at: Mapped[datetime] = mapped_column(Timestamp)
    sealed_data: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)

    payment: Mapped[Payment] = relationship(back_populates="cancels")


Index("ix_payments_source_id", Payment.source_id)
