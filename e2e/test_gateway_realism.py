"""Where the real gateways differ from a happy path, as a person sees it in Korean: easy pay on the
receipt, a decline when the shop confirms the card, and a virtual-account refund that is paid out
later (pending, then failed and refundable again)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from fake_common.window_client import agree_to_terms

NOTEBOOK = "Hanji notebook"  # 9,900 KRW
TEA = "Jeju green tea, 100 g"  # 15,000 KRW


def test_toss_easy_pay_is_named_on_the_receipt(shop, backend_db, fake_toss, screenshot):
    page = shop.page
    shop.fill_cart(TEA, 1, gateway="Toss Payments", method="Card")
    shop.open_toss_window()
    agree_to_terms(page)
    page.get_by_role("group", name="간편결제").get_by_role("button", name="토스페이").click()
    order_id = shop.order_id_from_url()
    expect(page.get_by_role("heading", name="결제가 완료되었습니다")).to_be_visible()
    receipt = page.get_by_role("region", name="영수증")
    expect(receipt).to_contain_text("간편결제")
    expect(receipt.get_by_test_id("easy-pay")).to_have_text("토스페이")
    expect(receipt).not_to_contain_text("카드")
    raw = fake_toss.payment_of(order_id)
    assert (raw["method"], raw["card"], raw["easyPay"]["provider"]) == (
        "간편결제",
        None,
        "토스페이",
    )
    screenshot()


def test_portone_easy_pay_is_named_on_the_receipt(shop, backend_db, fake_iamport):
    page = shop.page
    shop.fill_cart(TEA, 1, gateway="PortOne", method="Card")
    window = shop.open_portone_window()
    agree_to_terms(window)
    with window.expect_event("close"):
        window.get_by_role("group", name="간편결제").get_by_role(
            "button", name="카카오페이"
        ).click()
    order_id = shop.order_id_from_url()
    expect(page.get_by_role("heading", name="결제가 완료되었습니다")).to_be_visible()
    expect(page.get_by_role("region", name="영수증").get_by_test_id("easy-pay")).to_have_text(
        "카카오페이"
    )
    payment = fake_iamport.payments_of(order_id)[0]
    assert (payment["pay_method"], payment["emb_pg_provider"]) == ("kakaopay", "kakaopay")


def test_a_card_declined_when_the_shop_confirms_it_tells_the_buyer_why(shop, backend_db, fake_toss):
    page = shop.page
    shop.fill_cart(TEA, 1, gateway="Toss Payments", method="Card")
    shop.open_toss_window()
    shop.pay_toss_window(card="4000 0000 0000 0119")  # passes the window, declined at confirm
    expect(page.get_by_role("heading", name="결제가 완료되지 않았습니다")).to_be_visible()
    order_id = shop.order_id_from_link()
    expect(page.get_by_role("alert")).to_contain_text(
        "카드 한도를 넘었거나 잔액이 부족합니다. 다른 카드로 결제해 주세요."
    )
    order = backend_db.order(order_id)
    assert order.status == "failed" and order.payment is None
    assert order.failure["gateway_code"] == "REJECT_CARD_PAYMENT"
    assert fake_toss.payment_of(order_id)["status"] == "ABORTED"


@pytest.mark.parametrize("outcome", ["FAILED"])
def test_a_virtual_account_refund_is_pending_until_paid_out_and_a_failed_one_is_refundable_again(
    outcome, shop, backend_db, fake_toss, admin_token, screenshot
):
    page = shop.page
    shop.fill_cart(NOTEBOOK, 1, gateway="Toss Payments", method="Virtual account")
    shop.open_toss_window()
    shop.pay_toss_window(card=None)
    order_id = shop.order_id_from_url()
    page.get_by_role("region", name="가상계좌").get_by_role(
        "button", name="입금 시뮬레이션"
    ).click()
    expect(page.get_by_role("heading", name="결제가 완료되었습니다")).to_be_visible()

    shop.open_admin(admin_token)
    row = shop.admin_row(order_id)
    row.get_by_label("환불 은행").select_option(label="신한은행")
    row.get_by_label("계좌번호").fill("999-000-1234")  # the fake's payout fails for 999...
    row.get_by_label("예금주").fill("홍길동")
    row.get_by_role("button", name="환불", exact=True).click()
    row.get_by_role("alertdialog").get_by_role("button", name="환불하기").click()
    expect(row.get_by_role("status")).to_contain_text("구매자 계좌로 보내는 중입니다")
    assert backend_db.order(order_id).payment.refunded == 0  # not money returned yet

    page.goto(f"/orders/{order_id}")
    refunds = page.get_by_role("region", name="환불 내역")
    expect(refunds.get_by_test_id("refund-state")).to_have_text(re.compile("^환불 진행 중"))
    expect(refunds).to_contain_text("9,900원은 구매자 계좌로 보내는 중입니다")
    screenshot("pending")

    fake_toss.control_json("POST", f"refunds/{order_id}/payout", {"outcome": outcome})
    # The gateway's DEPOSIT_CALLBACK reaches the backend; the page polls the order.
    expect(refunds.get_by_test_id("refund-state")).to_have_text(
        "환불 실패 · 다시 환불할 수 있습니다", timeout=15000
    )
    order = backend_db.order(order_id)
    assert (order.status, order.payment.refunded) == ("paid", 0)
    shop.open_admin(admin_token)
    expect(shop.admin_row(order_id).get_by_role("button", name="환불", exact=True)).to_be_visible()
    screenshot("failed")
