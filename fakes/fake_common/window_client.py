"""A browser stand-in for tests and benchmarks: submits the fakes' payment windows over HTTP."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import requests

from fake_common.window_ui import TERMS_AGREED, TERMS_FIELD, TERMS_LABEL

APPROVED = "4242424242424242"
INSUFFICIENT_FUNDS = "4000000000009995"
AGREED = {TERMS_FIELD: TERMS_AGREED}  # every window's terms step, ticked
RETURN_URL = "http://127.0.0.1:9/return"  # never fetched: redirects are read, not followed
TOSS_CLIENT_KEY = "test_ck_D5GePWvyJnrK0W0k6q8gLzN97Eoq"


def agree_to_terms(window) -> None:
    """In a real browser (a Playwright page showing any fake's window): tick the terms box,
    which enables the Pay / Register / easy-pay buttons."""
    window.get_by_label(TERMS_LABEL).check()


def _query(response: requests.Response) -> dict[str, str]:
    assert response.status_code in (302, 303), (response.status_code, response.text[:500])
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    return {k: v[0] for k, v in query.items()}


def iamport_open_window(
    base_url: str,
    *,
    merchant_uid: str,
    amount: int | float,
    notice_url: str | None = None,
    pay_method: str = "card",
) -> str:
    """IMP.request_pay's popup, opened and left as it is: the imp_uid of its ready payment.

    Then POST /window/{imp_uid}/close is the SDK seeing the popup closed, /cancel its Cancel.
    """
    params = {
        "pay_method": pay_method,
        "merchant_uid": merchant_uid,
        "name": "Test order",
        "amount": amount,
        **({"notice_url": notice_url} if notice_url else {}),
    }
    window = requests.get(
        f"{base_url}/window",
        params={"code": "imp00000000", "mode": "popup", "params": json.dumps(params)},
        timeout=10,
    )
    match = re.search(r"/window/(imp_\w+)/pay", window.text)
    assert match, window.text[:1000]
    return match.group(1)


def iamport_pay(
    base_url: str,
    *,
    merchant_uid: str,
    amount: int | float,
    currency: str = "KRW",
    pay_method: str = "card",
    card: str = APPROVED,
    vbank_code: str = "004",
    notice_url: str | None = None,
    pg: str | None = None,
    customer_uid: str | None = None,
    easy_pay: str | None = None,
) -> dict[str, str]:
    """IMP.request_pay in redirect mode, then the window's Pay button: the m_redirect_url query.

    With customer_uid the window is the billing-key window (Register card): it issues the key
    and pays amount with it (nothing with amount 0).
    """
    params = {
        "pg": pg or ("eximbay" if currency == "USD" else "html5_inicis"),
        "pay_method": pay_method,
        "merchant_uid": merchant_uid,
        "name": "Test order",
        "amount": amount,
        "currency": currency,
        "buyer_name": "Hong Gildong",
        "m_redirect_url": RETURN_URL,
    }
    if notice_url:
        params["notice_url"] = notice_url
    if customer_uid:
        params["customer_uid"] = customer_uid
    window = requests.get(
        f"{base_url}/window",
        params={
            "code": "imp00000000",
            "mode": "redirect",
            "return_url": RETURN_URL,
            "params": json.dumps(params),
        },
        allow_redirects=False,
        timeout=10,
    )
    if window.status_code in (302, 303):
        return _query(window)  # refused before the window opened (e.g. a changed prepared amount)
    match = re.search(r"/window/(imp_\w+)/pay", window.text)
    assert match, window.text[:1000]
    form = (
        {"card_number": card, "expiry": "12/30"}
        if pay_method == "card"
        else {"vbank_code": vbank_code}
    )
    if easy_pay:
        form = {"easy_pay": easy_pay}  # an easy-pay app's button (kakaopay, naverpay, tosspay)
    form.update(AGREED)
    submitted = requests.post(
        f"{base_url}/window/{match.group(1)}/pay", data=form, allow_redirects=False, timeout=10
    )
    return _query(submitted)


def toss_pay(
    base_url: str,
    *,
    order_id: str,
    amount: int | float,
    currency: str = "KRW",
    method: str = "카드",
    card: str = APPROVED,
    bank: str = "88",
    easy_pay: str | None = None,
) -> dict[str, str]:
    """requestPayment in redirect mode, then the window's Pay button: the successUrl/failUrl query."""
    form = {
        "clientKey": TOSS_CLIENT_KEY,
        "method": method,
        "amount": str(amount),
        "currency": currency,
        "orderId": order_id,
        "orderName": "Test order",
        "customerName": "Hong Gildong",
        "successUrl": RETURN_URL + "/success",
        "failUrl": RETURN_URL + "/fail",
        "action": "pay",
        **AGREED,
    }
    if method == "카드":
        form["cardNumber"] = card
    else:
        form["bank"] = bank
    if easy_pay:
        form["easyPay"] = easy_pay  # an easy-pay app's button (토스페이, 네이버페이, 카카오페이)
    return _query(requests.post(f"{base_url}/window", data=form, allow_redirects=False, timeout=10))


def toss_register_card(
    base_url: str, *, customer_key: str, card: str = APPROVED, expiry: str = "12/39"
) -> dict[str, str]:
    """requestBillingAuth in redirect mode, then Register: the successUrl query (customerKey,
    authKey) or the failUrl query (code, message)."""
    form = {
        "clientKey": TOSS_CLIENT_KEY,
        "customerKey": customer_key,
        "successUrl": RETURN_URL + "/billing/success",
        "failUrl": RETURN_URL + "/billing/fail",
        "cardNumber": card,
        "expiry": expiry,
        "action": "register",
        **AGREED,
    }
    return _query(
        requests.post(f"{base_url}/billing-window", data=form, allow_redirects=False, timeout=10)
    )
