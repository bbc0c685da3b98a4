"""Outbound destinations kept apart: a few jobs in flight per destination, and a circuit breaker
per destination that opens after consecutive failed deliveries.

A destination is a webhook URL's scheme://host:port. While its circuit is open its deliveries
wait, claimed by no worker and using none of their attempts; after the cool-down one probe goes
(half-open): its success closes the circuit, its failure opens it again for twice as long.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import ColumnElement, case, func, or_, select, union
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from payment_backend.clock import now
from payment_backend.extensions import db
from payment_backend.models import DeliveryCircuit, OutboxJob

# Jobs of one destination running at once (WORKER_DESTINATION_IN_FLIGHT overrides); on
# PostgreSQL the claim re-counts under the circuit row's lock (slot_taken), so it holds exactly.
IN_FLIGHT = 4
# Failed deliveries in a row that open the circuit (WEBHOOK_CIRCUIT_FAILURES overrides).
FAILURES_TO_OPEN = 5
# The first cool-down (WEBHOOK_CIRCUIT_COOLDOWN_SECONDS overrides), doubled at each reopening.
COOLDOWN = timedelta(seconds=30)
COOLDOWN_CAP = timedelta(minutes=30)


def destination_of(url: str) -> str:
    """scheme://host:port of a URL, lower case (the URL itself, cut, when it does not parse)."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        host = parts.hostname or ""
    except ValueError:
        return url[:300]
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme.lower()}://{host}:{port}"[:300]


def in_flight_limit() -> int:
    """Jobs one destination may have running at once."""
    return int(current_app.config.get("WORKER_DESTINATION_IN_FLIGHT") or IN_FLIGHT)


def failures_to_open() -> int:
    """Consecutive failures that open a circuit."""
    return int(current_app.config.get("WEBHOOK_CIRCUIT_FAILURES") or FAILURES_TO_OPEN)


def cooldown(openings: int) -> timedelta:
    """How long a circuit stays open after its n-th opening in a row."""
    seconds = current_app.config.get("WEBHOOK_CIRCUIT_COOLDOWN_SECONDS")
    first = timedelta(seconds=float(seconds)) if seconds else COOLDOWN
    return min(first * (2 ** max(openings - 1, 0)), COOLDOWN_CAP)


def claimable(moment: Any, db_now: Any, limit: Any) -> ColumnElement[bool]:
    """The claim's condition on a job's destination: none, or one with a free slot and a circuit
    that is closed, or half-open with no probe running (moment: app clock; db_now: leases';
    limit: jobs in flight per destination; values or bound parameters).

    The destinations that are full or cooling down are one uncorrelated subquery, computed
    once per claim: counting per candidate row made a claim's cost grow with the backlog of a
    busy destination.
    """
    running = aliased(OutboxJob)
    circuit = DeliveryCircuit
    full = (
        select(running.destination)
        .outerjoin(circuit, circuit.destination == running.destination)
        .where(
            running.destination.is_not(None),
            running.leased_until.is_not(None),
            running.leased_until >= db_now,
            running.status == "pending",
        )
        .group_by(running.destination, circuit.state)
        # Half-open: one probe at a time.
        .having(func.count() >= case((circuit.state == "open", 1), else_=limit))
    )
    cooling = select(circuit.destination).where(circuit.state == "open", circuit.retry_at > moment)
    return or_(
        OutboxJob.destination.is_(None),
        OutboxJob.destination.not_in(union(full, cooling).scalar_subquery()),
    )


def slot_taken(destination: str, job_id: int, db_now: Any) -> bool:
    """Whether destination is full without job_id, counted under its circuit row's lock.

    Two claims for one destination at the same instant each see the other's lease only once
    it is committed; locking the circuit row until the claim commits puts them one after the
    other (PostgreSQL), so the limit holds exactly.
    """
    circuit = _locked(destination)
    running = db.session.scalar(
        select(func.count()).where(
            OutboxJob.destination == destination,
            OutboxJob.id != job_id,
            OutboxJob.status == "pending",
            OutboxJob.leased_until.is_not(None),
            OutboxJob.leased_until >= db_now,
        )
    )
    return running >= (1 if circuit.state == "open" else in_flight_limit())


def record(destination: str | None, ok: bool, error: str | None = None) -> DeliveryCircuit | None:
    """Count a delivery's outcome against its destination's circuit (the caller commits); None
    when there is no destination, or a success found the circuit closed with no failure."""
    if not destination:
        return None
    if ok:
        healthy = db.session.scalar(
            select(DeliveryCircuit.destination).where(
                DeliveryCircuit.destination == destination,
                DeliveryCircuit.state == "closed",
                DeliveryCircuit.consecutive_failures == 0,
            )
        )
        if healthy is not None:
            # Nothing to change: no lock, so the deliveries of one busy destination do not
            # queue for its row (nor close a cycle with a claim waiting for it).
            return None
    circuit = _locked(destination)
    moment = now()
    circuit.updated_at = moment
    if ok:
        circuit.state, circuit.consecutive_failures, circuit.openings = "closed", 0, 0
        circuit.opened_at = circuit.retry_at = None
        return circuit
    circuit.consecutive_failures += 1
    circuit.last_error = (error or "failed")[:500]
    # A failed probe reopens at once; a closed circuit opens after enough failures in a row.
    if circuit.state == "open" or circuit.consecutive_failures >= failures_to_open():
        circuit.state = "open"
        circuit.openings += 1
        circuit.opened_at = moment
        circuit.retry_at = moment + cooldown(circuit.openings)
    return circuit


def _locked(destination: str) -> DeliveryCircuit:
    """The destination's circuit row, created closed if new, locked for this transaction."""
    locking = (
        select(DeliveryCircuit)
        .where(DeliveryCircuit.destination == destination)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    found = db.session.scalars(locking).one_or_none()
    if found is not None:
        return found
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    db.session.execute(
        dialect.insert(DeliveryCircuit)
        .values(
            destination=destination,
            state="closed",
            consecutive_failures=0,
            openings=0,
            updated_at=now(),
        )
        .on_conflict_do_nothing(index_elements=["destination"])
    )
    return db.session.scalars(locking).one()


def circuits() -> list[dict[str, Any]]:
    """Every known destination: its circuit (closed, open, half_open) and its queued jobs."""
    moment = now()
    queued = dict(
        db.session.execute(
            select(OutboxJob.destination, func.count())
            .where(OutboxJob.status == "pending", OutboxJob.destination.is_not(None))
            .group_by(OutboxJob.destination)
        ).all()
    )
    rows = db.session.scalars(select(DeliveryCircuit).order_by(DeliveryCircuit.destination))
    found = []
    for circuit in rows:
        state = circuit.state
        if state == "open" and circuit.retry_at is not None and circuit.retry_at <= moment:
            state = "half_open"
        found.append(
            {
                "destination": circuit.destination,
                "state": state,
                "consecutive_failures": circuit.consecutive_failures,
                "opened_at": circuit.opened_at,
                "retry_at": circuit.retry_at,
                "last_error": circuit.last_error,
                "queued_jobs": queued.get(circuit.destination, 0),
            }
        )
    return found
