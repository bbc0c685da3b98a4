"""Inbound gateway webhooks as received, and outbound notifications with every attempt."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from payment_backend.models.base import Base, Timestamp, utcnow
from payment_backend.models.payments import new_id


class InboundWebhook(Base):
    """A delivery from a gateway, stored before anything is done with it."""

    __tablename__ = "inbound_webhooks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    vendor: Mapped[str] = mapped_column(String(16))
    # sha256 of vendor + body: an exact repeat collides here and is ignored.
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)
    sealed_body: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(Timestamp, default=None)
    result: Mapped[str] = mapped_column(String(200), default="received")


class WebhookDelivery(Base):
    """A notification to a merchant's webhook_url: {id, source, previous, current}."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    payment_id: Mapped[str | None] = mapped_column(
        ForeignKey("payments.id", ondelete="SET NULL"), default=None, index=True
    )
    event: Mapped[str] = mapped_column(String(50), default="payment.updated")
    url: Mapped[str] = mapped_column(String(1024))
    sealed_body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending|delivered|failed
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(Timestamp, default=None)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)

    attempts: Mapped[list[DeliveryAttempt]] = relationship(
        back_populates="delivery", order_by="DeliveryAttempt.attempted_at", lazy="selectin"
    )


class DeliveryAttempt(Base):
    """One try at delivering a notification, recorded before it is sent, then the answer."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    attempted_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    # sending (committed before the POST; left so by a sender that died), done, interrupted.
    state: Mapped[str] = mapped_column(String(20), default="done", server_default="done")
    status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    response_body: Mapped[str | None] = mapped_column(Text, default=None)
    error: Mapped[str | None] = mapped_column(String(500), default=None)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)

    delivery: Mapped[WebhookDelivery] = relationship(back_populates="attempts")
