"""Issue 14, item 9: closed windows and late approvals (PortOne V1).

Closing PortOne's window often leaves the payment `ready`, and a payment the window reported as
failed can become `paid` later (the PG approves after all, a webhook arrives). The buyer's report
of a failure never decides an order the gateway has not decided; a late `paid` either pays the
order or, when the order can no longer take it, is refunded: after the worker runs, the net the
gateway holds for the order id equals what our records count, webhook or not.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from fake_common.polling import wait_until
from fake_common.server import serve_in_thread
from fake_common.window_client import iamport_open_window
from payment_backend.extensions import db
from payment_backend.models import Order, SurplusPayment
from payment_backend.services.order_schedule import ORDER_LIFETIME
from payment_backend.services.order_sweep import check_order
from payment_backend.worker import run_due_jobs


@pytest.fixture()
def shop_app(worker_app: Flask, fakes) -> Iterator[Flask]:
    """The app served over HTTP (PortOne's webhooks reach it); clocks and fakes put back after."""
    with serve_in_thread(worker_app) as server:
        worker_app.config["PUBLIC_URL"] = server.url
        yield worker_app
    worker_app.extensions["clock"].reset()
    fakes.iamport.clear_faults()


def new_order(app: Flask) -> dict:
    response = app.test_client().post(
        "/api/checkout/orders",
        json={"vendor": "iamport", "method": "card", "items": [{"product_id": 1, "quantity": 1}]},
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def open_window(fakes, order: dict) -> str:
    return iamport_open_window(
        fakes.iamport.url,
        merchant_uid=order["order_id"],
        amount=order["amount"],
        notice_url=order["notice_url"],
    )


def report_failure(app: Flask, order: dict, code: str = "F400") -> dict:
    response = app.test_client().post(
        f"/api/checkout/orders/{order['order_id']}/fail",
        json={"code": code, "message": "사용자가 결제를 취소하셨습니다"},
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def order_status(app: Flask, order_id: str) -> str:
    return app.test_client().get(f"/api/checkout/orders/{order_id}").get_json()["status"]


def run_worker(app: Flask) -> None:
    while run_due_jobs(app):
        pass


def gateway_net(fakes, order_id: str) -> int:
    """What the gateway holds for an order id: paid minus cancelled, over every payment."""
    return sum(
        p["amount"] - p["cancel_amount"]
        for p in fakes.iamport.payments_of(order_id)
        if p["status"] in ("paid", "cancelled")
    )


def our_net(app: Flask, order_id: str) -> int:
    """What our records count for an order id: its payment's net, plus surplus not yet refunded."""
    with app.app_context():
        order = db.session.get(Order, order_id)
        counted = order.payment.amount - order.payment.refunded if order.payment else 0
        surplus = db.session.query(SurplusPayment).filter_by(order_id=order_id).all()
        return counted + sum(s.amount - s.refunded for s in surplus if s.status != "refunded")


def expire(app: Flask, order_id: str) -> str:
    """Move the app's clock past the order's lifetime and let the sweep look once more."""
    app.extensions["clock"].advance(ORDER_LIFETIME.total_seconds() + 60)
    with app.app_context():
        return check_order(order_id)[1]


def test_a_closed_window_leaves_the_order_pending_until_the_gateway_decides(shop_app, fakes):
    order = new_order(shop_app)
    imp_uid = open_window(fakes, order)
    rsp = fakes.iamport.call("POST", f"/window/{imp_uid}/close", auth=False).json()
    assert rsp["error_code"] == "F400" and fakes.iamport.payment(imp_uid)["status"] == "ready"

    # The buyer's word decides nothing the gateway has not decided.
    assert report_failure(shop_app, order)["status"] == "pending"
    with shop_app.app_context():
        assert check_order(order["order_id"])[1] == "pending"

    fakes.iamport.approve_late(imp_uid)  # the PG approves after all; its webhook arrives
    wait_until(lambda: order_status(shop_app, order["order_id"]) == "paid", timeout=10)
    run_worker(shop_app)
    assert gateway_net(fakes, order["order_id"]) == our_net(shop_app, order["order_id"]) > 0


def test_a_late_paid_after_a_failure_still_pays_the_open_order(shop_app, fakes):
    order = new_order(shop_app)
    imp_uid = open_window(fakes, order)
    fakes.iamport.call("POST", f"/window/{imp_uid}/cancel", auth=False)
    assert fakes.iamport.payment(imp_uid)["status"] == "failed"
    assert report_failure(shop_app, order)["status"] == "failed"

    fakes.iamport.approve_late(imp_uid)
    wait_until(lambda: order_status(shop_app, order["order_id"]) == "paid", timeout=10)
    run_worker(shop_app)
    assert gateway_net(fakes, order["order_id"]) == our_net(shop_app, order["order_id"]) > 0


@pytest.mark.parametrize("closed", [True, False], ids=["closed-window", "failed-payment"])
def test_a_late_paid_after_the_order_expired_is_refunded(shop_app, fakes, closed):
    order = new_order(shop_app)
    imp_uid = open_window(fakes, order)
    fakes.iamport.call("POST", f"/window/{imp_uid}/{'close' if closed else 'cancel'}", auth=False)
    report_failure(shop_app, order)
    assert expire(shop_app, order["order_id"]) == "expired"

    fakes.iamport.approve_late(imp_uid)
    wait_until(lambda: fakes.iamport.webhooks(wait=5)[-1]["delivered"], timeout=10)
    run_worker(shop_app)
    assert fakes.iamport.payment(imp_uid)["status"] == "cancelled"
    assert gateway_net(fakes, order["order_id"]) == our_net(shop_app, order["order_id"]) == 0
    assert order_status(shop_app, order["order_id"]) == "expired"


def test_a_late_paid_whose_webhook_is_lost_is_found_and_refunded(shop_app, fakes):
    order = new_order(shop_app)
    imp_uid = open_window(fakes, order)
    fakes.iamport.call("POST", f"/window/{imp_uid}/close", auth=False)
    assert expire(shop_app, order["order_id"]) == "expired"

    fakes.iamport.add_fault({"target": "webhook", "action": "drop"})
    fakes.iamport.approve_late(imp_uid)
    run_worker(shop_app)
    assert gateway_net(fakes, order["order_id"]) == order["amount"]  # nobody knows yet

    shop_app.extensions["clock"].advance(24 * 3600)  # the later looks at an expired order
    run_worker(shop_app)
    assert fakes.iamport.payment(imp_uid)["status"] == "cancelled"
    assert gateway_net(fakes, order["order_id"]) == our_net(shop_app, order["order_id"]) == 0
