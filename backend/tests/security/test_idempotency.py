"""Issue 10, items 5 (purge), 7 and 8: Idempotency-Key claims, refunds whose answer was lost,
and replayed service-API bodies."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from fake_common.polling import wait_until
from payment_api.examples import buyer
from payment_backend.clock import now
from payment_backend.extensions import db
from payment_backend.models import IdempotencyKey
from payment_backend.schemas.checkout import RefundSchema
from payment_backend.services.idempotency import fingerprint, purge_expired
from payment_backend.vendors import gateway

CODES = {"iamport": "iamport", "toss": "toss.payments", "portone": "portone"}
CANCEL_ROUTES = {
    "iamport": "/payments/cancel",
    "toss": "/v1/payments/*/cancel",
    "portone": "/payments/*/cancel",
}
VENDORS = ["iamport", "toss", "portone"]


@pytest.fixture()
def owner(app) -> dict[str, str]:
    """The admin token header (test mode asks for it)."""
    return {"Authorization": f"Bearer {app.config['PAYMENT_ADMIN_TOKEN']}"}


def paid_order(shop, vendor: str) -> dict:
    order = shop.create_order(vendor)
    payment_id, _ = shop.pay(order)
    response = shop.complete(order, payment_id)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def gateway_cancels(shop, vendor: str, payment_id: str) -> list[int]:
    """The amounts of every cancel the fake gateway holds for a payment, oldest first."""
    if vendor == "iamport":
        return [int(c["amount"]) for c in shop.iamport_payment(payment_id)["cancel_history"]]
    if vendor == "portone":
        return [c["totalAmount"] for c in shop.portone_payment(payment_id).get("cancellations", [])]
    return [int(c["cancelAmount"]) for c in shop.toss_payment(payment_id)["cancels"] or []]


def stored_keys(app, key: str) -> list[IdempotencyKey]:
    with app.app_context():
        return db.session.scalars(select(IdempotencyKey).where(IdempotencyKey.key == key)).all()


# -- item 7: authenticate before claiming --------------------------------------------------------


def test_an_anonymous_refund_claims_and_stores_nothing_under_its_key(app, shop, client, owner):
    order = paid_order(shop, "iamport")
    url = f"/api/checkout/orders/{order['order_id']}/refund"
    key = {"Idempotency-Key": f"anon-{uuid.uuid4()}"}
    body = {"amount": 1000, "reason": "give it back"}
    anonymous = client.post(url, json=body, headers=key)
    assert (anonymous.status_code, anonymous.get_json()["code"]) == (401, "ADMIN_TOKEN_REQUIRED")
    assert stored_keys(app, key["Idempotency-Key"]) == []

    by_owner = client.post(url, json=body, headers={**owner, **key})
    assert by_owner.status_code == 200, by_owner.get_json()
    assert by_owner.get_json()["refunded"] == 1000
    assert gateway_cancels(shop, "iamport", order["payment"]["payment_id"]) == [1000]


# -- item 7: a live holder is never taken over; a dead one is released at once -------------------


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_slow_refund_past_the_old_two_minutes_is_not_taken_over(
    app, shop, owner, fakes, faults, clock, vendor
):
    order = paid_order(shop, vendor)
    url = f"/api/checkout/orders/{order['order_id']}/refund"
    headers = {**owner, "Idempotency-Key": f"slow-{uuid.uuid4()}"}
    body = {"amount": 5000, "reason": "slow gateway"}
    rule = faults(vendor, method="POST", path=CANCEL_ROUTES[vendor], latency_ms=2500, times=1)
    answers: list = []
    first = threading.Thread(
        target=lambda: answers.append(app.test_client().post(url, json=body, headers=headers))
    )
    first.start()
    try:
        wait_until(lambda: fakes.fault_hits(vendor, rule["id"]) >= 1, timeout=10)
        clock.advance(180)  # the first holder is still at the gateway, 3 minutes "later"
        second = app.test_client().post(url, json=body, headers=headers)
        assert second.status_code == 409, second.get_json()
        assert second.get_json()["code"] == "IDEMPOTENT_REQUEST_PROCESSING"
        assert second.headers["Retry-After"] == "1"
    finally:
        first.join(30)
    assert answers[0].status_code == 200, answers[0].get_json()
    assert gateway_cancels(shop, vendor, order["payment"]["payment_id"]) == [5000]
    replay = app.test_client().post(url, json=body, headers=headers)
    assert replay.status_code == 200 and replay.get_json() == answers[0].get_json()
    assert gateway_cancels(shop, vendor, order["payment"]["payment_id"]) == [5000]


def test_a_claim_whose_holder_died_is_released_at_once(app, shop, client, owner):
    order = paid_order(shop, "toss")
    url = f"/api/checkout/orders/{order['order_id']}/refund"
    key = f"dead-{uuid.uuid4()}"
    body = {"amount": 2000, "reason": "holder died"}
    # What a holder that died leaves behind: its claim row, just made, and no lock held.
    with app.test_request_context(url, method="POST", json=body):
        request_hash = fingerprint(
            "checkout.refund", url, (RefundSchema().load(body),), {"order_id": order["order_id"]}
        )
        db.session.add(
            IdempotencyKey(
                scope="checkout.refund", key=key, request_hash=request_hash, created_at=now()
            )
        )
        db.session.commit()
    response = client.post(url, json=body, headers={**owner, "Idempotency-Key": key})
    assert response.status_code == 200, response.get_json()
    assert gateway_cancels(shop, "toss", order["payment"]["payment_id"]) == [2000]
    assert [row.status_code for row in stored_keys(app, key)] == [200]


# -- item 7: a refund whose answer was lost is done only when that refund is at the gateway -------


def lose_the_answer(app, monkeypatch, faults, vendor: str, *, lands: bool) -> None:
    """The next cancel call times out at our client (0.5 s); the fake answers after 1.5 s, having
    made the cancel (lands) or not (a 503 after the wait). Toss: both calls of our client, which
    repeats a POST once under its Idempotency-Key. PortOne V2: the SDK's httpx client."""
    with app.app_context():
        if vendor == "portone":
            transport = gateway(vendor).sdk._sync_client
            monkeypatch.setattr(transport, "timeout", httpx.Timeout(0.5, connect=3.05))
        else:
            monkeypatch.setattr(gateway(vendor).http, "timeout", (3.05, 0.5))
    rule = {"method": "POST", "path": CANCEL_ROUTES[vendor], "latency_ms": 1500}
    if not lands:
        rule["status"] = 503
    faults(vendor, times=2 if vendor == "toss" else 1, **rule)


@pytest.mark.parametrize("lands", [False, True], ids=["lost", "landed"])
@pytest.mark.parametrize("vendor", VENDORS)
def test_a_timed_out_refund_is_done_only_when_it_is_at_the_gateway(
    app, shop, client, owner, faults, monkeypatch, vendor, lands
):
    order = paid_order(shop, vendor)  # 30,000
    payment_id = order["payment"]["payment_id"]
    url = f"/api/checkout/orders/{order['order_id']}/refund"
    refund_a = {**owner, "Idempotency-Key": f"a-{uuid.uuid4()}"}
    lose_the_answer(app, monkeypatch, faults, vendor, lands=lands)
    timed_out = client.post(url, json={"amount": 3000, "reason": "A"}, headers=refund_a)
    assert (timed_out.status_code, timed_out.get_json()["code"]) == (502, "GATEWAY_UNAVAILABLE")
    monkeypatch.undo()
    time.sleep(2.5)  # the fake is done with A, whatever it did
    assert gateway_cancels(shop, vendor, payment_id) == ([3000] if lands else [])

    refund_b = {**owner, "Idempotency-Key": f"b-{uuid.uuid4()}"}
    other = client.post(url, json={"amount": 2000, "reason": "B"}, headers=refund_b)
    assert other.status_code == 200, other.get_json()

    retried = client.post(url, json={"amount": 3000, "reason": "A"}, headers=refund_a)
    assert retried.status_code == 200, retried.get_json()
    # Done, because A is at the gateway now: exactly once, whether it had landed or not.
    assert retried.get_json()["refunded"] == 5000
    assert sorted(gateway_cancels(shop, vendor, payment_id)) == [2000, 3000]


# -- item 8: the service API's replayed bodies ---------------------------------------------------


def registered(seed, env, shop, vendor: str, price: int) -> tuple[str, dict]:
    order_id = str(uuid.uuid4())
    if vendor == "portone":
        uid = shop.fakes.portone.pay_in_window(order_id, price)["paymentId"]
    elif vendor == "iamport":
        uid = buyer.iamport_card_payment(env, order_id, price, "replay test")
    else:
        uid = buyer.toss_card_payment(env, order_id, price, "replay test")
    status, created = seed.call(
        "POST",
        "/payments/histories",
        {
            "vendor": {"code": CODES[vendor], "store_id": store_id(shop, vendor), "uid": uid},
            "source": {"schema": "shop", "table": "orders", "id": order_id},
            "price": price,
            "password": "record-password",
            "webhook_url": env.webhook_url,
        },
    )
    assert status == 201, created
    return uid, created


def store_id(shop, vendor: str) -> str:
    """The store the payment was made in (PortOne V2's is its store id)."""
    return shop.fakes.portone.store_id if vendor == "portone" else f"test-{vendor}"


def send(seed, method: str, path: str, ciphertext: str, **headers: str) -> tuple[int, object]:
    response = seed.http.request(
        method,
        seed.host + path,
        data=ciphertext,
        headers={"Content-Type": "text/plain", **headers},
        timeout=30,
    )
    if response.status_code >= 400:
        return response.status_code, response.json()
    return response.status_code, seed.decrypt(response.text)


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_replayed_cancel_body_is_the_same_request_whatever_its_key(seed, env, shop, vendor):
    uid, created = registered(seed, env, shop, vendor, 9000)
    cancel = {
        "source": created["source"],
        "password": "record-password",
        "price": 2000,
        "reason": "replayed",
    }
    captured = seed.encrypt(cancel)
    first = send(seed, "PUT", "/payments/histories/cancel", captured)
    assert first[0] == 200, first
    for headers in ({}, {"Idempotency-Key": str(uuid.uuid4())}):
        again = send(seed, "PUT", "/payments/histories/cancel", captured, **headers)
        assert again == first
    assert gateway_cancels(shop, vendor, uid) == [2000]

    # A different amount is a different request.
    status, body = seed.call("PUT", "/payments/histories/cancel", {**cancel, "price": 3000})
    assert (status, body["refund"]) == (200, 5000)
    assert gateway_cancels(shop, vendor, uid) == [2000, 3000]


def test_a_replayed_registration_body_gets_the_first_answer(seed, env):
    order_id = str(uuid.uuid4())
    uid = buyer.iamport_card_payment(env, order_id, 4000, "replay test")
    captured = seed.encrypt(
        {
            "vendor": {"code": "iamport", "store_id": "test-iamport", "uid": uid},
            "source": {"schema": "shop", "table": "orders", "id": order_id},
            "price": 4000,
            "password": "record-password",
            "webhook_url": env.webhook_url,
        }
    )
    first = send(seed, "POST", "/payments/histories", captured)
    again = send(seed, "POST", "/payments/histories", captured, **{"Idempotency-Key": "other"})
    assert first[0] == 201 and again == first


# -- item 5: keys are purged after 24 hours ------------------------------------------------------


def test_keys_older_than_a_day_are_purged_and_newer_ones_kept(app):
    tag = uuid.uuid4().hex[:8]
    with app.app_context():
        moment = now()
        for name, age in (("old", timedelta(hours=25)), ("new", timedelta(hours=23))):
            db.session.add(
                IdempotencyKey(
                    scope="test.purge",
                    key=f"{name}-{tag}",
                    request_hash="0" * 64,
                    created_at=moment - age,
                )
            )
        db.session.commit()
        assert purge_expired(moment) >= 1
        left = db.session.scalars(
            select(IdempotencyKey.key).where(IdempotencyKey.scope == "test.purge")
        ).all()
    assert f"new-{tag}" in left and f"old-{tag}" not in left


def test_a_service_body_replayed_after_a_day_is_a_new_request(app, seed, env, shop, clock):
    uid, created = registered(seed, env, shop, "iamport", 6000)
    captured = seed.encrypt(
        {"source": created["source"], "password": "record-password", "price": 1000, "reason": "r"}
    )
    assert send(seed, "PUT", "/payments/histories/cancel", captured)[0] == 200
    assert send(seed, "PUT", "/payments/histories/cancel", captured)[1]["refund"] == 1000
    clock.advance(25 * 3600)
    with app.app_context():
        assert purge_expired() >= 1
    status, body = send(seed, "PUT", "/payments/histories/cancel", captured)
    assert (status, body["refund"]) == (200, 2000)
    assert gateway_cancels(shop, "iamport", uid) == [1000, 1000]


def test_the_workers_purge_never_raises(app, monkeypatch):
    from payment_backend.services import idempotency

    def broken(moment=None):
        raise RuntimeError("database went away")

    monkeypatch.setattr(idempotency, "purge_expired", broken)
    idempotency.purge_in(app)  # logged, not raised: the worker goes on
