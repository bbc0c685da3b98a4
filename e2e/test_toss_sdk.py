"""The demo's Toss checkout through the official @tosspayments/tosspayments-sdk package (its v2
payment window and its payment widget, served by the fake at the package's /v2/standard path),
and through the v1 script for shops that still use it."""

from __future__ import annotations

import re

import requests
from playwright.sync_api import Page, expect

from fake_toss import CLIENT_KEY, SECRET_KEY, WIDGET_SECRET_KEY

TEA = "Jeju green tea, 100 g"  # 15,000 KRW


def scripts_loaded(page: Page) -> list[str]:
    """The paths of the scripts the page loads from now on (the fake's SDKs among them)."""
    loaded: list[str] = []
    page.on(
        "request",
        lambda request: loaded.append(request.url) if request.resource_type == "script" else None,
    )
    return loaded


def confirm_with(fake_toss, secret_key: str, payment: dict) -> dict:
    """What the fake answers a confirm of a settled payment sent with secret_key."""
    body = {
        "paymentKey": payment["paymentKey"],
        "orderId": payment["orderId"],
        "amount": payment["totalAmount"],
    }
    answer = requests.post(
        fake_toss.url + "/v1/payments/confirm", json=body, auth=(secret_key, ""), timeout=5
    )
    return answer.json()


def test_the_v2_payment_window(shop, backend_db, fake_toss, screenshot):
    page = shop.page
    loaded = scripts_loaded(page)
    shop.fill_cart(TEA, 1, gateway="Toss Payments", method="Card")
    shop.choose_toss_integration("window")
    shop.open_toss_window()
    assert f"clientKey={CLIENT_KEY}" in page.url
    shop.pay_toss_window()

    order_id = shop.order_id_from_url()
    expect(page.get_by_role("heading", name="결제가 완료되었습니다")).to_be_visible()
    assert any(url.startswith(fake_toss.url + "/v2/standard") for url in loaded)
    assert not any("/sdk/toss.js" in url for url in loaded)
    order = backend_db.order(order_id)
    assert (order.status, order.method) == ("paid", "card")
    payment = fake_toss.payment_of(order_id)
    assert payment["status"] == "DONE"
    # Bound to the API-individual keys: the widget's secret may not touch it.
    assert confirm_with(fake_toss, WIDGET_SECRET_KEY, payment)["code"] == "INVALID_API_KEY"
    screenshot()


def open_widget(shop, product: str = TEA):
    """The cart filled, Toss's widget chosen and rendered: its payment-methods frame."""
    shop.fill_cart(product, 1, gateway="Toss Payments")
    shop.choose_toss_integration("widget")
    widget = shop.page.get_by_role("region", name="토스페이먼츠 결제위젯")
    methods = widget.frame_locator("#toss-payment-methods iframe")
    expect(methods.get_by_text("결제 방법")).to_be_visible()
    expect(widget.frame_locator("#toss-agreement iframe").get_by_text("[필수]")).to_be_visible()
    return methods


def test_the_payment_widget_by_card(shop, backend_db, fake_toss, screenshot):
    page = shop.page
    methods = open_widget(shop)
    # Our own method choice gives way to the widget's.
    expect(page.get_by_role("group", name="결제수단")).to_be_hidden()
    methods.get_by_label("카드").check()
    screenshot("test_the_payment_widget_rendered")
    shop.open_toss_window()
    expect(page.get_by_label("Amount")).to_contain_text("15,000")
    shop.pay_toss_window()

    order_id = shop.order_id_from_url()
    expect(page.get_by_role("heading", name="결제가 완료되었습니다")).to_be_visible()
    order = backend_db.order(order_id)
    assert (order.status, order.method, order.amount) == ("paid", "card", 15000)
    payment = fake_toss.payment_of(order_id)
    assert payment["status"] == "DONE"
    # The backend confirmed it with the widget's secret: the API-individual one is refused.
    assert confirm_with(fake_toss, SECRET_KEY, payment)["code"] == "INVALID_API_KEY"
    assert confirm_with(fake_toss, WIDGET_SECRET_KEY, payment)["code"] == (
        "ALREADY_PROCESSED_PAYMENT"
    )
    screenshot()


def test_the_payment_widget_by_virtual_account(shop, backend_db, fake_toss):
    methods = open_widget(shop)
    methods.get_by_label("가상계좌").check()
    shop.open_toss_window()
    shop.pay_toss_window(card=None)

    order_id = shop.order_id_from_url()
    expect(shop.status()).to_have_text("입금 대기")
    order = backend_db.order(order_id)
    assert (order.status, order.method) == ("awaiting_deposit", "vbank")
    assert fake_toss.payment_of(order_id)["status"] == "WAITING_FOR_DEPOSIT"


def test_the_payment_widget_asks_for_a_method_before_any_order(shop, fake_toss):
    page = shop.page
    open_widget(shop)
    shop.pay_button().click()
    expect(page.get_by_role("alert")).to_have_text("결제위젯에서 결제수단을 선택해 주세요.")
    expect(page).not_to_have_url(re.compile(re.escape(fake_toss.url)))


def test_the_v1_script_still_pays(shop, backend_db, fake_toss, screenshot):
    page = shop.page
    loaded = scripts_loaded(page)
    shop.fill_cart(TEA, 1, gateway="Toss Payments", method="Card")
    shop.choose_toss_integration("v1")
    shop.open_toss_window()
    shop.pay_toss_window()

    order_id = shop.order_id_from_url()
    expect(shop.status()).to_have_text("결제 완료")
    assert any(url.startswith(fake_toss.url + "/sdk/toss.js") for url in loaded)
    assert backend_db.order(order_id).status == "paid"
    assert fake_toss.payment_of(order_id)["status"] == "DONE"
    screenshot()
