"""The outbox worker: claims due jobs one at a time, runs their handlers by kind, records failures
with backoff.

Two clocks: a job's due_at is on the app clock (domain time, which the test clock moves), its
lease on the database's (PostgreSQL's now(); SQLite serves one machine, whose wall clock it is).
A lease measured on the app clock would end whenever a test or the demo moves time forward, and
one on each worker's own clock would differ between machines.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import click
from flask import Flask, current_app
from sqlalchemy import Integer, Select, bindparam, func, or_, select

from payment_backend import handlers
from payment_backend.clock import now
from payment_backend.database import writing
from payment_backend.extensions import db
from payment_backend.handlers import chores
from payment_backend.jobs import HANDLERS, GiveUp, Retry
from payment_backend.logs import request_id
from payment_backend.models import OutboxJob
from payment_backend.services.circuits import claimable, in_flight_limit, slot_taken
from payment_backend.worker_threads import Idle, fit_pool, leases

log = logging.getLogger(__name__)

# How often a worker makes sure the recurring chores (handlers.chores) are armed.
CHORES_CHECK_EVERY = 60.0

# A claimed job is hidden from other workers this long (WORKER_LEASE_SECONDS overrides), renewed
# while it runs (on PostgreSQL); a worker that dies mid-job frees it when the lease runs out.
LEASE = timedelta(minutes=5)
# Backoff for handlers that fail unexpectedly: 30 s doubling up to 1 h. After MAX_FAILURES runs in
# a row that failed or never finished (a handler that kills its process), the job is dead.
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
MAX_FAILURES = 10
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# Claims in a row one call makes before it gives up for this pass.
CLAIM_TRIES = 20


def backoff(failures: int) -> timedelta:
    """Delay after the n-th unexpected failure."""
    return min(BACKOFF_BASE * (2 ** max(failures - 1, 0)), BACKOFF_CAP)


def lease_length() -> timedelta:
    """How long a claim hides a job from other workers."""
    seconds = current_app.config.get("WORKER_LEASE_SECONDS")
    return timedelta(seconds=float(seconds)) if seconds else LEASE


def _on_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def database_now() -> Any:
    """Now by the database's clock: PostgreSQL's now(); on SQLite (one machine) its wall clock."""
    return func.now() if _on_postgres() else datetime.now(UTC)


def claim() -> int | None:
    """Lease the next due job of a known kind (attempts and failures counted now); None when
    there is none.

    A claim counts a failure that the run takes back when it ends as its handler meant; so a job
    whose handler kills the process keeps its failures, and after MAX_FAILURES of them it is
    marked dead here instead of being run again.
    """
    for _ in range(CLAIM_TRIES):
        claimed = _lease_next()
        if claimed is None:
            return None
        full = claimed.destination and _on_postgres()
        if full and slot_taken(claimed.destination, claimed.id, database_now()):
            db.session.rollback()  # another claim filled it meanwhile; the next pass skips it
            continue
        if claimed.failures < MAX_FAILURES:
            claimed.attempts += 1
            claimed.failures += 1
            claimed.leased_until = database_now() + lease_length()
            db.session.commit()
            return claimed.id
        # Its lease ran out MAX_FAILURES times in a row (or it failed, and then never finished).
        runs = claimed.failures
        _finish(claimed, "dead", f"its last {runs} runs failed or never finished (worker died?)")
        claimed.leased_until = None
        db.session.commit()
        log.error("job %s %s is dead: %d runs never finished", claimed.id, claimed.kind, runs)
    return None


# The claim's statement per dialect, built once: building it (aliases, a union, the cache key)
# cost more CPU than running it. What changes from claim to claim is bound.
_claims: dict[bool, Select[tuple[OutboxJob]]] = {}


def _claim_statement(postgres: bool) -> Select[tuple[OutboxJob]]:
    statement = _claims.get(postgres)
    if statement is not None:
        return statement
    moment = bindparam("moment")
    db_now = func.now() if postgres else bindparam("db_now")
    statement = (
        select(OutboxJob)
        .where(
            OutboxJob.status == "pending",
            OutboxJob.due_at <= moment,
            OutboxJob.kind.in_(bindparam("kinds", expanding=True)),
            or_(OutboxJob.leased_until.is_(None), OutboxJob.leased_until < db_now),
            claimable(moment, db_now, bindparam("in_flight_limit", type_=Integer)),
        )
        # Priority first: a month of renewals falling due waits behind webhooks.
        .order_by(OutboxJob.priority, OutboxJob.due_at, OutboxJob.id)
        .limit(1)
    )
    if postgres:
        # Rows another worker is claiming are skipped, never waited for nor taken twice.
        statement = statement.with_for_update(skip_locked=True, of=OutboxJob)
    _claims[postgres] = statement
    return statement


def _lease_next() -> OutboxJob | None:
    postgres = _on_postgres()
    params: dict[str, Any] = {
        "moment": now(),
        "kinds": list(HANDLERS),
        "in_flight_limit": in_flight_limit(),
    }
    if not postgres:
        params["db_now"] = database_now()
    # On SQLite the claim's transaction holds the write lock from its BEGIN IMMEDIATE (run_due_jobs
    # runs inside database.writing()): another process claims after this one commits.
    claimed = db.session.scalars(_claim_statement(postgres), params).first()
    if claimed is None:
        db.session.rollback()
    return claimed


def run_job(job_id: int) -> str:
    """Run one claimed job in its own transaction; returns its new status."""
    outbox_job = db.session.get(OutboxJob, job_id)
    # Logs of the job carry the id of the request that queued it, when it was recorded.
    rid = request_id.set(str(outbox_job.payload.get("request_id") or f"job_{job_id}"))
    try:
        if not _on_postgres():
            return _run(outbox_job)
        with leases(db.engine).holding(job_id, lease_length()):
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
        # The run ended as its handler meant: no failure, no lease.
        outbox_job.failures = 0
        outbox_job.leased_until = None
        status = outbox_job.status
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        status = _record_failure(job_id, exc)
    elapsed = (time.perf_counter() - started) * 1000
    log.info("job %s %s -> %s in %.0f ms", job_id, kind, status, elapsed, extra={"job_id": job_id})
    return status


def _finish(outbox_job: OutboxJob, status: str, error: str | None) -> None:
    outbox_job.status = status
    outbox_job.last_error = error[:2000] if error else None
    outbox_job.finished_at = now()


def _record_failure(job_id: int, exc: Exception) -> str:
    """Keep the error on the job and schedule it again, or mark it dead after MAX_FAILURES;
    returns its new status."""
    outbox_job = db.session.get(OutboxJob, job_id)
    outbox_job.leased_until = None
    error = f"{type(exc).__name__}: {exc}"
    if outbox_job.failures >= MAX_FAILURES:
        _finish(outbox_job, "dead", error)
        log.error("job %s %s failed for good: %s", job_id, outbox_job.kind, error, exc_info=exc)
    else:
        outbox_job.status = "pending"
        outbox_job.last_error = error[:2000]
        outbox_job.due_at = now() + backoff(outbox_job.failures)
        log.warning(
            "job %s %s failed (%d in a row), again at %s: %s",
            job_id,
            outbox_job.kind,
            outbox_job.failures,
            outbox_job.due_at.isoformat(),
            error,
            exc_info=exc,
        )
    status = outbox_job.status
    db.session.commit()
    return status


def run_due_jobs(app: Flask, limit: int = 20, on_claim: Callable[[], None] | None = None) -> int:
    """Claim and run up to limit due jobs, one at a time, in a fresh app context; returns how
    many ran. on_claim is called after each claim (another thread may find the next job)."""
    handlers.load()
    with app.app_context(), writing():
        try:
            ran = 0
            while ran < limit and (job_id := claim()) is not None:
                if on_claim is not None:
                    on_claim()
                run_job(job_id)
                ran += 1
            return ran
        finally:
            db.session.remove()


def arm_chores(app: Flask) -> None:
    """Make sure the recurring chores (sweep, purge) are queued; never raises."""
    with app.app_context(), writing():
        try:
            chores.keep_armed()
            db.session.commit()
        except Exception:  # the next check tries again; a chore is never urgent to the second
            db.session.rollback()
            log.warning("could not arm the chores", exc_info=True)
        finally:
            db.session.remove()


def run_forever(
    app: Flask,
    *,
    interval: float,
    limit: int,
    stop: threading.Event,
    once: bool = False,
    arm: bool = True,
    idle: Idle | None = None,
    index: int = 0,
) -> int:
    """Run due jobs until stop is set (or, with once, until none are due); returns the total run.

    arm: this loop also keeps the recurring chores queued (one loop of a worker's threads does).
    idle: shared by the threads of one worker (run_side_by_side); index: this thread's among them.
    """
    total = 0
    last_armed = float("-inf")
    while not stop.is_set():
        if arm and not once and time.monotonic() - last_armed >= CHORES_CHECK_EVERY:
            last_armed = time.monotonic()
            arm_chores(app)
        try:
            ran = run_due_jobs(app, limit, idle.claimed if idle else None)
        except Exception:  # the database went away: keep the worker alive and try again
            log.exception("worker pass failed")
            ran = 0
            if once:
                raise
        total += ran
        if once and ran < limit:
            break
        if ran < limit:
            if idle is not None:
                idle.wait(index)
            else:
                stop.wait(interval)
    return total


def run_side_by_side(
    app: Flask, *, threads: int, interval: float, limit: int, stop: threading.Event
) -> int:
    """run_forever in several threads, so a slow job (a gateway that hangs) delays only itself.

    Each thread claims its own jobs (one at a time, SKIP LOCKED); the first also keeps the chores
    armed and polls when nothing is due (Idle).
    """
    if threads <= 1:
        return run_forever(app, interval=interval, limit=limit, stop=stop)
    totals = [0] * threads
    idle = Idle(interval, threads, stop)

    def loop(index: int) -> None:
        totals[index] = run_forever(
            app,
            interval=interval,
            limit=limit,
            stop=stop,
            arm=index == 0,
            idle=idle,
            index=index,
        )

    workers = [
        threading.Thread(target=loop, args=(i,), name=f"worker-{i}", daemon=True)
        for i in range(threads)
    ]
    for thread in workers:
        thread.start()
    stop.wait()
    idle.wake_all()
    for thread in workers:
        thread.join()
    return sum(totals)


def default_threads(app: Flask) -> int:
    """Four on PostgreSQL; one on SQLite, whose writers wait for each other anyway."""
    return 4 if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql") else 1


def register_commands(app: Flask) -> None:
    """Add `flask worker`."""

    @app.cli.command("worker")
    @click.option("--once", is_flag=True, help="Run the jobs due now, then exit.")
    @click.option("--interval", default=1.0, show_default=True, help="Seconds between polls.")
    @click.option("--limit", default=20, show_default=True, help="Jobs claimed per pass.")
    @click.option(
        "--threads",
        type=click.IntRange(1, 64),
        default=None,
        help="Jobs run side by side (default: 4 on PostgreSQL, 1 on SQLite).",
    )
    def worker_command(once: bool, interval: float, limit: int, threads: int | None) -> None:
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
            kinds = ", ".join(sorted(handlers.load()))
            log.info("worker started: handles %s; polls every %.1f s", kinds, interval)
            if once:
                total = run_forever(app, interval=interval, limit=limit, stop=stop, once=True)
            else:
                count = threads or default_threads(app)
                with app.app_context():
                    fit_pool(db.engine, count)
                log.info("running %d jobs side by side", count)
                total = run_side_by_side(
                    app, threads=count, interval=interval, limit=limit, stop=stop
                )
            log.info("worker stopped after %d jobs", total)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
