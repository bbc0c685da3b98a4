"""fake_toss's v2 browser SDK over plain HTTP: the script at the path the npm package loads, and
the payment widget's iframes (a real browser drives them in test_toss_browser_v2.py)."""

from __future__ import annotations

import requests

from fake_toss import CLIENT_KEY, WIDGET_CLIENT_KEY

# Package @tosspayments/tosspayments-sdk loads https://js.tosspayments.com/v2/standard.
SDK_PATH = "/v2/standard"


def test_the_v2_script_is_served_where_the_npm_package_loads_it(toss):
    response = requests.get(toss.url + SDK_PATH, timeout=5)

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/javascript")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    script = response.text
    assert "window.TossPayments = TossPayments" in script
    assert "TossPayments.ANONYMOUS = ANONYMOUS" in script and '"@@ANONYMOUS"' in script
    for member in (
        "payment: function",
        "widgets: function",
        "requestPayment: function",
        "requestBillingAuth: function",
        "setAmount: function",
        "renderPaymentMethods: function",
        "renderAgreement: function",
        "getSelectedPaymentMethod",
    ):
        assert member in script, member


def test_the_v1_script_is_still_served(toss):
    response = requests.get(toss.url + "/sdk/toss.js", timeout=5)
    assert response.status_code == 200
    assert "requestPayment: function (method, params)" in response.text


def test_the_widget_offers_card_and_virtual_account_with_nothing_chosen(toss):
    query = {"clientKey": WIDGET_CLIENT_KEY, "widgetId": "w1", "currency": "KRW"}
    page = requests.get(toss.url + "/widget/payment-methods", params=query, timeout=5)

    assert page.status_code == 200
    assert 'value="CARD"' in page.text and 'value="VIRTUAL_ACCOUNT"' in page.text
    assert "checked" not in page.text


def test_the_widget_offers_no_virtual_account_in_dollars(toss):
    query = {"clientKey": WIDGET_CLIENT_KEY, "widgetId": "w1", "currency": "USD"}
    page = requests.get(toss.url + "/widget/payment-methods", params=query, timeout=5)
    assert 'value="VIRTUAL_ACCOUNT" disabled' in page.text


def test_the_agreement_widget_has_one_required_term(toss):
    query = {"clientKey": WIDGET_CLIENT_KEY, "widgetId": "w2"}
    page = requests.get(toss.url + "/widget/agreement", params=query, timeout=5)
    assert page.status_code == 200
    assert "[필수]" in page.text


def test_the_widget_refuses_an_api_individual_or_unknown_client_key(toss):
    for key in (CLIENT_KEY, "test_gck_unknown"):
        page = requests.get(
            toss.url + "/widget/payment-methods", params={"clientKey": key}, timeout=5
        )
        assert page.status_code == 400, key
