"""A plain shop page on another origin drives fake PortOne V2's browser SDK (window.PortOne) and
its payment window in Chromium: popup (promise) and redirectUrl modes."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask, request
from playwright.sync_api import expect

from fake_common.server import serve_in_thread
from fake_common.window_client import agree_to_terms
from fake_portone.methods import EASY_PAY_PROVIDERS

SHOP_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test shop</title>
<script src="{fake}/v2/browser-sdk.js"></script></head>
<body>
<h1>Test shop</h1>
<button type="button" id="buy">Buy</button>
<pre id="result"></pre>
<script>
  var call = {call};
  var params = {params};
  document.getElementById("buy").addEventListener("click", function () {{
    PortOne[call](params).then(function (response) {{
      document.getElementById("result").textContent = JSON.stringify(response === undefined ? null : response);
    }});
  }});
</script>
</body></html>"""


@pytest.fixture
def shop(portone):
    """A shop on its own port (another origin) whose Buy button calls PortOne.<call>(params)."""
    app = Flask("test_shop_v2")

    @app.get("/")
    def index():
        return SHOP_PAGE.format(
            fake=portone.url,
            call=json.dumps(request.args.get("call", "requestPayment")),
            params=request.args.get("params", "{}"),
        )

    @app.get("/return")
    def back():
        return f"<pre id='return'>{json.dumps(request.args.to_dict())}</pre>"

    with serve_in_thread(app) as server:
        yield server.url


def open_popup(page, shop: str, params: dict, call: str = "requestPayment"):
    """Press Buy in the shop and return the payment window it opens as a popup."""
    with page.expect_popup() as popup_info:
        page.goto(f"{shop}/?call={call}&params={json.dumps(params)}")
        page.get_by_role("button", name="Buy").click()
    return popup_info.value


def submit(popup, button: str) -> None:
    """Click the window's button and wait for the popup to close itself."""
    agree_to_terms(popup)  # the terms step (harmless before Cancel)
    with popup.expect_event("close"):
        popup.get_by_role("button", name=button).click()


def response_of(page) -> dict:
    """Wait for the promise to settle and return its response."""
    page.wait_for_function("document.getElementById('result').textContent !== ''", timeout=10_000)
    return json.loads(page.text_content("#result"))


def card_request(portone, payment_id: str, **extra) -> dict:
    request = portone.payment_request(payment_id, 15000, **extra)
    del request["redirectUrl"]
    return request


def test_card_payment_in_popup(page, shop, portone):
    popup = open_popup(page, shop, card_request(portone, "web-v2-card-1", orderName="Blue shoes"))
    assert popup.get_by_test_id("order-name").text_content() == "Blue shoes"
    assert popup.get_by_test_id("order-amount").text_content() == "15,000 KRW"
    popup.get_by_label("카드사").select_option(label="현대카드")
    popup.get_by_label("할부").select_option(label="3개월")
    submit(popup, "결제하기")
    response = response_of(page)
    assert response["transactionType"] == "PAYMENT"
    assert response["paymentId"] == "web-v2-card-1" and "code" not in response
    payment = portone.payment("web-v2-card-1")
    assert payment["status"] == "PAID" and payment["transactionId"] == response["txId"]
    assert payment["method"]["installment"]["month"] == 3
    assert payment["origin"]["platformType"] == "PC"


def test_a_declined_card_resolves_with_failure_type_pg(page, shop, portone):
    popup = open_popup(page, shop, card_request(portone, "web-v2-decline-1"))
    popup.get_by_label("카드번호").fill("4000 0000 0000 9995")
    submit(popup, "결제하기")
    response = response_of(page)
    assert response["code"] == "FAILURE_TYPE_PG" and response["pgCode"] == "CD0002"
    assert portone.payment("web-v2-decline-1")["status"] == "FAILED"


def test_closing_the_window_is_a_user_cancel(page, shop, portone):
    popup = open_popup(page, shop, card_request(portone, "web-v2-close-1"))
    popup.wait_for_load_state()
    popup.close()
    response = response_of(page)
    assert response["code"] == "FAILURE_TYPE_PG" and "취소" in response["message"]
    assert response["paymentId"] == "web-v2-close-1"
    assert portone.payment("web-v2-close-1")["status"] == "FAILED"


def test_redirect_mode_returns_to_redirect_url_with_the_response(page, shop, portone):
    params = portone.payment_request(
        "web-v2-redirect-1", redirectUrl=f"{shop}/return?from=shop", forceRedirect=True
    )
    page.goto(f"{shop}/?params={json.dumps(params)}")
    page.get_by_role("button", name="Buy").click()
    page.get_by_label("카드번호").fill("4242 4242 4242 4242")
    agree_to_terms(page)
    page.get_by_role("button", name="결제하기").click()
    page.wait_for_url(f"{shop}/return*")
    query = {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}
    assert query["from"] == "shop" and query["paymentId"] == "web-v2-redirect-1"
    assert query["transactionType"] == "PAYMENT" and query["txId"] and "code" not in query
    assert portone.payment("web-v2-redirect-1")["status"] == "PAID"


def test_virtual_account_in_popup(page, shop, portone):
    popup = open_popup(
        page, shop, card_request(portone, "web-v2-va-1", payMethod="VIRTUAL_ACCOUNT")
    )
    popup.get_by_label("입금 은행").select_option(label="신한은행")
    submit(popup, "결제하기")
    assert "code" not in response_of(page)
    payment = portone.payment("web-v2-va-1")
    assert payment["status"] == "VIRTUAL_ACCOUNT_ISSUED"
    assert payment["method"]["bank"] == "SHINHAN"
    assert portone.deposit("web-v2-va-1")["status"] == "PAID"


@pytest.mark.parametrize("provider", ["KAKAOPAY", "NAVERPAY", "TOSSPAY"])
def test_easy_pay_in_popup(page, shop, portone, provider):
    request = card_request(
        portone,
        f"web-v2-easy-{provider}",
        payMethod="EASY_PAY",
        easyPay={"easyPayProvider": provider},
    )
    popup = open_popup(page, shop, request)
    expect(popup.get_by_test_id("easy-pay-provider")).to_contain_text(EASY_PAY_PROVIDERS[provider])
    submit(popup, "결제하기")
    assert "code" not in response_of(page)
    method = portone.payment(f"web-v2-easy-{provider}")["method"]
    assert method["type"] == "PaymentMethodEasyPay" and method["provider"] == provider


def test_issue_billing_key_in_popup(page, shop, portone):
    request = {
        "storeId": portone.store_id,
        "channelKey": portone.channel_key,
        "billingKeyMethod": "CARD",
    }
    popup = open_popup(page, shop, request, call="requestIssueBillingKey")
    popup.get_by_label("카드번호").fill("4242 4242 4242 4242")
    popup.get_by_label("유효기간").fill("12/39")
    submit(popup, "카드 등록")
    response = response_of(page)
    assert response["transactionType"] == "ISSUE_BILLING_KEY"
    key = response["billingKey"]
    assert portone.get(f"/billing-keys/{key}").json()["status"] == "ISSUED"


def test_missing_parameters_resolve_with_portone_error(page, shop, portone):
    page.goto(f"{shop}/?params={json.dumps({'storeId': portone.store_id})}")
    page.get_by_role("button", name="Buy").click()
    response = response_of(page)
    assert response["code"] == "PORTONE_ERROR" and "paymentId" in response["message"]
