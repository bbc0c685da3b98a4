"""Request limits: body sizes answered 413 before anything is read, and rates answered 429."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select

from payment_backend import create_app
from payment_backend.config import load_settings
from payment_backend.extensions import db
from payment_backend.models import InboundWebhook, Order

MB = 2**20


def count(app: Flask, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def padded_json(size: int, **fields) -> bytes:
    """A JSON object of about size bytes: fields plus a long padding string."""
    return json.dumps({**fields, "padding": "x" * size}).encode()


# -- sizes ---------------------------------------------------------------------------------------


def test_a_20_mb_webhook_is_413_and_nothing_is_stored(app, client):
    before = count(app, InboundWebhook)
    body = padded_json(20 * MB, imp_uid="imp_1", merchant_uid="ord_1", status="paid")
    response = client.post("/payments/webhooks/iamport", data=body, content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["code"] == "PAYLOAD_TOO_LARGE"
    assert isinstance(response.get_json()["message"], str)
    assert count(app, InboundWebhook) == before


def test_webhooks_are_limited_to_64_kb_below_the_app_wide_megabyte(app, client):
    before = count(app, InboundWebhook)
    body = padded_json(100 * 1024, eventType="PAYMENT_STATUS_CHANGED", data={})
    response = client.post("/payments/webhooks/toss", data=body, content_type="application/json")
    assert (response.status_code, response.get_json()["code"]) == (413, "PAYLOAD_TOO_LARGE")
    assert count(app, InboundWebhook) == before


def test_a_2_mb_checkout_body_is_413_and_no_order_is_made(app, client):
    before = count(app, Order)
    body = padded_json(
        2 * MB, vendor="iamport", method="card", items=[{"product_id": 1, "quantity": 1}]
    )
    response = client.post("/api/checkout/orders", data=body, content_type="application/json")
    assert (response.status_code, response.get_json()["code"]) == (413, "PAYLOAD_TOO_LARGE")
    assert count(app, Order) == before


def test_a_chunked_webhook_without_length_is_cut_off_at_the_limit(app, live):
    before = count(app, InboundWebhook)

    def chunks() -> Iterator[bytes]:
        yield b'{"imp_uid": "imp_1", "padding": "'
        for _ in range(200):  # 200 x 8 KB: far past 64 KB
            yield b"x" * 8192
        yield b'"}'

    try:
        response = requests.post(
            f"{live.url}/payments/webhooks/iamport",
            data=chunks(),
            headers={"Content-Type": "application/json"},
            timeout=10,
        )
    except requests.ConnectionError:
        pass  # the server may close the connection while the client still sends
    else:
        assert (response.status_code, response.json()["code"]) == (413, "PAYLOAD_TOO_LARGE")
    assert count(app, InboundWebhook) == before


# -- rates ---------------------------------------------------------------------------------------


@pytest.fixture()
def limited(app: Flask, app_config: dict) -> Iterator[Flask]:
    """An app of its own (its own limiter) on the session's database, with tight rate limits."""
    limited = create_app(
        {
            **app_config,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_CHECKOUT": "3 per minute",
            "RATELIMIT_SUBSCRIPTIONS": "2 per minute",
            "RATELIMIT_WEBHOOKS": "2 per minute",
        }
    )
    yield limited
    with limited.app_context():
        db.engine.dispose()


def _assert_rate_limited(response) -> None:
    assert response.status_code == 429
    body = response.get_json()
    assert body["code"] == "RATE_LIMITED"
    assert isinstance(body["message"], str)
    assert 0 < int(response.headers["Retry-After"]) <= 60


ORDER = {"vendor": "iamport", "method": "card", "items": [{"product_id": 1, "quantity": 1}]}


def test_a_burst_of_checkout_orders_is_429_with_retry_after(limited):
    client = limited.test_client()
    before = count(limited, Order)
    for _ in range(3):
        made = client.post("/api/checkout/orders", json=ORDER)
        assert made.status_code == 201, made.get_json()
    refused = client.post("/api/checkout/orders", json=ORDER)
    _assert_rate_limited(refused)
    assert count(limited, Order) == before + 3  # the refused one never reached the gateway


def test_the_checkout_routes_share_one_budget_per_client(limited):
    client = limited.test_client()
    other = limited.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.9.8.7"
    order = client.post("/api/checkout/orders", json={**ORDER, "vendor": "toss"})
    assert order.status_code == 201
    order_id = order.get_json()["order_id"]
    complete = {"order_id": order_id, "vendor": "toss", "payment_id": "tpk_x", "amount": 1}
    assert client.post("/api/checkout/complete", json=complete).status_code != 429
    fail = {"code": "USER_CANCEL", "message": "closed"}
    assert client.post(f"/api/checkout/orders/{order_id}/fail", json=fail).status_code == 200
    _assert_rate_limited(client.post(f"/api/checkout/orders/{order_id}/fail", json=fail))
    # Reading an order is not limited, nor is another client.
    assert client.get(f"/api/checkout/orders/{order_id}").status_code == 200
    assert other.post(f"/api/checkout/orders/{order_id}/fail", json=fail).status_code == 200


def test_a_burst_of_subscriptions_is_429(limited):
    client = limited.test_client()
    body = {"plan_id": 1, "vendor": "toss", "buyer": {"name": "Hong", "email": "h@example.com"}}
    for _ in range(2):
        assert client.post("/api/subscriptions", json=body).status_code == 201
    _assert_rate_limited(client.post("/api/subscriptions", json=body))


def test_webhook_intake_has_its_own_limit_answered_503_so_gateways_retry(limited):
    # PortOne retries a webhook after a network error or a 5xx only, never after a 4xx: a 429
    # would lose the notification for good. 503 with Retry-After is retried by every gateway.
    client = limited.test_client()
    before = count(limited, InboundWebhook)
    hook = {"imp_uid": "imp_nope", "merchant_uid": "ord_nope", "status": "paid"}
    for _ in range(2):
        assert client.post("/payments/webhooks/iamport", json=hook).status_code < 500
    refused = client.post("/payments/webhooks/iamport", json=hook)
    assert refused.status_code == 503
    assert refused.get_json()["code"] == "WEBHOOKS_BUSY"
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert count(limited, InboundWebhook) <= before + 2


def test_the_suite_runs_without_rate_limits(app, client):
    assert app.config["RATELIMIT_ENABLED"] is False
    for _ in range(30):
        assert client.post("/api/checkout/orders/nope/fail", json={}).status_code != 429


def test_rate_limit_settings_come_from_the_environment(tmp_path):
    env = {
        "PAYMENT_MODE": "local",
        "RATELIMIT_STORAGE_URI": "redis://limits.internal:6379/0",
        "RATELIMIT_CHECKOUT": "5 per minute",
        "RATELIMIT_ENABLED": "false",
        "MAX_CONTENT_LENGTH": "2048",
    }
    settings = load_settings(str(tmp_path), {}, env=env)
    assert settings["RATELIMIT_STORAGE_URI"] == "redis://limits.internal:6379/0"
    assert settings["RATELIMIT_CHECKOUT"] == "5 per minute"
    assert settings["RATELIMIT_ENABLED"] is False
    assert settings["MAX_CONTENT_LENGTH"] == 2048
    defaults = load_settings(str(tmp_path), {}, env={"PAYMENT_MODE": "local"})
    assert defaults["RATELIMIT_STORAGE_URI"] == "memory://"
    assert defaults["RATELIMIT_ENABLED"] is True
    assert defaults["MAX_CONTENT_LENGTH"] == MB
    assert defaults["WEBHOOK_MAX_CONTENT_LENGTH"] == 64 * 1024
