"""A worker killed while it delivers a notification leaves the attempt behind; the next run
marks it interrupted and sends again with the same webhook-id."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from flask import Flask, request

from fake_common.server import serve_in_thread
from payment_backend.extensions import db
from payment_backend.models import DeliveryAttempt, WebhookDelivery
from payment_backend.worker import run_due_jobs


class BlockingMerchant:
    """A merchant endpoint whose first request hangs until released; every request recorded."""

    def __init__(self) -> None:
        self.app = Flask("blocking_merchant")
        self.app.add_url_rule("/hook", "hook", self._hook, methods=["POST"])
        self.entered = threading.Event()
        self.release = threading.Event()
        self.received: list[dict] = []
        self.url = ""

    def _hook(self):
        self.received.append({"webhook_id": request.headers.get("webhook-id")})
        if len(self.received) == 1:
            self.entered.set()
            self.release.wait(30)
        return {"ok": True}


@pytest.fixture()
def blocking_merchant() -> Iterator[BlockingMerchant]:
    merchant = BlockingMerchant()
    with serve_in_thread(merchant.app) as server:
        merchant.url = server.url
        yield merchant
        merchant.release.set()


def test_a_worker_killed_mid_delivery_leaves_an_interrupted_attempt_and_the_next_run_sends_again(
    worker_app: Flask, blocking_merchant, worker_process, queue_notification, monkeypatch
):
    app = worker_app
    delivery_id = queue_notification(app, blocking_merchant.url + "/hook")
    worker = worker_process(app, WORKER_LEASE_SECONDS="2", WEBHOOK_DEADLINE_SECONDS="30")
    assert blocking_merchant.entered.wait(30), "the worker never sent the notification"
    worker.kill()  # SIGKILL while the merchant has not answered
    worker.wait(timeout=10)

    with app.app_context():
        attempts = db.session.query(DeliveryAttempt).filter_by(delivery_id=delivery_id).all()
        assert [a.state for a in attempts] == ["sending"]  # recorded before it was sent
        db.session.rollback()

    blocking_merchant.release.set()
    # The next run comes once the dead worker's lease is over; by then no attempt of the dead
    # worker can still be in flight (each is cut at WEBHOOK_DEADLINE_SECONDS).
    monkeypatch.setitem(app.config, "WEBHOOK_DEADLINE_SECONDS", 1)
    time.sleep(2.5)
    run_due_jobs(app)

    with app.app_context():
        delivery = db.session.get(WebhookDelivery, delivery_id)
        states = [(a.state, a.status_code) for a in delivery.attempts]
        assert states == [("interrupted", None), ("done", 200)], states
        assert delivery.status == "delivered"
        assert delivery.attempt_count == 2
        assert "interrupted" in delivery.attempts[0].error
    ids = [r["webhook_id"] for r in blocking_merchant.received]
    assert ids == [delivery_id, delivery_id]  # the same webhook-id both times
