"""The demo's tamper switch opens the payment window with 1,000 won less than the order."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from fake_common.window_client import iamport_pay

# The texts below are the demo's English ones: these tests switch the language on purpose.
pytestmark = pytest.mark.english

TEA = "Jeju green tea, 100 g"  # 15,000 KRW; tampered: 14,000 KRW
MISMATCH = "The amount paid did not match the order; the payment was cancelled."


def test_tamper_without_preregistration_is_rejected_and_cancelled(
    iamport_prepare_off, shop, backend_db, fake_iamport, screenshot
):
    page = shop.page
    shop.fill_cart(TEA, 1, gateway="PortOne", method="Card", tamper=True)
    expect(page.get_by_text("Total 15,000원")).to_be_visible()
    window = shop.open_portone_window()
    # Nothing registered the amount at the gateway, so the window takes the forged one.
    expect(window.get_by_test_id("order-amount")).to_have_text("14,000 KRW")
    shop.pay_portone_window(window)

    order_id = shop.order_id_from_url()
    expect(shop.status()).to_have_text("Rejected")
    expect(page.get_by_role("alert")).to_have_text(MISMATCH)
    expect(page.get_by_role("region", name="Refunds")).to_contain_text(
        "Refunded 14,000원 in total; 0원 remains."
    )

    order = backend_db.order(order_id)
    assert order.status == "rejected"
    assert order.failure["code"] == "AMOUNT_MISMATCH"
    assert (order.failure["expected"], order.failure["paid"]) == (15000, 14000)
    [at_gateway] = fake_iamport.payments_of(order_id)
    assert (at_gateway["status"], at_gateway["amount"]) == ("cancelled", 14000)
    assert at_gateway["cancel_amount"] == 14000  # every won taken went back
    assert order.payment.status == "refunded" or order.payment.refunded == 14000

    page.reload()  # the order keeps its failure, not only the moment after the redirect
    expect(shop.status()).to_have_text("Rejected")
    expect(page.get_by_role("alert")).to_have_text(MISMATCH)
    screenshot()


def test_rejected_forgery_is_not_shown_as_paid_in_full(iamport_prepare_off, shop, system):
    api = requests.Session()
    created = api.post(
        f"{system.url}/api/checkout/orders",
        json={"vendor": "iamport", "method": "card", "items": [{"product_id": 1, "quantity": 1}]},
        timeout=10,
    )
    order_id = created.json()["order_id"]
    paid = iamport_pay(system.iamport.url, merchant_uid=order_id, amount=14000)
    answer = api.post(
        f"{system.url}/api/checkout/complete",
        json={
            "order_id": order_id,
            "vendor": "iamport",
            "payment_id": paid["imp_uid"],
            "amount": 14000,
        },
        timeout=10,
    )
    assert answer.json()["code"] == "AMOUNT_MISMATCH"

    shop.page.goto(f"/orders/{order_id}")
    expect(shop.status()).to_have_text("Rejected")
    # 14,000 won were taken and given back; 15,000 were never paid.
    receipt = shop.page.get_by_role("region", name="Receipt")
    expect(receipt).not_to_contain_text("15,000원", timeout=1000)  # the page has loaded


def test_tamper_with_preregistration_is_refused_by_the_window(
    shop, backend_db, fake_iamport, screenshot
):
    page = shop.page
    shop.fill_cart(TEA, 1, gateway="PortOne", method="Card", tamper=True)
    with page.expect_popup() as popup:
        shop.pay_button().click()
    # The backend registered 15,000 KRW for this order; the window refuses 14,000 and closes.
    popup.value.wait_for_event("close")

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("15,000")
    expect(alert).to_contain_text("14,000")
    order_id = shop.order_id_from_link()
    expect(page).to_have_url(re.compile(r"/$"))

    assert fake_iamport.payments_of(order_id) == []  # no payment at all, so nothing charged
    order = backend_db.order(order_id)
    assert order.status == "failed"
    assert order.payment is None

    page.get_by_role("link", name=f"View order {order_id}").click()
    expect(shop.status()).to_have_text("Failed")
    screenshot()


def test_toss_tamper_is_never_confirmed(shop, backend_db, fake_toss, screenshot):
    page = shop.page
    shop.fill_cart(TEA, 1, gateway="Toss Payments", method="Card", tamper=True)
    shop.open_toss_window()
    expect(page.get_by_label("Amount")).to_contain_text("14,000")
    shop.pay_toss_window()

    order_id = shop.order_id_from_url()
    expect(shop.status()).to_have_text("Rejected")
    expect(page.get_by_role("alert")).to_have_text(MISMATCH)

    order = backend_db.order(order_id)
    assert order.status == "rejected"
    assert order.failure["code"] == "AMOUNT_MISMATCH"
    # The backend refused to confirm: Toss authorised the window but never took the money.
    at_gateway = fake_toss.payment_of(order_id)
    assert at_gateway["status"] == "IN_PROGRESS"
    assert at_gateway["approvedAt"] is None
    screenshot()
