"""PortOne V2 through the demo: the official browser SDK opens the fake's window in a popup; card,
virtual account with a deposit at the gateway, a decline, and a lost completion settled by the
signed webhook."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Route, expect

# The texts below are the demo's English ones: these tests switch the language on purpose.
pytestmark = pytest.mark.english

TEA = "Jeju green tea, 100 g"  # 15,000 KRW
NOTEBOOK = "Hanji notebook"  # 9,900 KRW
MUG = "Ceramic mug"  # 28,000 KRW
INSUFFICIENT_FUNDS_CARD = "4000 0000 0000 9995"


def test_portone_v2_is_the_default_portone_and_v1_stays(shop):
    shop.page.goto("/")
    gateways = shop.page.get_by_role("group", name="Gateway")
    expect(gateways.get_by_role("radio", name="PortOne", exact=True)).to_be_checked()
    expect(gateways.get_by_role("radio", name="PortOne V1 (iamport)", exact=True)).to_be_visible()


def test_portone_v2_card(shop, backend_db, fake_portone, screenshot):
    page = shop.page
    shop.fill_cart(TEA, 2, gateway="PortOne V2", method="Card")
    window = shop.open_portone_window()
    expect(window).to_have_url(re.compile(re.escape(fake_portone.url) + "/v2/window"))
    shop.pay_portone_window(window)

    order_id = shop.order_id_from_url()
    expect(page.get_by_role("heading", name="Payment complete")).to_be_visible()
    expect(shop.status()).to_have_text("Paid")
    receipt = page.get_by_role("region", name="Receipt")
    expect(receipt).to_contain_text("30,000원")
    order = backend_db.order(order_id)
    assert (order.status, order.vendor, order.amount) == ("paid", "portone", 30000)
    # V2 payment ids are the merchant's: ours is the order id.
    assert order.payment.vendor_payment_id == order_id
    at_gateway = fake_portone.payment(order_id)
    assert (at_gateway["status"], at_gateway["amount"]["total"], at_gateway["currency"]) == (
        "PAID",
        30000,
        "KRW",
    )
    assert at_gateway["method"]["type"] == "PaymentMethodCard"
    screenshot()


def test_portone_v2_virtual_account_paid_by_the_deposit_webhook(
    shop, backend_db, fake_portone, screenshot
):
    page = shop.page
    shop.fill_cart(NOTEBOOK, 1, gateway="PortOne V2", method="Virtual account")
    shop.pay_portone_window(shop.open_portone_window(), card=None)

    order_id = shop.order_id_from_url()
    expect(shop.status()).to_have_text("Awaiting deposit")
    account = page.get_by_role("region", name="Virtual account")
    expect(account).to_contain_text("Please transfer 9,900원")
    at_gateway = fake_portone.payment(order_id)
    assert at_gateway["status"] == "VIRTUAL_ACCOUNT_ISSUED"
    expect(account).to_contain_text(at_gateway["method"]["accountNumber"])

    # The buyer transfers at the bank: only PortOne's signed webhook tells the backend.
    fake_portone.deposit(order_id)

    expect(shop.status()).to_have_text("Paid", timeout=15_000)
    order = backend_db.order(order_id)
    assert (order.status, order.payment.status) == ("paid", "paid")
    assert ("order.paid", "webhook:portone") in order.audit
    assert fake_portone.payment(order_id)["status"] == "PAID"
    screenshot()


def test_portone_v2_declined_card(shop, backend_db, fake_portone, screenshot):
    page = shop.page
    shop.fill_cart(MUG, 1, gateway="PortOne V2", method="Card")
    shop.pay_portone_window(shop.open_portone_window(), card=INSUFFICIENT_FUNDS_CARD)

    expect(page.get_by_role("alert")).to_be_visible()
    order_id = shop.order_id_from_link()
    expect(page).to_have_url(re.compile(r"/$"))  # the buyer stays at the cart to try again
    expect(shop.pay_button()).to_be_enabled()
    assert fake_portone.payment(order_id)["status"] == "FAILED"
    page.get_by_role("link", name=f"View order {order_id}").click()
    expect(shop.status()).to_have_text("Failed")
    order = backend_db.order(order_id)
    assert order.status == "failed" and order.payment is None
    screenshot()


def test_portone_v2_lost_completion_is_settled_by_the_signed_webhook(
    shop, backend_db, fake_portone, screenshot
):
    page = shop.page
    lost: list[dict] = []

    def drop(route: Route) -> None:
        lost.append(route.request.post_data_json)
        route.abort("internetdisconnected")

    page.route("**/api/checkout/complete", drop)
    shop.fill_cart(TEA, 1, gateway="PortOne V2", method="Card")
    shop.pay_portone_window(shop.open_portone_window())

    expect(page.get_by_role("alert")).to_contain_text("It may have gone through")
    order_id = shop.order_id_from_link()
    assert [body["order_id"] for body in lost] == [order_id]
    hooks = [
        h
        for h in fake_portone.webhooks()
        if h["body"]["type"] == "Transaction.Paid" and h["body"]["data"]["paymentId"] == order_id
    ]
    assert hooks and all(h["delivered"] for h in hooks), hooks
    assert all(h["headers"].get("webhook-signature", "").startswith("v1,") for h in hooks)
    order = backend_db.order(order_id)
    assert order.status == "paid"
    assert ("order.paid", "webhook:portone") in order.audit

    page.unroute("**/api/checkout/complete")
    page.goto(f"/orders/{order_id}")
    expect(shop.status()).to_have_text("Paid")
    screenshot()
