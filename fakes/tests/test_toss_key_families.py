"""Toss's two key families: a payment is bound to the family of the client key that opened its
window, and only that family's secret key confirms it (400 INVALID_API_KEY otherwise)."""

from __future__ import annotations

import pytest
import requests

from fake_toss import CLIENT_KEY, SECRET_KEY, WIDGET_CLIENT_KEY, WIDGET_SECRET_KEY
from fake_toss.keys import API_INDIVIDUAL, WIDGET, family_of


def confirm(toss, secret_key: str, query: dict, amount: int = 15000) -> requests.Response:
    return requests.post(
        toss.url + "/v1/payments/confirm",
        json={"paymentKey": query["paymentKey"], "orderId": query["orderId"], "amount": amount},
        auth=(secret_key, ""),
        timeout=5,
    )


def authenticated(toss, client_key: str, order_id: str) -> dict:
    toss.client_key = client_key
    try:
        return toss.authenticated_payment(order_id=order_id)
    finally:
        toss.client_key = CLIENT_KEY


@pytest.mark.parametrize(
    ("key", "family"),
    [
        (WIDGET_CLIENT_KEY, WIDGET),
        (WIDGET_SECRET_KEY, WIDGET),
        ("live_gck_abc", WIDGET),
        (CLIENT_KEY, API_INDIVIDUAL),
        (SECRET_KEY, API_INDIVIDUAL),
        ("live_sk_abc", API_INDIVIDUAL),
    ],
)
def test_a_keys_family_is_read_from_its_prefix(key, family):
    assert family_of(key) == family


def test_a_widget_payment_is_refused_with_the_api_individual_secret(toss):
    query = authenticated(toss, WIDGET_CLIENT_KEY, "order-widget-1")

    refused = confirm(toss, SECRET_KEY, query)

    assert refused.status_code == 400
    assert refused.json() == {
        "code": "INVALID_API_KEY",
        "message": "잘못된 시크릿키 연동 정보 입니다.",
    }
    # Nothing happened: the widget's own secret still confirms it.
    assert toss.get(f"/v1/payments/{query['paymentKey']}").json()["status"] == "IN_PROGRESS"
    confirmed = confirm(toss, WIDGET_SECRET_KEY, query)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "DONE"


def test_an_api_individual_payment_is_refused_with_the_widget_secret(toss):
    query = authenticated(toss, CLIENT_KEY, "order-window-1")

    refused = confirm(toss, WIDGET_SECRET_KEY, query)

    assert (refused.status_code, refused.json()["code"]) == (400, "INVALID_API_KEY")
    assert confirm(toss, SECRET_KEY, query).json()["status"] == "DONE"


def test_the_legacy_approve_url_checks_the_family_too(toss):
    query = authenticated(toss, WIDGET_CLIENT_KEY, "order-widget-2")
    body = {"orderId": query["orderId"], "amount": 15000}
    path = f"{toss.url}/v1/payments/{query['paymentKey']}"

    refused = requests.post(path, json=body, auth=(SECRET_KEY, ""), timeout=5)
    approved = requests.post(path, json=body, auth=(WIDGET_SECRET_KEY, ""), timeout=5)

    assert (refused.status_code, refused.json()["code"]) == (400, "INVALID_API_KEY")
    assert approved.json()["status"] == "DONE"


def test_either_family_reads_and_cancels_a_payment(toss):
    query = authenticated(toss, WIDGET_CLIENT_KEY, "order-widget-3")
    confirm(toss, WIDGET_SECRET_KEY, query)

    read = toss.get(f"/v1/payments/{query['paymentKey']}")
    cancelled = toss.post(f"/v1/payments/{query['paymentKey']}/cancel", {"cancelReason": "test"})

    assert read.json()["status"] == "DONE"
    assert cancelled.json()["status"] == "CANCELED"
