"""Payments that do not go through: a declined card, a window the buyer closes, Toss's failUrl."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

# The texts below are the demo's English ones: these tests switch the language on purpose.
pytestmark = pytest.mark.english

MUG = "Ceramic mug"  # 28,000 KRW
DECLINED_CARD = "4000 0000 0000 0002"  # fakes/fake_common/cards.py: "Card declined"
INSUFFICIENT_FUNDS_CARD = "4000 0000 0000 9995"
WINDOW_CLOSED = "The payment window was closed before paying."
# REJECT_CARD_PAYMENT as the demo says it (the gateway's own message stays in the order record).
LIMIT_EXCEEDED = "The card’s limit is exceeded or its balance is too low. Please try another card."


def test_portone_declined_card(shop, backend_db, fake_iamport, screenshot):
    page = shop.page
    shop.fill_cart(MUG, 1, gateway="PortOne", method="Card")
    window = shop.open_portone_window()
    shop.pay_portone_window(window, card=DECLINED_CARD)

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("거래거절 카드사 승인거절")  # the PG's own words
    order_id = shop.order_id_from_link()
    expect(page).to_have_url(re.compile(r"/$"))  # the buyer stays at the cart to try again
    expect(shop.pay_button()).to_be_enabled()

    [at_gateway] = fake_iamport.payments_of(order_id)
    assert at_gateway["status"] == "failed"
    assert "승인거절" in at_gateway["fail_reason"]

    page.get_by_role("link", name=f"View order {order_id}").click()
    expect(shop.status()).to_have_text("Failed")
    expect(page.get_by_role("alert")).to_contain_text("거래거절 카드사 승인거절")
    order = backend_db.order(order_id)
    assert order.status == "failed"
    assert order.failure["code"] == "F111"
    assert order.payment is None
    screenshot()


def test_toss_declined_card(shop, backend_db, fake_toss, screenshot):
    page = shop.page
    shop.fill_cart(MUG, 1, gateway="Toss Payments", method="Card")
    shop.open_toss_window()
    shop.pay_toss_window(card=DECLINED_CARD)

    expect(page).to_have_url(re.compile(r"/checkout/toss/fail\?"))
    expect(page.get_by_role("heading", name="Payment failed")).to_be_visible()
    # REJECT_CARD_COMPANY in the demo's own words, not the gateway's text.
    expect(page.get_by_role("alert")).to_have_text(
        "The card company declined the payment. Please try another card."
    )
    order_id = shop.order_id_from_link()

    page.get_by_role("link", name=f"View order {order_id}").click()
    expect(shop.status()).to_have_text("Failed")
    order = backend_db.order(order_id)
    assert order.status == "failed"
    assert order.failure["code"] == "REJECT_CARD_COMPANY"
    assert fake_toss.payment_of(order_id) is None  # nothing authorised, nothing to confirm
    screenshot()


def test_portone_window_cancelled_by_the_buyer(shop, backend_db, fake_iamport, screenshot):
    page = shop.page
    shop.fill_cart(MUG, 1, gateway="PortOne", method="Card")
    window = shop.open_portone_window()
    with window.expect_event("close"):
        window.get_by_role("button", name="Cancel").click()

    expect(page.get_by_role("alert")).to_contain_text(WINDOW_CLOSED)
    order_id = shop.order_id_from_link()
    [at_gateway] = fake_iamport.payments_of(order_id)
    assert at_gateway["status"] == "failed"  # Cancel ends the window's payment as a user cancel

    page.get_by_role("link", name=f"View order {order_id}").click()
    expect(shop.status()).to_have_text("Failed")
    expect(page.get_by_role("alert")).to_contain_text(WINDOW_CLOSED)
    order = backend_db.order(order_id)
    assert order.status == "failed"
    assert order.payment is None
    screenshot()


def test_toss_window_cancelled_by_the_buyer(shop, backend_db, fake_toss, screenshot):
    page = shop.page
    shop.fill_cart(MUG, 1, gateway="Toss Payments", method="Card")
    shop.open_toss_window()
    page.get_by_role("button", name="Cancel").click()

    expect(page).to_have_url(re.compile(r"/checkout/toss/fail\?"))
    expect(page.get_by_role("alert")).to_contain_text(WINDOW_CLOSED)
    order_id = shop.order_id_from_link()

    page.get_by_role("link", name=f"View order {order_id}").click()
    expect(shop.status()).to_have_text("Failed")
    order = backend_db.order(order_id)
    assert order.status == "failed"
    assert order.failure["code"] == "PAY_PROCESS_CANCELED"
    assert fake_toss.payment_of(order_id) is None
    screenshot()


def test_toss_fail_url(shop, backend_db, fake_toss, screenshot):
    page = shop.page
    shop.fill_cart(MUG, 1, gateway="Toss Payments", method="Card")
    shop.open_toss_window()
    shop.pay_toss_window(card=INSUFFICIENT_FUNDS_CARD)

    # Toss sends the buyer to failUrl?code&message&orderId; the app reports it and explains.
    expect(page).to_have_url(re.compile(r"/checkout/toss/fail\?"))
    query = parse_qs(urlsplit(page.url).query)
    assert query["code"] == ["REJECT_CARD_PAYMENT"]
    order_id = query["orderId"][0]
    expect(page.get_by_role("alert")).to_have_text(LIMIT_EXCEEDED)
    expect(page.get_by_role("link", name=f"View order {order_id}")).to_be_visible()

    page.get_by_role("link", name="Back to products").click()
    expect(page.get_by_role("heading", name="Shop")).to_be_visible()
    page.goto(f"/orders/{order_id}")
    expect(shop.status()).to_have_text("Failed")
    expect(page.get_by_role("alert")).to_have_text(LIMIT_EXCEEDED)
    order = backend_db.order(order_id)
    assert order.failure == {"code": "REJECT_CARD_PAYMENT", "message": query["message"][0]}
    assert fake_toss.payment_of(order_id) is None
    screenshot()
