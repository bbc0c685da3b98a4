"""Chaos 4: gateway latency beyond the client's timeout, and 5xx, on confirm, cancel and charge.

The backend's gateway read timeout is 3 s here (launch.py); a slow call answers after 5 s, so it
lands at the gateway after the backend gave up on it. Confirm: Toss checkout completions. Cancel:
owner refunds at both gateways. Charge: a Toss subscription's renewal, a month later on the test
clock (the late charge first, then a 500, then the Idempotency-Key replay).
"""

from __future__ import annotations

import pytest
from chaos_harness import Stack, report, wait_for

SLOW_MS = 5000
# A cancel lands this long after it was asked, well after the backend gave up (3 s) and after
# the reconcile job it queued ran (at once), however loaded the machine is.
LATE_CANCEL_MS = 8000
PARTIAL = 5000
MONTH = 31 * 86400


def _completion_with_fault(stack: Stack, **fault) -> None:
    order = stack.pay(stack.client.create_order("toss"))
    stack.toss.fault(method="POST", path="/v1/payments/confirm", times=1, **fault)
    stack.client.complete(order)


def _refund_with_fault(stack: Stack, vendor: str, **fault) -> None:
    order = stack.paid_order(vendor)
    fake = stack.iamport if vendor == "iamport" else stack.toss
    path = "/payments/cancel" if vendor == "iamport" else "/v1/payments/*/cancel"
    fake.fault(method="POST", path=path, times=1, **fault)
    stack.client.refund(order, PARTIAL, f"fault-{order['order_id']}")
    if fault.get("latency_ms"):

        def landed() -> bool:
            return any(c for _, _, c, _ in fake.held()[order["order_id"]])

        wait_for(landed, 20, "the late cancel to land at the gateway")


@pytest.fixture(scope="module")
def outcome(stack: Stack) -> Stack:
    subscription = stack.subscribe_toss()
    _completion_with_fault(stack, latency_ms=SLOW_MS)
    _completion_with_fault(stack, status=500)
    _refund_with_fault(stack, "iamport", latency_ms=LATE_CANCEL_MS)
    _refund_with_fault(stack, "toss", latency_ms=SLOW_MS)
    _refund_with_fault(stack, "iamport", status=500)
    _refund_with_fault(stack, "toss", status=500)
    # The renewal: the first charge lands late, the retry gets a 500, the next one is replayed.
    stack.toss.fault(method="POST", path="/v1/billing/*", latency_ms=SLOW_MS + 1000, times=1)
    stack.toss.fault(method="POST", path="/v1/billing/*", status=500, times=1)
    stack.client.advance(MONTH)
    stack.recover()
    stack.subscription = subscription
    return stack


def test_no_client_got_a_500(outcome: Stack):
    assert not outcome.answers.server_errors(), report(outcome.answers.server_errors(), "5xx")


def test_the_gateway_holds_what_we_count(outcome: Stack):
    problems = outcome.money_mismatches()
    assert not problems, report(problems, "orders where the gateway and our records differ")


def test_one_merchant_notification_per_change(outcome: Stack):
    problems = outcome.notification_problems()
    assert not problems, report(problems, "notification problems")


def test_the_renewal_is_paid_once(outcome: Stack):
    charges = outcome.sql(
        "SELECT period, status FROM subscription_charges WHERE subscription_id = %s "
        "ORDER BY period",
        outcome.subscription,
    )
    assert charges[:2] == [(1, "paid"), (2, "paid")], charges
