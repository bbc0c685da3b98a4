"""Checkout orders, priced by the server from the catalog."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from payment_backend.models.base import Base, Timestamped

ORDER_STATUSES = (
    "pending",
    "awaiting_deposit",
    "paid",
    "partially_refunded",
    "refunded",
    "rejected",
    "failed",
)

# Order statuses that simply follow their payment's (rejected and failed orders stay as they are).
ORDER_STATUS_BY_PAYMENT = {
    "awaiting_deposit": "awaiting_deposit",
    "paid": "paid",
    "partially_refunded": "partially_refunded",
    "refunded": "refunded",
}


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

    payment = relationship("Payment", lazy="joined")
