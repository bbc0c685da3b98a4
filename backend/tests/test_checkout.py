"""Verify-on-complete through the browser checkout API, against the fake gateways over HTTP."""

from __future__ import annotations

import pytest

from fake_common.window_client import INSUFFICIENT_FUNDS
from payment_backend.extensions import db
from payment_backend.models import AuditEntry, Order


@pytest.mark.parametrize("vendor", ["iamport", "toss", "portone"])
def test_card_checkout_completes_once_and_twice_gives_the_same_answer(shop, client, fakes, vendor):
    order = shop.create_order(vendor)
    assert order["amount"] == 30000 and order["currency"] == "KRW" and order["status"] == "pending"
    payment_id, _ = shop.pay(order)
    first = shop.complete(order, payment_id)
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["status"] == "paid"
    assert first.get_json()["payment"]["payment_id"] == payment_id
    second = shop.complete(order, payment_id)
    assert second.status_code == 200 and second.get_json() == first.get_json()
    if vendor == "iamport":
        assert shop.iamport_payment(payment_id)["status"] == "paid"
    elif vendor == "portone":
        assert shop.portone_payment(payment_id)["status"] == "PAID"
        assert payment_id == order["order_id"]  # V2 payment ids are ours: the order's id
    else:
        assert shop.toss_payment(payment_id)["status"] == "DONE"


@pytest.mark.parametrize("vendor", ["iamport", "toss", "portone"])
def test_virtual_account_waits_for_the_deposit(shop, client, fakes, vendor):
    order = shop.create_order(vendor, method="vbank")
    payment_id, _ = shop.pay(order, method="vbank")
    response = shop.complete(order, payment_id)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "awaiting_deposit"
    assert body["payment"]["vbank"]["account"]
    deposited = client.post(f"/api/checkout/orders/{order['order_id']}/simulate-deposit")
    assert deposited.status_code == 200, deposited.get_json()
    assert deposited.get_json()["status"] == "paid"


def test_usd_order_is_charged_in_dollars(shop, client, fakes):
    order = shop.create_order("iamport", items=[{"product_id": 5, "quantity": 1}])
    assert (order["amount"], order["currency"], order["pg"]) == (1250, "USD", "eximbay")
    payment_id, _ = shop.pay(order)
    response = shop.complete(order, payment_id)
    assert response.status_code == 200, response.get_json()
    raw = shop.iamport_payment(payment_id)
    assert (raw["amount"], raw["currency"]) == (12.5, "USD")


def test_prepared_amount_is_enforced_by_the_window(shop, client, fakes):
    order = shop.create_order("iamport")
    payment_id, query = shop.pay(order, amount=order["amount"] - 1000)
    assert not payment_id or query.get("imp_success") in ("false", "False")
    assert query.get("error_msg")


def test_lower_amount_paid_is_cancelled_at_the_gateway(shop, app, client, fakes):
    app.config["IAMPORT_PREPARE"] = False
    try:
        order = shop.create_order("iamport")
    finally:
        app.config["IAMPORT_PREPARE"] = True
    payment_id, _ = shop.pay(order, amount=order["amount"] - 1000)
    response = shop.complete(order, payment_id, amount=order["amount"] - 1000)
    assert response.status_code == 409
    body = response.get_json()
    assert body["code"] == "AMOUNT_MISMATCH"
    assert (body["expected"], body["paid"], body["reported"]) == (30000, 29000, 29000)
    assert body["order"]["status"] == "rejected"
    assert shop.iamport_payment(payment_id)["status"] == "cancelled"
    # Completing again gives the same answer; the audit log keeps the rejection.
    assert shop.complete(order, payment_id, amount=29000).get_json()["code"] == "AMOUNT_MISMATCH"
    with app.app_context():
        entries = db.session.query(AuditEntry).filter_by(order_id=order["order_id"]).all()
        assert [e.action for e in entries] == ["order.rejected"]


def test_reported_amount_that_differs_is_a_forgery(shop, client, fakes):
    order = shop.create_order("iamport")
    payment_id, _ = shop.pay(order)
    response = shop.complete(order, payment_id, amount=1000)
    assert response.status_code == 409 and response.get_json()["code"] == "AMOUNT_MISMATCH"
    assert shop.iamport_payment(payment_id)["status"] == "cancelled"


def test_toss_tampered_amount_is_never_confirmed(shop, client, fakes):
    order = shop.create_order("toss")
    payment_id, query = shop.pay(order, amount=order["amount"] - 1000)
    response = shop.complete(order, payment_id, amount=int(query["amount"]))
    assert response.status_code == 409 and response.get_json()["code"] == "AMOUNT_MISMATCH"
    assert shop.toss_payment(payment_id)["status"] in ("IN_PROGRESS", "READY")


def test_payment_of_an_unknown_order_is_refused_and_left_alone(shop, client, fakes):
    """A browser's claim never cancels a payment made for another order id (issue 10)."""
    order = shop.create_order("iamport")
    stranger = {**order, "order_id": "ord_not_ours_" + order["order_id"][-6:]}
    payment_id, _ = shop.pay(stranger)
    response = shop.complete(order, payment_id)
    assert response.status_code == 409 and response.get_json()["code"] == "ORDER_MISMATCH"
    assert response.get_json()["order"]["status"] == "pending"
    assert shop.iamport_payment(payment_id)["status"] == "paid"


def test_another_orders_payment_does_not_pay_this_order(shop, client, fakes):
    cheap = shop.create_order("iamport", items=[{"product_id": 3, "quantity": 1}])
    dear = shop.create_order("iamport", items=[{"product_id": 4, "quantity": 1}])
    payment_id, _ = shop.pay(cheap)
    response = shop.complete(dear, payment_id, amount=dear["amount"])
    assert response.status_code == 409 and response.get_json()["code"] == "ORDER_MISMATCH"
    assert response.get_json()["order"]["status"] == "pending"
    # The payment still counts for the order it was made for.
    assert shop.iamport_payment(payment_id)["status"] == "paid"
    assert shop.complete(cheap, payment_id).get_json()["status"] == "paid"


@pytest.mark.parametrize("vendor", ["iamport", "toss", "portone"])
def test_declined_card_fails_the_order(shop, client, fakes, vendor):
    order = shop.create_order(vendor)
    payment_id, query = shop.pay(order, card=INSUFFICIENT_FUNDS)
    if vendor == "iamport" and payment_id:
        response = shop.complete(order, payment_id)
        assert response.status_code == 409
        assert response.get_json()["code"] == "PAYMENT_NOT_PAID"
    else:
        assert query.get("code") or query.get("error_msg")
        client.post(
            f"/api/checkout/orders/{order['order_id']}/fail",
            json={"code": query.get("code", "F"), "message": "declined"},
        )
    assert client.get(f"/api/checkout/orders/{order['order_id']}").get_json()["status"] == "failed"


def test_bad_input_is_answered_with_the_envelope(client):
    response = client.post(
        "/api/checkout/orders", json={"vendor": "paypal", "method": "card", "items": []}
    )
    assert response.status_code == 422
    assert response.get_json()["code"] == "VALIDATION_ERROR"
    assert set(response.get_json()["errors"]["json"]) == {"vendor", "items"}
    mixed = client.post(
        "/api/checkout/orders",
        json={
            "vendor": "toss",
            "method": "card",
            "items": [{"product_id": 1, "quantity": 1}, {"product_id": 5, "quantity": 1}],
        },
    )
    assert mixed.status_code == 422 and mixed.get_json()["code"] == "MIXED_CURRENCY"
    unknown = client.post(
        "/api/checkout/complete",
        json={"order_id": "ord_nope", "vendor": "toss", "payment_id": "x", "amount": 1},
    )
    assert unknown.status_code == 404 and unknown.get_json()["code"] == "ORDER_NOT_FOUND"
    not_json = client.post("/api/checkout/orders", data="nonsense", content_type="application/json")
    assert not_json.status_code in (400, 422)


def test_unknown_payment_id_is_not_found(shop, client, fakes):
    order = shop.create_order("iamport")
    response = shop.complete(order, "imp_000000000000")
    assert response.status_code == 404 and response.get_json()["code"] == "PAYMENT_NOT_FOUND"


def test_orders_are_stored(shop, app, client):
    order = shop.create_order("toss")
    with app.app_context():
        stored = db.session.get(Order, order["order_id"])
        assert stored.amount == 30000 and stored.items[0]["unit_price"] == 15000


def test_fractional_amounts_and_quantities_are_refused_not_truncated(shop, client):
    order = shop.create_order("iamport")
    complete = client.post(
        "/api/checkout/complete",
        json={
            "order_id": order["order_id"],
            "vendor": "iamport",
            "payment_id": "imp_1",
            "amount": 29999.5,
        },
    )
    assert complete.status_code == 422
    assert "amount" in complete.get_json()["errors"]["json"]
    refund = client.post(
        f"/api/checkout/orders/{order['order_id']}/refund", json={"amount": 1.5, "reason": "x"}
    )
    assert refund.status_code == 422 and "amount" in refund.get_json()["errors"]["json"]
    half = client.post(
        "/api/checkout/orders",
        json={"vendor": "toss", "method": "card", "items": [{"product_id": 1, "quantity": 1.5}]},
    )
    assert half.status_code == 422
