"""Issue 11, item 6: the sweep never blocks other work and never stops at an error.

Before this change the worker's only thread looked every due order up at the gateway itself: a
slow gateway held back every merchant notification for the whole pass, and one order's error
ended the pass. Now a sweep only queues one check_order job per due order, and the worker runs
jobs side by side.
"""

from __future__ import annotations

import threading
import time

import pytest
import requests
from sqlalchemy import select, update

from fake_common.window_client import iamport_pay
from payment_backend.clock import now
from payment_backend.extensions import db
from payment_backend.handlers import chores
from payment_backend.models import Order, OutboxJob, WebhookDelivery
from payment_backend.services.order_sweep import queue_due_looks
from payment_backend.worker import arm_chores, run_due_jobs, run_side_by_side


def sweep(app) -> int:
    """One pass of the sweep, as its chore runs it; returns how many looks it queued."""
    with app.app_context():
        return queue_due_looks()


def new_order(client) -> dict:
    response = client.post(
        "/api/checkout/orders",
        json={"vendor": "iamport", "method": "card", "items": [{"product_id": 1, "quantity": 1}]},
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def add_fault(fakes, **rule) -> dict:
    response = requests.post(f"{fakes.iamport.url}/__control/faults", json=rule, timeout=5)
    response.raise_for_status()
    return response.json()


def fault_hits(fakes, rule_id: int) -> int:
    rules = requests.get(f"{fakes.iamport.url}/__control/faults", timeout=5).json()
    return next(r["hits"] for r in rules if r["id"] == rule_id)


def clear_faults(fakes) -> None:
    requests.delete(f"{fakes.iamport.url}/__control/faults", timeout=5)


def test_a_sweep_only_queues_looks_and_calls_no_gateway(worker_app, fakes):
    client = worker_app.test_client()
    orders = [new_order(client) for _ in range(3)]
    rule = add_fault(fakes, path="/payments/find*", status=500)
    clock = worker_app.extensions["clock"]
    try:
        clock.advance(180)
        assert sweep(worker_app) >= 3
        assert fault_hits(fakes, rule["id"]) == 0  # the sweep itself asked the gateway nothing
        with worker_app.app_context():
            queued = {
                j.payload["order_id"]
                for j in db.session.scalars(
                    select(OutboxJob).where(
                        OutboxJob.kind == "check_order", OutboxJob.status == "pending"
                    )
                )
            }
            assert {o["order_id"] for o in orders} <= queued
            # A queued order is not queued again by the next sweep.
            assert all(db.session.get(Order, o["order_id"]).next_check_at > now() for o in orders)
    finally:
        clear_faults(fakes)
        clock.reset()


def test_a_failing_look_is_pushed_back_and_the_others_still_settle(worker_app, fakes):
    client = worker_app.test_client()
    broken, paid = new_order(client), new_order(client)
    iamport_pay(fakes.iamport.url, merchant_uid=paid["order_id"], amount=paid["amount"])
    add_fault(fakes, path=f"/payments/findAll/{broken['order_id']}", status=500)
    clock = worker_app.extensions["clock"]
    try:
        clock.advance(180)
        sweep(worker_app)
        while run_due_jobs(worker_app):
            pass
        status = client.get(f"/api/checkout/orders/{paid['order_id']}").get_json()["status"]
        assert status == "paid"
        with worker_app.app_context():
            order = db.session.get(Order, broken["order_id"])
            assert order.status == "pending"
            assert order.next_check_at is not None and order.next_check_at > now()
    finally:
        clear_faults(fakes)
        clock.reset()


@pytest.mark.usefixtures("merchant")
def test_a_slow_gateway_look_does_not_hold_up_a_merchant_notification(
    worker_app, fakes, merchant, is_postgres, queue_notification
):
    if not is_postgres:
        pytest.skip("SQLite runs jobs one at a time; side by side is PostgreSQL's")
    client = worker_app.test_client()
    slow = new_order(client)
    add_fault(fakes, path=f"/payments/findAll/{slow['order_id']}", latency_ms=4000)
    clock = worker_app.extensions["clock"]
    stop = threading.Event()
    runner = threading.Thread(
        target=run_side_by_side,
        args=(worker_app,),
        kwargs={"threads": 2, "interval": 0.1, "limit": 5, "stop": stop},
        daemon=True,
    )
    try:
        clock.advance(180)
        assert sweep(worker_app) >= 1
        with worker_app.app_context():
            look_id = max(
                j.id
                for j in db.session.scalars(
                    select(OutboxJob).where(OutboxJob.kind == "check_order")
                )
                if j.payload["order_id"] == slow["order_id"]
            )
            # Only the slow look is left to run beside the delivery.
            db.session.execute(
                update(OutboxJob)
                .where(OutboxJob.status == "pending", OutboxJob.id != look_id)
                .values(status="parked")
            )
            db.session.commit()
        runner.start()
        claimed = False
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and not claimed:  # the slow look is at the gateway
            with worker_app.app_context():
                claimed = db.session.get(OutboxJob, look_id).leased_until is not None
                db.session.remove()
            time.sleep(0.05)
        assert claimed
        delivery_id = queue_notification(worker_app, merchant.url + "/hook")
        deadline = time.monotonic() + 3
        delivered = False
        while time.monotonic() < deadline and not delivered:
            with worker_app.app_context():
                delivered = db.session.get(WebhookDelivery, delivery_id).status == "delivered"
                db.session.remove()
            time.sleep(0.05)
        with worker_app.app_context():
            jobs = [
                (j.kind, j.status, j.due_at, j.leased_until, j.last_error)
                for j in db.session.scalars(select(OutboxJob).order_by(OutboxJob.id.desc()))
            ][:5]
            db.session.remove()
        assert delivered, f"the notification waited for the slow look: {jobs}"
        with worker_app.app_context():
            # Still at the gateway when the delivery went out.
            assert db.session.get(OutboxJob, look_id).status == "pending"
    finally:
        stop.set()
        runner.join(timeout=15)
        clear_faults(fakes)
        clock.reset()


def test_the_sweep_is_a_job_that_re_arms_itself(worker_app, fakes):
    client = worker_app.test_client()
    order = new_order(client)
    clock = worker_app.extensions["clock"]
    key = chores.key("sweep_orders")
    try:
        arm_chores(worker_app)
        arm_chores(worker_app)  # idempotent: one row per chore
        with worker_app.app_context():
            rows = db.session.scalars(select(OutboxJob).where(OutboxJob.unique_key == key)).all()
            assert len(rows) == 1 and rows[0].status == "pending"
        clock.advance(180)  # the order is due for its first look
        while run_due_jobs(worker_app):
            pass
        with worker_app.app_context():
            chore = db.session.scalars(select(OutboxJob).where(OutboxJob.unique_key == key)).one()
            assert chore.status == "pending"
            assert now() < chore.due_at <= now() + chores.CHORES["sweep_orders"]
            looks = [
                j
                for j in db.session.scalars(
                    select(OutboxJob).where(OutboxJob.kind == "check_order")
                )
                if j.payload["order_id"] == order["order_id"]
            ]
            assert looks and all(j.status == "done" for j in looks)
            ran = chore.attempts
        clock.advance(61)
        run_due_jobs(worker_app)
        with worker_app.app_context():
            chore = db.session.scalars(select(OutboxJob).where(OutboxJob.unique_key == key)).one()
            assert chore.attempts == ran + 1 and chore.status == "pending"
        # The test clock moved back: the next worker check brings the chore forward again.
        clock.reset()
        arm_chores(worker_app)
        with worker_app.app_context():
            chore = db.session.scalars(select(OutboxJob).where(OutboxJob.unique_key == key)).one()
            assert chore.due_at <= now() + chores.CHORES["sweep_orders"]
    finally:
        clock.reset()
