"""A real browser pays through fake_toss's SDK and windows from a shop page on another origin."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask, render_template_string, request

from fake_common.server import serve_in_thread
from fake_common.window_client import agree_to_terms

SHOP_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test shop</title>
<script src="{{ sdk }}"></script></head>
<body>
<h1>Test shop</h1>
<button id="redirect">Pay with redirect</button>
<button id="popup">Pay in popup</button>
<button id="billing">Register card</button>
<pre id="result"></pre>
<script>
  var params = {{ params|tojson }};
  var tossPayments = TossPayments({{ client_key|tojson }});
  function show(value) { document.getElementById("result").textContent = JSON.stringify(value); }
  document.getElementById("redirect").onclick = function () {
    tossPayments.requestPayment(params.method, Object.assign({}, params.payment, {
      successUrl: "/success", failUrl: location.origin + "/fail"
    }));
  };
  document.getElementById("popup").onclick = function () {
    tossPayments.requestPayment(params.method, params.payment).then(show, function (error) {
      show({code: error.code, message: error.message});
    });
  };
  document.getElementById("billing").onclick = function () {
    tossPayments.requestBillingAuth("카드", {
      customerKey: "cust-browser-1", successUrl: location.origin + "/billing/success",
      failUrl: location.origin + "/billing/fail"
    });
  };
</script>
</body></html>"""


def shop_app(fake_url: str, client_key: str) -> Flask:
    """A merchant page on its own origin that loads the fake's SDK."""
    app = Flask("toss_test_shop")

    @app.get("/")
    def checkout():
        params = {
            "method": request.args.get("method", "카드"),
            "payment": {
                "amount": json.loads(request.args.get("amount", "15000")),
                "currency": request.args.get("currency", "KRW"),
                "orderId": request.args.get("orderId", "order-0001"),
                "orderName": "Coffee beans 1kg",
                "customerName": "홍길동",
            },
        }
        return render_template_string(
            SHOP_PAGE, sdk=fake_url + "/sdk/toss.js", client_key=client_key, params=params
        )

    @app.get("/<path:_path>")
    def landing(_path: str):
        return "<!doctype html><title>Returned</title><p>Back at the shop</p>"

    return app


@pytest.fixture(scope="module")
def shop(toss_server):
    with serve_in_thread(shop_app(toss_server.url, toss_server.client_key)) as server:
        yield server.url


def query_of(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_card_payment_redirects_to_success_url(page, toss, shop):
    page.goto(shop + "/?orderId=order-browser-1")
    page.get_by_role("button", name="Pay with redirect").click()
    page.wait_for_url(toss.url + "/window?*")
    assert page.get_by_text("15,000 KRW").is_visible()
    assert page.get_by_role("table", name="Test cards").is_visible()
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    agree_to_terms(page)
    page.get_by_role("button", name="결제하기").click()
    page.wait_for_url(shop + "/success?*")
    query = query_of(page.url)
    assert query["orderId"] == "order-browser-1"
    assert query["amount"] == "15000"
    assert query["paymentType"] == "NORMAL"
    confirmed = toss.post(
        "/v1/payments/confirm",
        {"paymentKey": query["paymentKey"], "orderId": "order-browser-1", "amount": 15000},
    ).json()
    assert confirmed["status"] == "DONE"


def test_declined_card_redirects_to_fail_url(page, toss, shop):
    page.goto(shop + "/?orderId=order-browser-2")
    page.get_by_role("button", name="Pay with redirect").click()
    page.get_by_label("Card number").fill("4000 0000 0000 9995")
    agree_to_terms(page)
    page.get_by_role("button", name="결제하기").click()
    page.wait_for_url(shop + "/fail?*")
    query = query_of(page.url)
    assert query["code"] == "REJECT_CARD_PAYMENT"
    assert query["orderId"] == "order-browser-2"
    assert query["message"] == "한도초과 혹은 잔액부족으로 결제에 실패했습니다."


def test_cancel_in_the_window_redirects_to_fail_url(page, toss, shop):
    page.goto(shop + "/?orderId=order-browser-3")
    page.get_by_role("button", name="Pay with redirect").click()
    page.get_by_role("button", name="Cancel").click()
    page.wait_for_url(shop + "/fail?*")
    assert query_of(page.url)["code"] == "PAY_PROCESS_CANCELED"


def test_virtual_account_in_the_window(page, toss, shop):
    page.goto(shop + "/?method=가상계좌&orderId=order-browser-va&amount=19900")
    page.get_by_role("button", name="Pay with redirect").click()
    page.get_by_label("Bank").select_option(label="신한은행")  # the windows' shared bank names
    agree_to_terms(page)
    page.get_by_role("button", name="결제하기").click()
    page.wait_for_url(shop + "/success?*")
    query = query_of(page.url)
    issued = toss.post(
        "/v1/payments/confirm",
        {"paymentKey": query["paymentKey"], "orderId": "order-browser-va", "amount": 19900},
    ).json()
    assert issued["status"] == "WAITING_FOR_DEPOSIT"
    assert issued["virtualAccount"]["bankCode"] == "88"


def test_billing_auth_redirects_with_customer_key_and_auth_key(page, toss, shop):
    page.goto(shop + "/")
    page.get_by_role("button", name="Register card").click()
    page.wait_for_url(toss.url + "/billing-window?*")
    page.get_by_label("Card number").fill("4242424242424242")
    page.get_by_label("Expiry").fill("12/39")
    agree_to_terms(page)
    page.get_by_role("button", name="Register card").click()
    page.wait_for_url(shop + "/billing/success?*")
    query = query_of(page.url)
    assert query["customerKey"] == "cust-browser-1"
    billing = toss.post("/v1/billing/authorizations/issue", query).json()
    assert billing["customerKey"] == "cust-browser-1"


def test_promise_mode_resolves_through_a_popup_in_dollars(page, toss, shop):
    page.goto(shop + "/?orderId=order-browser-usd&amount=12.5&currency=USD")
    with page.expect_popup() as popup_info:
        page.get_by_role("button", name="Pay in popup").click()
    popup = popup_info.value
    popup.wait_for_load_state()
    assert popup.get_by_text("$12.50").is_visible()
    popup.get_by_label("Card number").fill("4111 1111 1111 1111")
    agree_to_terms(popup)
    popup.get_by_role("button", name="결제하기").click()
    result = page.locator("#result")
    result.filter(has_text="paymentKey").wait_for()
    payment = json.loads(result.text_content())
    assert payment["orderId"] == "order-browser-usd"
    assert payment["amount"] == 12.5
    assert toss.get(f"/v1/payments/{payment['paymentKey']}").json()["currency"] == "USD"


def test_promise_mode_rejects_when_the_buyer_cancels(page, toss, shop):
    page.goto(shop + "/?orderId=order-browser-4")
    with page.expect_popup() as popup_info:
        page.get_by_role("button", name="Pay in popup").click()
    popup_info.value.get_by_role("button", name="Cancel").click()
    result = page.locator("#result")
    result.filter(has_text="code").wait_for()
    assert json.loads(result.text_content())["code"] == "USER_CANCEL"
