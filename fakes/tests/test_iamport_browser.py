"""A plain shop page on another origin drives the fake's IMP SDK and payment window in Chromium."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask, request

from fake_common.server import serve_in_thread
from fake_common.window_client import agree_to_terms

SHOP_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test shop</title>
<script src="{fake}/sdk/iamport.js"></script></head>
<body>
<h1>Test shop</h1>
<button type="button" id="buy">Buy</button>
<pre id="result"></pre>
<script>
  IMP.init("imp00000000");
  var params = {params};
  document.getElementById("buy").addEventListener("click", function () {{
    IMP.request_pay(params, function (rsp) {{
      document.getElementById("result").textContent = JSON.stringify(rsp);
    }});
  }});
</script>
</body></html>"""


def serve_shop(fake):
    """A shop on its own port (another origin) whose Buy button calls IMP.request_pay(params)."""
    app = Flask("test_shop")

    @app.get("/")
    def index():
        return SHOP_PAGE.format(fake=fake.url, params=request.args.get("params", "{}"))

    @app.get("/return")
    def back():
        return f"<pre id='return'>{json.dumps(request.args.to_dict())}</pre>"

    return serve_in_thread(app)


@pytest.fixture
def shop(iamport):
    """The shop against a fake with the default (minimal) callback."""
    with serve_shop(iamport) as server:
        yield server.url


@pytest.fixture
def rich(iamport_factory):
    """A fake that answers request_pay with the legacy (rich) callback."""
    return iamport_factory({"CALLBACK": "rich"})


@pytest.fixture
def rich_shop(rich):
    """The shop against the rich fake."""
    with serve_shop(rich) as server:
        yield server.url


def buy(page, shop: str, **params) -> None:
    """Open the shop with these request_pay params and press Buy."""
    page.goto(f"{shop}/?params={json.dumps(params)}")
    page.get_by_role("button", name="Buy").click()


def buy_in_popup(page, shop: str, **params):
    """Press Buy in the shop and return the payment window it opens as a popup."""
    with page.expect_popup() as popup_info:
        buy(page, shop, **params)
    return popup_info.value


def submit(popup, button: str) -> None:
    """Click the window's button and wait for the popup to close itself."""
    agree_to_terms(popup)  # the terms step (harmless before Cancel)
    with popup.expect_event("close"):
        popup.get_by_role("button", name=button).click()


def callback_rsp(page) -> dict:
    """Wait for the shop's callback to fire and return rsp."""
    page.wait_for_function("document.getElementById('result').textContent !== ''", timeout=10_000)
    return json.loads(page.text_content("#result"))


def test_card_payment_in_popup(page, rich_shop, rich):
    popup = buy_in_popup(
        page,
        rich_shop,
        pay_method="card",
        merchant_uid="web-card-1",
        name="Blue shoes",
        amount=15000,
        buyer_name="홍길동",
    )
    popup.wait_for_load_state()
    assert popup.get_by_test_id("order-amount").text_content() == "15,000 KRW"
    assert popup.get_by_test_id("order-name").text_content() == "Blue shoes"
    assert popup.get_by_role("table", name="Test cards").is_visible()
    # The card-company picker fills in that company's test card; 할부 months go to card_quota.
    popup.get_by_label("Card company").select_option(label="신한카드")
    assert popup.get_by_label("Card number").input_value() == "4242 4242 4242 4242"
    popup.get_by_label("Instalments").select_option("3")
    submit(popup, "Pay")

    rsp = callback_rsp(page)
    assert rsp["success"] is True and rsp["error_code"] is None
    assert rsp["card_quota"] == 3
    assert rsp["merchant_uid"] == "web-card-1" and rsp["paid_amount"] == 15000
    assert rsp["status"] == "paid" and rsp["pay_method"] == "card" and rsp["currency"] == "KRW"
    assert (
        rsp["card_name"]
        and rsp["card_number"] == "424242******4242"
        and rsp["buyer_name"] == "홍길동"
    )
    payment = rich.get(f"/payments/{rsp['imp_uid']}").json()["response"]
    assert payment["status"] == "paid" and payment["amount"] == 15000 and payment["channel"] == "pc"


def test_usd_and_declined_card(page, rich_shop, rich):
    popup = buy_in_popup(
        page,
        rich_shop,
        pay_method="card",
        merchant_uid="web-usd",
        name="Hat",
        amount=12.5,
        currency="USD",
    )
    assert popup.get_by_test_id("order-amount").text_content() == "$12.50"
    popup.get_by_label("Card number").fill("4000 0000 0000 9995")
    submit(popup, "Pay")
    rsp = callback_rsp(page)
    assert rsp["success"] is False and rsp["error_code"] == "F0004" and rsp["error_msg"]
    assert rsp["status"] == "failed" and rsp["currency"] == "USD" and rsp["paid_amount"] == 12.5
    assert rich.get(f"/payments/{rsp['imp_uid']}").json()["response"]["pg_provider"] == "eximbay"


def test_vbank_in_popup_then_deposit(page, rich_shop, rich):
    popup = buy_in_popup(
        page,
        rich_shop,
        pay_method="vbank",
        merchant_uid="web-vbank",
        name="Desk",
        amount=120000,
        vbank_due="20991231",
    )
    popup.get_by_label("Bank").select_option(label="신한은행")
    submit(popup, "Pay")
    rsp = callback_rsp(page)
    assert rsp["success"] is True and rsp["status"] == "ready" and rsp["pay_method"] == "vbank"
    assert rsp["vbank_name"] == "신한은행" and rsp["vbank_num"] and rsp["vbank_holder"]
    assert rsp["vbank_date"] == 4102412399  # 2099-12-31 23:59:59 KST
    assert rich.deposit(rsp["imp_uid"])["response"]["status"] == "paid"


def test_closing_the_popup_is_a_user_cancel(page, shop, iamport):
    popup = buy_in_popup(
        page, shop, pay_method="card", merchant_uid="web-close", name="Lamp", amount=5000
    )
    popup.get_by_label("Card number").wait_for()
    popup.close()
    rsp = callback_rsp(page)
    assert rsp == {
        "imp_uid": rsp["imp_uid"],
        "merchant_uid": "web-close",
        "error_code": "F400",
        "error_msg": "사용자가 결제를 취소하셨습니다",
    }
    # Closed, not cancelled: the payment stays ready at the gateway (it may still be approved).
    assert iamport.payment(rsp["imp_uid"])["status"] == "ready"


def test_the_callback_is_minimal(page, shop, iamport):
    popup = buy_in_popup(
        page, shop, pay_method="card", merchant_uid="web-min", name="Cap", amount=7000
    )
    popup.get_by_label("Card number").fill("4242424242424242")
    submit(popup, "Pay")
    rsp = callback_rsp(page)
    assert rsp == {
        "imp_uid": rsp["imp_uid"],
        "merchant_uid": "web-min",
        "error_code": None,
        "error_msg": None,
    }
    assert iamport.payment(rsp["imp_uid"])["status"] == "paid"  # only a look-up says so


def test_billing_key_window_and_prepared_amount(page, rich_shop, rich):
    popup = buy_in_popup(
        page,
        rich_shop,
        pay_method="card",
        merchant_uid="web-bill",
        name="Monthly plan",
        amount=0,
        customer_uid="web-customer",
    )
    popup.get_by_label("Card number").fill("4111 1111 1111 1111")
    popup.get_by_label("Expiry").fill("2099-12")
    submit(popup, "Register card")
    rsp = callback_rsp(page)
    assert rsp["success"] is True and rsp["customer_uid"] == "web-customer"
    customer = rich.get("/subscribe/customers/web-customer").json()["response"]
    assert customer["card_number"] == "411111******1111"

    rich.post("/payments/prepare", {"merchant_uid": "web-prepared", "amount": 10000})
    buy_in_popup(
        page, rich_shop, pay_method="card", merchant_uid="web-prepared", name="Tampered", amount=100
    )
    rsp = callback_rsp(page)
    assert rsp["success"] is False and rsp["imp_uid"] is None and "10,000 KRW" in rsp["error_msg"]


IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


def test_m_redirect_url_is_for_phones_a_pc_gets_the_popup(page, shop, iamport):
    popup = buy_in_popup(
        page,
        shop,
        pay_method="card",
        merchant_uid="web-pc-redirect",
        name="Mug",
        amount=8000,
        m_redirect_url=f"{shop}/return",
    )
    popup.get_by_label("Card number").fill("4242424242424242")
    submit(popup, "Pay")
    rsp = callback_rsp(page)
    assert rsp["error_code"] is None and iamport.payment(rsp["imp_uid"])["status"] == "paid"


def test_redirect_mode(browser, shop, iamport):
    context = browser.new_context(user_agent=IPHONE, viewport={"width": 390, "height": 844})
    page = context.new_page()
    buy(
        page,
        shop,
        pay_method="card",
        merchant_uid="web-redirect",
        name="Mug",
        amount=8000,
        m_redirect_url=f"{shop}/return?from=test",
    )
    page.get_by_label("Card number").fill("4242424242424242")
    agree_to_terms(page)
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url(f"{shop}/return*")
    query = parse_qs(urlsplit(page.url).query)
    assert query["from"] == ["test"] and query["merchant_uid"] == ["web-redirect"]
    assert "imp_success" not in query and "error_code" not in query
    assert iamport.get(f"/payments/{query['imp_uid'][0]}").json()["response"]["status"] == "paid"

    buy(
        page,
        shop,
        pay_method="card",
        merchant_uid="web-redirect-2",
        name="Mug",
        amount=8000,
        m_redirect_url=f"{shop}/return",
    )
    page.get_by_role("button", name="Cancel").click()
    page.wait_for_url(f"{shop}/return*")
    query = parse_qs(urlsplit(page.url).query)
    assert "imp_success" not in query and query["error_code"] == ["F400"]
    assert query["error_msg"] == ["사용자가 결제를 취소하셨습니다"]
    assert query["imp_uid"][0].startswith("imp_")
    context.close()


def test_blocked_popup_falls_back_to_redirect(page, shop, iamport):
    page.add_init_script("window.open = function () { return null; };")
    buy(page, shop, pay_method="card", merchant_uid="web-blocked", name="Cup", amount=3000)
    page.get_by_label("Card number").fill("4242424242424242")
    agree_to_terms(page)
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url(f"{shop}/?*imp_uid=*")
    query = parse_qs(urlsplit(page.url).query)
    assert query["merchant_uid"] == ["web-blocked"] and "error_code" not in query
    assert "params" in query  # back on the very page that called request_pay
