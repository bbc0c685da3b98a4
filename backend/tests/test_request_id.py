"""A request id follows a payment from the browser's call to the merchant's webhook."""

from __future__ import annotations

import json
import logging

from fake_common.window_client import iamport_pay
from payment_backend.logs import JsonFormatter, request_id
from payment_backend.worker import run_due_jobs


def test_request_id_is_echoed_and_reaches_the_outbound_webhook(worker_app, fakes, merchant):
    worker_app.config["CHECKOUT_WEBHOOK_URL"] = merchant.url + "/hooks"
    try:
        client = worker_app.test_client()
        order = client.post(
            "/api/checkout/orders",
            json={
                "vendor": "iamport",
                "method": "card",
                "items": [{"product_id": 1, "quantity": 1}],
            },
        ).get_json()
        paid = iamport_pay(
            fakes.iamport.url, merchant_uid=order["order_id"], amount=order["amount"]
        )
        response = client.post(
            "/api/checkout/complete",
            json={
                "order_id": order["order_id"],
                "vendor": "iamport",
                "payment_id": paid["imp_uid"],
                "amount": order["amount"],
            },
            headers={"X-Request-Id": "req_trace_0001"},
        )
        assert response.status_code == 200, response.get_json()
        assert response.headers["X-Request-Id"] == "req_trace_0001"
        assert run_due_jobs(worker_app) >= 1
        hooks = merchant.wait_for(1)
    finally:
        worker_app.config["CHECKOUT_WEBHOOK_URL"] = None
    assert hooks[0]["headers"]["X-Request-Id"] == "req_trace_0001"
    assert hooks[0]["body"]["current"]["status"] == "paid"


def test_a_request_without_an_id_gets_one(client):
    response = client.get("/monitors/health")
    assert response.headers["X-Request-Id"].startswith("req_")


def test_json_log_lines_carry_the_request_id():
    token = request_id.set("req_log_0001")
    try:
        record = logging.LogRecord(
            "payment_backend.test", logging.INFO, __file__, 1, "paid %s", ("ord_1",), None
        )
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id.reset(token)
    assert line["request_id"] == "req_log_0001"
    assert line["message"] == "paid ord_1"
    assert line["level"] == "INFO"
