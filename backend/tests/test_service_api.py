"""The seed's encrypted service API, driven by a client written from the protocol description alone.

The `seed` fixture (conftest.SeedClient) follows the reference's §4 (AES-256-CBC, the UTF-8
bytes of the key and IV, PKCS#7, standard Base64, text/plain; errors plain JSON) and imports
nothing from the backend.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
import requests
from sqlalchemy import select

from payment_api.examples import buyer
from payment_api.examples.environment import Environment
from payment_backend.extensions import db
from payment_backend.models import AuditEntry, Payment, WebhookDelivery
from payment_backend.vendors import gateway

CODES = {"iamport": "iamport", "toss": "toss.payments", "portone": "portone"}


def registration(vendor: str, uid: str, order_id: str, price: int, webhook_url: str) -> dict:
    return {
        "vendor": {"code": CODES[vendor], "store_id": f"test-{vendor}-create-id", "uid": uid},
        "source": {"schema": "shop", "table": "orders", "id": order_id},
        "price": price,
        "password": "record-password",
        "webhook_url": webhook_url,
    }


def pay(env: Environment, vendor: str, order_id: str, amount: int, fakes=None) -> str:
    """A card payment at the fake (iamport, PortOne V2: paid; Toss: waiting for the backend's
    confirm). PortOne V2's payment id is the caller's own: its order id (source.id)."""
    if vendor == "portone":
        query = fakes.portone.pay_in_window(order_id, amount)
        assert query.get("paymentId") == order_id and not query.get("code"), query
        return order_id
    if vendor == "iamport":
        return buyer.iamport_card_payment(env, order_id, amount, "seed test")
    return buyer.toss_card_payment(env, order_id, amount, "seed test")


def at_gateway(app, vendor: str, uid: str) -> dict:
    """The payment object the fake holds now."""
    with app.app_context():
        return gateway(vendor).get_payment(uid).raw


@pytest.mark.parametrize("vendor", ["iamport", "toss", "portone"])
def test_seed_client_creates_reads_and_refunds_down_to_zero(app, seed, env, fakes, vendor):
    order_id = str(uuid.uuid4())
    uid = pay(env, vendor, order_id, 20000, fakes)
    status, created = seed.call(
        "POST", "/payments/histories", registration(vendor, uid, order_id, 20000, env.webhook_url)
    )
    assert status == 201, created
    assert created["vendor"] == {
        "code": CODES[vendor],
        "store_id": f"test-{vendor}-create-id",
        "uid": uid,
    }
    assert created["source"] == {"schema": "shop", "table": "orders", "id": order_id}
    assert (created["price"], created["currency"], created["refund"]) == (20000, "KRW", None)
    assert created["paid_at"] and created["cancelled_at"] is None and created["cancels"] == []
    assert (
        created["data"]["status"] == {"iamport": "paid", "toss": "DONE", "portone": "PAID"}[vendor]
    )
    assert "password" not in json.dumps(created)

    password = {"password": "record-password"}
    by_source = {"schema": "shop", "table": "orders", "id": order_id, **password}
    assert seed.call("PATCH", "/payments/histories/get", by_source) == (200, created)
    assert seed.call("PATCH", f"/payments/histories/{created['id']}", password) == (200, created)

    cancel = {"source": created["source"], **password, "reason": "partial", "account": None}
    # Each refund is its own request: the same body again would be a replay of the first.
    for i in (1, 2):
        status, body = seed.call(
            "PUT", "/payments/histories/cancel", {**cancel, "price": 5000, "reason": f"item {i}"}
        )
        assert status == 200, body
        assert body["refund"] == 5000 * i == sum(c["price"] for c in body["cancels"])
        assert len(body["cancels"]) == i and body["cancelled_at"]
        assert body["status"] == "partially_refunded"

    status, body = seed.call("PUT", "/payments/histories/cancel", {**cancel, "price": 10001})
    assert (status, body["code"], body["remaining"]) == (409, "OVER_REFUND", 10000)

    for i in (3, 4):
        status, body = seed.call(
            "PUT", "/payments/histories/cancel", {**cancel, "price": 5000, "reason": f"item {i}"}
        )
        assert status == 200, body
        assert body["refund"] == 5000 * i
    assert body["status"] == "refunded" and len(body["cancels"]) == 4
    first_cancel_at = body["cancelled_at"]

    status, refused = seed.call("PUT", "/payments/histories/cancel", {**cancel, "price": 1})
    assert (status, refused["code"]) == (409, "NOT_REFUNDABLE")
    assert seed.call("PATCH", "/payments/histories/get", by_source)[1]["cancelled_at"] == (
        first_cancel_at
    )

    raw = at_gateway(app, vendor, uid)
    if vendor == "iamport":
        assert (raw["status"], raw["cancel_amount"], len(raw["cancel_history"])) == (
            "cancelled",
            20000,
            4,
        )
    elif vendor == "portone":
        assert (raw["status"], raw["amount"]["cancelled"], len(raw["cancellations"])) == (
            "CANCELLED",
            20000,
            4,
        )
    else:
        assert (raw["status"], raw["balanceAmount"], len(raw["cancels"])) == ("CANCELED", 0, 4)
    with app.app_context():
        deliveries = db.session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.payment_id == created["id"])
        ).all()
        assert len(deliveries) == 4  # one notification per refund, queued with the change


@pytest.mark.parametrize("vendor", ["iamport", "toss", "portone"])
def test_virtual_account_waiting_for_deposit_is_accepted_unpaid(seed, env, fakes, vendor):
    order_id = str(uuid.uuid4())
    if vendor == "iamport":
        uid = _iamport_vbank(fakes, order_id, 19900)
    elif vendor == "portone":
        query = fakes.portone.pay_in_window(
            order_id, 19900, payMethod="VIRTUAL_ACCOUNT", virtualAccount={}, bank="KOOKMIN"
        )
        assert query.get("paymentId") == order_id and not query.get("code"), query
        uid = order_id
    else:
        uid = _toss_vbank(fakes, order_id, 19900)
    status, body = seed.call(
        "POST", "/payments/histories", registration(vendor, uid, order_id, 19900, env.webhook_url)
    )
    assert status == 201, body
    assert (body["status"], body["paid_at"], body["price"]) == ("awaiting_deposit", None, 19900)


def _iamport_vbank(fakes, order_id: str, amount: int) -> str:
    answer = fakes.iamport_api(
        "POST",
        "/vbanks",
        json={
            "merchant_uid": order_id,
            "amount": amount,
            "vbank_code": "88",
            "vbank_due": int(time.time()) + 86400,
            "vbank_holder": "Seed Shop",
        },
    ).json()
    assert answer["response"]["status"] == "ready", answer
    return answer["response"]["imp_uid"]


def _toss_vbank(fakes, order_id: str, amount: int) -> str:
    answer = fakes.toss_api(
        "POST",
        "/v1/virtual-accounts",
        json={
            "orderId": order_id,
            "orderName": "seed test",
            "amount": amount,
            "customerName": "Hong",
            "bank": "88",
        },
    ).json()
    assert answer["status"] == "WAITING_FOR_DEPOSIT", answer
    return answer["paymentKey"]


def test_forged_iamport_amount_is_cancelled_at_the_gateway(app, seed, env):
    order_id = str(uuid.uuid4())
    uid = pay(env, "iamport", order_id, 1000)  # the buyer paid 1,000 for a 20,000 order
    status, body = seed.call(
        "POST",
        "/payments/histories",
        registration("iamport", uid, order_id, 20000, env.webhook_url),
    )
    assert status == 422
    assert body["code"] == "AMOUNT_MISMATCH"
    assert body["message"] == "wrong paid amount. It must be not 20000 but 1000"
    assert (body["expected"], body["paid"], body["cancelled"]) == (20000, 1000, True)
    raw = at_gateway(app, "iamport", uid)
    assert (raw["status"], raw["cancel_amount"]) == ("cancelled", 1000)
    with app.app_context():
        assert db.session.scalars(select(Payment).where(Payment.source_id == order_id)).all() == []
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action.like("payment.forgery%"))
        ).all()
        mine = [e.action for e in entries if e.detail.get("source_id") == order_id]
        assert mine == ["payment.forgery_cancelled"]


def test_forged_toss_amount_is_never_approved(app, seed, env):
    order_id = str(uuid.uuid4())
    uid = pay(env, "toss", order_id, 1000)
    status, body = seed.call(
        "POST", "/payments/histories", registration("toss", uid, order_id, 20000, env.webhook_url)
    )
    assert (status, body["code"], body["paid"], body["cancelled"]) == (
        422,
        "AMOUNT_MISMATCH",
        1000,
        False,
    )
    assert at_gateway(app, "toss", uid)["status"] == "IN_PROGRESS"  # Toss refused to confirm


def test_toss_payment_approved_elsewhere_for_another_amount_is_cancelled(app, seed, env, fakes):
    order_id = str(uuid.uuid4())
    uid = fakes.toss_api(
        "POST",
        "/v1/payments/key-in",
        json={
            "orderId": order_id,
            "orderName": "seed test",
            "amount": 3000,
            "cardNumber": "4242424242424242",
            "cardExpirationYear": "35",
            "cardExpirationMonth": "12",
        },
    ).json()["paymentKey"]
    status, body = seed.call(
        "POST", "/payments/histories", registration("toss", uid, order_id, 20000, env.webhook_url)
    )
    assert (status, body["code"], body["cancelled"]) == (422, "AMOUNT_MISMATCH", True)
    assert at_gateway(app, "toss", uid)["status"] == "CANCELED"


def test_another_orders_payment_is_refused_and_left_alone(app, seed, env):
    paid_for, claimed = str(uuid.uuid4()), str(uuid.uuid4())
    uid = pay(env, "iamport", paid_for, 20000)
    status, body = seed.call(
        "POST", "/payments/histories", registration("iamport", uid, claimed, 20000, env.webhook_url)
    )
    assert (status, body["code"]) == (422, "ORDER_MISMATCH")
    assert at_gateway(app, "iamport", uid)["status"] == "paid"


def test_repeated_registration_returns_the_stored_record(seed, env):
    order_id = str(uuid.uuid4())
    uid = pay(env, "iamport", order_id, 15000)
    request = registration("iamport", uid, order_id, 15000, env.webhook_url)
    status, first = seed.call("POST", "/payments/histories", request)
    assert status == 201
    assert seed.call("POST", "/payments/histories", request) == (201, first)

    other_password = {**request, "password": "someone else"}
    status, body = seed.call("POST", "/payments/histories", other_password)
    assert (status, body["code"]) == (409, "ALREADY_REGISTERED")
    other_source = {**request, "source": {**request["source"], "id": str(uuid.uuid4())}}
    status, body = seed.call("POST", "/payments/histories", other_source)
    assert (status, body["code"]) == (409, "ALREADY_REGISTERED")


def test_wrong_password_and_unknown_record_look_the_same(seed, env):
    order_id = str(uuid.uuid4())
    uid = pay(env, "iamport", order_id, 12000)
    request = registration("iamport", uid, order_id, 12000, env.webhook_url)
    status, created = seed.call("POST", "/payments/histories", request)
    assert status == 201

    def probe(path: str, body: dict) -> tuple[int, Any, float]:
        started = time.perf_counter()
        status, answer = seed.call("PATCH", path, body)
        return status, answer, time.perf_counter() - started

    wrong = {"password": "not it"}
    cases = {
        "wrong password": (f"/payments/histories/{created['id']}", wrong),
        "unknown id": (f"/payments/histories/{uuid.uuid4()}", wrong),
        "wrong password by source": (
            "/payments/histories/get",
            {**request["source"], **wrong},
        ),
        "unknown source": (
            "/payments/histories/get",
            {**request["source"], "id": str(uuid.uuid4()), **wrong},
        ),
    }
    answers: dict[str, list] = {name: [] for name in cases}
    for _ in range(4):  # interleaved, so load on the machine hits every case alike
        for name, case in cases.items():
            answers[name].append(probe(*case))
    bodies = {(status, json.dumps(body)) for runs in answers.values() for status, body, _ in runs}
    assert len(bodies) == 1
    assert next(iter(bodies))[0] == 404
    fastest = {name: min(t for _, _, t in runs) for name, runs in answers.items()}
    # Both paths spend one scrypt check: a missing record must not answer visibly faster
    # (without the dummy check it would take a tenth of the time).
    wrong = min(fastest["wrong password"], fastest["wrong password by source"])
    unknown = min(fastest["unknown id"], fastest["unknown source"])
    assert unknown > 0.5 * wrong, fastest


def test_bodies_that_are_not_encrypted_or_not_valid_are_400(seed, live):
    garbage = requests.post(
        live.url + "/payments/histories",
        data="this is not ciphertext",
        headers={"Content-Type": "text/plain"},
        timeout=10,
    )
    assert garbage.status_code == 400
    assert garbage.json() == {
        "code": "DECRYPTION_FAILED",
        "message": "Failed to decrypt the request body.",
    }
    other_key = type(seed)(live.url, "x" * 32, "y" * 16)  # a client with the wrong key
    assert other_key.call("PATCH", "/payments/histories/get", {"password": "p"})[0] == 400

    plain_json = requests.post(live.url + "/payments/histories", json={"price": 1}, timeout=10)
    assert (plain_json.status_code, plain_json.json()["code"]) == (400, "UNSUPPORTED_CONTENT_TYPE")

    status, body = seed.call("POST", "/payments/histories", {"price": 12.5})
    assert (status, body["code"]) == (400, "VALIDATION_ERROR")
    assert {"vendor", "source", "price", "password", "webhook_url"} <= set(body["errors"])
    status, body = seed.call("POST", "/payments/histories", ["not", "an", "object"])
    assert (status, body["code"]) == (400, "VALIDATION_ERROR")


def test_webhook_url_must_be_allowed(seed, env):
    order_id = str(uuid.uuid4())
    uid = pay(env, "iamport", order_id, 1000)
    for url in ("ftp://shop.example/hook", "http://10.1.2.3/hook"):
        request = registration("iamport", uid, order_id, 1000, url)
        status, body = seed.call("POST", "/payments/histories", request)
        assert (status, body["code"]) == (422, "WEBHOOK_URL_NOT_ALLOWED"), url


def test_refund_of_zero_is_refused_and_repeats_replay(app, seed, env):
    order_id = str(uuid.uuid4())
    uid = pay(env, "toss", order_id, 9000)
    status, created = seed.call(
        "POST", "/payments/histories", registration("toss", uid, order_id, 9000, env.webhook_url)
    )
    assert status == 201
    cancel = {"source": created["source"], "password": "record-password", "reason": "r"}
    status, body = seed.call("PUT", "/payments/histories/cancel", {**cancel, "price": 0})
    assert (status, body["code"]) == (422, "INVALID_AMOUNT")

    key = str(uuid.uuid4())
    first = seed.call(
        "PUT", "/payments/histories/cancel", {**cancel, "price": 4000}, **{"Idempotency-Key": key}
    )
    again = seed.call(
        "PUT", "/payments/histories/cancel", {**cancel, "price": 4000}, **{"Idempotency-Key": key}
    )
    assert first[0] == 200 and again == first
    assert at_gateway(app, "toss", uid)["balanceAmount"] == 5000
    status, body = seed.call(
        "PUT", "/payments/histories/cancel", {**cancel, "price": 3000}, **{"Idempotency-Key": key}
    )
    assert (status, body["code"]) == (422, "IDEMPOTENCY_KEY_REUSED")
    # Without a price, all that is left.
    status, body = seed.call("PUT", "/payments/histories/cancel", {**cancel, "price": None})
    assert (status, body["refund"], body["status"]) == (200, 9000, "refunded")


def test_openapi_documents_the_encrypted_routes(client):
    spec = client.get("/openapi.json").get_json()
    assert {"/payments/histories", "/payments/histories/get", "/payments/histories/cancel"} <= set(
        spec["paths"]
    )
    create = spec["paths"]["/payments/histories"]["post"]
    assert "text/plain" in create["requestBody"]["content"]
    assert "HistoryCreate" in spec["components"]["schemas"]


def test_a_crafted_vendor_uid_never_reaches_another_gateway_route(seed, env, merchant, fakes):
    """`find/<merchant_uid>` would turn GET /payments/{imp_uid} into a look-up by order id."""
    order_id = str(uuid.uuid4())
    uid = pay(env, "iamport", order_id, 1000)
    for crafted in (f"find/{order_id}", f"../payments/find/{order_id}"):
        request = registration("iamport", crafted, order_id, 999, merchant.url + "/hook")
        status, body = seed.call("POST", "/payments/histories", request)
        assert (status, body["code"]) == (422, "INVALID_PAYMENT_ID")
    raw = fakes.iamport_api("GET", f"/payments/{uid}").json()["response"]
    assert (raw["status"], raw["cancel_amount"]) == ("paid", 0)  # nothing was cancelled
