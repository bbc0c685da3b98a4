"""Dropped database connections during a burst of completions and refunds: never a 500."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
import requests
from flask import Flask

from fake_common.window_client import iamport_pay, toss_pay
from payment_backend.extensions import db
from payment_backend.models import Order
from payment_backend.worker import run_due_jobs

COMPLETIONS = 3  # per vendor
REFUNDED_ORDERS = 2  # per vendor, two partial refunds each


def _pay(fakes, order: dict) -> str:
    if order["vendor"] == "iamport":
        return iamport_pay(
            fakes.iamport.url, merchant_uid=order["order_id"], amount=order["amount"]
        )["imp_uid"]
    return toss_pay(fakes.toss.url, order_id=order["order_id"], amount=order["amount"])[
        "paymentKey"
    ]


def _order(client, vendor: str) -> dict:
    answer = client.post(
        "/api/checkout/orders",
        json={"vendor": vendor, "method": "card", "items": [{"product_id": 1, "quantity": 4}]},
    )
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def _gateway_refunded(shop_fakes, vendor: str, payment_id: str) -> int:
    if vendor == "iamport":
        body = shop_fakes.iamport_api("GET", f"/payments/{payment_id}").json()["response"]
        return int(body["cancel_amount"])
    body = shop_fakes.toss_api("GET", f"/v1/payments/{payment_id}").json()
    return int(body["totalAmount"] - body["balanceAmount"])


class Terminator:
    """Terminates every other connection to the database, every so often, for a while."""

    def __init__(self, url: str, every: float, duration: float) -> None:
        self.url = url
        self.every = every
        self.until = time.monotonic() + duration
        self.stop = threading.Event()
        self.killed = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as connection:
            while not self.stop.wait(self.every) and time.monotonic() < self.until:
                killed = connection.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                ).fetchone()[0]
                self.killed += killed


def test_terminated_connections_during_a_burst_are_never_a_500_and_the_records_match(
    worker_app: Flask, fakes, serve
):
    app = worker_app
    if not app.config["DATABASE_URL"].startswith("postgres"):
        pytest.skip("pg_terminate_backend is PostgreSQL's")
    client = app.test_client()
    to_complete = []
    for vendor in ("iamport", "toss"):
        for _ in range(COMPLETIONS):
            order = _order(client, vendor)
            to_complete.append((order, _pay(fakes, order)))
    to_refund = []
    for vendor in ("iamport", "toss"):
        for _ in range(REFUNDED_ORDERS):
            order = _order(client, vendor)
            payment_id = _pay(fakes, order)
            done = client.post(
                "/api/checkout/complete",
                json={
                    "order_id": order["order_id"],
                    "vendor": vendor,
                    "payment_id": payment_id,
                    "amount": order["amount"],
                },
            )
            assert done.status_code == 200, done.get_json()
            to_refund.append((order, payment_id))
    with app.app_context():
        db.engine.dispose()  # the burst's terminations find no idle connection of ours to keep

    served = serve(app, gunicorn=True, GUNICORN_WORKERS="2", GUNICORN_THREADS="4")
    admin = {"Authorization": f"Bearer {app.config['PAYMENT_ADMIN_TOKEN']}"}
    answers: list[tuple[str, int, dict, dict]] = []
    lock = threading.Lock()

    def call(path: str, body: dict, headers: dict) -> int:
        """Send, retrying 503s (as told by Retry-After) with the same Idempotency-Key."""
        for _ in range(20):
            response = requests.post(served.url + path, json=body, headers=headers, timeout=60)
            try:
                answer = response.json()
            except ValueError:
                answer = {"text": response.text[:200]}
            with lock:
                answers.append((path, response.status_code, dict(response.headers), answer))
            if response.status_code != 503:
                return response.status_code
            time.sleep(float(response.headers.get("Retry-After", "1")) / 4)
        return 503

    requests_to_send = [
        (
            "/api/checkout/complete",
            {
                "order_id": order["order_id"],
                "vendor": order["vendor"],
                "payment_id": payment_id,
                "amount": order["amount"],
            },
            {},
        )
        for order, payment_id in to_complete
    ]
    for order, _ in to_refund:
        for part in ("first", "second"):
            requests_to_send.append(
                (
                    f"/api/checkout/orders/{order['order_id']}/refund",
                    {"amount": order["amount"] // 4, "reason": f"{part} part returned"},
                    {**admin, "Idempotency-Key": uuid.uuid4().hex},
                )
            )
    terminator = Terminator(app.config["DATABASE_URL"], every=0.25, duration=4)
    terminator.thread.start()
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            finals = list(pool.map(lambda r: call(*r), requests_to_send))
    finally:
        terminator.stop.set()
        terminator.thread.join()
    assert terminator.killed > 0

    statuses = sorted({status for _, status, _, _ in answers})
    assert 500 not in statuses, [a for a in answers if a[1] == 500]
    for path, status, headers, body in answers:
        assert status < 300 or ("code" in body and "message" in body), (path, status, body)
        if status == 503:
            assert body["code"] == "DATABASE_UNAVAILABLE" and "Retry-After" in headers, body
        else:
            assert status < 500, (path, status, body)
    assert finals[: len(to_complete)] == [200] * len(to_complete), [
        (a[0], a[1], a[3]) for a in answers if a[1] != 200
    ]

    run_due_jobs(app)  # reconciliation and whatever else a lost answer left queued
    with app.app_context():
        for order, payment_id in to_complete + to_refund:
            stored = db.session.get(Order, order["order_id"])
            assert stored.payment is not None, order
            at_gateway = _gateway_refunded(fakes, order["vendor"], payment_id)
            assert stored.payment.refunded == at_gateway, (order, stored.payment.refunded)
            expected = (
                "paid"
                if at_gateway == 0
                else ("refunded" if at_gateway >= order["amount"] else "partially_refunded")
            )
            assert stored.status == expected, (order["order_id"], stored.status, at_gateway)
        db.session.rollback()
