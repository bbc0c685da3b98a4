"""The windows' own steps over plain HTTP, in all three fakes: the terms step refuses a submit
without agreement, and a cash receipt asked for on a virtual account is on the paid payment as
each real API shows it."""

from __future__ import annotations

import re

import requests
from portone_server_sdk._generated.payment.payment import _deserialize_payment

from fake_common.window_client import (
    AGREED,
    TOSS_CLIENT_KEY,
    iamport_open_window,
)
from fake_common.window_ui import BANKS, TERMS_FIELD

RETURN = "http://127.0.0.1:9/return"


def _alert(page: str) -> str:
    match = re.search(r'role="alert">([^<]*)<', page)
    assert match, page[:1000]
    return match.group(1)


# -- the terms step ------------------------------------------------------------------------------


def test_iamport_window_refuses_pay_until_the_terms_are_agreed(iamport):
    imp_uid = iamport_open_window(iamport.url, merchant_uid="terms-1", amount=1000)
    page = requests.get(
        f"{iamport.url}/window",
        params={"code": "imp00000000", "params": '{"merchant_uid": "terms-x", "amount": 1}'},
        timeout=5,
    ).text
    assert 'name="agree_terms" value="yes">' in page  # unticked when the window opens
    assert re.search(r'class="primary" data-needs-terms>결제하기', page)

    refused = requests.post(
        f"{iamport.url}/window/{imp_uid}/pay",
        data={"card_number": "4242424242424242"},
        allow_redirects=False,
        timeout=5,
    )
    assert refused.status_code == 400
    assert "약관" in _alert(refused.text)
    assert iamport.payment(imp_uid)["status"] == "ready"

    paid = requests.post(
        f"{iamport.url}/window/{imp_uid}/pay",
        data={"card_number": "4242424242424242", **AGREED},
        timeout=5,
    )
    assert paid.status_code == 200 and iamport.payment(imp_uid)["status"] == "paid"


def test_iamport_cancel_needs_no_agreement(iamport):
    imp_uid = iamport_open_window(iamport.url, merchant_uid="terms-2", amount=1000)
    requests.post(f"{iamport.url}/window/{imp_uid}/cancel", timeout=5)
    assert iamport.payment(imp_uid)["status"] == "failed"


def test_toss_windows_refuse_pay_and_register_until_the_terms_are_agreed(toss):
    refused = requests.post(
        toss.url + "/window",
        data={
            "clientKey": TOSS_CLIENT_KEY,
            "method": "카드",
            "amount": "15000",
            "orderId": "terms-toss-1",
            "orderName": "Coffee",
            "successUrl": RETURN + "/success",
            "failUrl": RETURN + "/fail",
            "cardNumber": "4242424242424242",
            "action": "pay",
        },
        allow_redirects=False,
        timeout=5,
    )
    assert refused.status_code == 400 and "약관" in _alert(refused.text)
    assert toss.gateway.payment_count() == 0
    assert toss.pay_in_window(order_id="terms-toss-1")["path"] == "/success"

    register = {
        "clientKey": TOSS_CLIENT_KEY,
        "customerKey": "cust-terms",
        "successUrl": RETURN + "/ok",
        "failUrl": RETURN + "/fail",
        "cardNumber": "4242424242424242",
        "expiry": "12/39",
        "action": "register",
    }
    refused = requests.post(
        toss.url + "/billing-window", data=register, allow_redirects=False, timeout=5
    )
    assert refused.status_code == 400 and "약관" in _alert(refused.text)
    assert toss.register_card("cust-terms")["path"] == "/billing/success"


def test_toss_window_cancel_needs_no_agreement(toss):
    outcome = toss.pay_in_window(action="cancel", agree_terms="")
    assert outcome["query"]["code"] == "PAY_PROCESS_CANCELED"


def test_portone_window_refuses_pay_until_the_terms_are_agreed(portone):
    page = portone.open_window("payment", portone.payment_request("terms-v2-1"))
    session = re.search(r"/v2/window/([0-9a-f]+)/pay", page.text).group(1)
    refused = requests.post(
        f"{portone.url}/v2/window/{session}/pay",
        data={"card_number": "4242424242424242"},
        allow_redirects=False,
        timeout=5,
    )
    assert refused.status_code == 400 and "약관" in _alert(refused.text)
    assert 'value="4242424242424242"' in refused.text  # what the buyer typed stays
    assert portone.payment("terms-v2-1")["status"] == "READY"

    paid = requests.post(
        f"{portone.url}/v2/window/{session}/pay",
        data={"card_number": "4242424242424242", TERMS_FIELD: "yes"},
        allow_redirects=False,
        timeout=5,
    )
    assert paid.status_code == 302 and portone.payment("terms-v2-1")["status"] == "PAID"


# -- cash receipts --------------------------------------------------------------------------------


def _iamport_vbank_window(iamport, merchant_uid: str) -> str:
    return iamport_open_window(
        iamport.url, merchant_uid=merchant_uid, amount=20000, pay_method="vbank"
    )


def test_iamport_cash_receipt_is_issued_with_the_deposit(iamport):
    imp_uid = _iamport_vbank_window(iamport, "cr-1")
    page = requests.post(
        f"{iamport.url}/window/{imp_uid}/pay",
        data={
            "vbank_code": "088",
            "cash_receipt_type": "소득공제",
            "cash_receipt_number": "010-1234-5678",
            **AGREED,
        },
        timeout=5,
    )
    assert page.status_code == 200
    ready = iamport.payment(imp_uid)
    assert (ready["status"], ready["vbank_name"], ready["cash_receipt_issued"]) == (
        "ready",
        "신한은행",
        False,
    )
    iamport.deposit(imp_uid)
    assert iamport.payment(imp_uid)["cash_receipt_issued"] is True


def test_iamport_without_a_cash_receipt_none_is_issued(iamport):
    imp_uid = _iamport_vbank_window(iamport, "cr-2")
    requests.post(
        f"{iamport.url}/window/{imp_uid}/pay", data={"vbank_code": "004", **AGREED}, timeout=5
    )
    iamport.deposit(imp_uid)
    assert iamport.payment(imp_uid)["cash_receipt_issued"] is False


def test_iamport_window_refuses_a_bad_cash_receipt_number(iamport):
    imp_uid = _iamport_vbank_window(iamport, "cr-3")
    refused = requests.post(
        f"{iamport.url}/window/{imp_uid}/pay",
        data={
            "vbank_code": "004",
            "cash_receipt_type": "지출증빙",
            "cash_receipt_number": "12345",
            **AGREED,
        },
        timeout=5,
    )
    assert refused.status_code == 400 and "사업자등록번호" in _alert(refused.text)
    assert 'name="agree_terms" value="yes" checked' in refused.text  # the agreement stays
    assert iamport.payment(imp_uid)["vbank_num"] is None


def test_toss_cash_receipt_is_on_the_payment_after_the_deposit(toss):
    success = toss.authenticated_payment(
        method="가상계좌",
        bank="06",
        order_id="cr-toss-1",
        amount=33000,
        cash_receipt_type="지출증빙",
        cash_receipt_number="123-45-67890",
    )
    body = {"paymentKey": success["paymentKey"], "orderId": "cr-toss-1", "amount": 33000}
    waiting = toss.post("/v1/payments/confirm", body).json()
    assert waiting["status"] == "WAITING_FOR_DEPOSIT" and waiting["cashReceipt"] is None
    done = toss.deposit("cr-toss-1")
    receipt = done["cashReceipt"]
    assert done["status"] == "DONE"
    assert set(receipt) == {
        "type",
        "receiptKey",
        "issueNumber",
        "receiptUrl",
        "amount",
        "taxFreeAmount",
    }
    assert (receipt["type"], receipt["amount"], receipt["taxFreeAmount"]) == ("지출증빙", 33000, 0)
    assert receipt["issueNumber"].isdigit() and receipt["receiptKey"]
    shown = requests.get(receipt["receiptUrl"], timeout=5).text
    assert "현금영수증 지출증빙" in shown and receipt["issueNumber"] in shown


def test_toss_window_refuses_a_bad_cash_receipt_phone(toss):
    outcome = requests.post(
        toss.url + "/window",
        data={
            "clientKey": TOSS_CLIENT_KEY,
            "method": "가상계좌",
            "amount": "15000",
            "orderId": "cr-toss-2",
            "orderName": "Coffee",
            "successUrl": RETURN + "/success",
            "failUrl": RETURN + "/fail",
            "bank": "06",
            "cash_receipt_type": "소득공제",
            "cash_receipt_number": "02-123-4567",
            "action": "pay",
            **AGREED,
        },
        allow_redirects=False,
        timeout=5,
    )
    assert outcome.status_code == 400 and "휴대폰" in _alert(outcome.text)
    assert toss.gateway.payment_count() == 0


def test_portone_v2_cash_receipt_is_on_the_paid_payment(portone):
    query = portone.pay_in_window(
        "cr-v2-1",
        27000,
        payMethod="VIRTUAL_ACCOUNT",
        bank="KAKAO",
        cash_receipt_type="소득공제",
        cash_receipt_number="01012345678",
    )
    assert "code" not in query, query
    issued = portone.payment("cr-v2-1")
    assert issued["status"] == "VIRTUAL_ACCOUNT_ISSUED" and "cashReceipt" not in issued
    assert issued["method"]["bank"] == "KAKAO"
    portone.deposit("cr-v2-1")
    paid = portone.payment("cr-v2-1")
    receipt = paid["cashReceipt"]
    assert paid["cashReceiptIssuanceStatus"] == "ISSUED"
    assert (receipt["status"], receipt["type"], receipt["totalAmount"], receipt["currency"]) == (
        "ISSUED",
        "PERSONAL",
        27000,
        "KRW",
    )
    parsed = _deserialize_payment(paid)  # the official SDK reads it as an issued receipt
    assert type(parsed.cash_receipt).__name__ == "IssuedPaymentCashReceipt"


def test_portone_v2_without_a_cash_receipt_none_is_issued(portone):
    portone.pay_in_window("cr-v2-2", payMethod="VIRTUAL_ACCOUNT", bank="KOOKMIN")
    portone.deposit("cr-v2-2")
    paid = portone.payment("cr-v2-2")
    assert paid["cashReceiptIssuanceStatus"] == "NOT_ISSUED" and "cashReceipt" not in paid


# -- one look across the three windows -------------------------------------------------------------


def _bank_options(page: str) -> list[str]:
    select = re.search(r'<select id="(?:bank|vbank_code)".*?</select>', page, re.S).group(0)
    return re.findall(r'<option value="\w+"[^>]*>([^<]+)</option>', select)


def test_the_three_windows_show_the_same_banks_terms_and_cash_receipt(iamport, toss, portone):
    iamport_page = requests.get(
        f"{iamport.url}/window",
        params={
            "code": "imp00000000",
            "params": '{"merchant_uid": "look-1", "amount": 1000, "pay_method": "vbank"}',
        },
        timeout=5,
    ).text
    toss_page = requests.get(
        toss.url + "/window",
        params={
            "clientKey": TOSS_CLIENT_KEY,
            "method": "가상계좌",
            "amount": "1000",
            "orderId": "look-1",
            "orderName": "Coffee",
            "successUrl": RETURN + "/s",
            "failUrl": RETURN + "/f",
        },
        timeout=5,
    ).text
    portone_page = portone.open_window(
        "payment", portone.payment_request("look-1", payMethod="VIRTUAL_ACCOUNT")
    ).text
    names = [bank.name for bank in BANKS]
    pages = {"iamport": iamport_page, "toss": toss_page, "portone": portone_page}
    for name, page in pages.items():
        assert _bank_options(page) == names, name
        assert 'id="agree-terms"' in page and 'name="cash_receipt_type"' in page, name


def test_the_billing_windows_ask_for_the_expiry_as_mm_yy(iamport, toss, portone):
    iamport_page = requests.get(
        f"{iamport.url}/window",
        params={
            "code": "imp00000000",
            "params": '{"merchant_uid": "bill-1", "amount": 0, "customer_uid": "c-1"}',
        },
        timeout=5,
    ).text
    toss_page = requests.get(
        toss.url + "/billing-window",
        params={
            "clientKey": TOSS_CLIENT_KEY,
            "customerKey": "c-1",
            "successUrl": RETURN,
            "failUrl": RETURN,
        },
        timeout=5,
    ).text
    portone_page = portone.open_window(
        "issue",
        {
            "storeId": portone.store_id,
            "channelKey": portone.channel_key,
            "billingKeyMethod": "CARD",
        },
    ).text
    header = '<th scope="col">카드번호</th><th scope="col">카드사</th><th scope="col">결과</th>'
    for page in (iamport_page, toss_page, portone_page):
        assert re.search(r'id="expiry"[^>]*placeholder="MM/YY"', page)
        assert header in page and 'id="agree-terms"' in page
