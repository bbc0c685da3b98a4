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
from payment_backend.models import OutboxJob

log = logging.getLogger(__name__)

Handler = Callable[[OutboxJob], None]

# Modules whose @job handlers the worker loads; add yours here.
HANDLER_MODULES = (
    "payment_backend.services.deliveries",
    "payment_backend.services.reconciliation",
)

HANDLERS: dict[str, Handler] = {}

# A claimed job is hidden from other workers this long; a worker that dies mid-job frees it after.
LEASE = timedelta(minutes=5)
# Backoff for handlers that fail unexpectedly: 30 s doubling up to 1 h; dead after MAX_FAILURES.
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
MAX_FAILURES = 10


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
        if HANDLERS.get(kind, handler) is not handler:
            raise ValueError(f"a handler for {kind!r} is already registered")
        HANDLERS[kind] = handler
        return handler

    return register


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
    kind = outbox_job.kind
    started = time.perf_counter()
    try:
        try:
            HANDLERS[kind](outbox_job)
            _finish(outbox_job, "done", None)
        except Retry as retry:
            outbox_job.status = "pending"
            outbox_job.due_at = retry.at
            outbox_job.last_error = retry.reason[:2000]
            log.info("job %s %s: again at %s (%s)", job_id, kind, retry.at.isoformat(), retry.reason)
        except GiveUp as give_up:
            _finish(outbox_job, "dead", give_up.reason)
            log.warning("job %s %s: gave up (%s)", job_id, kind, give_up.reason)
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        _record_failure(job_id, exc)
    elapsed = (time.perf_counter() - started) * 1000
    status = db.session.get(OutboxJob, job_id).status
    log.info("job %s %s -> %s in %.0f ms", job_id, kind, status, elapsed)
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


def run_forever(
    app: Flask, *, interval: float, limit: int, stop: threading.Event, once: bool = False
) -> int:
    """Run due jobs until stop is set (or, with once, until none are due); returns the total run."""
    total = 0
    while not stop.is_set():
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
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        kinds = ", ".join(sorted(load_handlers()))
        log.info("worker started: handles %s; polls every %.1f s", kinds, interval)
        total = run_forever(app, interval=interval, limit=limit, stop=stop, once=once)
        log.info("worker stopped after %d jobs", total)
