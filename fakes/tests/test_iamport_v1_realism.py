"""Issue 14, items 8-10, over HTTP: the minimal request_pay answer, closed windows and late
approvals, test-channel look-ups, and webhook retries on network errors and 5xx only."""

from __future__ import annotations

import json
import re

from fake_common.polling import wait_until
from fake_common.window_client import AGREED, iamport_open_window, iamport_pay

FAILING_CARD = "4000000000009995"


def popup_rsp(fake, imp_uid: str, card: str = "4242424242424242") -> dict:
    """Pay a popup window; the rsp its result page posts to the opener."""
    page = fake.http.post(
        f"{fake.url}/window/{imp_uid}/pay", data={"card_number": card, "expiry": "12/30", **AGREED}
    )
    match = re.search(r"var rsp = (\{.*?\});", page.text)
    assert match, page.text[:500]
    return json.loads(match.group(1))


def test_the_callback_is_minimal_by_default(iamport):
    imp_uid = iamport_open_window(iamport.url, merchant_uid="min-1", amount=1000)
    assert popup_rsp(iamport, imp_uid) == {
        "imp_uid": imp_uid,
        "merchant_uid": "min-1",
        "error_code": None,
        "error_msg": None,
    }
    declined = iamport_open_window(iamport.url, merchant_uid="min-2", amount=1000)
    rsp = popup_rsp(iamport, declined, card=FAILING_CARD)
    assert set(rsp) == {"imp_uid", "merchant_uid", "error_code", "error_msg"}
    assert rsp["error_code"] == "F0004" and rsp["error_msg"]


def test_the_redirect_is_minimal_by_default(iamport):
    paid = iamport_pay(iamport.url, merchant_uid="min-r1", amount=1000)
    assert set(paid) == {"imp_uid", "merchant_uid"}  # no imp_success
    failed = iamport_pay(iamport.url, merchant_uid="min-r2", amount=1000, card=FAILING_CARD)
    assert set(failed) == {"imp_uid", "merchant_uid", "error_code", "error_msg"}


def test_the_rich_callback_behind_a_setting(iamport_factory):
    fake = iamport_factory({"CALLBACK": "rich"})
    imp_uid = iamport_open_window(fake.url, merchant_uid="rich-1", amount=1000)
    rsp = popup_rsp(fake, imp_uid)
    assert rsp["success"] is True and rsp["imp_success"] is True and rsp["paid_amount"] == 1000
    assert rsp["status"] == "paid"
    assert iamport_pay(fake.url, merchant_uid="rich-2", amount=1000)["imp_success"] == "true"
    sdk = fake.http.get(f"{fake.url}/sdk/iamport.js").text
    assert "var RICH_CALLBACK = true;" in sdk


def test_closing_the_window_leaves_the_payment_ready(iamport):
    imp_uid = iamport_open_window(iamport.url, merchant_uid="close-1", amount=1000)
    rsp = iamport.http.post(f"{iamport.url}/window/{imp_uid}/close").json()
    assert rsp == {
        "imp_uid": imp_uid,
        "merchant_uid": "close-1",
        "error_code": "F400",
        "error_msg": "사용자가 결제를 취소하셨습니다",
    }
    assert iamport.payment(imp_uid)["status"] == "ready"
    # Cancel is still a failure.
    cancelled = iamport_open_window(iamport.url, merchant_uid="close-2", amount=1000)
    iamport.http.post(f"{iamport.url}/window/{cancelled}/cancel")
    assert iamport.payment(cancelled)["status"] == "failed"


def test_closing_fails_the_payment_with_closed_window_failed(iamport_factory):
    fake = iamport_factory({"CLOSED_WINDOW": "failed"})
    imp_uid = iamport_open_window(fake.url, merchant_uid="close-3", amount=1000)
    fake.http.post(f"{fake.url}/window/{imp_uid}/close")
    assert fake.payment(imp_uid)["status"] == "failed"


def test_a_ready_or_failed_payment_approved_late_sends_its_webhook(
    iamport_factory, webhook_receiver
):
    fake = iamport_factory({"WEBHOOK_URL": f"{webhook_receiver.url}/hook"})
    ready = iamport_open_window(fake.url, merchant_uid="late-1", amount=1000)
    fake.http.post(f"{fake.url}/window/{ready}/close")
    failed = iamport_open_window(fake.url, merchant_uid="late-2", amount=1000)
    fake.http.post(f"{fake.url}/window/{failed}/cancel")
    assert webhook_receiver.received == []  # a failed window payment sends nothing

    for imp_uid in (ready, failed):
        approved = fake.approve_late(imp_uid)["response"]
        assert approved["status"] == "paid" and approved["paid_at"] > 0
        assert fake.payment(imp_uid)["status"] == "paid"
    bodies = [r["body"] for r in webhook_receiver.wait_for(2)]
    assert bodies == [
        {"imp_uid": ready, "merchant_uid": "late-1", "status": "paid"},
        {"imp_uid": failed, "merchant_uid": "late-2", "status": "paid"},
    ]
    again = fake.control("POST", f"approve/{ready}")
    assert again.status_code == 400 and again.json()["code"] == -1


def test_test_channel_payments_are_hidden_without_include_sandbox(iamport_factory):
    fake = iamport_factory({"HIDE_SANDBOX": True})
    imp_uid = iamport_pay(fake.url, merchant_uid="sb-1", amount=1000)["imp_uid"]
    for query in ({}, {"include_sandbox": "false"}):
        hidden = fake.get(f"/payments/{imp_uid}", params=query, sandbox=False)
        assert hidden.status_code == 404
        assert hidden.json() == {
            "code": -1,
            "message": "존재하지 않는 결제정보입니다.",
            "response": None,
        }
    shown = fake.get(f"/payments/{imp_uid}", params={"include_sandbox": "true"}, sandbox=False)
    assert shown.status_code == 200 and shown.json()["response"]["sandbox"] is True
    # Only that route hides them (the schema gives the parameter to no other).
    found = fake.get("/payments/find/sb-1", sandbox=False)
    assert found.status_code == 200


def test_by_default_test_channel_payments_are_shown(iamport):
    imp_uid = iamport_pay(iamport.url, merchant_uid="sb-2", amount=1000)["imp_uid"]
    assert iamport.get(f"/payments/{imp_uid}", sandbox=False).status_code == 200


def _delivery(fake, merchant_uid: str, **want) -> dict:
    def match():
        for hook in fake.webhooks():
            if hook["body"]["merchant_uid"] == merchant_uid and all(
                hook[k] == v for k, v in want.items()
            ):
                return hook
        return None

    return wait_until(match)


def test_webhooks_are_retried_after_5xx_and_network_errors_only(iamport_factory, webhook_receiver):
    fake = iamport_factory({"WEBHOOK_URL": f"{webhook_receiver.url}/hook", "WEBHOOK_RETRIES": 5})
    webhook_receiver.statuses = [500, 400]
    iamport_pay(fake.url, merchant_uid="retry-5xx", amount=1000)
    hook = _delivery(fake, "retry-5xx", state="retrying")
    assert [a["status"] for a in hook["attempts"]] == [500]
    fake.advance(60)
    hook = _delivery(fake, "retry-5xx", state="failed")  # the 400 ends it
    assert [a["status"] for a in hook["attempts"]] == [500, 400]
    fake.advance(600)
    assert len(_delivery(fake, "retry-5xx")["attempts"]) == 2

    unreachable = iamport_open_window(
        fake.url,
        merchant_uid="retry-net",
        amount=1000,
        notice_url="http://127.0.0.1:9/hook",  # nothing listens: a network error
    )
    fake.http.post(
        f"{fake.url}/window/{unreachable}/pay",
        data={"card_number": "4242424242424242", "expiry": "12/30", **AGREED},
    )
    hook = _delivery(fake, "retry-net", state="retrying")
    assert hook["attempts"][0]["status"] is None and hook["attempts"][0]["error"]
    fake.advance(60)
    wait_until(lambda: len(_delivery(fake, "retry-net")["attempts"]) == 2)
