"""Checkout orders, priced by the server from the catalog."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from payment_backend.models.base import Base, Timestamp, Timestamped

ORDER_STATUSES = (
    "pending",
    "awaiting_deposit",
    "paid",
    "partially_refunded",
    "refunded",
    "rejected",
    "failed",
    "expired",  # never paid in time (a card window abandoned, a virtual account not deposited)
    "cancelled",  # its virtual account was revoked before any deposit
)
# The most of one product an order holds (its lines of that product added up).
MAX_QUANTITY = 100
# Orders that may still take their first payment (a declined card may be followed by another).
OPEN_STATUSES = ("pending", "failed")
# Orders the sweep still looks up at the gateway.
LIVE_STATUSES = ("pending", "failed", "awaiting_deposit")

# Order statuses that simply follow their payment's (rejected and failed orders stay as they are).
ORDER_STATUS_BY_PAYMENT = {
    "awaiting_deposit": "awaiting_deposit",
    "paid": "paid",
    "partially_refunded": "partially_refunded",
    "refunded": "refunded",
    "cancelled": "cancelled",
}


# Orders whose status is their payment's (rejected, expired and unpaid orders stay as they are).
FOLLOWING_STATUSES = frozenset(ORDER_STATUS_BY_PAYMENT.values())


class Order(Timestamped, Base):
    """A browser checkout: what is bought, for how much, and how it ended."""

    __tablename__ = "orders"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    vendor: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    buyer: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    failure: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    payment_id: Mapped[str | None] = mapped_column(ForeignKey("payments.id"), default=None)
    prepared_at: Mapped[datetime | None] = mapped_column(default=None)
    # When the sweep looks this order up at the gateway next (None: never again), how often it
    # has, and when an unpaid order expires.
    next_check_at: Mapped[datetime | None] = mapped_column(Timestamp, default=None, index=True)
    checks: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime | None] = mapped_column(Timestamp, default=None)

    payment = relationship("Payment", lazy="joined")

    def follow_payment(self, payment_status: str) -> bool:
        """Take the payment's status where orders follow payments; whether it changed."""
        if self.status not in FOLLOWING_STATUSES:
            return False
        status = ORDER_STATUS_BY_PAYMENT.get(payment_status, self.status)
        changed, self.status = status != self.status, status
        return changed

    surplus = relationship(
        "SurplusPayment",
        primaryjoin="Order.id == foreign(SurplusPayment.order_id)",
        order_by="SurplusPayment.id",
        lazy="selectin",
        viewonly=True,
    )


SURPLUS_STATUSES = (
    "refunding",  # the worker is cancelling it at the gateway
    "refunded",
    "needs_refund_account",  # a deposited virtual account: the buyer's account is needed
    "refund_failed",  # the gateway refused; a person must look
)


class SurplusPayment(Timestamped, Base):
    """Money the gateway took for an order id that our records do not count: refunded by the worker.

    order_id is not a foreign key: an orphan names an order id of our format that has no row.
    """

    __tablename__ = "surplus_payments"
    __table_args__ = (UniqueConstraint("vendor", "vendor_payment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[str] = mapped_column(String(100), index=True)
    vendor: Mapped[str] = mapped_column(String(16))
    vendor_payment_id: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)
    refunded: Mapped[int] = mapped_column(BigInteger, default=0)
    reason: Mapped[str] = mapped_column(String(30))  # second_payment | order_closed | orphan
    status: Mapped[str] = mapped_column(String(30), default="refunding")
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
