"""A card the window authenticated can still be declined when we confirm it (Toss): the buyer is
told why, the order is failed (and may be paid again), and the aborted payment is never counted."""

from __future__ import annotations

import pytest

from fake_common.window_client import APPROVED


@pytest.mark.parametrize(
    "card, code",
    [
        ("4000000000000119", "REJECT_CARD_PAYMENT"),
        ("4000000000000127", "REJECT_CARD_COMPANY"),
        ("4000000000000135", "EXCEED_MAX_DAILY_PAYMENT_COUNT"),
        ("4000000000000143", "INVALID_CARD_EXPIRATION"),
    ],
)
def test_a_decline_at_confirm_fails_the_order_with_the_gateways_reason(shop, client, card, code):
    order = shop.create_order("toss")
    payment_key, query = shop.pay(order, card=card)
    assert payment_key, query  # the window let it through
    response = shop.complete(order, payment_key)
    assert response.status_code == 409
    body = response.get_json()
    assert body["code"] == "PAYMENT_DECLINED"
    assert body["gateway_code"] == code
    assert body["message"].startswith("The payment was declined: ")
    assert shop.toss_payment(payment_key)["status"] == "ABORTED"
    view = client.get(f"/api/checkout/orders/{order['order_id']}").get_json()
    assert view["status"] == "failed"
    assert view["failure"]["code"] == "PAYMENT_DECLINED"
    assert view["failure"]["gateway_code"] == code
    assert view["payment"] is None and view["refundable"] == 0


def test_completing_a_declined_payment_again_changes_nothing(shop, client):
    order = shop.create_order("toss")
    payment_key, _ = shop.pay(order, card="4000000000000119")
    assert shop.complete(order, payment_key).status_code == 409
    again = shop.complete(order, payment_key)
    assert again.status_code == 409
    assert client.get(f"/api/checkout/orders/{order['order_id']}").get_json()["status"] == "failed"


def test_the_aborted_payments_webhook_leaves_the_failed_order_as_it_is(app, shop, client, fakes):
    from payment_backend.services import inbound

    order = shop.create_order("toss")
    payment_key, _ = shop.pay(order, card="4000000000000127")
    shop.complete(order, payment_key)
    aborted = shop.toss_payment(payment_key)
    with app.app_context():
        inbound.receive(
            "toss",
            {
                "eventType": "PAYMENT_STATUS_CHANGED",
                "createdAt": "2024-01-01T00:00:00.000000",
                "data": aborted,
            },
            {},
        )
    view = client.get(f"/api/checkout/orders/{order['order_id']}").get_json()
    assert view["status"] == "failed" and view["payment"] is None
    assert view["failure"]["gateway_code"] == "REJECT_CARD_COMPANY"


def test_a_decline_at_confirm_lets_the_buyer_pay_the_order_with_another_card(shop, client):
    order = shop.create_order("toss")
    declined, _ = shop.pay(order, card="4000000000000119")
    assert shop.complete(order, declined).status_code == 409
    paid, _ = shop.pay(order, card=APPROVED)
    response = shop.complete(order, paid)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "paid"
    assert response.get_json()["failure"] is None
