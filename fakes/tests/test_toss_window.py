"""fake_toss payment and billing windows driven over plain HTTP (the browser test drives them for real)."""

from __future__ import annotations

import json
import re
from urllib.parse import urlencode

import pytest
import requests

from fake_common.window_client import AGREED


def window_query(toss, **overrides) -> str:
    params = {
        "clientKey": toss.client_key,
        "method": "CARD",
        "amount": "15000",
        "orderId": "order-0001",
        "orderName": "Coffee beans 1kg",
        "successUrl": "http://shop.test/success",
        "failUrl": "http://shop.test/fail",
        **overrides,
    }
    return urlencode({k: v for k, v in params.items() if v is not None})


def test_sdk_script_is_served_for_other_origins(toss):
    response = requests.get(toss.url + "/sdk/toss.js", timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/javascript")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "window.TossPayments = TossPayments" in response.text
    assert toss.url in response.text


def test_window_shows_the_order_the_cards_and_the_inputs(toss):
    page = requests.get(toss.url + "/window?" + window_query(toss), timeout=5)
    assert page.status_code == 200
    html = page.text
    assert "Coffee beans 1kg" in html
    assert "15,000 KRW" in html
    assert "4242 4242 4242 4242" in html and "4000 0000 0000 9995" in html
    # Korean first, the English word beside it for people who do not read Korean.
    assert '<html lang="ko">' in html
    assert '<label for="card-number">카드번호 <span class="en">Card number</span></label>' in html
    assert '결제하기 <span class="en">Pay</span></button>' in html
    assert '취소 <span class="en">Cancel</span></button>' in html
    # What the real window has: a card-company picker and instalment months (할부).
    assert '<label for="card-company">카드사' in html and ">KB국민카드</option>" in html
    assert '<select id="installment" name="installment">' in html and ">12개월</option>" in html
    # Which card for which scenario (0341 cannot start a Toss subscription).
    assert "0341로는 구독을 시작할 수 없습니다" in html
    # Back from a paid order asks the fake again instead of showing a cached window.
    assert page.headers["Cache-Control"] == "no-store"


def test_window_amount_in_dollars_and_bank_select_for_virtual_accounts(toss):
    usd = requests.get(
        toss.url + "/window?" + window_query(toss, amount="12.5", currency="USD"), timeout=5
    )
    assert "$12.50" in usd.text
    va = requests.get(toss.url + "/window?" + window_query(toss, method="가상계좌"), timeout=5).text
    assert '<label for="bank">입금 은행 <span class="en">Bank</span></label>' in va
    assert 'value="88"' in va


def test_the_instalment_months_chosen_in_the_window_are_the_payments(toss):
    for chosen, months in (("3", 3), ("0", 0), ("13", 0)):
        order_id = f"order-installment-{chosen}"
        outcome = toss.pay_in_window(order_id=order_id, installment=chosen)
        assert outcome["path"] == "/success", outcome
        payment = toss.get(f"/v1/payments/{outcome['query']['paymentKey']}").json()
        assert payment["card"]["installmentPlanMonths"] == months


def test_window_refuses_an_unknown_client_key(toss):
    page = requests.get(
        toss.url + "/window?" + window_query(toss, clientKey="test_ck_bad"), timeout=5
    )
    assert page.status_code == 400
    assert "UNAUTHORIZED_KEY" in page.text


def test_success_redirect_keeps_the_success_urls_own_query(toss):
    outcome = toss.pay_in_window(successUrl="http://shop.test/success?lang=ko")
    assert outcome["path"] == "/success"
    assert outcome["query"]["lang"] == "ko"
    assert set(outcome["query"]) == {"lang", "paymentKey", "orderId", "amount", "paymentType"}


@pytest.mark.parametrize(
    ("card_number", "code"),
    [
        ("4000 0000 0000 9995", "REJECT_CARD_PAYMENT"),
        ("4000 0000 0000 0002", "REJECT_CARD_COMPANY"),
        ("4000 0000 0000 0069", "INVALID_CARD_EXPIRATION"),
    ],
)
def test_declined_card_goes_to_fail_url(toss, card_number, code):
    outcome = toss.pay_in_window(card_number=card_number)
    assert outcome["path"] == "/fail"
    assert outcome["query"]["code"] == code
    assert outcome["query"]["orderId"] == "order-0001"
    assert outcome["query"]["message"]
    assert toss.get("/v1/payments/orders/order-0001").status_code == 404


def test_cancel_goes_to_fail_url_with_pay_process_canceled(toss):
    outcome = toss.pay_in_window(action="cancel")
    assert outcome["query"] == {
        "code": "PAY_PROCESS_CANCELED",
        "message": "사용자에 의해 결제가 취소되었습니다.",
        "orderId": "order-0001",
    }


def test_malformed_card_number_stays_in_the_window(toss):
    form = dict(
        re.findall(
            # the hidden fields a browser submits (not the easy-pay buttons' name/value)
            r'type="hidden" name="(\w+)" value="([^"]*)"',
            requests.get(toss.url + "/window?" + window_query(toss), timeout=5).text,
        )
    )
    response = requests.post(
        toss.url + "/window",
        data={**form, "cardNumber": "1234", "action": "pay", **AGREED},
        allow_redirects=False,
        timeout=5,
    )
    assert response.status_code == 200
    assert 'role="alert"' in response.text
    assert "카드번호를 다시 확인해주세요." in response.text
    assert toss.gateway.payment_count() == 0


def test_spent_order_and_bad_parameters_go_to_fail_url(toss):
    key = toss.authenticated_payment()["paymentKey"]
    toss.post("/v1/payments/confirm", {"paymentKey": key, "orderId": "order-0001", "amount": 15000})
    again = toss.pay_in_window()
    assert again["query"]["code"] == "DUPLICATED_ORDER_ID"
    small = toss.pay_in_window(amount=10, order_id="order-small")
    assert small["query"]["code"] == "BELOW_MINIMUM_AMOUNT"
    usd_va = toss.pay_in_window(method="VIRTUAL_ACCOUNT", currency="USD", order_id="order-usd-va")
    assert usd_va["query"]["code"] == "INVALID_PARAMETER"
    bad_order = toss.pay_in_window(order_id="no")
    assert bad_order["query"]["code"] == "INVALID_REQUEST"
    no_urls = requests.get(
        toss.url + "/window?" + window_query(toss, successUrl=None, failUrl=None), timeout=5
    )
    assert no_urls.status_code == 400


def test_popup_mode_posts_the_result_to_the_opener(toss):
    form = {
        "clientKey": toss.client_key,
        "method": "카드",
        "amount": "15000",
        "orderId": "order-popup",
        "orderName": "Coffee",
        "mode": "popup",
        "opener": "http://127.0.0.1:5173",
        "cardNumber": "4242424242424242",
        "action": "pay",
        **AGREED,
    }
    page = requests.post(toss.url + "/window", data=form, timeout=5).text
    payload = json.loads(re.search(r"var payload = (\{.*?\});", page).group(1))
    assert payload["source"] == "fake_toss"
    assert payload["result"]["orderId"] == "order-popup"
    assert payload["result"]["amount"] == 15000
    assert (
        toss.get(f"/v1/payments/{payload['result']['paymentKey']}").json()["status"]
        == "IN_PROGRESS"
    )
    assert '"http://127.0.0.1:5173"' in page
    cancelled = requests.post(
        toss.url + "/window", data={**form, "action": "cancel"}, timeout=5
    ).text
    error = json.loads(re.search(r"var payload = (\{.*?\});", cancelled).group(1))["error"]
    assert error["code"] == "USER_CANCEL"


def test_billing_window_page_and_cancel(toss):
    query = urlencode(
        {
            "clientKey": toss.client_key,
            "customerKey": "cust-1",
            "successUrl": "http://shop.test/ok",
            "failUrl": "http://shop.test/no",
        }
    )
    page = requests.get(toss.url + "/billing-window?" + query, timeout=5).text
    assert '<label for="expiry">유효기간 <span class="en">Expiry</span></label>' in page
    assert '카드 등록 <span class="en">Register card</span></button>' in page
    response = requests.post(
        toss.url + "/billing-window?" + query,
        data={"action": "cancel"},
        allow_redirects=False,
        timeout=5,
    )
    assert response.status_code == 303
    assert "code=PAY_PROCESS_CANCELED" in response.headers["Location"]
    bad_expiry = requests.post(
        toss.url + "/billing-window?" + query,
        data={"action": "register", "cardNumber": "4242424242424242", "expiry": "1", **AGREED},
        timeout=5,
    )
    assert 'role="alert"' in bad_expiry.text and "MM/YY" in bad_expiry.text


def test_receipt_page(toss):
    key = toss.post(
        "/v1/payments/key-in",
        {
            "amount": 15000,
            "orderId": "order-rcpt",
            "orderName": "Coffee",
            "cardNumber": "4242424242424242",
            "cardExpirationYear": "39",
            "cardExpirationMonth": "1",
        },
    ).json()["receipt"]["url"]
    page = requests.get(key, timeout=5)
    assert page.status_code == 200
    assert "order-rcpt" in page.text
