"""The owner's refunds of checkout orders, and a gateway that fails in the middle of a confirm."""

from __future__ import annotations

import pytest
import requests

from fake_common.window_client import iamport_pay, toss_pay
from payment_backend.worker import run_due_jobs


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


def gateway_refunded(shop, order: dict) -> int:
    payment_id = order["payment"]["payment_id"]
    if order["vendor"] == "iamport":
        return shop.iamport_payment(payment_id)["cancel_amount"]
    if order["vendor"] == "portone":
        return shop.portone_payment(payment_id)["amount"]["cancelled"]
    raw = shop.toss_payment(payment_id)
    return raw["totalAmount"] - raw["balanceAmount"]


@pytest.mark.parametrize("vendor", ["iamport", "toss", "portone"])
def test_partial_refunds_down_to_zero_and_never_past_it(shop, client, owner, vendor):
    order = paid_order(shop, vendor)
    url = f"/api/checkout/orders/{order['order_id']}/refund"
    first = client.post(url, json={"amount": 10000, "reason": "one item back"}, headers=owner)
    assert first.status_code == 200, first.get_json()
    assert (first.get_json()["status"], first.get_json()["refundable"]) == (
        "partially_refunded",
        20000,
    )
    over = client.post(url, json={"amount": 25000, "reason": "too much"}, headers=owner)
    assert over.status_code == 409
    assert (over.get_json()["code"], over.get_json()["remaining"]) == ("OVER_REFUND", 20000)
    rest = client.post(url, json={"reason": "the rest"}, headers=owner)
    assert rest.status_code == 200
    body = rest.get_json()
    assert (body["status"], body["refunded"], body["refundable"]) == ("refunded", 30000, 0)
    assert [r["amount"] for r in body["refunds"]] == [10000, 20000]
    assert gateway_refunded(shop, order) == 30000
    nothing_left = client.post(url, json={"amount": 1, "reason": "again"}, headers=owner)
    assert nothing_left.status_code == 409


def test_refunds_need_the_admin_token_outside_local_mode(shop, client):
    order = paid_order(shop, "iamport")
    response = client.post(f"/api/checkout/orders/{order['order_id']}/refund", json={"reason": "x"})
    assert response.status_code == 401
    assert client.get(f"/api/checkout/orders/{order['order_id']}").get_json()["refunded"] == 0


def test_a_repeated_refund_with_the_same_idempotency_key_refunds_once(shop, client, owner):
    order = paid_order(shop, "toss")
    url = f"/api/checkout/orders/{order['order_id']}/refund"
    headers = {**owner, "Idempotency-Key": "refund-once-0001"}
    first = client.post(url, json={"amount": 5000, "reason": "damaged"}, headers=headers)
    again = client.post(url, json={"amount": 5000, "reason": "damaged"}, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.get_json()["refunded"] == first.get_json()["refunded"] == 5000
    assert gateway_refunded(shop, order) == 5000
    reused = client.post(url, json={"amount": 7000, "reason": "other"}, headers=headers)
    assert reused.status_code == 422 and reused.get_json()["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_unpaid_orders_cannot_be_refunded(shop, client, owner):
    order = shop.create_order("iamport")
    response = client.post(
        f"/api/checkout/orders/{order['order_id']}/refund", json={"reason": "x"}, headers=owner
    )
    assert response.status_code == 409 and response.get_json()["code"] == "NOT_REFUNDABLE"


def deposited_order(shop, client, vendor: str) -> dict:
    order = shop.create_order(vendor, method="vbank")
    payment_id, _ = shop.pay(order, method="vbank")
    assert shop.complete(order, payment_id).status_code == 200
    deposited = client.post(f"/api/checkout/orders/{order['order_id']}/simulate-deposit")
    assert deposited.get_json()["status"] == "paid", deposited.get_json()
    return deposited.get_json()


# Each gateway's own bank code for 신한은행 (Toss two characters, PortOne V1 three digits;
# PortOne V2 takes the three digits too, sent as its Bank SHINHAN).
SHINHAN = {"iamport": "088", "toss": "88", "portone": "088"}
# Gateways whose virtual-account refunds are paid out later (Toss: refundStatus PENDING; PortOne
# V1: the next business day).
PAID_OUT_LATER = {"iamport", "toss"}


@pytest.mark.parametrize("vendor", ["iamport", "toss", "portone"])
def test_a_deposited_virtual_account_is_refunded_to_the_account_the_owner_gives(
    shop, client, owner, vendor
):
    order = deposited_order(shop, client, vendor)
    url = f"/api/checkout/orders/{order['order_id']}/refund"

    missing = client.post(url, json={"amount": 5000, "reason": "no account"}, headers=owner)
    assert missing.status_code == 422
    assert missing.get_json()["code"] == "REFUND_ACCOUNT_REQUIRED"
    for wrong in (
        {"bank": "신한", "account": "110-123-456789", "holder": "홍길동"},  # a name, not a code
        {"bank": SHINHAN[vendor], "account": "110-12a-456789", "holder": "홍길동"},
        {"bank": SHINHAN[vendor], "account": "12-34", "holder": "홍길동"},  # too few digits
        {"bank": SHINHAN[vendor], "account": "110-123-456789", "holder": "  "},
        {"bank": SHINHAN[vendor], "account": "110-123-456789"},
    ):
        refused = client.post(
            url, json={"reason": "bad account", "refund_account": wrong}, headers=owner
        )
        assert refused.status_code == 422, wrong
    assert gateway_refunded(shop, order) == 0

    account = {"bank": SHINHAN[vendor], "account": "110-123-456789", "holder": "홍길동"}
    part = client.post(
        url, json={"amount": 5000, "reason": "one back", "refund_account": account}, headers=owner
    )
    assert part.status_code == 200, part.get_json()
    body = part.get_json()
    if vendor in PAID_OUT_LATER:
        # A bank transfer back to the buyer is paid out later: pending, not yet money returned.
        assert (body["status"], body["refunded"], body["refund_pending"]) == ("paid", 0, 5000)
        assert [r["status"] for r in body["refunds"]] == ["pending"]
    else:
        # The gateway reports the refund done at once (fake_portone: every cancellation
        # SUCCEEDED; a REQUESTED one is not modelled yet).
        assert (body["status"], body["refunded"]) == ("partially_refunded", 5000)
        assert [r["status"] for r in body["refunds"]] == ["done"]
    assert body["refundable"] == order["amount"] - 5000
    rest = client.post(url, json={"reason": "the rest", "refund_account": account}, headers=owner)
    assert rest.status_code == 200, rest.get_json()
    body = rest.get_json()
    assert body["refundable"] == 0
    if vendor in PAID_OUT_LATER:
        assert body["status"] == "paid" and body["refund_pending"] == order["amount"]
    else:
        assert body["status"] == "refunded" and body["refunded"] == order["amount"]
    assert gateway_refunded(shop, order) == order["amount"]
    if vendor == "toss":
        raw = shop.toss_payment(order["payment"]["payment_id"])
        assert raw["virtualAccount"]["refundReceiveAccount"]["bankCode"] == "88"
        assert raw["virtualAccount"]["refundReceiveAccount"]["accountNumber"] == "110123456789"
    if vendor == "portone":
        raw = shop.portone_payment(order["payment"]["payment_id"])
        assert (
            raw["status"] == "CANCELLED" and raw["method"]["type"] == "PaymentMethodVirtualAccount"
        )


def test_a_card_refund_ignores_a_refund_account(shop, client, owner):
    order = paid_order(shop, "iamport")
    account = {"bank": "088", "account": "110-123-456789", "holder": "홍길동"}
    response = client.post(
        f"/api/checkout/orders/{order['order_id']}/refund",
        json={"amount": 1000, "reason": "card", "refund_account": account},
        headers=owner,
    )
    assert response.status_code == 200, response.get_json()
    assert "refund_bank" not in str(shop.iamport_payment(order["payment"]["payment_id"]))


def test_confirm_that_fails_at_the_gateway_is_settled_later_by_the_worker(worker_app, fakes):
    client = worker_app.test_client()
    order = client.post(
        "/api/checkout/orders",
        json={"vendor": "toss", "method": "card", "items": [{"product_id": 2, "quantity": 1}]},
    ).get_json()
    query = toss_pay(fakes.toss.url, order_id=order["order_id"], amount=order["amount"])
    rule = requests.post(
        f"{fakes.toss.url}/__control/faults",
        json={
            "method": "POST",
            "path": "/v1/payments/confirm",
            "status": 503,
            "body": {"code": "FAILED_INTERNAL_SYSTEM_PROCESSING", "message": "down"},
            "times": 2,
        },
        timeout=5,
    ).json()
    try:
        response = client.post(
            "/api/checkout/complete",
            json={
                "order_id": order["order_id"],
                "vendor": "toss",
                "payment_id": query["paymentKey"],
                "amount": order["amount"],
            },
        )
    finally:
        requests.delete(f"{fakes.toss.url}/__control/faults/{rule['id']}", timeout=5)
    assert response.status_code == 502 and response.get_json()["code"] == "GATEWAY_UNAVAILABLE"
    assert client.get(f"/api/checkout/orders/{order['order_id']}").get_json()["status"] == "pending"
    worker_app.extensions["clock"].advance(60)
    try:
        assert run_due_jobs(worker_app) >= 1
    finally:
        worker_app.extensions["clock"].reset()
    assert client.get(f"/api/checkout/orders/{order['order_id']}").get_json()["status"] == "paid"
    assert fakes.toss_api("GET", f"/v1/payments/{query['paymentKey']}").json()["status"] == "DONE"


def test_a_forgery_whose_cancel_fails_is_cancelled_later_by_the_worker(worker_app, fakes):
    worker_app.config["IAMPORT_PREPARE"] = False
    client = worker_app.test_client()
    try:
        order = client.post(
            "/api/checkout/orders",
            json={
                "vendor": "iamport",
                "method": "card",
                "items": [{"product_id": 1, "quantity": 1}],
            },
        ).get_json()
    finally:
        worker_app.config["IAMPORT_PREPARE"] = True
    paid = iamport_pay(
        fakes.iamport.url, merchant_uid=order["order_id"], amount=order["amount"] - 1000
    )
    rule = requests.post(
        f"{fakes.iamport.url}/__control/faults",
        json={
            "method": "POST",
            "path": "/payments/cancel",
            "status": 503,
            "body": {"code": -1, "message": "down", "response": None},
            "times": 1,
        },
        timeout=5,
    ).json()
    response = client.post(
        "/api/checkout/complete",
        json={
            "order_id": order["order_id"],
            "vendor": "iamport",
            "payment_id": paid["imp_uid"],
            "amount": order["amount"],
        },
    )
    requests.delete(f"{fakes.iamport.url}/__control/faults/{rule['id']}", timeout=5)
    body = response.get_json()
    assert response.status_code == 409
    assert (body["code"], body["refund_pending"]) == ("AMOUNT_MISMATCH", True)
    assert (
        fakes.iamport_api("GET", f"/payments/{paid['imp_uid']}").json()["response"]["status"]
        == "paid"
    )
    worker_app.extensions["clock"].advance(60)
    try:
        assert run_due_jobs(worker_app) >= 1
    finally:
        worker_app.extensions["clock"].reset()
    at_gateway = fakes.iamport_api("GET", f"/payments/{paid['imp_uid']}").json()["response"]
    assert (at_gateway["status"], at_gateway["cancel_amount"]) == (
        "cancelled",
        order["amount"] - 1000,
    )
    after = client.get(f"/api/checkout/orders/{order['order_id']}").get_json()
    assert after["status"] == "rejected"
    assert after["payment"]["refunded"] == order["amount"] - 1000
