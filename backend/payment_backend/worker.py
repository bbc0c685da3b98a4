"""The outbox worker: claims due jobs, runs their handlers by kind, records failures with backoff."""

from __future__ import annotations

import importlib
import logging
import signal
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import click
from flask import Flask
from sqlalchemy import select

from payment_backend.clock import now
from payment_backend.extensions import db
from payment_backend.logs import request_id
from payment_backend.models import OutboxJob
from payment_backend.services import idempotency

log = logging.getLogger(__name__)

Handler = Callable[[OutboxJob], None]

# Modules whose @job handlers the worker loads; add yours here.
HANDLER_MODULES = (
    "payment_backend.services.deliveries",
    "payment_backend.services.reconciliation",
    "payment_backend.services.checkout",
    "payment_backend.services.inbound",
    "payment_backend.services.subscriptions",
    "payment_backend.services.verification",
)
# How often the worker looks pending orders up at the gateway (browsers that never came back).
SWEEP_EVERY = 60.0
PURGE_EVERY = 3600.0  # idempotency keys older than 24 h

HANDLERS: dict[str, Handler] = {}

# A claimed job is hidden from other workers this long; a worker that dies mid-job frees it after.
LEASE = timedelta(minutes=5)
# Backoff for handlers that fail unexpectedly: 30 s doubling up to 1 h; dead after MAX_FAILURES.
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
MAX_FAILURES = 10
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Retry(Exception):
    """Raised by a handler: not done yet, run again at `at` (its database changes are kept)."""

    def __init__(self, at: datetime, reason: str) -> None:
        super().__init__(reason)
        self.at = at
        self.reason = reason


class GiveUp(Exception):
    """Raised by a handler: never run again (its database changes are kept)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def job(kind: str) -> Callable[[Handler], Handler]:
    """Register a handler for a job kind: @job("charge_subscription")."""

    def register(handler: Handler) -> Handler:
        known = HANDLERS.get(kind)
        if known is not None and _name(known) != _name(handler):  # a reload may re-register
            raise ValueError(f"{kind!r} is already handled by {_name(known)}")
        HANDLERS[kind] = handler
        return handler

    return register


def _name(handler: Handler) -> str:
    return f"{handler.__module__}.{handler.__qualname__}"


def load_handlers() -> dict[str, Handler]:
    """Import the handler modules so their @job decorators run."""
    for module in HANDLER_MODULES:
        importlib.import_module(module)
    return HANDLERS


def backoff(failures: int) -> timedelta:
    """Delay after the n-th unexpected failure."""
    return min(BACKOFF_BASE * (2 ** max(failures - 1, 0)), BACKOFF_CAP)


def claim(limit: int) -> list[int]:
    """Take up to limit due jobs of known kinds, hiding them from other workers for a lease."""
    moment = now()
    statement = (
        select(OutboxJob)
        .where(
            OutboxJob.status == "pending",
            OutboxJob.due_at <= moment,
            OutboxJob.kind.in_(list(HANDLERS)),
        )
        .order_by(OutboxJob.due_at, OutboxJob.id)
        .limit(limit)
    )
    if db.engine.dialect.name == "postgresql":
        # Rows another worker is claiming are skipped, never waited for nor taken twice.
        statement = statement.with_for_update(skip_locked=True)
    jobs = list(db.session.scalars(statement))
    for claimed in jobs:
        claimed.attempts += 1
        claimed.due_at = moment + LEASE
    db.session.commit()
    return [claimed.id for claimed in jobs]


def run_job(job_id: int) -> str:
    """Run one claimed job in its own transaction; returns its new status."""
    outbox_job = db.session.get(OutboxJob, job_id)
    # Logs of the job carry the id of the request that queued it, when it was recorded.
    rid = request_id.set(str(outbox_job.payload.get("request_id") or f"job_{job_id}"))
    try:
        return _run(outbox_job)
    finally:
        request_id.reset(rid)


def _run(outbox_job: OutboxJob) -> str:
    job_id, kind = outbox_job.id, outbox_job.kind
    started = time.perf_counter()
    try:
        try:
            HANDLERS[kind](outbox_job)
            _finish(outbox_job, "done", None)
        except Retry as retry:
            outbox_job.status = "pending"
            outbox_job.due_at = retry.at
            outbox_job.last_error = retry.reason[:2000]
            log.info(
                "job %s %s: again at %s (%s)", job_id, kind, retry.at.isoformat(), retry.reason
            )
        except GiveUp as give_up:
            _finish(outbox_job, "dead", give_up.reason)
            log.warning("job %s %s: gave up (%s)", job_id, kind, give_up.reason)
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        _record_failure(job_id, exc)
    elapsed = (time.perf_counter() - started) * 1000
    status = db.session.get(OutboxJob, job_id).status
    log.info("job %s %s -> %s in %.0f ms", job_id, kind, status, elapsed, extra={"job_id": job_id})
    return status


def _finish(outbox_job: OutboxJob, status: str, error: str | None) -> None:
    outbox_job.status = status
    outbox_job.last_error = error[:2000] if error else None
    outbox_job.finished_at = now()


def _record_failure(job_id: int, exc: Exception) -> None:
    """Keep the error on the job and schedule it again, or mark it dead after MAX_FAILURES."""
    outbox_job = db.session.get(OutboxJob, job_id)
    error = f"{type(exc).__name__}: {exc}"
    if outbox_job.attempts >= MAX_FAILURES:
        _finish(outbox_job, "dead", error)
        log.error("job %s %s failed for good: %s", job_id, outbox_job.kind, error, exc_info=exc)
    else:
        outbox_job.status = "pending"
        outbox_job.last_error = error[:2000]
        outbox_job.due_at = now() + backoff(outbox_job.attempts)
        log.warning(
            "job %s %s failed (attempt %d), again at %s: %s",
            job_id,
            outbox_job.kind,
            outbox_job.attempts,
            outbox_job.due_at.isoformat(),
            error,
            exc_info=exc,
        )
    db.session.commit()


def run_due_jobs(app: Flask, limit: int = 20) -> int:
    """Claim and run up to limit due jobs in a fresh app context; returns how many ran."""
    load_handlers()
    with app.app_context():
        try:
            job_ids = claim(limit)
            for job_id in job_ids:
                run_job(job_id)
            return len(job_ids)
        finally:
            db.session.remove()


def sweep(app: Flask) -> int:
    """Settle pending orders that were paid at the gateway but never completed; logs failures."""
    from payment_backend.services.checkout import sweep_pending_orders

    with app.app_context():
        try:
            changed = sweep_pending_orders()
        except Exception:  # a sweep must never stop the worker
            log.exception("sweep failed")
            return 0
        finally:
            db.session.remove()
    if changed:
        log.info("sweep settled %d pending orders", changed)
    return changed


def run_forever(
    app: Flask, *, interval: float, limit: int, stop: threading.Event, once: bool = False
) -> int:
    """Run due jobs until stop is set (or, with once, until none are due); returns the total run."""
    total = 0
    last_sweep = 0.0
    last_purge = float("-inf")
    while not stop.is_set():
        if not once and time.monotonic() - last_purge >= PURGE_EVERY:
            last_purge = time.monotonic()
            idempotency.purge_in(app)  # logs its errors, never raises
        if not once and time.monotonic() - last_sweep >= SWEEP_EVERY:
            last_sweep = time.monotonic()
            sweep(app)
        try:
            ran = run_due_jobs(app, limit)
        except Exception:  # the database went away: keep the worker alive and try again
            log.exception("worker pass failed")
            ran = 0
            if once:
                raise
        total += ran
        if once and ran < limit:
            break
        if ran < limit:
            stop.wait(interval)
    return total


def register_commands(app: Flask) -> None:
    """Add `flask worker`."""

    @app.cli.command("worker")
    @click.option("--once", is_flag=True, help="Run the jobs due now, then exit.")
    @click.option("--interval", default=1.0, show_default=True, help="Seconds between polls.")
    @click.option("--limit", default=20, show_default=True, help="Jobs claimed per pass.")
    def worker_command(once: bool, interval: float, limit: int) -> None:
        """Deliver webhooks, reconcile payments and run other outbox jobs."""
        if not logging.getLogger().handlers:
            logging.basicConfig(
                level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
            )
        log.setLevel(logging.INFO)
        stop = threading.Event()
        # Finish the job in hand on SIGINT/SIGTERM, then exit.
        previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in STOP_SIGNALS}
        try:
            kinds = ", ".join(sorted(load_handlers()))
            log.info("worker started: handles %s; polls every %.1f s", kinds, interval)
            total = run_forever(app, interval=interval, limit=limit, stop=stop, once=once)
            log.info("worker stopped after %d jobs", total)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
