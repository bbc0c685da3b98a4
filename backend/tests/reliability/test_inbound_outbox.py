"""A gateway webhook stored by a process that dies before processing it is never lost."""

from __future__ import annotations

import contextlib
import threading
import time
from datetime import timedelta

import pytest
import requests
from flask import Flask
from sqlalchemy import select

from fake_common.receiver import WebhookReceiver
from fake_common.window_client import iamport_pay
from payment_backend.extensions import db
from payment_backend.models import InboundWebhook, Order, OutboxJob
from payment_backend.worker import run_due_jobs


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture()
def paid_at_gateway(worker_app: Flask, fakes, merchant: WebhookReceiver, monkeypatch):
    """An order paid at fake iamport that we have not heard of; its webhook body."""
    monkeypatch.setitem(worker_app.config, "CHECKOUT_WEBHOOK_URL", merchant.url + "/hooks")
    answer = worker_app.test_client().post(
        "/api/checkout/orders",
        json={"vendor": "iamport", "method": "card", "items": [{"product_id": 1, "quantity": 1}]},
    )
    order = answer.get_json()
    query = iamport_pay(fakes.iamport.url, merchant_uid=order["order_id"], amount=order["amount"])
    return {"imp_uid": query["imp_uid"], "merchant_uid": order["order_id"], "status": "paid"}


def crash_while_processing(served, fakes, app: Flask, body: dict) -> None:
    """Send the webhook to a served process, and SIGKILL it while it reads the gateway."""
    requests.delete(f"{fakes.iamport.url}/__control/faults", timeout=5)
    requests.post(
        f"{fakes.iamport.url}/__control/faults",
        json={"method": "GET", "path": "/payments/imp_*", "latency_ms": 20_000},
        timeout=5,
    ).raise_for_status()

    def send() -> None:
        with contextlib.suppress(requests.RequestException):  # the server dies mid-request
            requests.post(f"{served.url}/payments/webhooks/iamport", json=body, timeout=30)

    thread = threading.Thread(target=send, daemon=True)
    try:
        thread.start()

        def stored() -> bool:
            with app.app_context():
                found = db.session.scalars(select(InboundWebhook.id)).all()
                db.session.rollback()
                return bool(found)

        wait_until(stored, 15, "the webhook to be stored")
        time.sleep(0.3)  # well inside the gateway read
        served.kill()
    finally:
        requests.delete(f"{fakes.iamport.url}/__control/faults", timeout=5)
    with app.app_context():
        hook = db.session.scalars(select(InboundWebhook)).one()
        assert hook.processed_at is None  # the crash came before processing
        db.session.rollback()


def order_status(app: Flask, order_id: str) -> str:
    with app.app_context():
        status = db.session.get(Order, order_id).status
        db.session.rollback()
        return status


@pytest.fixture()
def fresh(worker_app: Flask):
    """worker_app without stored webhooks of earlier tests."""
    with worker_app.app_context():
        db.session.query(InboundWebhook).delete()
        db.session.commit()
    return worker_app


def test_a_webhook_stored_before_a_crash_is_processed_by_the_worker(
    fresh, paid_at_gateway, serve, fakes, merchant
):
    app, body = fresh, paid_at_gateway
    crash_while_processing(serve(app), fakes, app, body)
    with app.app_context():
        jobs = db.session.scalars(
            select(OutboxJob).where(
                OutboxJob.kind == "process_webhook", OutboxJob.status == "pending"
            )
        ).all()
        assert len(jobs) == 1  # enqueued with the delivery, in its transaction
    clock = app.extensions["clock"]
    clock.advance(timedelta(minutes=2).total_seconds())  # past the grace a live request has
    try:
        run_due_jobs(app)
    finally:
        clock.reset()
    assert order_status(app, body["merchant_uid"]) == "paid"
    merchant.wait_for(1)
    time.sleep(0.3)
    assert len(merchant.received) == 1  # notified exactly once
    assert merchant.received[0]["body"]["current"]["status"] == "paid"


def test_a_redelivery_of_a_webhook_left_unprocessed_is_processed_not_ignored(
    fresh, paid_at_gateway, serve, fakes, merchant
):
    app, body = fresh, paid_at_gateway
    crash_while_processing(serve(app), fakes, app, body)
    answer = app.test_client().post("/payments/webhooks/iamport", json=body)
    assert answer.status_code == 200
    assert answer.get_json()["result"] != "duplicate ignored"
    assert order_status(app, body["merchant_uid"]) == "paid"
    # The job left by the crash finds it processed; the merchant hears of it once.
    clock = app.extensions["clock"]
    clock.advance(timedelta(minutes=2).total_seconds())
    try:
        run_due_jobs(app)
    finally:
        clock.reset()
    merchant.wait_for(1)
    time.sleep(0.3)
    assert len(merchant.received) == 1
    again = app.test_client().post("/payments/webhooks/iamport", json=body)
    assert again.get_json()["result"] == "duplicate ignored"  # once processed, repeats are
