"""Chaos 3: every database connection terminated (pg_terminate_backend) three times during a
burst of 50 requests: 25 completions and 25 partial refunds, both gateways, 8 clients at once.

The gateways' cancel routes answer after 400 ms, and each termination happens while a PortOne
cancel is at the gateway (its refund's transaction open), so it lands every time."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from chaos_harness import Stack, report, wait_for

ORDERS = 25  # of each kind: completed in the burst, and refunded in the burst
CLIENTS = 8
TERMINATE_AT = (2, 6, 10)  # the n-th PortOne cancel at the gateway (13 in the burst)
PARTIAL = 5000
CANCEL_LATENCY_MS = 400


@pytest.fixture(scope="module")
def outcome(stack: Stack) -> Stack:
    stack.worker_lost_jobs = True
    vendors = ("iamport", "toss")
    to_complete = [stack.pay(stack.client.create_order(vendors[n % 2])) for n in range(ORDERS)]
    to_refund = [stack.paid_order(vendors[n % 2]) for n in range(ORDERS)]

    stack.iamport.fault(method="POST", path="/payments/cancel", latency_ms=CANCEL_LATENCY_MS)
    stack.toss.fault(method="POST", path="/v1/payments/*/cancel", latency_ms=CANCEL_LATENCY_MS)
    cancels = stack.iamport.watch("POST /payments/cancel")
    terminated: list[int] = []

    def terminator() -> None:
        for n in TERMINATE_AT:
            wait_for(lambda n=n: len(cancels) >= n, 60, f"PortOne cancel {n}", every=0.01)
            terminated.append(stack.terminate_connections())

    calls = [lambda o=o: stack.client.complete(o) for o in to_complete]
    calls += [
        lambda o=o: stack.client.refund(o, PARTIAL, f"burst-{o['order_id']}") for o in to_refund
    ]
    calls = [c for pair in zip(calls[:ORDERS], calls[ORDERS:], strict=True) for c in pair]
    killer = threading.Thread(target=terminator)
    killer.start()
    with ThreadPoolExecutor(CLIENTS) as pool:
        for future in [pool.submit(c) for c in calls]:
            future.result()
    killer.join(60)
    stack.iamport.clear_faults()
    stack.toss.clear_faults()
    assert len(terminated) == len(TERMINATE_AT) and all(terminated), terminated
    wait_for(stack._healthy, 10, "the backend to answer again")
    stack.recover()
    return stack


def test_no_client_got_a_500(outcome: Stack):
    assert not outcome.answers.server_errors(), report(outcome.answers.server_errors(), "5xx")


def test_the_gateway_holds_what_we_count(outcome: Stack):
    problems = outcome.money_mismatches()
    assert not problems, report(problems, "orders where the gateway and our records differ")


def test_one_merchant_notification_per_change(outcome: Stack):
    problems = outcome.notification_problems()
    assert not problems, report(problems, "notification problems")
