"""The transactional outbox: jobs written in the same transaction as the change that causes them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, SmallInteger, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from payment_backend.models.base import Base, Timestamp, utcnow


class OutboxJob(Base):
    """Work for the worker, due at due_at (app clock); unique_key makes enqueueing idempotent."""

    __tablename__ = "outbox_jobs"
    __table_args__ = (
        # The claim's order among due jobs.
        Index("ix_outbox_jobs_claim", "status", "priority", "due_at", "id"),
        # Jobs running now, per destination (the claim's in-flight count).
        Index(
            "ix_outbox_jobs_in_flight",
            "destination",
            postgresql_where=text("leased_until IS NOT NULL"),
            sqlite_where=text("leased_until IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    unique_key: Mapped[str | None] = mapped_column(String(200), unique=True, default=None)
    status: Mapped[str] = mapped_column(
        String(20), default="pending", index=True
    )  # pending|done|dead
    due_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # claims, counted at claim
    # Runs in a row that did not end normally (an exception, or never finished: the worker died
    # or hung past its lease); counted at claim, back to 0 when a run ends.
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # While a worker runs the job: until when it is hidden from the others, in database time.
    leased_until: Mapped[datetime | None] = mapped_column(Timestamp, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(Timestamp, default=None)
    # Lower runs first among due jobs (jobs.PRIORITIES by kind): month-end renewals wait behind
    # webhooks and reconciliation instead of starving them.
    priority: Mapped[int] = mapped_column(SmallInteger, default=5, server_default="5")
    # Where the job sends something (an outbound webhook's scheme://host:port): a destination
    # has at most a few jobs in flight, and none while its circuit is open.
    destination: Mapped[str | None] = mapped_column(String(300), default=None)


class DeliveryCircuit(Base):
    """A destination's circuit breaker: open after consecutive failed deliveries, so its
    deliveries wait (and hold no worker) until a probe after retry_at succeeds."""

    __tablename__ = "delivery_circuits"

    destination: Mapped[str] = mapped_column(String(300), primary_key=True)
    state: Mapped[str] = mapped_column(String(20), default="closed")  # closed|open
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    # How many times it opened in a row without a success between (the cool-down doubles).
    openings: Mapped[int] = mapped_column(Integer, default=0)
    opened_at: Mapped[datetime | None] = mapped_column(Timestamp, default=None)
    # App clock: from then on one probe may go (half-open).
    retry_at: Mapped[datetime | None] = mapped_column(Timestamp, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
