"""Worker leases: a job is leased one at a time, in database time, renewed while it runs; a job
whose runs never finish (its handler kills the process) ends dead after MAX_FAILURES claims."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter

import pytest
from flask import Flask

from payment_backend.clock import now
from payment_backend.extensions import db
from payment_backend.jobs import job
from payment_backend.models import OutboxJob
from payment_backend.worker import MAX_FAILURES, claim, run_due_jobs

LEASE = 0.6  # seconds: WORKER_LEASE_SECONDS for these tests
SLEEP = 1.0  # each job of the slow kind runs longer than a whole lease

RUNS: Counter[str] = Counter()
_runs_lock = threading.Lock()


@job("test_slow")
def _slow(outbox_job: OutboxJob) -> None:
    """Counts its runs, then takes longer than a lease."""
    with _runs_lock:
        RUNS[outbox_job.payload["name"]] += 1
    time.sleep(SLEEP)


@job("test_crash")
def _crash(outbox_job: OutboxJob) -> None:
    """Stands for a handler that kills its process: the tests claim it and never run it."""
    raise AssertionError("never run in these tests")


@pytest.fixture()
def app(worker_app: Flask, monkeypatch) -> Flask:
    """The worker's app with a short lease."""
    monkeypatch.setitem(worker_app.config, "WORKER_LEASE_SECONDS", LEASE)
    return worker_app


def enqueue(app: Flask, kind: str, count: int) -> tuple[str, list[int]]:
    name = uuid.uuid4().hex
    with app.app_context():
        jobs = [
            OutboxJob(kind=kind, payload={"name": name, "n": n}, due_at=now(), created_at=now())
            for n in range(count)
        ]
        db.session.add_all(jobs)
        db.session.commit()
        return name, [j.id for j in jobs]


def rows(app: Flask, ids: list[int]) -> list[OutboxJob]:
    with app.app_context():
        found = [db.session.get(OutboxJob, i) for i in ids]
        for row in found:
            db.session.expunge(row)
        return found


def test_a_batch_slower_than_the_lease_is_not_run_twice_by_a_second_worker(app, is_postgres):
    if not is_postgres:
        pytest.skip("SQLite runs one worker; several workers share PostgreSQL")
    name, ids = enqueue(app, "test_slow", 4)  # 4 s of work, each job longer than a lease
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def work(delay: float) -> None:
        try:
            start.wait()
            time.sleep(delay)  # the second worker comes when the first one's jobs look stale
            while run_due_jobs(app, limit=20):
                pass
        except BaseException as exc:  # reported below
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(d,)) for d in (0.0, LEASE * 1.5)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)

    assert not errors, errors
    assert RUNS[name] == len(ids), "a job ran twice (or never)"
    done = rows(app, ids)
    assert {(j.status, j.attempts, j.failures, j.leased_until) for j in done} == {
        ("done", 1, 0, None)
    }


def test_a_job_that_is_claimed_and_never_finished_ends_dead_after_max_failures(app, clock):
    _, [job_id] = enqueue(app, "test_crash", 1)
    # Each claim stands for a worker that took the job and died with it (its lease runs out).
    for run in range(1, MAX_FAILURES + 1):
        with app.app_context():
            assert claim() == job_id
            db.session.remove()
        [row] = rows(app, [job_id])
        assert (row.status, row.attempts, row.failures) == ("pending", run, run)
        assert row.leased_until is not None
        with app.app_context():
            assert claim() is None  # leased: no other worker takes it
            db.session.remove()
        time.sleep(LEASE + 0.05)

    with app.app_context():
        assert claim() is None  # marked dead instead of run
        db.session.remove()
    [row] = rows(app, [job_id])
    assert (row.status, row.attempts) == ("dead", MAX_FAILURES)
    assert "never finished" in row.last_error
    assert row.finished_at is not None and row.leased_until is None


def test_leases_are_measured_in_database_time_not_the_app_clock(app, clock):
    _, [job_id] = enqueue(app, "test_crash", 1)
    with app.app_context():
        assert claim() == job_id
        db.session.remove()
    # Tests move the app clock by days (jobs' due_at follows it); the lease does not end.
    clock.advance(86400 * 3)
    with app.app_context():
        assert claim() is None
        db.session.remove()
    time.sleep(LEASE + 0.05)
    with app.app_context():
        assert claim() == job_id  # its lease ran out in database time
        db.session.get(OutboxJob, job_id).status = "parked"
        db.session.commit()
        db.session.remove()
