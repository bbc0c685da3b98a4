"""Chaos 2: SIGKILL of the worker process mid-job.

(a) While it delivers a notification to a merchant endpoint that hangs: the job's lease runs out
and a new worker sends it again (the same webhook-id, as Standard Webhooks wants).
(b) While it refunds a surplus payment (an orphan PortOne payment for an order id of our format)
and the gateway's cancel is slowed down: the cancel lands after the worker died; the new worker
re-reads the payment before cancelling anything.
"""

from __future__ import annotations

import secrets

import pytest
from chaos_harness import Stack, report, wait_for

from fake_common.window_client import iamport_pay


def _delivery_killed(stack: Stack) -> None:
    stack.merchant.hold_next()
    stack.paid_order("toss")
    wait_for(stack.merchant.holding.is_set, 15, "the worker to deliver to the merchant")
    stack.kill_worker()
    stack.merchant.release.set()
    stack.start_worker()

    def again() -> bool:
        return any(n >= 2 for n in stack.merchant.by_webhook_id().values())

    wait_for(again, 30, "the new worker to send the notification again after the lease")


def _surplus_refund_killed(stack: Stack) -> None:
    ports = stack.iamport.watch("POST /payments/cancel")
    stack.iamport.fault(method="POST", path="/payments/cancel", latency_ms=2000, times=1)
    orphan = f"ord_{secrets.token_hex(10)}"
    iamport_pay(stack.iamport.url, merchant_uid=orphan, amount=12000)  # its webhook reaches us
    wait_for(lambda: stack.worker_in_call(ports), 20, "the worker's cancel of the orphan", 0.02)
    stack.kill_worker()

    def landed() -> bool:
        return not stack.iamport.held()[orphan][0][3]

    wait_for(landed, 10, "the late cancel to land")
    stack.start_worker()


@pytest.fixture(scope="module")
def outcome(stack: Stack) -> Stack:
    stack.worker_lost_jobs = True
    _delivery_killed(stack)
    _surplus_refund_killed(stack)
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


def test_every_delivery_attempt_is_recorded(outcome: Stack):
    problems = outcome.unrecorded_attempts()
    assert not problems, report(problems, "deliveries sent more often than recorded")
