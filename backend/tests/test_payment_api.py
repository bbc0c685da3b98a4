"""payment_api, the Python client: typed calls (histories, reservations, subscriptions), errors,
idempotency keys, retries, webhook verification, and its examples run as subprocesses."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime

import pytest
import requests
from flask import Flask, Response, request

from fake_common.server import serve_in_thread
from fake_common.window_client import APPROVED, iamport_pay, toss_register_card
from payment_api import (
    IAMPORT,
    TOSS,
    Notification,
    PaymentClient,
    PaymentHistory,
    PaymentReservation,
    Plan,
    Source,
    Subscription,
    SubscriptionDashboard,
    Vendor,
    errors,
    verify_webhook,
)
from payment_api.examples import buyer
from payment_api.examples.environment import Environment
from payment_backend.crypto import sign_webhook
from payment_backend.worker import run_forever


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
    done = run_example(env, example)
    assert done.returncode == 0, done.stderr
    assert "registered" in done.stdout
    if example == "partial_refund":
        assert "refused:" in done.stdout and "refunded everything: 30000, refunded" in done.stdout


def run_example(env: Environment, example: str, timeout: float = 20) -> subprocess.CompletedProcess:
    """python -m payment_api.examples.<example> with the settings pointed at env."""
    variables = {
        **os.environ,
        "PAYMENT_API_URL": env.api_url,
        "PAYMENT_CONNECTION_ENCRYPTION_KEY": env.key,
        "PAYMENT_CONNECTION_ENCRYPTION_IV": env.iv,
        "PAYMENT_WEBHOOK_SIGNING_SECRET": env.webhook_secret,
        "IAMPORT_API_URL": env.iamport_url,
        "IAMPORT_API_KEY": env.iamport_key,
        "IAMPORT_API_SECRET": env.iamport_secret,
        "TOSS_API_URL": env.toss_url,
        "TOSS_SECRET_KEY": env.toss_secret_key,
        "EXAMPLE_WEBHOOK_URL": env.webhook_url,
        "EXAMPLE_TIMEOUT": str(timeout),
    }
    return subprocess.run(
        [sys.executable, "-m", f"payment_api.examples.{example}"],
        env=variables,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_register_billing_key_example(env):
    done = run_example(env, "register_billing_key")
    assert done.returncode == 0, done.stderr
    assert "registered iamport billing key" in done.stdout
    assert "registered toss.payments billing key" in done.stdout
    assert done.stdout.count("read back by id and by source") == 2
    assert done.stdout.count("registering it again is refused: ALREADY_REGISTERED") == 2


# -- the worker's side: notifications -----------------------------------------------------------


@pytest.fixture()
def worker_env(worker_app: Flask, sub_live, fakes, merchant) -> Environment:
    """The examples' settings against an app of its own (the worker runs over all its jobs)."""
    config = worker_app.config
    return Environment(
        api_url=sub_live.url,
        key=config["PAYMENT_CONNECTION_ENCRYPTION_KEY"],
        iv=config["PAYMENT_CONNECTION_ENCRYPTION_IV"],
        iamport_url=fakes.iamport.url,
        iamport_key=config["IAMPORT_API_KEY"],
        iamport_secret=config["IAMPORT_API_SECRET"],
        toss_url=fakes.toss.url,
        toss_secret_key=config["TOSS_SECRET_KEY"],
        webhook_url=merchant.url + "/hook",
        webhook_secret=config["PAYMENT_WEBHOOK_SIGNING_SECRET"],
    )


@pytest.fixture()
def worker(worker_app: Flask) -> Iterator[None]:
    """`flask worker` in a thread of this process, polling every 50 ms until the test ends."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_forever,
        args=(worker_app,),
        kwargs={"interval": 0.05, "limit": 20, "stop": stop},
        name="outbox-worker",
        daemon=True,
    )
    thread.start()
    yield
    stop.set()
    thread.join(timeout=10)


def test_listen_for_deposit_example_gets_the_signed_webhook(worker_env, worker):
    done = run_example(worker_env, "listen_for_deposit")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "registered" in done.stdout and ": awaiting_deposit;" in done.stdout
    assert "verified: awaiting_deposit -> paid" in done.stdout
    assert "refused a webhook" not in done.stdout


def test_listen_for_deposit_example_says_when_no_worker_runs(worker_env):
    done = run_example(worker_env, "listen_for_deposit", timeout=1)
    assert done.returncode == 1
    assert "is the worker running" in done.stderr


def test_verify_webhook_checks_what_the_service_signs(env):
    secret = "whsec-test-secret"
    body = json.dumps(
        {
            "id": "dlv_1",
            "source": {"schema": "shop", "table": "orders", "id": "o-1"},
            "previous": None,
            "current": {"id": "pay_1", "status": "paid"},
        }
    )
    stamp = int(time.time())
    headers = {
        "Webhook-Id": "dlv_1",
        "Webhook-Timestamp": str(stamp),
        "Webhook-Signature": sign_webhook(secret, "dlv_1", stamp, body),  # the service's own
        "Content-Type": "application/json",
    }
    notification = verify_webhook(secret, headers, body.encode())
    assert isinstance(notification, Notification)
    assert (notification.id, notification.event) == ("dlv_1", "payment.updated")
    assert notification.source == Source("shop", "orders", "o-1")
    assert notification.current["status"] == "paid" and notification.previous is None
    rotated = {**headers, "Webhook-Signature": "v1,b2xk " + headers["Webhook-Signature"]}
    assert verify_webhook(secret, rotated, body).id == "dlv_1"

    refusals = {
        "wrong secret": ("other", headers, body),
        "changed body": (secret, headers, body.replace("paid", "cancelled")),
        "no signature": (secret, {**headers, "Webhook-Signature": ""}, body),
        "stale": (secret, {**headers, "Webhook-Timestamp": str(stamp - 600)}, body),
    }
    for why, (key, hook_headers, hook_body) in refusals.items():
        with pytest.raises(errors.WebhookVerificationError):
            verify_webhook(key, hook_headers, hook_body)
        assert why
    old = {**headers, "Webhook-Timestamp": str(stamp - 600)}
    old["Webhook-Signature"] = sign_webhook(secret, "dlv_1", stamp - 600, body)
    assert verify_webhook(secret, old, body, tolerance=None).id == "dlv_1"

    # Seed-compatible mode: the body is encrypted with the service API's key and IV.
    with PaymentClient(env.api_url, env.key, env.iv) as client:
        text = client.cipher.encrypt(json.loads(body))
        sealed = {
            **headers,
            "Content-Type": "text/plain; charset=utf-8",
            "Webhook-Signature": sign_webhook(secret, "dlv_1", stamp, text),
        }
        assert client.verify_webhook(secret, sealed, text).current["id"] == "pay_1"
    with pytest.raises(errors.WebhookVerificationError):
        verify_webhook(secret, sealed, text)  # no cipher to read it with


# -- subscriptions (plain JSON) ------------------------------------------------------------------


DECLINES_LATER = "4000000000000341"  # the fakes issue a billing key for it; charges decline


@pytest.fixture()
def subscriptions(worker_app: Flask, sub_live, sent) -> Iterator[PaymentClient]:
    """A client of an app of its own (subscriptions book renewals); what it started is canceled."""
    session = requests.Session()
    session.hooks["response"].append(lambda response, **_: sent.append(response.request))
    token = worker_app.config["PAYMENT_ADMIN_TOKEN"]
    config = worker_app.config
    client = PaymentClient(
        sub_live.url,
        config["PAYMENT_CONNECTION_ENCRYPTION_KEY"],
        config["PAYMENT_CONNECTION_ENCRYPTION_IV"],
        admin_token=token,
        session=session,
    )
    yield client
    for sub in client.list_subscriptions():
        if sub.status != "canceled":
            client.cancel_subscription(sub.id, "test over")
    client.close()


def card_window(fakes, sub: Subscription, card: str = APPROVED) -> dict[str, str]:
    """The subscriber's browser: the fake's billing window, and what it hands back."""
    setup = sub.setup
    if sub.vendor == "iamport":
        query = iamport_pay(
            fakes.iamport.url,
            merchant_uid=setup["merchant_uid"],
            amount=setup["amount"],
            currency=setup["currency"],
            customer_uid=setup["customer_uid"],
            notice_url=setup["notice_url"],
            pg=setup["pg"],
            card=card,
        )
        return {"imp_uid": query["imp_uid"]}
    query = toss_register_card(fakes.toss.url, customer_key=setup["customer_key"], card=card)
    return {"auth_key": query["authKey"], "customer_key": query["customerKey"]}


@pytest.mark.parametrize("vendor", ["iamport", TOSS])
def test_subscription_lifecycle_with_typed_results(subscriptions, fakes, sent, vendor):
    plans = subscriptions.list_plans()
    assert all(isinstance(p, Plan) for p in plans) and plans[0].amount == 9900
    started = subscriptions.create_subscription(
        plans[0].id, vendor, buyer_name="Hong Gildong", buyer_email="buyer@example.com"
    )
    assert isinstance(started, Subscription) and started.id.startswith("sub_")
    assert (started.vendor, started.status, started.charges) == (
        "iamport" if vendor == "iamport" else "toss",
        "incomplete",
        [],
    )
    assert started.plan == plans[0] and started.setup and started.card is None

    active = subscriptions.activate_subscription(started.id, **card_window(fakes, started))
    assert active.status == "active" and active.setup is None
    assert active.card.number and "*" in active.card.number
    first = active.charge(1)
    assert (first.status, first.amount, first.key_issue) == ("paid", 9900, vendor == "iamport")
    assert isinstance(first.paid_at, datetime) and first.payment_id
    assert active.next_charge_amount == 9900
    assert active.next_charge_at == active.current_period_end
    assert subscriptions.get_subscription(started.id) == active

    canceled = subscriptions.cancel_subscription(started.id, "too expensive")
    assert (canceled.status, canceled.cancel_reason) == ("canceled", "too expensive")
    assert canceled.access_until == active.current_period_end and canceled.next_charge_at is None
    assert subscriptions.cancel_subscription(started.id) == canceled  # once is enough

    # Plain JSON, an Idempotency-Key on every mutating call, none on reads.
    assert all(not r.headers.get("Content-Type", "").startswith("text/plain") for r in sent)
    posts = [r for r in sent if r.method == "POST"]
    assert len(posts) == 4 and all(r.headers["Content-Type"] == "application/json" for r in posts)
    keys = [r.headers["Idempotency-Key"] for r in posts]
    assert len(set(keys)) == 4 and all(uuid.UUID(k) for k in keys)
    assert json.loads(posts[-1].body) == {"reason": None}
    assert all("Idempotency-Key" not in r.headers for r in sent if r.method == "GET")


def test_subscription_errors_and_the_owners_calls(subscriptions, fakes, sent, sub_live):
    with pytest.raises(errors.NotFound) as missing:
        subscriptions.get_subscription("sub_nope")
    assert missing.value.code == "SUBSCRIPTION_NOT_FOUND"
    with pytest.raises(errors.Unprocessable) as unknown:
        subscriptions.create_subscription(999, "toss")
    assert unknown.value.code == "UNKNOWN_PLAN"

    started = subscriptions.create_subscription(1, "toss")
    with pytest.raises(errors.ChargeDeclined) as declined:
        subscriptions.activate_subscription(
            started.id, **card_window(fakes, started, card=DECLINES_LATER)
        )
    assert (declined.value.status, declined.value.code) == (402, "CHARGE_DECLINED")
    assert subscriptions.get_subscription(started.id).status == "incomplete"
    active = subscriptions.activate_subscription(started.id, **card_window(fakes, started))
    assert active.status == "active"

    setup = subscriptions.change_subscription_card(active.id)
    assert setup["customer_key"] != started.setup["customer_key"]
    replaced = subscriptions.confirm_subscription_card(
        active.id, **card_window(fakes, dataclasses.replace(active, setup=setup))
    )
    assert replaced.status == "active" and replaced.charges == active.charges

    # The owner's calls carry the admin token; without it they are refused outside local mode.
    listed = subscriptions.list_subscriptions()
    assert listed[0].id == active.id and all(isinstance(s, Subscription) for s in listed)
    owner_calls = [r for r in sent if "/api/admin/" in r.url]
    assert all(
        r.headers["Authorization"] == f"Bearer {subscriptions.admin_token}" for r in owner_calls
    )
    figures = subscriptions.subscription_dashboard()
    assert isinstance(figures, SubscriptionDashboard) and figures.currency == "KRW"
    assert figures.active >= 1 and figures.mrr >= 9900 and len(figures.months) == 6
    year = subscriptions.subscription_dashboard(months=12)
    assert len(year.months) == 12 and year.months[-1].active_at_end >= 1
    stranger = PaymentClient(sub_live.url, "k" * 32, "v" * 16)
    with pytest.raises(errors.Unauthorized) as refused:
        stranger.subscription_dashboard()
    assert (refused.value.status, refused.value.code) == (401, "ADMIN_TOKEN_REQUIRED")

    key = str(uuid.uuid4())
    refunded = subscriptions.refund_subscription_charge(
        active.id, 1, "goodwill", 4000, idempotency_key=key
    )
    assert refunded.charge(1).refunded == 4000
    again = subscriptions.refund_subscription_charge(
        active.id, 1, "goodwill", 4000, idempotency_key=key
    )
    assert again.charge(1).refunded == 4000  # the same key never refunds twice
    with pytest.raises(errors.OverRefund):
        subscriptions.refund_subscription_charge(active.id, 1, "too much", 9900)
    with pytest.raises(errors.NotRefundable):
        subscriptions.refund_subscription_charge(active.id, 2, "not paid")


def test_a_creation_that_may_have_arrived_is_not_repeated(env):
    """create_subscription is not deduplicated by the service: a read timeout is not retried,
    a refused connection is."""
    seen: list[str] = []
    front = Flask("slow_front")
    answered = threading.Event()

    @front.route("/api/subscriptions", methods=["POST"])
    def slow():
        seen.append(request.headers["Idempotency-Key"])
        answered.wait(2)  # longer than the client's timeout
        return {"code": "LATE", "message": "too late"}, 500

    with serve_in_thread(front) as server:
        client = PaymentClient(server.url, env.key, env.iv, retries=3, backoff=0.01, timeout=0.3)
        with pytest.raises(errors.TransportError) as failure:
            client.create_subscription(1, "toss")
        answered.set()
    assert len(seen) == 1 and "after 1 tries" in failure.value.message

    gone = PaymentClient(server.url, env.key, env.iv, retries=2, backoff=0.01, timeout=2)
    with pytest.raises(errors.TransportError) as refused:
        gone.create_subscription(1, "toss")
    assert "3 tries" in refused.value.message
