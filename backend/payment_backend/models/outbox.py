"""The transactional outbox: jobs written in the same transaction as the change that causes them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from payment_backend.models.base import Base, Timestamp, utcnow


class OutboxJob(Base):
    """Work for the worker, due at due_at (app clock); unique_key makes enqueueing idempotent."""

    __tablename__ = "outbox_jobs"

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
