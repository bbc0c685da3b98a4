"""The outbox worker: dispatch by kind, failures and backoff, the CLI, two workers on PostgreSQL,
and reconciliation of payments whose outcome is unknown (against the fake iamport)."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from datetime import timedelta

import pytest
import requests
from flask import Flask

from payment_backend.clock import now
from payment_backend.extensions import db
from payment_backend.jobs import GiveUp, Retry, job
from payment_backend.models import AuditEntry, OutboxJob, Payment, WebhookDelivery
from payment_backend.services import ledger
from payment_backend.services.reconciliation import RECHECK_DELAYS, mark_unknown
from payment_backend.vendors import gateway
from payment_backend.worker import BACKOFF_BASE, run_due_jobs

CALLS: Counter[str] = Counter()


@job("test_flaky")
def _flaky(outbox_job: OutboxJob) -> None:
    """Fails twice, then works."""
    CALLS[outbox_job.payload["name"]] += 1
    if CALLS[outbox_job.payload["name"]] <= 2:
        raise RuntimeError("merchant system on fire")


@job("test_retry_later")
def _retry_later(outbox_job: OutboxJob) -> None:
    """Asks to run again in an hour, keeping what it wrote."""
    CALLS[outbox_job.payload["name"]] += 1
    outbox_job.payload = {**outbox_job.payload, "seen": True}
    raise Retry(now() + timedelta(hours=1), "not yet")


@job("test_give_up")
def _give_up(outbox_job: OutboxJob) -> None:
    """Never worth retrying."""
    raise GiveUp("nothing to do about it")


@pytest.fixture()
def app(worker_app: Flask) -> Flask:
    """These tests run the worker over every due job: a database of their own."""
    return worker_app


def enqueue(app: Flask, kind: str, **payload) -> int:
    with app.app_context():
        queued = OutboxJob(kind=kind, payload=payload, due_at=now(), created_at=now())
        db.session.add(queued)
        db.session.commit()
        return queued.id


def job_row(app: Flask, job_id: int) -> OutboxJob:
    with app.app_context():
        row = db.session.get(OutboxJob, job_id)
        db.session.expunge(row)
        return row


def test_a_failing_handler_is_retried_with_backoff_and_the_error_kept(app, clock):
    name = uuid.uuid4().hex
    job_id = enqueue(app, "test_flaky", name=name)

    run_due_jobs(app)
    first = job_row(app, job_id)
    assert (first.status, first.attempts) == ("pending", 1)
    assert "RuntimeError: merchant system on fire" in first.last_error
    run_due_jobs(app)
    assert CALLS[name] == 1  # not due yet

    clock.advance(BACKOFF_BASE.total_seconds())
    run_due_jobs(app)
    second = job_row(app, job_id)
    assert (second.status, second.attempts, CALLS[name]) == ("pending", 2, 2)
    assert second.due_at - first.due_at >= 2 * BACKOFF_BASE  # doubled

    clock.advance(2 * BACKOFF_BASE.total_seconds())
    run_due_jobs(app)
    done = job_row(app, job_id)
    assert (done.status, done.attempts, done.last_error, CALLS[name]) == ("done", 3, None, 3)
    assert done.finished_at is not None


def test_retry_keeps_the_handlers_changes_and_give_up_ends_the_job(app, clock):
    name = uuid.uuid4().hex
    later = enqueue(app, "test_retry_later", name=name)
    hopeless = enqueue(app, "test_give_up")

    run_due_jobs(app)

    row = job_row(app, later)
    assert (row.status, row.last_error, row.payload["seen"]) == ("pending", "not yet", True)
    wait = row.due_at.replace(tzinfo=None) - clock.now().replace(tzinfo=None)
    assert timedelta(minutes=59) < wait <= timedelta(hours=1)
    dead = job_row(app, hopeless)
    assert (dead.status, dead.last_error) == ("dead", "nothing to do about it")
    # Clean up the job that would otherwise come back in an hour.
    with app.app_context():
        db.session.get(OutboxJob, later).status = "done"
        db.session.commit()


def test_jobs_of_unknown_kinds_are_left_alone(app):
    job_id = enqueue(app, "nobody_handles_this")
    run_due_jobs(app)
    row = job_row(app, job_id)
    assert (row.status, row.attempts) == ("pending", 0)
    with app.app_context():
        db.session.delete(db.session.get(OutboxJob, job_id))
        db.session.commit()


def test_the_worker_command_runs_due_jobs_once(app, merchant, queue_notification):
    delivery_id = queue_notification(app, merchant.url + "/cli")

    result = app.test_cli_runner().invoke(args=["worker", "--once", "--limit", "5"])

    assert result.exit_code == 0, result.output
    [request] = merchant.wait_for(1)
    assert request["body"]["id"] == delivery_id
    with app.app_context():
        assert db.session.get(WebhookDelivery, delivery_id).status == "delivered"


def test_two_workers_never_deliver_the_same_job_twice(app, merchant, queue_notification):
    ids = [queue_notification(app, merchant.url + "/race") for _ in range(40)]

    start = threading.Barrier(2)
    ran: list[int] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            start.wait()
            total = 0
            while batch := run_due_jobs(app, limit=3):
                total += batch
            ran.append(total)
        except BaseException as exc:  # reported below
            errors.append(exc)

    workers = [threading.Thread(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)

    assert not errors, errors
    received = Counter(r["headers"]["Webhook-Id"] for r in merchant.wait_for(len(ids)))
    assert set(received) == set(ids)
    assert max(received.values()) == 1, [k for k, v in received.items() if v > 1]
    with app.app_context():
        jobs = [
            j
            for j in db.session.query(OutboxJob).filter_by(kind="deliver_webhook")
            if j.payload["delivery_id"] in set(ids)
        ]
        assert {(j.status, j.attempts) for j in jobs} == {("done", 1)}


# --- reconciliation against the fake iamport ---------------------------------------------------


def _iamport(fakes, path: str, body: dict) -> dict:
    response = fakes.iamport_api("POST", path, json=body)
    assert response.status_code == 200, response.text
    assert response.json()["code"] == 0, response.json()
    return response.json()["response"]


def _paid_at_the_fake(fakes, amount: int) -> str:
    """A card payment made at the fake without a browser (key-in); returns its imp_uid."""
    paid = _iamport(
        fakes,
        "/subscribe/payments/onetime",
        {
            "merchant_uid": f"recon-{uuid.uuid4().hex[:12]}",
            "amount": amount,
            "card_number": "4242-4242-4242-4242",
            "expiry": "2030-12",
            "birth": "880101",
            "name": "Reconciliation test",
        },
    )
    assert paid["status"] == "paid"
    return paid["imp_uid"]


def _record_with_unknown_outcome(app: Flask, imp_uid: str, webhook_url: str) -> str:
    """Our record as it stood when a cancel call timed out: paid, nothing refunded, unknown."""
    with app.app_context():
        gp = gateway("iamport").get_payment(imp_uid)
        payment = ledger.new_payment(
            gp,
            source={"schema": "shop", "table": "orders", "id": f"recon-{imp_uid}"},
            webhook_url=webhook_url,
        )
        db.session.flush()
        mark_unknown(payment, "cancel timed out")
        db.session.commit()
        return payment.id


def _view(app: Flask, payment_id: str) -> dict:
    with app.app_context():
        payment = db.session.get(Payment, payment_id)
        return {
            "status": payment.status,
            "refunded": payment.refunded,
            "unknown": payment.outcome_unknown,
            "cancels": [c.amount for c in payment.cancels],
        }


def test_reconciliation_fixes_a_payment_whose_cancel_outcome_was_unknown(
    app, fakes, merchant, clock
):
    imp_uid = _paid_at_the_fake(fakes, 10000)
    payment_id = _record_with_unknown_outcome(app, imp_uid, merchant.url + "/recon")
    # The cancel that "timed out" did happen at the gateway.
    _iamport(fakes, "/payments/cancel", {"imp_uid": imp_uid, "amount": 4000, "reason": "late"})
    assert _view(app, payment_id) == {
        "status": "paid",
        "refunded": 0,
        "unknown": True,
        "cancels": [],
    }

    clock.advance(RECHECK_DELAYS[0].total_seconds())
    run_due_jobs(app)

    assert _view(app, payment_id) == {
        "status": "partially_refunded",
        "refunded": 4000,
        "unknown": False,
        "cancels": [4000],
    }
    run_due_jobs(app)  # the notification the fix queued
    [request] = merchant.wait_for(1)
    assert request["body"]["previous"]["status"] == "paid"
    assert request["body"]["current"]["status"] == "partially_refunded"
    assert request["body"]["current"]["refund"] == 4000
    with app.app_context():
        actions = {
            e.action for e in db.session.query(AuditEntry).filter_by(payment_id=payment_id).all()
        }
    assert {"payment.outcome_unknown", "payment.reconciled"} <= actions


def test_reconciliation_retries_while_the_gateway_is_unreachable(app, fakes, merchant, clock):
    imp_uid = _paid_at_the_fake(fakes, 7000)
    payment_id = _record_with_unknown_outcome(app, imp_uid, merchant.url + "/recon")
    _iamport(fakes, "/payments/cancel", {"imp_uid": imp_uid, "reason": "all of it"})
    # Two 503s: the client's one safe repeat of the read fails too.
    rule = {"method": "GET", "path": f"/payments/{imp_uid}", "status": 503, "times": 2}
    requests.post(f"{fakes.iamport.url}/__control/faults", json=rule, timeout=10).raise_for_status()
    try:
        clock.advance(RECHECK_DELAYS[0].total_seconds())
        run_due_jobs(app)
        assert _view(app, payment_id)["unknown"] is True
        with app.app_context():
            [queued] = [
                j
                for j in db.session.query(OutboxJob).filter_by(kind="reconcile_payment")
                if j.payload["payment_id"] == payment_id
            ]
            assert queued.status == "pending"
            assert "gateway unreachable" in queued.last_error

        clock.advance(RECHECK_DELAYS[0].total_seconds())
        run_due_jobs(app)
    finally:
        requests.delete(f"{fakes.iamport.url}/__control/faults", timeout=10)

    assert _view(app, payment_id) == {
        "status": "refunded",
        "refunded": 7000,
        "unknown": False,
        "cancels": [7000],
    }
    run_due_jobs(app)
    assert merchant.wait_for(1)[0]["body"]["current"]["status"] == "refunded"


def test_a_payment_settled_meanwhile_is_left_alone(app, fakes, merchant, clock):
    imp_uid = _paid_at_the_fake(fakes, 3000)
    payment_id = _record_with_unknown_outcome(app, imp_uid, merchant.url + "/recon")
    with app.app_context():
        db.session.get(Payment, payment_id).outcome_unknown = False  # a webhook got there first
        db.session.commit()

    clock.advance(RECHECK_DELAYS[0].total_seconds())
    run_due_jobs(app)
    run_due_jobs(app)

    assert _view(app, payment_id)["status"] == "paid"
    assert merchant.received == []
