"""Refunds under pressure: many at once, a gateway that times out, a cancel made behind our back."""

from __future__ import annotations

import threading
import uuid

import pytest
import requests
from sqlalchemy import select

from payment_api import (
    IAMPORT,
    PORTONE,
    TOSS,
    PaymentClient,
    PaymentHistory,
    Source,
    Vendor,
    errors,
)
from payment_api.examples import buyer
from payment_api.examples.environment import Environment
from payment_backend.extensions import db
from payment_backend.models import AuditEntry, OutboxJob, Payment
from payment_backend.vendors import gateway

CODES = {"iamport": IAMPORT, "toss": TOSS, "portone": PORTONE}
CANCEL_ROUTES = {
    "iamport": "/payments/cancel",
    "toss": "/v1/payments/*/cancel",
    "portone": "/payments/*/cancel",
}
# 20 partial refunds adding up to 16,800 against a payment of 10,000.
AMOUNTS = [300, 700, 1100, 500, 900, 1300, 200, 800, 1200, 600] * 2


@pytest.fixture()
def no_faults(fakes):
    yield
    for server in fakes.all():
        requests.delete(f"{server.url}/__control/faults", timeout=10)


def fail_next_cancel(fakes, vendor: str) -> None:
    """The fake answers the next cancel with a 503 before doing anything (Toss: twice, as our
    Toss client repeats a POST once under its Idempotency-Key)."""
    server = fakes.of(vendor)
    times = 2 if vendor == "toss" else 1
    rule = {"method": "POST", "path": CANCEL_ROUTES[vendor], "status": 503, "times": times}
    requests.post(f"{server.url}/__control/faults", json=rule, timeout=10).raise_for_status()


def client_for(env: Environment) -> PaymentClient:
    return PaymentClient(env.api_url, env.key, env.iv, retries=0)


def registered(env: Environment, vendor: str, amount: int, fakes=None) -> PaymentHistory:
    order_id = str(uuid.uuid4())
    if vendor == "portone":  # the payment id is the caller's order id
        query = fakes.portone.pay_in_window(order_id, amount)
        assert query.get("paymentId") == order_id and not query.get("code"), query
        uid = order_id
    elif vendor == "iamport":
        uid = buyer.iamport_card_payment(env, order_id, amount, "refund test")
    else:
        uid = buyer.toss_card_payment(env, order_id, amount, "refund test")
    with client_for(env) as client:
        return client.create_history(
            Vendor(CODES[vendor], uid),
            Source("shop", "orders", order_id),
            amount,
            "pw",
            env.webhook_url,
        )


def gateway_refunded(app, vendor: str, uid: str) -> tuple[int, int]:
    """(amount refunded, number of cancels) as the fake gateway records them."""
    with app.app_context():
        raw = gateway(vendor).get_payment(uid).raw
    if vendor == "iamport":
        return raw["cancel_amount"], len(raw["cancel_history"])
    if vendor == "portone":
        return raw["amount"]["cancelled"], len(raw.get("cancellations") or [])
    return raw["totalAmount"] - raw["balanceAmount"], len(raw["cancels"] or [])


def cancel_at_gateway(
    app,
    vendor: str,
    history: PaymentHistory,
    amount: int,
    reason: str,
    idempotency_key: str | None = None,
) -> None:
    """Cancel part of the payment at the gateway itself, behind the service's back."""
    with app.app_context():
        gateway(vendor).cancel(
            history.vendor.uid,
            amount=amount,
            expected_remaining=history.price,
            currency="KRW",
            reason=reason,
            idempotency_key=idempotency_key or str(uuid.uuid4()),
        )


def record(app, history_id: str) -> Payment:
    with app.app_context():
        payment = db.session.get(Payment, history_id)
        db.session.expunge(payment)
        return payment


@pytest.mark.parametrize("vendor", ["iamport", "toss", "portone"])
def test_concurrent_partial_refunds_never_exceed_the_payment(app, env, fakes, vendor):
    history = registered(env, vendor, 10000, fakes)
    assert sum(AMOUNTS) > history.price
    start = threading.Barrier(len(AMOUNTS))
    outcomes: list[tuple[int, object]] = []
    lock = threading.Lock()

    def refund(n: int, amount: int) -> None:
        with client_for(env) as client:
            start.wait()
            try:
                # Each refund its own body: the same body twice is one request (a replay).
                result: object = client.cancel_history(history.source, "pw", amount, f"part {n}")
            except errors.PaymentApiError as error:
                result = error
        with lock:
            outcomes.append((amount, result))

    threads = [threading.Thread(target=refund, args=(n, a)) for n, a in enumerate(AMOUNTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert len(outcomes) == len(AMOUNTS)
    refunded = [amount for amount, result in outcomes if isinstance(result, PaymentHistory)]
    refused = [result for _, result in outcomes if not isinstance(result, PaymentHistory)]
    # Refusals come from our own balance check under the lock, never from the gateway's checksum.
    assert all(isinstance(r, errors.OverRefund | errors.NotRefundable) for r in refused), refused
    assert 0 < sum(refunded) <= history.price
    payment = record(app, history.id)
    assert payment.refunded == sum(refunded)
    assert len(payment.cancels) == len(refunded)
    assert gateway_refunded(app, vendor, history.vendor.uid) == (sum(refunded), len(refunded))
    # Whatever is left could not take any of the refused amounts.
    assert all(a > payment.remaining for a, r in outcomes if isinstance(r, errors.OverRefund))


def refund_without_answer(env: Environment, fakes, vendor: str) -> tuple[PaymentHistory, str]:
    """A payment of 8,000 whose refund of 3,000 got no answer from the gateway (503 before the
    gateway did anything); (the history, the refund's Idempotency-Key)."""
    history = registered(env, vendor, 8000, fakes)
    fail_next_cancel(fakes, vendor)
    key = str(uuid.uuid4())
    with client_for(env) as client, pytest.raises(errors.GatewayUnavailable):
        client.cancel_history(history.source, "pw", 3000, "part", idempotency_key=key)
    return history, key


@pytest.mark.parametrize("vendor", ["iamport", "toss", "portone"])
def test_gateway_outage_leaves_the_refund_unknown_until_retried(app, env, fakes, no_faults, vendor):
    history, key = refund_without_answer(env, fakes, vendor)
    with client_for(env) as client:
        payment = record(app, history.id)
        assert payment.outcome_unknown and payment.refunded == 0
        with app.app_context():
            job = db.session.scalars(
                select(OutboxJob).where(OutboxJob.unique_key == f"reconcile:{history.id}")
            ).one()
            assert (job.kind, job.payload["payment_id"], job.status) == (
                "reconcile_payment",
                history.id,
                "pending",
            )
        # Nothing happened at the gateway, so the retry refunds, once.
        after = client.cancel_history(history.source, "pw", 3000, "part", idempotency_key=key)
    assert after.refunded == 3000
    assert not record(app, history.id).outcome_unknown
    assert gateway_refunded(app, vendor, history.vendor.uid) == (3000, 1)


@pytest.mark.parametrize("vendor", ["iamport", "toss", "portone"])
def test_retry_after_a_lost_answer_does_not_refund_twice(app, env, fakes, no_faults, vendor):
    history, key = refund_without_answer(env, fakes, vendor)
    with app.app_context():
        attempt = db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.payment_id == history.id, AuditEntry.action == "payment.refund_unknown"
            )
        ).one()
    with client_for(env) as client:
        # As if our call had reached the gateway and only its answer was lost: the same
        # cancel, under the Idempotency-Key our call sent (Toss).
        cancel_at_gateway(
            app, vendor, history, 3000, "part", idempotency_key=attempt.detail["gateway_key"]
        )
        after = client.cancel_history(history.source, "pw", 3000, "part", idempotency_key=key)
    assert (after.refunded, len(after.cancels)) == (3000, 1)
    assert gateway_refunded(app, vendor, history.vendor.uid) == (3000, 1)


@pytest.mark.parametrize("vendor", ["iamport", "toss", "portone"])
def test_cancel_made_at_the_gateway_is_caught_up_on_refusal(app, env, fakes, vendor):
    history = registered(env, vendor, 6000, fakes)
    cancel_at_gateway(app, vendor, history, 1000, "console")  # the shop's staff, in its console
    with client_for(env) as client:
        with pytest.raises(errors.GatewayRefused):
            client.cancel_history(history.source, "pw", 5500, "part")
        seen = client.get_history(history.source, "pw")
        assert (seen.refunded, seen.status) == (1000, "partially_refunded")
        with pytest.raises(errors.OverRefund) as over:
            client.cancel_history(history.source, "pw", 5500, "part")
        assert over.value.remaining == 5000
        done = client.cancel_history(history.source, "pw", 5000, "rest")
    assert (done.refunded, done.status) == (6000, "refunded")
    assert gateway_refunded(app, vendor, history.vendor.uid) == (6000, 2)
