"""payment_api, the Python client: typed calls, errors, idempotency keys, retries, and its examples."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import datetime

import pytest
import requests
from flask import Flask, Response, request

from fake_common.server import serve_in_thread
from payment_api import (
    IAMPORT,
    TOSS,
    PaymentClient,
    PaymentHistory,
    PaymentReservation,
    Source,
    Vendor,
    errors,
)
from payment_api.examples import buyer


@pytest.fixture()
def sent(env) -> list[requests.PreparedRequest]:
    """Requests the client under test sent."""
    return []


@pytest.fixture()
def client(env, sent):
    session = requests.Session()
    session.hooks["response"].append(lambda response, **_: sent.append(response.request))
    with PaymentClient(env.api_url, env.key, env.iv, session=session) as client:
        yield client


def test_histories_round_trip_with_typed_results(client, env, sent):
    order_id = str(uuid.uuid4())
    imp_uid = buyer.iamport_card_payment(env, order_id, 25000, "sdk test")
    source = Source("shop", "orders", order_id)
    history = client.create_history(
        Vendor(IAMPORT, imp_uid, "store-1"), source, 25000, "pw", env.webhook_url
    )
    assert isinstance(history, PaymentHistory)
    assert (history.vendor, history.source) == (Vendor(IAMPORT, imp_uid, "store-1"), source)
    assert (history.price, history.refund, history.refunded, history.remaining) == (
        25000,
        None,
        0,
        25000,
    )
    assert history.status == "paid" and isinstance(history.paid_at, datetime)
    assert history.data["imp_uid"] == imp_uid

    assert client.get_history(source, "pw") == history
    assert client.get_history_by_id(history.id, "pw") == history

    after = client.cancel_history(source, "pw", 10000, "one item back")
    assert (after.refunded, after.remaining, after.status) == (10000, 15000, "partially_refunded")
    assert after.cancels[0].price == 10000 and after.cancels[0].reason == "one item back"
    assert isinstance(after.cancels[0].created_at, datetime)

    # Every mutating call carries its own Idempotency-Key; reads carry none.
    keys = {r.method: r.headers.get("Idempotency-Key") for r in sent}
    assert uuid.UUID(keys["POST"]) and uuid.UUID(keys["PUT"]) and keys["POST"] != keys["PUT"]
    assert keys["PATCH"] is None
    assert all(r.headers["Content-Type"] == "text/plain" for r in sent)


def test_errors_map_to_the_exception_family(client, env):
    order_id = str(uuid.uuid4())
    payment_key = buyer.toss_card_payment(env, order_id, 5000, "sdk test")
    source = Source("shop", "orders", order_id)
    with pytest.raises(errors.AmountMismatch) as mismatch:
        client.create_history(Vendor(TOSS, payment_key), source, 6000, "pw", env.webhook_url)
    assert (mismatch.value.status, mismatch.value.expected, mismatch.value.paid) == (
        422,
        6000,
        5000,
    )
    assert isinstance(mismatch.value, errors.Unprocessable)

    history = client.create_history(Vendor(TOSS, payment_key), source, 5000, "pw", env.webhook_url)
    with pytest.raises(errors.AlreadyRegistered):
        client.create_history(Vendor(TOSS, payment_key), source, 5000, "other", env.webhook_url)
    with pytest.raises(errors.NotFound):
        client.get_history_by_id(history.id, "wrong")
    with pytest.raises(errors.NotFound):
        client.get_history(Source("shop", "orders", "no-such-order"), "pw")
    with pytest.raises(errors.OverRefund) as over:
        client.cancel_history(source, "pw", 5001, "too much")
    assert (over.value.remaining, over.value.code) == (5000, "OVER_REFUND")
    assert isinstance(over.value, errors.Conflict)
    with pytest.raises(errors.InvalidAmount):
        client.cancel_history(source, "pw", 0, "nothing")

    stranger = PaymentClient(env.api_url, "k" * 32, "v" * 16)
    with pytest.raises(errors.BadRequest) as bad:
        stranger.get_history(source, "pw")
    assert bad.value.code == "DECRYPTION_FAILED"


def test_retries_keep_the_same_idempotency_key(env):
    """A front that is briefly unavailable: 503 twice, then the service answers."""
    seen: list[str | None] = []
    front = Flask("flaky_front")

    @front.route("/<path:path>", methods=["POST", "PUT", "PATCH"])
    def forward(path: str):
        seen.append(request.headers.get("Idempotency-Key"))
        if len(seen) <= 2:
            return {"code": "UNAVAILABLE", "message": "restarting"}, 503
        answer = requests.request(
            request.method,
            f"{env.api_url}/{path}",
            data=request.get_data(),
            headers={k: v for k, v in request.headers if k in ("Content-Type", "Idempotency-Key")},
            timeout=30,
        )
        return Response(
            answer.content, answer.status_code, content_type=answer.headers["Content-Type"]
        )

    order_id = str(uuid.uuid4())
    imp_uid = buyer.iamport_card_payment(env, order_id, 7000, "sdk test")
    with serve_in_thread(front) as server:
        client = PaymentClient(server.url, env.key, env.iv, retries=3, backoff=0.01)
        history = client.create_history(
            Vendor(IAMPORT, imp_uid),
            Source("shop", "orders", order_id),
            7000,
            "pw",
            env.webhook_url,
        )
    assert history.price == 7000
    assert len(seen) == 3 and len(set(seen)) == 1 and seen[0]


def test_unreachable_service_raises_transport_error_after_retries(env):
    with serve_in_thread(Flask("gone")) as server:
        url = server.url  # a port nobody listens on once closed
    client = PaymentClient(url, env.key, env.iv, retries=2, backoff=0.01, timeout=2)
    with pytest.raises(errors.TransportError) as failure:
        client.get_history_by_id("x", "pw")
    assert failure.value.status is None and "3 tries" in failure.value.message


def test_reservations_round_trip_with_typed_results(client, fakes):
    customer_uid = f"cus_{uuid.uuid4().hex}"
    issued = fakes.iamport_api(
        "POST",
        f"/subscribe/customers/{customer_uid}",
        json={"card_number": "4242-4242-4242-4242", "expiry": "2035-12"},
    )
    assert issued.json()["code"] == 0
    source = Source("shop", "members", customer_uid)
    created = client.create_reservation(Vendor(IAMPORT, customer_uid), source, "monthly", "pw")
    assert isinstance(created, PaymentReservation)
    assert (created.vendor.uid, created.source, created.title) == (customer_uid, source, "monthly")
    assert created.data["customer_uid"] == customer_uid
    assert created.card["number"].startswith("424242")
    assert client.get_reservation(source, "pw") == created
    assert client.get_reservation_by_id(created.id, "pw") == created
    with pytest.raises(errors.NotFound):
        client.get_reservation(source, "wrong")
    with pytest.raises(errors.AlreadyRegistered):
        client.create_reservation(Vendor(IAMPORT, customer_uid), source, "monthly", "other")


@pytest.mark.parametrize("example", ["register_card_payment", "partial_refund"])
def test_examples_run_against_the_served_app(env, example):
    variables = {
        **os.environ,
        "PAYMENT_API_URL": env.api_url,
        "PAYMENT_CONNECTION_ENCRYPTION_KEY": env.key,
        "PAYMENT_CONNECTION_ENCRYPTION_IV": env.iv,
        "IAMPORT_API_URL": env.iamport_url,
        "IAMPORT_API_KEY": env.iamport_key,
        "IAMPORT_API_SECRET": env.iamport_secret,
        "TOSS_API_URL": env.toss_url,
        "TOSS_SECRET_KEY": env.toss_secret_key,
        "EXAMPLE_WEBHOOK_URL": env.webhook_url,
    }
    done = subprocess.run(
        [sys.executable, "-m", f"payment_api.examples.{example}"],
        env=variables,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "registered" in done.stdout
    if example == "partial_refund":
        assert "refused:" in done.stdout and "refunded everything: 30000, refunded" in done.stdout
