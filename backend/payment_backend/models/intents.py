"""Write-ahead intents: a gateway call that moves money, recorded before it is made."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from payment_backend.models.base import Base, Timestamp

INTENT_KINDS = (
    "refund",  # services.refunds: the owner's, the service API's or a subscription charge's
    "forgery",  # services.verification: a payment that did not match its order
    "surplus",  # services.surplus: money an order did not need
    "expire",  # services.checkout: a virtual account revoked when its order expired
)
INTENT_STATUSES = (
    "pending",  # committed before the call; still pending after it means the caller died
    "unknown",  # the call got no answer (timeout, 5xx): reconciliation reads the gateway
    "done",  # the gateway made it (cancel_id names its cancel when known)
    "failed",  # the gateway refused it, or provably never made it and never will
)


class GatewayIntent(Base):
    """One money-moving gateway call: what was asked, under which guard, and how it ended.

    payment_id is ours when we hold a record of the payment (no foreign key: the intent is
    written on a connection of its own while the caller holds the payment's row lock).
    """

    __tablename__ = "gateway_intents"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    vendor: Mapped[str] = mapped_column(String(16))
    vendor_payment_id: Mapped[str] = mapped_column(String(200), index=True)
    payment_id: Mapped[str | None] = mapped_column(String(36), default=None, index=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int | None] = mapped_column(BigInteger, default=None)  # None: all that is left
    # The balance the gateway must hold for the call to succeed (iamport checksum, Toss
    # refundableAmount): once another cancel lands, this call can never land.
    expected_remaining: Mapped[int] = mapped_column(BigInteger)
    gateway_key: Mapped[str] = mapped_column(String(200))  # Toss Idempotency-Key
    known_cancel_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    cancel_id: Mapped[str | None] = mapped_column(String(200), default=None)
    # What the caller asked (refund_id, actor, reason, refund account) and the call's error.
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The gateway data the resolution was based on.
    evidence: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    looks: Mapped[int] = mapped_column(Integer, default=0)  # inconclusive reads of the gateway
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    resolved_at: Mapped[datetime | None] = mapped_column(Timestamp, default=None)

    @property
    def asked(self) -> int:
        """The amount the call cancels."""
        return self.amount if self.amount is not None else self.expected_remaining

    @property
    def open(self) -> bool:
        """Whether the outcome is not known yet."""
        return self.status in ("pending", "unknown")
