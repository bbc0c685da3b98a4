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


# -- virtual-account refunds are paid out later ------------------------------------------------

REFUND_ACCOUNT = {"bank": "신한", "accountNumber": "110-123-456789", "holderName": "홍길동"}
FAILING_ACCOUNT = {**REFUND_ACCOUNT, "accountNumber": "999-000-1234"}


def deposited(toss, order_id="order-va-1", amount=20000) -> str:
    issued = toss.post(
        "/v1/virtual-accounts",
        {
            "amount": amount,
            "orderId": order_id,
            "orderName": "Tea",
            "customerName": "홍길동",
            "bank": "신한",
        },
    ).json()
    toss.deposit(issued["paymentKey"])
    return issued["paymentKey"]


def refund(toss, key, amount, account=REFUND_ACCOUNT):
    response = toss.post(
        f"/v1/payments/{key}/cancel",
        {"cancelReason": "refund", "cancelAmount": amount, "refundReceiveAccount": account},
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_a_virtual_account_refund_is_pending_until_the_next_business_day(toss):
    key = deposited(toss)
    pending = refund(toss, key, 5000)
    assert pending["virtualAccount"]["refundStatus"] == "PENDING"
    assert pending["cancels"][0]["cancelStatus"] == "IN_PROGRESS"
    assert pending["balanceAmount"] == 15000  # off the balance at once
    toss.advance(4 * 24 * 3600)  # past the next business day, whatever today is
    paid = toss.get(f"/v1/payments/{key}").json()
    assert paid["virtualAccount"]["refundStatus"] == "COMPLETED"
    assert paid["cancels"][0]["cancelStatus"] == "DONE"
    assert paid["balanceAmount"] == 15000 and paid["status"] == "PARTIAL_CANCELED"


def test_a_failed_payout_puts_the_amount_back_in_the_balance(toss):
    key = deposited(toss)
    refund(toss, key, 20000, FAILING_ACCOUNT)
    failed = toss.control_json("POST", f"refunds/{key}/payout")
    assert failed["virtualAccount"]["refundStatus"] == "FAILED"
    assert failed["cancels"][0]["cancelStatus"] == "ABORTED"
    assert (failed["status"], failed["balanceAmount"]) == ("DONE", 20000)
    listed = toss.get(
        "/v1/transactions",
        params={"startDate": "2000-01-01T00:00:00", "endDate": "2100-01-01T00:00:00"},
    ).json()
    assert [t["status"] for t in listed if t["paymentKey"] == key] == ["DONE"]
    again = refund(toss, key, 20000)  # refunded again to a good account
    assert again["virtualAccount"]["refundStatus"] == "PENDING"
    done = toss.control_json("POST", f"refunds/{key}/payout", {"outcome": "COMPLETED"})
    assert done["virtualAccount"]["refundStatus"] == "PARTIAL_FAILED"
    assert (done["status"], done["balanceAmount"]) == ("CANCELED", 0)


def test_a_payout_is_announced_by_deposit_callback(webhook_receiver):
    with running_fake_toss({"WEBHOOK_URL": webhook_receiver.url + "/hook"}) as toss:
        key = deposited(toss)
        refund(toss, key, 20000)
        toss.control_json("POST", f"refunds/{key}/payout", {"outcome": "FAILED"})
        toss.webhooks(wait=3)
        received = webhook_receiver.received
    callbacks = [r["body"] for r in received if "eventType" not in r["body"]]
    assert [c["status"] for c in callbacks] == ["WAITING_FOR_DEPOSIT", "DONE", "CANCELED", "DONE"]


def test_a_card_refund_is_done_at_once(toss):
    key = toss.authenticated_payment(order_id="order-card-1")["paymentKey"]
    toss.post(
        "/v1/payments/confirm", {"paymentKey": key, "orderId": "order-card-1", "amount": 15000}
    )
    refunded = toss.post(f"/v1/payments/{key}/cancel", {"cancelReason": "x"}).json()
    assert refunded["cancels"][0]["cancelStatus"] == "DONE"


# -- a deposit can be reversed -------------------------------------------------------------------


def test_the_bank_reverses_a_deposit_back_to_waiting_for_deposit(webhook_receiver):
    with running_fake_toss({"WEBHOOK_URL": webhook_receiver.url + "/hook"}) as toss:
        key = deposited(toss)
        reversed_ = toss.control_json("POST", f"deposit/{key}/reverse")
        assert reversed_["status"] == "WAITING_FOR_DEPOSIT"
        assert reversed_["approvedAt"] is not None  # the reversed approval's time (a guess)
        assert toss.control("POST", f"deposit/{key}/reverse").status_code == 403
        assert toss.deposit(key)["status"] == "DONE"  # the buyer may deposit again
        toss.webhooks(wait=3)
        received = webhook_receiver.received
    callbacks = [r["body"] for r in received if "eventType" not in r["body"]]
    assert [c["status"] for c in callbacks] == [
        "WAITING_FOR_DEPOSIT",
        "DONE",
        "WAITING_FOR_DEPOSIT",
        "DONE",
    ]
    assert len({c["secret"] for c in callbacks}) == 1


# -- easy pay --------------------------------------------------------------------------------------


def test_the_card_window_offers_easy_pay_and_the_payment_has_no_card(toss):
    window = toss.http.get(
        toss.url + "/window",
        params={
            "clientKey": toss.client_key,
            "method": "카드",
            "amount": "15000",
            "orderId": "order-easy-1",
            "orderName": "Tea",
            "successUrl": "http://s.test/ok",
            "failUrl": "http://s.test/fail",
        },
        timeout=5,
    )
    assert "간편결제" in window.text and "토스페이" in window.text
    key = toss.authenticated_payment(order_id="order-easy-1", easyPay="네이버페이")["paymentKey"]
    confirmed = toss.post(
        "/v1/payments/confirm", {"paymentKey": key, "orderId": "order-easy-1", "amount": 15000}
    ).json()
    assert confirmed["status"] == "DONE"
    assert confirmed["method"] == "간편결제" and confirmed["card"] is None
    assert confirmed["easyPay"] == {"provider": "네이버페이", "amount": 15000, "discountAmount": 0}
    refunded = toss.post(f"/v1/payments/{key}/cancel", {"cancelReason": "x"}).json()
    assert refunded["status"] == "CANCELED"


def test_an_unknown_easy_pay_app_is_refused(toss):
    outcome = toss.pay_in_window(order_id="order-easy-2", easyPay="아무페이")
    assert outcome["path"] == "/fail" and outcome["query"]["code"] == "INVALID_REQUEST"
