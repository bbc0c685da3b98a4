"""fake_toss where the real Toss fails or differs: declines at confirm, easy pay, asynchronous
virtual-account refunds, reversed deposits; over HTTP."""

from __future__ import annotations

import pytest

from fake_common import cards
from fake_toss.testing import running_fake_toss


@pytest.mark.parametrize(
    "number, status, code",
    [
        ("4000 0000 0000 0119", 403, "REJECT_CARD_PAYMENT"),
        ("4000 0000 0000 0127", 403, "REJECT_CARD_COMPANY"),
        ("4000 0000 0000 0135", 400, "EXCEED_MAX_DAILY_PAYMENT_COUNT"),
        ("4000 0000 0000 0143", 400, "INVALID_CARD_EXPIRATION"),
    ],
)
def test_a_card_the_window_authenticates_is_declined_at_confirm_and_aborted(
    toss, webhook_receiver, number, status, code
):
    success = toss.authenticated_payment(card_number=number, order_id="order-decline")
    key = success["paymentKey"]
    assert toss.get(f"/v1/payments/{key}").json()["status"] == "IN_PROGRESS"
    body = {"paymentKey": key, "orderId": "order-decline", "amount": 15000}
    refused = toss.post("/v1/payments/confirm", body)
    assert refused.status_code == status
    assert refused.json()["code"] == code
    payment = toss.get(f"/v1/payments/{key}").json()
    assert payment["status"] == "ABORTED"
    assert payment["failure"] == {"code": code, "message": refused.json()["message"]}
    assert payment["approvedAt"] is None and payment["balanceAmount"] == 15000
    again = toss.post("/v1/payments/confirm", body)
    assert again.json()["code"] == "ALREADY_PROCESSED_PAYMENT"
    assert cards.lookup(number).at_confirm == code


def test_a_confirm_decline_is_announced_as_aborted(webhook_receiver):
    with running_fake_toss({"WEBHOOK_URL": webhook_receiver.url + "/hook"}) as toss:
        key = toss.authenticated_payment(card_number="4000000000000119")["paymentKey"]
        toss.post(
            "/v1/payments/confirm", {"paymentKey": key, "orderId": "order-0001", "amount": 15000}
        )
        received = webhook_receiver.wait_for(1)
    assert [r["body"]["data"]["status"] for r in received] == ["ABORTED"]
    assert received[0]["body"]["data"]["failure"]["code"] == "REJECT_CARD_PAYMENT"


def test_a_billing_charge_with_such_a_card_is_declined_with_its_code(toss):
    registered = toss.register_card("customer-1", "4000000000000127")
    auth_key = registered["query"]["authKey"]
    billing = toss.post(
        "/v1/billing/authorizations/issue", {"authKey": auth_key, "customerKey": "customer-1"}
    ).json()
    charge = toss.post(
        f"/v1/billing/{billing['billingKey']}",
        {"customerKey": "customer-1", "amount": 5000, "orderId": "bill-0001", "orderName": "x"},
    )
    assert (charge.status_code, charge.json()["code"]) == (403, "REJECT_CARD_COMPANY")
    assert toss.payment_of("bill-0001") is None
