"""Fake PortOne V2's window over plain HTTP (the test client's buyer stand-in) and its CLI."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import requests

from fake_common.polling import wait_until
from fake_portone import API_SECRET


def test_a_billing_key_registered_in_the_window_can_be_charged(portone):
    query = portone.billing_key_in_window()
    assert query["transactionType"] == "ISSUE_BILLING_KEY" and "code" not in query
    body = {
        "billingKey": query["billingKey"],
        "orderName": "Monthly plan",
        "amount": {"total": 9900},
        "currency": "KRW",
    }
    assert portone.post("/payments/sub-win-1/billing-key", body).status_code == 200


def test_a_refused_card_gets_no_billing_key_in_the_window(portone):
    query = portone.billing_key_in_window("4000 0000 0000 0002")
    assert query["code"] == "FAILURE_TYPE_PG" and query["pgCode"] == "CD0001"
    assert "billingKey" not in query


def test_issue_and_pay_registers_and_charges(portone):
    request = portone.payment_request("order-iap-1", 5000)
    del request["payMethod"]
    query = portone.submit_window("issue_and_pay", request, card_number="4242424242424242")
    assert query["transactionType"] == "ISSUE_BILLING_KEY_AND_PAY"
    payment = portone.payment("order-iap-1")
    assert payment["status"] == "PAID" and payment["billingKey"] == query["billingKey"]


def test_cancel_in_the_window_fails_the_payment(portone):
    request = portone.payment_request("order-win-cancel")
    query = portone.submit_window("payment", request, action="cancel")
    assert query["code"] == "FAILURE_TYPE_PG" and query["txId"]
    assert portone.payment("order-win-cancel")["status"] == "FAILED"
    # A failed id may be tried again: a new transaction that pays.
    again = portone.pay_in_window("order-win-cancel")
    assert again["txId"] != query["txId"]
    assert portone.payment("order-win-cancel")["status"] == "PAID"


def test_a_paid_id_is_refused_before_the_window(portone):
    portone.pay_in_window("order-win-twice")
    query = portone.pay_in_window("order-win-twice")
    assert query["code"] == "PORTONE_ERROR"


def test_the_cli_serves_with_the_given_secret():
    with socket.socket() as probe:  # a free port: a fixed one may be taken by another run
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "fake_portone", "--port", str(port), "--api-secret", "s3cret"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"

        def status() -> int | None:
            try:
                return requests.get(
                    f"{url}/payments/x", headers={"Authorization": "PortOne s3cret"}, timeout=1
                ).status_code
            except requests.ConnectionError:
                time.sleep(0.1)
                return None

        assert wait_until(status, timeout=15) == 404
        default = requests.get(
            f"{url}/payments/x", headers={"Authorization": f"PortOne {API_SECRET}"}, timeout=5
        )
        assert default.status_code == 401
        assert "window.PortOne = {" in requests.get(f"{url}/v2/browser-sdk.js", timeout=5).text
    finally:
        process.terminate()
        process.wait(timeout=10)
