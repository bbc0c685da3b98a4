"""A buyer orders by virtual account, transfers the money, and the order page turns paid by itself."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

# The texts below are the demo's English ones: these tests switch the language on purpose.
pytestmark = pytest.mark.english

NOTEBOOK = "Hanji notebook"  # 9,900 KRW


def test_portone_virtual_account_with_simulated_deposit(shop, backend_db, fake_iamport, screenshot):
    page = shop.page
    shop.fill_cart(NOTEBOOK, 2, gateway="PortOne", method="Virtual account")
    window = shop.open_portone_window()
    expect(window.get_by_test_id("order-amount")).to_have_text("19,800 KRW")
    shop.pay_portone_window(window, card=None)

    order_id = shop.order_id_from_url()
    expect(shop.status()).to_have_text("Awaiting deposit")
    account = page.get_by_role("region", name="Virtual account")
    expect(account).to_contain_text("Please transfer 19,800원")
    order = backend_db.order(order_id)
    assert (order.status, order.method, order.amount) == ("awaiting_deposit", "vbank", 19800)
    at_gateway = fake_iamport.payment(order.payment.vendor_payment_id)
    assert (at_gateway["status"], at_gateway["pay_method"]) == ("ready", "vbank")
    expect(account).to_contain_text(at_gateway["vbank_num"])
    expect(account).to_contain_text(at_gateway["vbank_name"])

    account.get_by_role("button", name="Simulate deposit").click()

    expect(shop.status()).to_have_text("Paid")
    expect(account.get_by_role("button", name="Simulate deposit")).to_have_count(0)
    expect(account).to_contain_text("Deposited at")
    order = backend_db.order(order_id)
    assert (order.status, order.payment.status) == ("paid", "paid")
    assert fake_iamport.payment(order.payment.vendor_payment_id)["status"] == "paid"
    screenshot()


def test_toss_virtual_account_with_deposit_at_the_gateway(shop, backend_db, fake_toss, screenshot):
    page = shop.page
    shop.fill_cart(NOTEBOOK, 1, gateway="Toss Payments", method="Virtual account")
    shop.open_toss_window()
    shop.pay_toss_window(card=None)

    order_id = shop.order_id_from_url()
    expect(shop.status()).to_have_text("Awaiting deposit")
    account = page.get_by_role("region", name="Virtual account")
    expect(account).to_contain_text("Please transfer 9,900원")
    at_gateway = fake_toss.payment_of(order_id)
    assert (at_gateway["status"], at_gateway["method"]) == ("WAITING_FOR_DEPOSIT", "가상계좌")
    expect(account).to_contain_text(at_gateway["virtualAccount"]["accountNumber"])
    order = backend_db.order(order_id)
    assert (order.status, order.payment.status) == ("awaiting_deposit", "awaiting_deposit")

    # The buyer transfers at the bank: only Toss's webhook tells the backend, and the open page
    # notices without a reload.
    fake_toss.deposit(order_id)

    expect(shop.status()).to_have_text("Paid", timeout=15_000)
    expect(account).to_contain_text("Deposited at")
    order = backend_db.order(order_id)
    assert (order.status, order.payment.status) == ("paid", "paid")
    assert any(actor == "webhook:toss" for action, actor in order.audit if action == "order.paid")
    assert fake_toss.payment_of(order_id)["status"] == "DONE"
    screenshot()
