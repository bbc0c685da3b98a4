"""Easy pay (간편결제): the payment's method and app are stored and shown on the order, and no
card is read from a payment that has none."""

from __future__ import annotations

import pytest

from fake_common.window_client import iamport_pay, toss_pay
from payment_backend.extensions import db
from payment_backend.models import Order


@pytest.mark.parametrize(
    "vendor, app_name, provider",
    [
        ("toss", "토스페이", "tosspay"),
        ("toss", "카카오페이", "kakaopay"),
        ("iamport", "naverpay", "naverpay"),
        ("iamport", "kakaopay", "kakaopay"),
    ],
)
def test_an_easy_pay_checkout_is_paid_and_shows_its_app(
    app, shop, client, fakes, vendor, app_name, provider
):
    order = shop.create_order(vendor)
    if vendor == "toss":
        query = toss_pay(
            fakes.toss.url, order_id=order["order_id"], amount=order["amount"], easy_pay=app_name
        )
        payment_id = query["paymentKey"]
    else:
        query = iamport_pay(
            fakes.iamport.url,
            merchant_uid=order["order_id"],
            amount=order["amount"],
            easy_pay=app_name,
        )
        payment_id = query["imp_uid"]
    response = shop.complete(order, payment_id)
    assert response.status_code == 200, response.get_json()
    view = response.get_json()
    assert view["status"] == "paid"
    assert view["payment"]["method"] == "easypay"
    assert view["payment"]["easy_pay"]["provider"] == provider
    assert view["payment"]["easy_pay"]["amount"] == order["amount"]
    assert view["payment"]["card"] is None
    with app.app_context():
        stored = db.session.get(Order, order["order_id"]).payment
        assert (stored.method, stored.easy_pay_provider) == ("easypay", provider)
    refunded = client.post(
        f"/api/checkout/orders/{order['order_id']}/refund",
        json={"reason": "returned"},
        headers={"Authorization": f"Bearer {app.config['PAYMENT_ADMIN_TOKEN']}"},
    )
    assert refunded.status_code == 200, refunded.get_json()
    assert refunded.get_json()["status"] == "refunded"  # an app's refund is not a bank transfer
