"""A real browser pays through fake_toss's v2 SDK from a shop page on another origin: the payment
window (payment()), the payment widget (widgets()) and billing auth, as the official sample does."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask, render_template_string

from fake_common.server import serve_in_thread
from fake_common.window_client import agree_to_terms
from fake_toss import CLIENT_KEY, SECRET_KEY, WIDGET_CLIENT_KEY, WIDGET_SECRET_KEY

SHOP_PAGE = """<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><title>Test shop v2</title>
<script src="{{ sdk }}"></script></head>
<body>
<h1>Test shop v2</h1>
<div id="payment-method"></div>
<div id="agreement"></div>
<button id="window">Pay in the window</button>
<button id="widget">Pay with the widget</button>
<button id="billing">Register card</button>
<button id="misuse">Misuse the keys</button>
<pre id="result"></pre>
<script>
  var keys = {{ keys|tojson }};
  var order = {orderId: "order-v2-0001", orderName: "생수 외 1건", customerName: "김토스"};
  var back = {successUrl: location.origin + "/success?shop=1", failUrl: location.origin + "/fail"};
  function show(value) { document.getElementById("result").textContent = JSON.stringify(value); }
  function showError(error) { show({code: error.code, message: error.message}); }
  var widgets = TossPayments(keys.widget).widgets({customerKey: TossPayments.ANONYMOUS});
  var methods = null;
  if (location.search.indexOf("widget") >= 0) {
    widgets.setAmount({currency: "KRW", value: 50000}).then(function () {
      return Promise.all([
        widgets.renderPaymentMethods({selector: "#payment-method", variantKey: "DEFAULT"}),
        widgets.renderAgreement({selector: "#agreement", variantKey: "AGREEMENT"})
      ]);
    }).then(function (rendered) {
      methods = rendered[0];
      methods.on("paymentMethodSelect", function (selected) { show({selected: selected.code}); });
      document.body.dataset.rendered = "yes";
    }, showError);
  }
  document.getElementById("window").onclick = function () {
    var payment = TossPayments(keys.api).payment({customerKey: "cust_v2_0001"});
    payment.requestPayment(Object.assign({
      method: "CARD", amount: {currency: "KRW", value: 15000}, card: {flowMode: "DEFAULT"}
    }, order, back)).catch(showError);
  };
  document.getElementById("widget").onclick = function () {
    var params = Object.assign({}, order, location.search.indexOf("promise") >= 0 ? {} : back);
    widgets.requestPayment(params).then(show, showError);
  };
  document.getElementById("billing").onclick = function () {
    TossPayments(keys.api).payment({customerKey: "cust_v2_0002"}).requestBillingAuth({
      method: "CARD", successUrl: location.origin + "/billing/success",
      failUrl: location.origin + "/billing/fail"
    });
  };
  document.getElementById("misuse").onclick = function () {
    var codes = [];
    [function () { TossPayments(keys.widget).payment({customerKey: "cust_1"}); },
     function () { TossPayments(keys.api).widgets({customerKey: "cust_1"}); },
     function () { TossPayments(keys.api).requestPayment("카드", {}); },
     function () { TossPayments(keys.api).payment({customerKey: "a"}); }
    ].forEach(function (call) {
      try { call(); codes.push("none"); } catch (e) { codes.push(e.code); }
    });
    TossPayments(keys.api).payment({customerKey: "cust_1"}).requestPayment({
      method: "CARD", amount: 15000, orderId: "order-v2-0003", orderName: "x"
    }).catch(function (e) { codes.push(e.code); show(codes); });
  };
</script>
</body></html>"""


def shop_app(fake_url: str) -> Flask:
    """A merchant page on its own origin that loads the fake's v2 SDK."""
    app = Flask("toss_test_shop_v2")
    keys = {"api": CLIENT_KEY, "widget": WIDGET_CLIENT_KEY}

    @app.get("/")
    def checkout():
        return render_template_string(SHOP_PAGE, sdk=fake_url + "/v2/standard", keys=keys)

    @app.get("/<path:_path>")
    def landing(_path: str):
        return "<!doctype html><title>Returned</title><p>Back at the shop</p>"

    return app


@pytest.fixture(scope="module")
def shop(toss_server):
    with serve_in_thread(shop_app(toss_server.url)) as server:
        yield server.url


def query_of(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def confirm(toss, secret_key: str, query: dict, amount: int) -> requests.Response:
    body = {"paymentKey": query["paymentKey"], "orderId": query["orderId"], "amount": amount}
    return requests.post(
        toss.url + "/v1/payments/confirm", json=body, auth=(secret_key, ""), timeout=5
    )


def test_the_payment_window_redirects_with_payment_type_first(page, toss, shop):
    page.goto(shop + "/")
    page.get_by_role("button", name="Pay in the window").click()
    page.wait_for_url(toss.url + "/window?*")
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    agree_to_terms(page)
    page.get_by_role("button", name="결제하기").click()
    page.wait_for_url(shop + "/success?*")
    assert urlsplit(page.url).query.startswith("shop=1&paymentType=NORMAL&")
    query = query_of(page.url)
    assert (query["orderId"], query["amount"]) == ("order-v2-0001", "15000")
    assert confirm(toss, SECRET_KEY, query, 15000).json()["status"] == "DONE"


def render_widget(page, shop) -> None:
    page.goto(shop + "/?widget")
    page.locator("body[data-rendered=yes]").wait_for()


def test_the_widget_pays_with_the_chosen_method_and_the_widget_secret(page, toss, shop):
    render_widget(page, shop)
    methods = page.frame_locator("#payment-method iframe")
    methods.get_by_label("가상계좌").check()
    page.locator("#result").filter(has_text="VIRTUAL_ACCOUNT").wait_for()
    page.get_by_role("button", name="Pay with the widget").click()
    page.wait_for_url(toss.url + "/window?*")
    assert page.get_by_text("50,000").first.is_visible()
    page.get_by_label("Bank").select_option(index=1)
    agree_to_terms(page)
    page.get_by_role("button", name="결제하기").click()
    page.wait_for_url(shop + "/success?*")
    query = query_of(page.url)
    assert query["paymentType"] == "NORMAL"
    assert query["amount"] == "50000"

    refused = confirm(toss, SECRET_KEY, query, 50000)
    issued = confirm(toss, WIDGET_SECRET_KEY, query, 50000)

    assert (refused.status_code, refused.json()["code"]) == (400, "INVALID_API_KEY")
    assert issued.json()["status"] == "WAITING_FOR_DEPOSIT"


def test_the_widget_wants_a_method_and_the_required_terms(page, toss, shop):
    render_widget(page, shop)
    result = page.locator("#result")
    page.get_by_role("button", name="Pay with the widget").click()
    result.filter(has_text="NOT_SELECTED_PAYMENT_METHOD").wait_for()

    page.frame_locator("#payment-method iframe").get_by_label("카드").check()
    page.frame_locator("#agreement iframe").get_by_label("[필수]", exact=False).uncheck()
    result.filter(has_text="CARD").wait_for()
    page.get_by_role("button", name="Pay with the widget").click()
    result.filter(has_text="NEED_AGREEMENT_WITH_REQUIRED_TERMS").wait_for()
    assert toss.gateway.payment_count() == 0


def test_the_widget_in_promise_mode_resolves_with_payment_type(page, toss, shop):
    page.goto(shop + "/?widget&promise")
    page.locator("body[data-rendered=yes]").wait_for()
    page.frame_locator("#payment-method iframe").get_by_label("카드").check()
    page.locator("#result").filter(has_text="CARD").wait_for()
    with page.expect_popup() as popup_info:
        page.get_by_role("button", name="Pay with the widget").click()
    popup = popup_info.value
    popup.get_by_label("Card number").fill("4111 1111 1111 1111")
    agree_to_terms(popup)
    popup.get_by_role("button", name="결제하기").click()
    result = page.locator("#result")
    result.filter(has_text="paymentKey").wait_for()
    payment = json.loads(result.text_content())
    assert payment["paymentType"] == "NORMAL"
    assert payment["amount"] == 50000
    assert confirm(toss, WIDGET_SECRET_KEY, payment, 50000).json()["status"] == "DONE"


def test_billing_auth_through_payment(page, toss, shop):
    page.goto(shop + "/")
    page.get_by_role("button", name="Register card").click()
    page.wait_for_url(toss.url + "/billing-window?*")
    page.get_by_label("Card number").fill("4242424242424242")
    page.get_by_label("Expiry").fill("12/39")
    agree_to_terms(page)
    page.get_by_role("button", name="Register card").click()
    page.wait_for_url(shop + "/billing/success?*")
    query = query_of(page.url)
    assert query["customerKey"] == "cust_v2_0002"
    assert toss.post("/v1/billing/authorizations/issue", query).json()["billingKey"]


def test_keys_of_the_wrong_family_and_v1_calls_are_refused(page, toss, shop):
    page.goto(shop + "/")
    page.get_by_role("button", name="Misuse the keys").click()
    result = page.locator("#result")
    result.filter(has_text="INVALID_PARAMETERS").wait_for()
    assert json.loads(result.text_content()) == [
        "NOT_SUPPORTED_WIDGET_KEY",
        "NOT_SUPPORTED_API_INDIVIDUAL_KEY",
        "V1_METHOD_NOT_SUPPORTED",
        "INVALID_CUSTOMER_KEY",
        "INVALID_PARAMETERS",  # amount is {currency, value} in v2
    ]
