"""Two server processes on one database (the demo's SQLite file too): refunds of one payment sent
to both at once are serialized by the database, not by a lock inside one process; a read is
answered at once while the other process holds a refund's lock across its gateway call."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import requests
from flask import Flask

from fake_common.window_client import iamport_pay, toss_pay
from payment_backend.extensions import db
from payment_backend.models import Order, Payment
from payment_backend.vendors import gateway

CANCEL_ROUTES = {
    "iamport": "/payments/cancel",
    "toss": "/v1/payments/*/cancel",
    "portone": "/payments/*/cancel",
}
PART = 5000  # each refund; the orders are 30,000


def paid_order(app: Flask, fakes, vendor: str) -> dict:
    """A checkout order of 30,000, paid and completed: (order id, gateway payment id, ...)."""
    client = app.test_client()
    order = client.post(
        "/api/checkout/orders",
        json={"vendor": vendor, "method": "card", "items": [{"product_id": 1, "quantity": 2}]},
    ).get_json()
    if vendor == "iamport":
        paid = iamport_pay(fakes.iamport.url, merchant_uid=order["order_id"], amount=30000)
        payment_id = paid["imp_uid"]
    elif vendor == "portone":
        payment_id = fakes.portone.pay_in_window(order["order_id"], 30000)["paymentId"]
    else:
        paid = toss_pay(fakes.toss.url, order_id=order["order_id"], amount=30000)
        payment_id = paid["paymentKey"]
    body = {"order_id": order["order_id"], "vendor": vendor, "payment_id": payment_id}
    completed = client.post("/api/checkout/complete", json={**body, "amount": 30000})
    assert completed.status_code == 200, completed.get_json()
    assert completed.get_json()["amount"] == 30000
    return {**completed.get_json(), "vendor_payment_id": payment_id}


def refund(server: str, app: Flask, order_id: str, amount: int) -> requests.Response:
    return requests.post(
        f"{server}/api/checkout/orders/{order_id}/refund",
        json={"amount": amount, "reason": "part"},
        headers={
            "Authorization": f"Bearer {app.config['PAYMENT_ADMIN_TOKEN']}",
            "Idempotency-Key": str(uuid.uuid4()),
        },
        timeout=90,
    )


def recorded(app: Flask, order_id: str) -> tuple[int, int]:
    """(refunded, number of cancels) as our record of the order's payment has them."""
    with app.app_context():
        payment = db.session.get(Payment, db.session.get(Order, order_id).payment_id)
        return payment.refunded, len(payment.cancels)


def at_gateway(app: Flask, vendor: str, vendor_payment_id: str) -> tuple[int, int]:
    """(refunded, number of cancels) as the gateway has them."""
    with app.app_context():
        gp = gateway(vendor).get_payment(vendor_payment_id)
    return gp.cancelled, len(gp.cancels)


@pytest.mark.parametrize("vendor", ["iamport", "toss", "portone"])
def test_refunds_sent_to_two_processes_at_once_never_take_more_than_the_payment(
    own_app, fakes, faults, serve, vendor
):
    order = paid_order(own_app, fakes, vendor)
    servers = [serve(own_app).url, serve(own_app).url]
    # Each cancel takes 0.3 s at the gateway: refunds that were not serialized would overlap.
    faults(vendor, method="POST", path=CANCEL_ROUTES[vendor], latency_ms=300, times=8)
    start = threading.Barrier(8)
    answers: list[requests.Response] = []

    def send(server: str) -> None:
        start.wait()
        answers.append(refund(server, own_app, order["order_id"], PART))

    threads = [threading.Thread(target=send, args=(servers[n % 2],)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    codes = sorted(a.status_code for a in answers)
    assert codes == [200] * 6 + [409] * 2, [a.json() for a in answers]
    # The two refused were refused by our own check under the lock, never by the gateway's.
    refused = [a.json()["code"] for a in answers if a.status_code == 409]
    assert set(refused) <= {"OVER_REFUND", "NOT_REFUNDABLE"}, refused
    assert recorded(own_app, order["order_id"]) == (30000, 6)
    assert at_gateway(own_app, vendor, order["vendor_payment_id"]) == (30000, 6)


def test_a_read_does_not_wait_for_a_refund_in_another_process_and_a_write_does(
    own_app, fakes, faults, serve
):
    order = paid_order(own_app, fakes, "toss")
    first, second = serve(own_app).url, serve(own_app).url
    rule = faults("toss", method="POST", path=CANCEL_ROUTES["toss"], latency_ms=3000, times=1)
    answers: list[requests.Response] = []
    in_flight = threading.Thread(
        target=lambda: answers.append(refund(first, own_app, order["order_id"], 4 * PART))
    )
    in_flight.start()
    deadline = time.monotonic() + 15
    while fakes.fault_hits("toss", rule["id"]) < 1:  # the first process is inside the gateway call
        assert time.monotonic() < deadline
        time.sleep(0.05)

    started = time.monotonic()
    read = requests.get(f"{second}/api/checkout/orders/{order['order_id']}", timeout=30)
    read_took = time.monotonic() - started
    assert read.status_code == 200 and read.json()["status"] == "paid"
    assert read_took < 1.5, f"the read waited {read_took:.1f} s for the other process's refund"

    # A second refund waits for the first and checks the balance it left: 10,000.
    second_refund = refund(second, own_app, order["order_id"], 4 * PART)
    in_flight.join(60)
    assert answers[0].status_code == 200, answers[0].json()
    assert second_refund.status_code == 409, second_refund.json()
    assert second_refund.json()["code"] == "OVER_REFUND"
    assert second_refund.json()["remaining"] == 10000
    assert recorded(own_app, order["order_id"]) == (20000, 1)
    assert at_gateway(own_app, "toss", order["vendor_payment_id"]) == (20000, 1)
