"""Worker fairness: a few jobs in flight per destination, a circuit breaker per destination that
the owner sees, and priorities among due jobs (renewals wait behind webhooks)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask, request
from sqlalchemy import select, update

from fake_common.receiver import WebhookReceiver
from fake_common.server import serve_in_thread
from payment_backend import handlers
from payment_backend.extensions import db
from payment_backend.jobs import PRIORITIES, enqueue, job
from payment_backend.models import DeliveryCircuit, OutboxJob, WebhookDelivery
from payment_backend.services.circuits import destination_of
from payment_backend.worker import claim, database_now, run_due_jobs, run_side_by_side

RAN: list[str] = []


@job("test_urgent")
def _urgent(outbox_job: OutboxJob) -> None:
    """Records its name."""
    RAN.append(outbox_job.payload["name"])


@job("test_batch")
def _batch(outbox_job: OutboxJob) -> None:
    """Records its name."""
    RAN.append(outbox_job.payload["name"])


@pytest.fixture()
def app(worker_app: Flask) -> Iterator[Flask]:
    """A database of its own; the fairness settings back to their defaults afterwards."""
    saved = {
        k: worker_app.config.get(k)
        for k in ("WORKER_DESTINATION_IN_FLIGHT", "WEBHOOK_CIRCUIT_FAILURES")
    }
    yield worker_app
    worker_app.config.update(saved)


def status_of(app: Flask, delivery_id: str) -> str:
    with app.app_context():
        return db.session.get(WebhookDelivery, delivery_id).status


def test_a_destination_with_its_slots_taken_is_skipped_by_the_claim(app, queue_notification):
    app.config["WORKER_DESTINATION_IN_FLIGHT"] = 2
    handlers.load()
    busy = [queue_notification(app, "http://busy.example:8080/hook") for _ in range(3)]
    free = queue_notification(app, "http://free.example/hook")
    with app.app_context():
        jobs = {
            j.payload["delivery_id"]: j
            for j in db.session.scalars(select(OutboxJob).where(OutboxJob.status == "pending"))
        }
        assert jobs[busy[0]].destination == "http://busy.example:8080"
        assert jobs[free].destination == "http://free.example:80"
        # Two of busy.example's deliveries are running (leased by other workers).
        db.session.execute(
            update(OutboxJob)
            .where(OutboxJob.id.in_([jobs[busy[0]].id, jobs[busy[1]].id]))
            .values(leased_until=database_now() + timedelta(minutes=5))
        )
        db.session.commit()
        claimed = claim()
        assert claimed == jobs[free].id  # not busy[2], queued earlier
        assert claim() is None
        # A lease that ran out (its worker died) no longer takes a slot.
        db.session.execute(
            update(OutboxJob)
            .where(OutboxJob.id == jobs[busy[0]].id)
            .values(leased_until=database_now() - timedelta(seconds=1))
        )
        db.session.commit()
        assert claim() in {jobs[busy[0]].id, jobs[busy[2]].id}
        db.session.execute(update(OutboxJob).values(status="parked"))
        db.session.commit()


class SlowMerchant:
    """A webhook endpoint that holds every request until released."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.received = 0
        self.app = Flask("slow_merchant")
        self.app.add_url_rule("/<path:path>", "hook", self._hook, methods=["POST"])

    def _hook(self, path: str):
        self.received += 1
        self.release.wait(20)
        request.get_data()
        return {"ok": True}


def test_a_slow_destination_delays_only_its_own_deliveries(
    app, is_postgres, merchant, queue_notification
):
    if not is_postgres:
        pytest.skip("SQLite runs one worker thread")
    app.config["WORKER_DESTINATION_IN_FLIGHT"] = 1
    slow = SlowMerchant()
    with serve_in_thread(slow.app) as server:
        stuck = [queue_notification(app, f"{server.url}/hook") for _ in range(3)]
        fast = [queue_notification(app, f"{merchant.url}/hook") for _ in range(6)]
        stop = threading.Event()
        worker = threading.Thread(
            target=run_side_by_side,
            kwargs={"app": app, "threads": 3, "interval": 0.05, "limit": 50, "stop": stop},
        )
        worker.start()
        try:
            merchant.wait_for(len(fast), timeout=20)
            # The merchant has the last request a moment before its worker commits the outcome.
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and any(
                status_of(app, d) != "delivered" for d in fast
            ):
                time.sleep(0.05)
            # The fast merchant got everything while the slow one holds its first request: one
            # thread waits on it, the others never took a second of its deliveries.
            assert slow.received == 1
            assert all(status_of(app, d) == "delivered" for d in fast)
            slow.release.set()
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and any(
                status_of(app, d) != "delivered" for d in stuck
            ):
                time.sleep(0.1)
        finally:
            slow.release.set()
            stop.set()
            worker.join(30)
    assert [status_of(app, d) for d in stuck] == ["delivered"] * 3
    assert slow.received == 3


def admin_destinations(app: Flask) -> dict[str, dict]:
    token = {"Authorization": f"Bearer {app.config['PAYMENT_ADMIN_TOKEN']}"}
    response = app.test_client().get("/api/admin/destinations", headers=token)
    assert response.status_code == 200, response.text
    return {d["destination"]: d for d in response.get_json()["destinations"]}


def test_the_circuit_opens_after_consecutive_failures_and_a_probe_closes_it(
    app, clock, queue_notification
):
    app.config["WEBHOOK_CIRCUIT_FAILURES"] = 3
    with WebhookReceiver() as failing:
        failing.statuses = [500] * 4  # three failures open it; the first probe fails too
        where = destination_of(failing.url)
        ids = [queue_notification(app, f"{failing.url}/hook") for _ in range(5)]

        run_due_jobs(app)
        assert len(failing.received) == 3  # the other two wait: no request, no attempt used
        seen = admin_destinations(app)[where]
        assert (seen["state"], seen["consecutive_failures"]) == ("open", 3)
        assert seen["queued_jobs"] == 5 and seen["last_error"] == "HTTP 500"
        with app.app_context():
            untried = db.session.scalars(
                select(OutboxJob).where(OutboxJob.attempts == 0, OutboxJob.status == "pending")
            ).all()
            assert len(untried) == 2

        clock.advance(31)  # the cool-down (30 s) is over: half-open, one probe
        assert admin_destinations(app)[where]["state"] == "half_open"
        run_due_jobs(app)
        assert len(failing.received) == 4  # the probe failed: open again, for twice as long
        assert admin_destinations(app)[where]["state"] == "open"
        clock.advance(31)
        run_due_jobs(app)
        assert len(failing.received) == 4

        clock.advance(30)
        run_due_jobs(app)  # the probe succeeds, the circuit closes, the rest go out
        assert admin_destinations(app)[where]["state"] == "closed"
        assert [status_of(app, d) for d in ids] == ["delivered"] * 5
    with app.app_context():
        circuit = db.session.get(DeliveryCircuit, where)
        assert (circuit.consecutive_failures, circuit.retry_at) == (0, None)


def test_a_replay_that_succeeds_closes_the_circuit(app, clock, queue_notification):
    app.config["WEBHOOK_CIRCUIT_FAILURES"] = 1
    with WebhookReceiver() as failing:
        failing.statuses = [503]
        delivery_id = queue_notification(app, f"{failing.url}/hook")
        run_due_jobs(app)
        where = destination_of(failing.url)
        assert admin_destinations(app)[where]["state"] == "open"
        token = {"Authorization": f"Bearer {app.config['PAYMENT_ADMIN_TOKEN']}"}
        replayed = app.test_client().post(
            f"/api/admin/deliveries/{delivery_id}/retry", headers=token
        )
        assert replayed.get_json()["delivered"] is True
        assert admin_destinations(app)[where]["state"] == "closed"


def test_renewals_wait_behind_webhooks_and_reconciliation(app, monkeypatch):
    assert PRIORITIES["charge_subscription"] > PRIORITIES["reconcile_payment"]
    assert PRIORITIES["reconcile_payment"] > PRIORITIES["deliver_webhook"]
    assert PRIORITIES["process_webhook"] == PRIORITIES["deliver_webhook"]
    monkeypatch.setitem(PRIORITIES, "test_batch", PRIORITIES["charge_subscription"])
    monkeypatch.setitem(PRIORITIES, "test_urgent", PRIORITIES["process_webhook"])
    RAN.clear()
    with app.app_context():
        for n in range(5):
            enqueue("test_batch", {"name": f"renewal {n}"}, due_in=timedelta(seconds=-60))
        enqueue("test_urgent", {"name": "webhook"})
        db.session.commit()
        assert (
            db.session.scalars(
                select(OutboxJob.priority).where(OutboxJob.kind == "test_batch")
            ).all()
            == [PRIORITIES["charge_subscription"]] * 5
        )
    run_due_jobs(app)
    # Due a minute later than every renewal, the webhook still runs first.
    expected = ["webhook"] + [f"renewal {n}" for n in range(5)]
    assert expected == RAN
