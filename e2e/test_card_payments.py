"""A buyer pays by card through each gateway, in won and in dollars."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

# The texts below are the demo's English ones: these tests switch the language on purpose.
pytestmark = pytest.mark.english

TEA = "Jeju green tea, 100 g"  # 15,000 KRW
GIFT_CARD = "Overseas gift card"  # $12.50


def test_portone_card(shop, backend_db, fake_iamport, screenshot):
    page = shop.page
    page.goto("/")
    page.get_by_role("button", name=f"Add {TEA} to cart").click()
    page.get_by_role("button", name=f"Add {TEA} to cart").click()
    expect(page.get_by_label(f"Quantity of {TEA}", exact=True)).to_have_value("2")
    page.get_by_role("radio", name="PortOne V1 (iamport)", exact=True).check()
    page.get_by_role("radio", name="Card", exact=True).check()
    expect(page.get_by_text("Total 30,000원")).to_be_visible()

    window = shop.open_portone_window()
    expect(window.get_by_test_id("order-amount")).to_have_text("30,000 KRW")
    shop.pay_portone_window(window)

    order_id = shop.order_id_from_url()
    # The page leads with what happened, then the order number.
    expect(page.get_by_role("heading", name="Payment complete")).to_be_visible()
    expect(page.get_by_text(f"Order number {order_id}")).to_be_visible()
    expect(shop.status()).to_have_text("Paid")
    receipt = page.get_by_role("region", name="Receipt")
    expect(receipt).to_contain_text("30,000원")
    expect(receipt).to_contain_text("4242")

    order = backend_db.order(order_id)
    assert (order.status, order.amount, order.currency) == ("paid", 30000, "KRW")
    assert order.payment.status == "paid"
    at_gateway = fake_iamport.payment(order.payment.vendor_payment_id)
    assert at_gateway["merchant_uid"] == order_id
    assert (at_gateway["status"], at_gateway["amount"], at_gateway["currency"]) == (
        "paid",
        30000,
        "KRW",
    )
    assert at_gateway["card_number"].endswith("4242")
    expect(receipt).to_contain_text(order.payment.vendor_payment_id)
    screenshot()


def test_toss_card(shop, backend_db, fake_toss, screenshot):
    page = shop.page
    shop.fill_cart(TEA, 1, gateway="Toss Payments", method="Card")
    shop.open_toss_window()
    expect(page.get_by_label("Amount")).to_contain_text("15,000")
    shop.pay_toss_window()

    order_id = shop.order_id_from_url()
    expect(page.get_by_role("heading", name="Payment complete")).to_be_visible()
    expect(page.get_by_text(f"Order number {order_id}")).to_be_visible()
    expect(shop.status()).to_have_text("Paid")
    expect(page.get_by_role("region", name="Receipt")).to_contain_text("15,000원")
    # Toss reports the card company as a code (issuerCode 41): the receipt names it.
    expect(page.get_by_role("region", name="Receipt")).to_contain_text("Shinhan Card")

    order = backend_db.order(order_id)
    assert (order.status, order.vendor, order.amount) == ("paid", "toss", 15000)
    at_gateway = fake_toss.payment_of(order_id)
    assert at_gateway["paymentKey"] == order.payment.vendor_payment_id
    assert (at_gateway["status"], at_gateway["totalAmount"], at_gateway["currency"]) == (
        "DONE",
        15000,
        "KRW",
    )
    screenshot()


@pytest.mark.parametrize("gateway", ["PortOne", "Toss Payments"])
def test_overseas_purchase_in_dollars(
    gateway, shop, backend_db, fake_iamport, fake_toss, screenshot
):
    page = shop.page
    shop.fill_cart(GIFT_CARD, 1, gateway=gateway, method="Card")
    expect(page.get_by_text("Total $12.50")).to_be_visible()
    # Virtual accounts take won only.
    expect(page.get_by_role("radio", name="Virtual account")).to_be_disabled()

    if gateway == "PortOne":
        window = shop.open_portone_window()
        expect(window.get_by_test_id("order-amount")).to_have_text("$12.50")
        shop.pay_portone_window(window)
    else:
        shop.open_toss_window()
        expect(page.get_by_label("Amount")).to_contain_text("12.50")
        shop.pay_toss_window()

    order_id = shop.order_id_from_url()
    expect(shop.status()).to_have_text("Paid")
    expect(page.get_by_role("region", name="Receipt")).to_contain_text("$12.50")

    order = backend_db.order(order_id)
    assert (order.status, order.amount, order.currency) == ("paid", 1250, "USD")
    assert (order.payment.amount, order.payment.currency) == (1250, "USD")
    if gateway == "PortOne":
        at_gateway = fake_iamport.payment(order.payment.vendor_payment_id)
        assert (at_gateway["status"], at_gateway["currency"]) == ("paid", "USD")
        assert at_gateway["amount"] == 12.5
        assert at_gateway["pg_provider"] == "eximbay"  # the overseas-card PG
    else:
        at_gateway = fake_toss.payment_of(order_id)
        assert (at_gateway["status"], at_gateway["currency"]) == ("DONE", "USD")
        assert at_gateway["totalAmount"] == 12.5
    screenshot()
