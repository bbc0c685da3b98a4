"""Chaos 1: SIGKILL of the gunicorn worker serving a refund while its cancel is at the gateway.

The fake's cancel route answers after 2 s; the worker in that call is killed, gunicorn starts a
new one, and the cancel lands at the gateway with nobody left to record it. PortOne sends no
webhook for API cancels; Toss sends PAYMENT_STATUS_CHANGED.
"""

from __future__ import annotations

import threading

import pytest
from chaos_harness import Stack, report, wait_for

LATENCY_MS = 2000
PARTIAL = 5000


def _refund_killed_mid_call(stack: Stack, vendor: str) -> dict:
    fake = stack.iamport if vendor == "iamport" else stack.toss
    route = "POST /payments/cancel" if vendor == "iamport" else "POST /v1/payments/*/cancel"
    order = stack.paid_order(vendor)
    ports = fake.watch(route)
    method, path = route.split(" ")
    fake.fault(method=method, path=path, latency_ms=LATENCY_MS, times=1)
    caller = threading.Thread(
        target=stack.client.refund, args=(order, PARTIAL, f"kill-{order['order_id']}")
    )
    caller.start()
    stack.kill_server_worker_in_call(fake, ports)
    caller.join(30)

    def landed() -> bool:
        return any(c for _, _, c, _ in fake.held()[order["order_id"]])

    wait_for(landed, 10, "the late cancel to land at the gateway")
    return order


@pytest.fixture(scope="module")
def outcome(stack: Stack) -> Stack:
    for vendor in ("iamport", "toss"):
        _refund_killed_mid_call(stack, vendor)
    stack.recover()
    return stack


def test_the_refund_client_got_no_500(outcome: Stack):
    assert not outcome.answers.server_errors(), report(outcome.answers.server_errors(), "5xx")


def test_the_gateway_holds_what_we_count(outcome: Stack):
    problems = outcome.money_mismatches()
    assert not problems, report(problems, "orders where the gateway and our records differ")


def test_one_merchant_notification_per_change(outcome: Stack):
    problems = outcome.notification_problems()
    assert not problems, report(problems, "notification problems")
