"""Issue 14, item 10: PortOne V1's test-channel look-ups and webhook retries, against the fake.

Since 2026-01-26 GET /payments/{imp_uid} hides test-channel payments unless include_sandbox=true
(the session's fake does so: HIDE_SANDBOX); the V1 client asks for them in test and local mode
only. PortOne re-sends a webhook (when retries are enabled) after a network error or a 5xx, never
after a 4xx: a backend that was down when a late approval came still learns of it.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator

import pytest
from flask import Flask

from fake_common.polling import wait_until
from fake_common.server import serve_in_thread
from fake_common.window_client import iamport_open_window, iamport_pay
from payment_backend.vendors import iamport
from payment_backend.vendors.base import PaymentNotFound


def paid_payment(fakes) -> str:
    merchant_uid = f"sandbox-look-{uuid.uuid4().hex[:8]}"
    return iamport_pay(fakes.iamport.url, merchant_uid=merchant_uid, amount=1000)["imp_uid"]


def test_the_client_asks_for_test_channel_payments_in_test_mode(app, fakes):
    imp_uid = paid_payment(fakes)
    settings = {**app.config, "IAMPORT_API_URL": fakes.iamport.url}
    assert iamport.connect(settings).get_payment(imp_uid).payment_id == imp_uid
    real = iamport.connect({**settings, "PAYMENT_MODE": "real"})
    with pytest.raises(PaymentNotFound):
        real.get_payment(imp_uid)  # what a live merchant sees of a test payment
    forced = iamport.connect({**settings, "PAYMENT_MODE": "real", "IAMPORT_INCLUDE_SANDBOX": True})
    assert forced.get_payment(imp_uid).amount == 1000


def test_the_fake_hides_test_payments_from_a_client_that_does_not_ask(fakes):
    imp_uid = paid_payment(fakes)
    hidden = fakes.iamport.get(f"/payments/{imp_uid}", sandbox=False)
    assert hidden.status_code == 404 and hidden.json()["message"] == "존재하지 않는 결제정보입니다."


@pytest.fixture()
def retrying(fakes) -> Iterator[None]:
    """The session's fake with PortOne's optional retries (5, a minute apart) for one test."""
    config = fakes.iamport.gateway.config
    config["WEBHOOK_RETRIES"] = 5
    yield
    config["WEBHOOK_RETRIES"] = 0
    fakes.iamport.control_json("POST", "clock", {"offset": 0})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.usefixtures("retrying")
def test_a_late_approval_sent_while_the_backend_was_down_is_retried_and_pays(
    worker_app: Flask, fakes
):
    order = (
        worker_app.test_client()
        .post(
            "/api/checkout/orders",
            json={
                "vendor": "iamport",
                "method": "card",
                "items": [{"product_id": 1, "quantity": 1}],
            },
        )
        .get_json()
    )
    port = free_port()
    notice_url = f"http://127.0.0.1:{port}/payments/webhooks/iamport"  # nothing listens yet
    imp_uid = iamport_open_window(
        fakes.iamport.url,
        merchant_uid=order["order_id"],
        amount=order["amount"],
        notice_url=notice_url,
    )
    fakes.iamport.call("POST", f"/window/{imp_uid}/close", auth=False)
    fakes.iamport.approve_late(imp_uid)
    hook = wait_until(
        lambda: next(
            (
                w
                for w in fakes.iamport.webhooks()
                if w["body"]["imp_uid"] == imp_uid and w["attempts"]
            ),
            None,
        )
    )
    assert hook["attempts"][0]["status"] is None and hook["state"] == "retrying"

    with serve_in_thread(worker_app, port=port):
        fakes.iamport.advance(60)  # PortOne's next attempt, a minute later
        hook = wait_until(
            lambda: next(
                (
                    w
                    for w in fakes.iamport.webhooks()
                    if w["body"]["imp_uid"] == imp_uid and w["delivered"]
                ),
                None,
            ),
            timeout=10,
        )
        assert [a["status"] for a in hook["attempts"]] == [None, 200]
        status = worker_app.test_client().get(f"/api/checkout/orders/{order['order_id']}")
        assert status.get_json()["status"] == "paid"
