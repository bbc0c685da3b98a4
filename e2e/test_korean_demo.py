"""The demo as a Korean shop uses it: Korean by default with English as a switch, the owner's
refund of a virtual account (to the buyer's bank account, confirmed first), Back from a paid Toss
order, and the phone's redirect return (m_redirect_url, successUrl) at 390 px for each gateway."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from fake_common.window_client import agree_to_terms

NOTEBOOK = "Hanji notebook"  # 9,900 KRW
TEA = "Jeju green tea, 100 g"  # 15,000 KRW
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
ORDER_URL = re.compile(r"/orders/(ord_[0-9a-f]+)$")
# Each gateway's own code for 신한은행, as the refund picker sends it.
SHINHAN = {"PortOne": "088", "Toss Payments": "88"}


def use_language(page: Page, lang: str) -> None:
    """Open the demo in `lang` from the next navigation on."""
    page.add_init_script(f"window.localStorage.setItem('lang', '{lang}')")


def paid_by_card(shop, gateway: str, product: str = TEA) -> str:
    """Pay one product by card in the gateway's window; the order id."""
    shop.fill_cart(product, 1, gateway=gateway, method="Card")
    if gateway == "PortOne":
        shop.pay_portone_window(shop.open_portone_window())
    else:
        shop.open_toss_window()
        shop.pay_toss_window()
    return shop.order_id_from_url()


@pytest.mark.parametrize("gateway", ["PortOne", "Toss Payments"])
def test_the_owner_refunds_a_deposited_virtual_account_to_the_buyers_account(
    gateway, shop, backend_db, fake_iamport, fake_toss, admin_token, screenshot, request
):
    page = shop.page
    shop.fill_cart(NOTEBOOK, 1, gateway=gateway, method="Virtual account")
    if gateway == "PortOne":
        shop.pay_portone_window(shop.open_portone_window(), card=None)
    else:
        shop.open_toss_window()
        shop.pay_toss_window(card=None)
    order_id = shop.order_id_from_url()
    expect(page.get_by_role("heading", name="입금을 기다리고 있습니다")).to_be_visible()
    account = page.get_by_role("region", name="가상계좌")
    expect(account).to_contain_text("이 계좌로 9,900원을 입금해 주세요")
    expect(account.get_by_role("button", name="계좌번호 복사")).to_be_visible()
    if gateway == "Toss Payments":
        # Toss sends a bank code: the page names the bank, and the buyer is not the "holder".
        code = fake_toss.payment_of(order_id)["virtualAccount"]["bankCode"]
        expect(account).not_to_contain_text(re.compile(rf"은행\s*{code}\b"))
        expect(account).to_contain_text("입금자 (구매자)")
    account.get_by_role("button", name="입금 시뮬레이션").click()
    expect(page.get_by_role("heading", name="결제가 완료되었습니다")).to_be_visible()

    shop.open_admin(admin_token)
    row = shop.admin_row(order_id)
    refund = row.get_by_role("button", name="환불", exact=True)
    refund.click()
    expect(row.get_by_role("alert")).to_have_text("구매자의 환불 계좌 은행을 고르세요.")
    row.get_by_label("환불 은행").select_option(label="신한은행")
    row.get_by_label("계좌번호").fill("110-12")
    row.get_by_label("예금주").fill("홍길동")
    refund.click()
    expect(row.get_by_role("alert")).to_contain_text("숫자 6~20자리")
    row.get_by_label("계좌번호").fill("110-123-456789")

    # The owner is asked before anything moves, and may say no.
    refund.click()
    confirm = row.get_by_role("alertdialog")
    expect(confirm).to_have_text(re.compile("^9,900원을 환불할까요?"))
    confirm.get_by_role("button", name="취소").click()
    expect(confirm).to_have_count(0)
    assert backend_db.order(order_id).payment.refunded == 0

    refund.click()
    confirm.get_by_role("button", name="환불하기").click()
    # A bank transfer back to the buyer is paid out later: sent, not yet refunded.
    expect(row.get_by_role("status")).to_have_text(
        "9,900원을 구매자 계좌로 보내는 중입니다. 입금되면 환불 완료로 바뀝니다. 남은 금액: 0원."
    )
    expect(refund).to_have_count(0)  # nothing left to refund: no form
    expect(row).to_contain_text("+9,900원 진행 중")

    order = backend_db.order(order_id)
    assert (order.status, order.payment.refunded, order.payment.cancels) == (
        "paid",
        0,
        [9900],
    )
    if gateway == "PortOne":
        assert fake_iamport.payment(order.payment.vendor_payment_id)["status"] == "cancelled"
    else:
        at_gateway = fake_toss.payment_of(order_id)
        assert at_gateway["status"] == "CANCELED"
        to = at_gateway["virtualAccount"]["refundReceiveAccount"]
        assert (to["bankCode"], to["accountNumber"], to["holderName"]) == (
            SHINHAN[gateway],
            "110123456789",
            "홍길동",
        )
    screenshot(f"{request.node.name}-owner")


def test_a_row_with_nothing_refundable_has_no_refund_form(shop, admin_token):
    page = shop.page
    shop.fill_cart(TEA, 1, gateway="PortOne", method="Card")
    window = shop.open_portone_window()
    with window.expect_event("close"):
        window.get_by_role("button", name="취소").click()  # the buyer gives up: a failed order
    order_id = shop.order_id_from_link()
    shop.open_admin(admin_token)
    row = shop.admin_row(order_id)
    expect(row).to_contain_text("결제 실패")
    expect(row.get_by_role("button", name="환불", exact=True)).to_have_count(0)
    # The status filter: the failed order shows among failed ones, not among paid ones.
    page.get_by_label("상태 필터").select_option(label="결제 실패")
    expect(row).to_be_visible()
    expect(page.get_by_role("table")).not_to_contain_text("결제 완료")
    page.get_by_label("상태 필터").select_option(label="결제 완료")
    expect(row).to_have_count(0)
    page.get_by_label("검색 (주문번호, 구매자, 상품)").fill(order_id)
    expect(page.get_by_text("조건에 맞는 주문이 없습니다.")).to_be_visible()


def test_back_from_a_paid_toss_order_does_not_reopen_the_window(
    shop, backend_db, fake_toss, screenshot
):
    page = shop.page
    order_id = paid_by_card(shop, "Toss Payments")
    expect(page.get_by_role("heading", name="결제가 완료되었습니다")).to_be_visible()

    page.go_back()

    # The window refuses the spent order and sends the buyer to failUrl, where the order is
    # looked at first: it is paid, and nothing is recorded as failed.
    expect(page.get_by_role("heading", name="이미 결제된 주문입니다")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/checkout/toss/fail\?"))
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.get_by_text("결제 번호")).to_have_count(0)
    order = backend_db.order(order_id)
    assert (order.status, order.failure) == ("paid", None)
    assert fake_toss.payment_of(order_id)["status"] == "DONE"
    screenshot()
    shop.order_link(order_id).click()
    expect(shop.status()).to_have_text("결제 완료")


def fits_the_screen(page: Page) -> bool:
    """No sideways scrolling of the page itself at its width."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("gateway", ["PortOne", "Toss Payments"])
def test_a_phone_comes_back_by_redirect_and_the_order_is_paid(
    gateway, phone, backend_db, fake_iamport, fake_toss, request
):
    page = phone.page
    phone.fill_cart(TEA, 1, gateway=gateway, method="Card")
    assert fits_the_screen(page)
    phone.pay_button().click()
    # The whole page goes to the gateway's window (no popup on a phone) and comes back.
    fake = fake_iamport if gateway == "PortOne" else fake_toss
    expect(page).to_have_url(re.compile(re.escape(fake.url) + "/window"))
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    agree_to_terms(page)
    page.get_by_role("button", name="결제하기").click()

    expect(page).to_have_url(ORDER_URL)
    order_id = ORDER_URL.search(page.url).group(1)
    expect(page.get_by_role("heading", name="결제가 완료되었습니다")).to_be_visible()
    expect(phone.status()).to_have_text("결제 완료")
    assert fits_the_screen(page)
    order = backend_db.order(order_id)
    assert (order.status, order.amount, order.payment.status) == ("paid", 15000, "paid")
    if gateway == "PortOne":
        at_gateway = fake_iamport.payment(order.payment.vendor_payment_id)
        assert (at_gateway["status"], at_gateway["amount"]) == ("paid", 15000)
        assert at_gateway["buyer_tel"] == "010-1234-5678"  # PGs require it
        assert at_gateway["buyer_name"] == "홍길동"
    else:
        assert fake_toss.payment_of(order_id)["status"] == "DONE"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)


def test_a_phone_that_cancels_in_the_portone_window_is_told_so(phone, backend_db):
    page = phone.page
    phone.fill_cart(TEA, 1, gateway="PortOne", method="Card")
    phone.pay_button().click()
    page.get_by_role("button", name="취소").click()
    expect(page).to_have_url(re.compile(r"/checkout/portone/return\?"))
    expect(page.get_by_role("heading", name="결제에 실패했습니다")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text("결제하기 전에 결제창이 닫혔습니다.")
    order_id = phone.order_id_from_link()
    expect(page.get_by_role("link", name=f"주문 {order_id} 보기")).to_be_visible()
    assert backend_db.order(order_id).status == "failed"


def test_korean_by_default_and_english_as_a_switch(page: Page, system):
    page.set_default_timeout(10_000)
    page.goto("/")
    expect(page.get_by_role("heading", name="상점", exact=True)).to_be_visible()
    expect(page).to_have_title("상점 · 결제 데모")
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    expect(page.get_by_label("구매자 이름")).to_have_value("홍길동")
    expect(page.get_by_text("15,000원").first).to_be_visible()

    page.get_by_role("group", name="언어").get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Shop", exact=True)).to_be_visible()
    expect(page).to_have_title("Shop · Payment demo")
    expect(page.get_by_label("Buyer name")).to_have_value("Hong Gildong")
    expect(page.get_by_text("15,000원").first).to_be_visible()  # won stay won

    page.reload()  # the choice is remembered
    expect(page.get_by_role("heading", name="Shop", exact=True)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("group", name="Language").get_by_role("button", name="한국어").click()
    expect(page.get_by_role("heading", name="상점", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="주문 관리")).to_be_visible()


# Every page of the demo, for the screenshots in both languages ({order} is a paid order's id).
PAGES = {
    "shop": ("/", {"ko": "상점", "en": "Shop"}),
    "order": ("/orders/{order}", {"ko": "결제가 완료되었습니다", "en": "Payment complete"}),
    "toss-fail": (
        "/checkout/toss/fail?code=REJECT_CARD_PAYMENT&message=x&orderId={order}",
        {"ko": "이미 결제된 주문입니다", "en": "This order is already paid"},
    ),
    "admin": ("/admin", {"ko": "주문 관리", "en": "Orders"}),
    "subscribe": ("/subscribe", {"ko": "정기결제 신청", "en": "Subscribe"}),
    "admin-subscriptions": ("/admin/subscriptions", {"ko": "구독자 관리", "en": "Subscriptions"}),
    "not-found": ("/nowhere", {"ko": "페이지를 찾을 수 없습니다", "en": "Page not found"}),
}


@pytest.mark.parametrize("lang", ["ko", "en"])
@pytest.mark.parametrize("width", [1440, 390])
def test_screenshots_of_every_page(lang, width, shop, admin_token):
    page = shop.page
    order_id = paid_by_card(shop, "PortOne")
    page.goto("/admin")
    page.get_by_label(shop.text("admin_token")).fill(admin_token)
    page.get_by_role("button", name=shop.text("save_token")).click()
    use_language(page, lang)
    page.set_viewport_size({"width": width, "height": 900})
    folder = ARTIFACTS / "pages"
    folder.mkdir(parents=True, exist_ok=True)
    for name, (path, headings) in PAGES.items():
        page.goto(path.format(order=order_id))
        if headings:
            expect(page.get_by_role("heading", level=1)).to_have_text(headings[lang])
        else:
            expect(page.get_by_role("heading", level=1)).to_be_visible()
        page.wait_for_load_state("networkidle")
        assert fits_the_screen(page), f"{name} scrolls sideways at {width} px"
        if name == "admin" and width == 1440:
            table = page.locator(".table-scroll")
            assert table.evaluate("t => t.scrollWidth <= t.clientWidth"), "the table scrolls"
        page.screenshot(path=str(folder / f"{name}-{lang}-{width}.png"), full_page=True)
