"""Chaos 5: the gunicorn worker dies between storing a gateway webhook and processing it.

Processing re-reads the payment from the gateway; that read is slowed down and the worker in it
is killed, so the delivery is stored and never processed. PortOne then sends it again (its
optional retries, a minute apart on the fake clock, which the test clock moves).

(a) A checkout order paid at PortOne whose buyer never came back: only the webhook tells us.
(b) A payment registered through the service API, refunded in full in PortOne's console (which
sends a `cancelled` webhook): nothing else would ever tell us.
"""

from __future__ import annotations

import secrets

import pytest
import requests
from chaos_harness import Stack, report

from fake_common.window_client import iamport_pay
from payment_api import IAMPORT, PaymentClient, Source, Vendor

SLOW_READ_MS = 2500


def _killed_while_processing(stack: Stack, make_webhook) -> None:
    ports = stack.iamport.watch("GET /payments/imp_*")
    stack.iamport.fault(method="GET", path="/payments/imp_*", latency_ms=SLOW_READ_MS, times=1)
    make_webhook()
    stack.kill_server_worker_in_call(stack.iamport, ports)


@pytest.fixture(scope="module")
def outcome(stack: Stack) -> Stack:
    order = stack.client.create_order("iamport")
    _killed_while_processing(
        stack,
        lambda: iamport_pay(
            stack.iamport.url, merchant_uid=order["order_id"], amount=order["amount"]
        ),
    )

    merchant_uid = f"shop-{secrets.token_hex(6)}"
    imp_uid = iamport_pay(stack.iamport.url, merchant_uid=merchant_uid, amount=20000)["imp_uid"]
    with PaymentClient(
        stack.url, key=stack.seed_key, iv=stack.seed_iv, session=stack.answers.session()
    ) as client:
        client.create_history(
            Vendor(IAMPORT, imp_uid),
            Source(schema="shop", table="orders", id=merchant_uid),
            20000,
            "a-password",
            f"{stack.merchant.url}/service",
        )

    def console_refund() -> None:
        cancelled = stack.iamport.iamport_api(
            "POST", "/payments/cancel", json={"imp_uid": imp_uid, "enable_webhook": True}
        )
        assert cancelled.json()["code"] == 0, cancelled.text

    _killed_while_processing(stack, console_refund)
    stack.recover()
    # PortOne did send both again (so a redelivery had its chance to be processed).
    log = requests.get(f"{stack.iamport.url}/__control/webhooks", timeout=10).json()
    resent = [w["body"] for w in log if len(w["attempts"]) >= 2]
    assert len(resent) == 2, log
    return stack


def test_no_client_got_a_500(outcome: Stack):
    assert not outcome.answers.server_errors(), report(outcome.answers.server_errors(), "5xx")


def test_every_stored_webhook_is_processed(outcome: Stack):
    left = outcome.sql("SELECT vendor, result FROM inbound_webhooks WHERE processed_at IS NULL")
    assert not left, left


def test_the_gateway_holds_what_we_count(outcome: Stack):
    problems = outcome.money_mismatches()
    assert not problems, report(problems, "orders where the gateway and our records differ")


def test_one_merchant_notification_per_change(outcome: Stack):
    problems = outcome.notification_problems()
    assert not problems, report(problems, "notification problems")
