"""Outbound webhooks over real HTTP: signed, retried on the schedule (app clock), replayed, encrypted."""

from __future__ import annotations

import base64
import itertools
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from Crypto.Cipher import AES
from Crypto.Util.Padding import unpad
from flask import Flask
from standardwebhooks import Webhook

from payment_backend import create_app
from payment_backend.extensions import db
from payment_backend.models import OutboxJob, WebhookDelivery
from payment_backend.services.deliveries import RETRY_SCHEDULE
from payment_backend.worker import run_due_jobs


@pytest.fixture()
def app(worker_app: Flask) -> Flask:
    """These tests run the worker over every due job: a database of their own."""
    return worker_app


def load(app: Flask, delivery_id: str) -> dict:
    """A delivery with its attempts and its job, as plain data."""
    with app.app_context():
        delivery = db.session.get(WebhookDelivery, delivery_id)
        jobs = [
            j
            for j in db.session.query(OutboxJob).filter_by(kind="deliver_webhook").all()
            if j.payload.get("delivery_id") == delivery_id
        ]
        return {
            "status": delivery.status,
            "attempt_count": delivery.attempt_count,
            "next_attempt_at": delivery.next_attempt_at,
            "attempts": [
                {"at": a.attempted_at, "status_code": a.status_code, "error": a.error}
                for a in delivery.attempts
            ],
            "job": {"status": jobs[0].status, "attempts": jobs[0].attempts},
        }


def verify_signature(secret: str, request: dict) -> None:
    """Check the signature the way a merchant would: with the Standard Webhooks library's key
    handling (whsec_<base64>). The timestamp is the test clock's, so it is not checked here."""
    assert secret.startswith("whsec_")
    headers = {k.lower(): v for k, v in request["headers"].items()}
    at = datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)
    expected = Webhook(secret).sign(headers["webhook-id"], at, request["raw"])
    assert expected in headers["webhook-signature"].split()


def test_a_notification_is_delivered_signed(app, merchant, queue_notification):
    delivery_id = queue_notification(app, merchant.url + "/hooks/payments")

    run_due_jobs(app)

    [request] = merchant.wait_for(1)
    assert request["path"] == "/hooks/payments"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["headers"]["Webhook-Id"] == delivery_id
    verify_signature(app.config["PAYMENT_WEBHOOK_SIGNING_SECRET"], request)
    # The whole check of the Standard Webhooks library, timestamp tolerance included, unchanged.
    headers = {k.lower(): v for k, v in request["headers"].items()}
    Webhook(app.config["PAYMENT_WEBHOOK_SIGNING_SECRET"]).verify(request["raw"], headers)
    body = request["body"]
    assert set(body) == {"id", "source", "previous", "current"}
    assert body["id"] == delivery_id
    assert body["previous"] is None
    assert body["current"]["price"] == 15000 and body["current"]["status"] == "paid"
    assert body["source"] == body["current"]["source"]
    stored = load(app, delivery_id)
    assert stored["status"] == "delivered"
    assert [a["status_code"] for a in stored["attempts"]] == [200]
    assert stored["job"] == {"status": "done", "attempts": 1}


def test_a_tampered_body_fails_the_signature_check(app, merchant, queue_notification):
    queue_notification(app, merchant.url + "/hooks")
    run_due_jobs(app)
    [request] = merchant.wait_for(1)
    with pytest.raises(AssertionError):
        verify_signature(app.config["PAYMENT_WEBHOOK_SIGNING_SECRET"], request | {"raw": "{}"})


def test_retries_follow_the_schedule_then_succeed(app, merchant, clock, queue_notification):
    merchant.statuses = [500, 500, 500]
    delivery_id = queue_notification(app, merchant.url + "/hooks")

    run_due_jobs(app)
    assert len(merchant.received) == 1
    for delay, seen in zip(RETRY_SCHEDULE[:3], (2, 3, 4), strict=True):
        stored = load(app, delivery_id)
        assert stored["status"] == "pending"
        last = stored["attempts"][-1]["at"]
        # Measured from the end of the failed attempt.
        assert delay <= stored["next_attempt_at"] - last < delay + timedelta(seconds=1)
        # Not a moment early: one second before the retry nothing is sent.
        clock.advance(delay.total_seconds() - 1)
        run_due_jobs(app)
        assert len(merchant.received) == seen - 1
        clock.advance(1)
        run_due_jobs(app)
        assert len(merchant.received) == seen

    stored = load(app, delivery_id)
    assert stored["status"] == "delivered"
    assert stored["next_attempt_at"] is None
    assert [a["status_code"] for a in stored["attempts"]] == [500, 500, 500, 200]
    assert stored["attempt_count"] == 4
    assert stored["job"] == {"status": "done", "attempts": 4}
    times = [a["at"] for a in stored["attempts"]]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    for gap, delay in zip(gaps, RETRY_SCHEDULE[:3], strict=True):
        assert delay <= gap < delay + timedelta(seconds=2)
    # Every attempt carries the same webhook-id (merchants deduplicate on it) and a valid signature.
    secret = app.config["PAYMENT_WEBHOOK_SIGNING_SECRET"]
    assert {r["headers"]["Webhook-Id"] for r in merchant.received} == {delivery_id}
    for request in merchant.received:
        verify_signature(secret, request)


def test_gives_up_after_the_last_retry_and_a_replay_delivers(
    app, client, merchant, clock, queue_notification
):
    merchant.statuses = [503] * (len(RETRY_SCHEDULE) + 1)
    delivery_id = queue_notification(app, merchant.url + "/hooks")

    run_due_jobs(app)
    for delay in RETRY_SCHEDULE:
        clock.advance(delay.total_seconds())
        run_due_jobs(app)
    clock.advance(timedelta(days=2).total_seconds())
    run_due_jobs(app)

    stored = load(app, delivery_id)
    assert stored["status"] == "failed"
    assert stored["attempt_count"] == len(RETRY_SCHEDULE) + 1 == len(merchant.received)
    assert stored["job"]["status"] == "dead"

    token = {"Authorization": f"Bearer {app.config['PAYMENT_ADMIN_TOKEN']}"}
    response = client.post(f"/api/admin/deliveries/{delivery_id}/retry", headers=token)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["delivered"] is True
    assert body["attempt"]["status_code"] == 200
    assert body["delivery"]["status"] == "delivered"
    assert len(body["delivery"]["attempts"]) == len(RETRY_SCHEDULE) + 2
    assert len(merchant.received) == len(RETRY_SCHEDULE) + 2
    verify_signature(app.config["PAYMENT_WEBHOOK_SIGNING_SECRET"], merchant.received[-1])

    # A replay of a delivered notification is sent again and recorded too.
    merchant.statuses = [500]
    again = client.post(f"/api/admin/deliveries/{delivery_id}/retry", headers=token).get_json()
    assert again["delivered"] is False and again["attempt"]["status_code"] == 500
    assert again["delivery"]["status"] == "delivered"
    assert again["delivery"]["attempt_count"] == len(RETRY_SCHEDULE) + 3


def test_admin_lists_deliveries_of_a_payment_with_attempts(
    app, client, merchant, queue_notification
):
    merchant.statuses = [500]
    delivery_id = queue_notification(app, merchant.url + "/hooks")
    run_due_jobs(app)
    with app.app_context():
        payment_id = db.session.get(WebhookDelivery, delivery_id).payment_id

    token = {"Authorization": f"Bearer {app.config['PAYMENT_ADMIN_TOKEN']}"}
    response = client.get(f"/api/admin/deliveries?payment_id={payment_id}", headers=token)
    assert response.status_code == 200
    [listed] = response.get_json()["deliveries"]
    assert listed["id"] == delivery_id
    assert listed["status"] == "pending" and listed["next_attempt_at"]
    assert [a["status_code"] for a in listed["attempts"]] == [500]
    assert listed["attempts"][0]["error"] == "HTTP 500"
    assert "ok" in listed["attempts"][0]["response_body"]


def test_admin_routes_need_the_token_outside_local_mode(app, app_config, client):
    assert client.get("/api/admin/deliveries").status_code == 401
    wrong = client.get("/api/admin/deliveries", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert wrong.get_json()["code"] == "ADMIN_TOKEN_REQUIRED"
    missing = client.post(
        f"/api/admin/deliveries/{uuid.uuid4()}/retry",
        headers={"Authorization": f"Bearer {app.config['PAYMENT_ADMIN_TOKEN']}"},
    )
    assert missing.status_code == 404
    assert missing.get_json()["code"] == "DELIVERY_NOT_FOUND"

    local = create_app(
        {**app_config, "DATABASE_URL": app.config["DATABASE_URL"], "PAYMENT_MODE": "local"}
    )
    try:
        assert local.test_client().get("/api/admin/deliveries?limit=1").status_code == 200
    finally:
        with local.app_context():
            db.engine.dispose()


def test_a_refused_url_fails_at_once_without_connecting(app, queue_notification):
    delivery_id = queue_notification(app, "http://10.0.0.1:8080/hooks")

    run_due_jobs(app)

    stored = load(app, delivery_id)
    assert stored["status"] == "failed"
    [attempt] = stored["attempts"]
    assert attempt["status_code"] is None
    assert attempt["error"].startswith("refused:") and "10.0.0.1" in attempt["error"]
    assert stored["job"]["status"] == "dead"


def test_an_unreachable_merchant_is_retried(app, clock, queue_notification):
    # A loopback port nobody listens on: connection refused at once.
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    delivery_id = queue_notification(app, f"http://127.0.0.1:{port}/hooks")

    run_due_jobs(app)

    stored = load(app, delivery_id)
    assert stored["status"] == "pending"
    assert stored["attempts"][0]["error"].startswith("connection failed")
    assert stored["job"]["status"] == "pending"
    # Leave nothing behind for other tests' workers.
    with app.app_context():
        db.session.get(WebhookDelivery, delivery_id).status = "failed"
        db.session.commit()
    clock.advance(10)
    run_due_jobs(app)
    assert load(app, delivery_id)["job"]["status"] == "done"


@pytest.fixture()
def seed_app(app: Flask, app_config: dict) -> Iterator[Flask]:
    """The same service with seed-compatible (encrypted) webhooks, on the same database."""
    seed = create_app(
        {
            **app_config,
            "DATABASE_URL": app.config["DATABASE_URL"],
            "PAYMENT_SEED_WEBHOOK_ENCRYPTION": "true",
        }
    )
    yield seed
    with seed.app_context():
        db.engine.dispose()


def test_seed_mode_body_decrypts_with_the_connection_key(seed_app, merchant, queue_notification):
    delivery_id = queue_notification(seed_app, merchant.url + "/seed")

    run_due_jobs(seed_app)

    [request] = merchant.wait_for(1)
    assert request["headers"]["Content-Type"].startswith("text/plain")
    verify_signature(seed_app.config["PAYMENT_WEBHOOK_SIGNING_SECRET"], request)
    # Decrypt as the seed documents it: Base64, AES-256-CBC with the UTF-8 key and IV, PKCS#7.
    key = seed_app.config["PAYMENT_CONNECTION_ENCRYPTION_KEY"].encode()
    iv = seed_app.config["PAYMENT_CONNECTION_ENCRYPTION_IV"].encode()
    cipher = AES.new(key, AES.MODE_CBC, iv)
    plain = unpad(cipher.decrypt(base64.b64decode(request["raw"])), AES.block_size)
    body = json.loads(plain.decode())
    assert body["id"] == delivery_id
    assert body["current"]["price"] == 15000
    assert body["previous"] is None
