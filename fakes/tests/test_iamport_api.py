"""The fake iamport REST API over real HTTP: tokens, look-ups, prepare, cancels, billing keys, vbanks."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

APPROVED = "4242-4242-4242-4242"
INSUFFICIENT = "4000-0000-0000-9995"
EXPIRED = "4000-0000-0000-0069"
DECLINES_LATER = "4000-0000-0000-0341"
REFUND_ACCOUNT = {"refund_holder": "홍길동", "refund_bank": "088", "refund_account": "110123456789"}


def pay(iamport, merchant_uid: str, amount: object = 10000, card: str = APPROVED, **extra) -> dict:
    """A paid key-in card payment; returns the whole envelope."""
    body = {
        "merchant_uid": merchant_uid,
        "amount": amount,
        "card_number": card,
        "expiry": "2099-12",
        "birth": "900101",
        "name": "Test order",
        **extra,
    }
    response = iamport.post("/subscribe/payments/onetime", body)
    assert response.status_code == 200
    return response.json()


def paid(iamport, merchant_uid: str, amount: object = 10000, **extra) -> dict:
    """The payment object of a successful key-in payment."""
    envelope = pay(iamport, merchant_uid, amount, **extra)
    assert envelope["code"] == 0 and envelope["response"]["status"] == "paid", envelope
    return envelope["response"]


# -- tokens ---------------------------------------------------------------------------------


def test_token_same_until_expiry_extended_in_last_minute(iamport):
    first = iamport.post(
        "/users/getToken", {"imp_key": "test_imp_key", "imp_secret": "test_imp_secret"}, auth=False
    )
    assert first.status_code == 200
    first = first.json()
    assert first["code"] == 0 and first["message"] is None
    token = first["response"]
    assert token["expired_at"] - token["now"] == 1800

    form = requests.post(
        f"{iamport.url}/users/getToken",
        data={"imp_key": "test_imp_key", "imp_secret": "test_imp_secret"},
    )
    assert form.json()["response"]["access_token"] == token["access_token"]
    assert form.json()["response"]["expired_at"] == token["expired_at"]

    iamport.advance(1800 - 90)
    assert iamport.token() == token["access_token"]
    again = iamport.post(
        "/users/getToken", {"imp_key": "test_imp_key", "imp_secret": "test_imp_secret"}, auth=False
    )
    assert again.json()["response"]["expired_at"] == token["expired_at"]

    iamport.advance(40)  # now inside the last minute: pushed out by five minutes
    extended = iamport.post(
        "/users/getToken", {"imp_key": "test_imp_key", "imp_secret": "test_imp_secret"}, auth=False
    )
    assert extended.json()["response"]["access_token"] == token["access_token"]
    assert extended.json()["response"]["expired_at"] == token["expired_at"] + 300

    iamport.advance(400)
    stale = {"Authorization": token["access_token"]}
    assert iamport.get("/payments/imp_1", headers=stale).status_code == 401
    assert iamport.token() != token["access_token"]


def test_wrong_keys_and_missing_or_bad_tokens_are_401(iamport):
    bad = requests.post(
        f"{iamport.url}/users/getToken", json={"imp_key": "test_imp_key", "imp_secret": "nope"}
    )
    assert bad.status_code == 401
    assert bad.json() == {"code": -1, "message": "Unauthorized", "response": None}
    for headers in ({}, {"Authorization": "garbage"}, {"Authorization": "Bearer garbage"}):
        response = requests.get(f"{iamport.url}/payments/imp_1", headers=headers)
        assert response.status_code == 401
        assert response.json()["message"] == "Unauthorized"


def test_token_accepted_bare_bearer_or_x_imp_token_header(iamport):
    token = iamport.token()
    for headers in (
        {"Authorization": token},
        {"Authorization": f"Bearer {token}"},
        {"X-ImpTokenHeader": token},
    ):
        response = requests.get(f"{iamport.url}/payments/imp_000000000000", headers=headers)
        assert response.status_code == 404  # authenticated: the payment just does not exist


def test_configured_keys(iamport_factory):
    fake = iamport_factory({"IMP_KEY": "k", "IMP_SECRET": "s", "MERCHANT_CODE": "imp12345678"})
    assert (
        requests.post(
            f"{fake.url}/users/getToken", json={"imp_key": "k", "imp_secret": "s"}
        ).status_code
        == 200
    )
    assert (
        requests.post(
            f"{fake.url}/users/getToken",
            json={"imp_key": "test_imp_key", "imp_secret": "test_imp_secret"},
        ).status_code
        == 401
    )


# -- look-ups -------------------------------------------------------------------------------


def test_payment_fields_and_lookups(iamport):
    payment = paid(iamport, "order-1", 15000, buyer_name="홍길동", custom_data={"sku": 7})
    assert payment["imp_uid"].startswith("imp_") and len(payment["imp_uid"]) == 16
    assert payment["amount"] == 15000 and isinstance(payment["amount"], int)
    assert payment["cancel_amount"] == 0 and payment["currency"] == "KRW"
    assert payment["pay_method"] == "card" and payment["channel"] == "api"
    assert payment["card_number"] == "424242******4242" and payment["card_name"]
    assert payment["paid_at"] > 0 and payment["failed_at"] == 0 and payment["cancelled_at"] == 0
    assert payment["buyer_name"] == "홍길동" and payment["custom_data"] == '{"sku": 7}'
    assert payment["cancel_history"] == [] and payment["sandbox"] is True

    got = iamport.get(f"/payments/{payment['imp_uid']}", params={"include_sandbox": "true"}).json()
    assert got == {"code": 0, "message": None, "response": payment}
    assert iamport.get("/payments/find/order-1").json()["response"]["imp_uid"] == payment["imp_uid"]
    assert (
        iamport.get("/payments/find/order-1/paid").json()["response"]["imp_uid"]
        == payment["imp_uid"]
    )

    missing = iamport.get("/payments/imp_000000000000")
    assert missing.status_code == 404
    assert missing.json() == {
        "code": -1,
        "message": "존재하지 않는 결제정보입니다.",
        "response": None,
    }
    assert iamport.get("/payments/find/order-1/cancelled").status_code == 404
    assert iamport.get("/payments/find/nope").status_code == 404
    assert iamport.get("/payments/find/order-1/weird").status_code == 400
    assert (
        iamport.get("/payments/findAll/order-1").json()["response"][0]["imp_uid"]
        == payment["imp_uid"]
    )


def test_find_by_merchant_uid_returns_latest_attempt(iamport):
    failed = pay(iamport, "order-retry", card=INSUFFICIENT)["response"]
    assert failed["status"] == "failed"
    retried = paid(iamport, "order-retry")
    assert (
        iamport.get("/payments/find/order-retry").json()["response"]["imp_uid"]
        == retried["imp_uid"]
    )
    oldest = iamport.get("/payments/find/order-retry", params={"sorting": "started"}).json()[
        "response"
    ]
    assert oldest["imp_uid"] == failed["imp_uid"]
    assert (
        iamport.get("/payments/find/order-retry/failed").json()["response"]["imp_uid"]
        == failed["imp_uid"]
    )


def test_many_payments_and_status_listing(iamport):
    uids = [paid(iamport, f"list-{i}", 1000 + i)["imp_uid"] for i in range(5)]
    pay(iamport, "list-failed", card=INSUFFICIENT)

    both = iamport.get("/payments", params={"imp_uid[]": uids[:2]})
    assert both.status_code == 200 and [p["imp_uid"] for p in both.json()["response"]] == uids[:2]
    partly = iamport.get("/payments", params={"imp_uid[]": [uids[0], "imp_000000000000"]})
    assert partly.status_code == 207 and len(partly.json()["response"]) == 1
    by_merchant = iamport.get("/payments", params={"merchant_uid[]": ["list-3"]})
    assert by_merchant.json()["response"][0]["imp_uid"] == uids[3]

    page = iamport.get("/payments/status/paid", params={"limit": 2, "page": 2}).json()["response"]
    assert (
        page["total"] == 5
        and page["previous"] == 1
        and page["next"] == 3
        and len(page["list"]) == 2
    )
    last = iamport.get("/payments/status/all", params={"limit": 5, "page": 2}).json()["response"]
    assert last["total"] == 6 and last["next"] == 0 and len(last["list"]) == 1
    assert iamport.get("/payments/status/failed").json()["response"]["total"] == 1
    unsupported = iamport.get("/payments/status/weird")
    assert unsupported.status_code == 400
    assert unsupported.json()["message"] == "지원되지 않는 상태값입니다."


# -- prepare --------------------------------------------------------------------------------


def test_prepare_register_read_and_change(iamport):
    created = iamport.post("/payments/prepare", {"merchant_uid": "p-1", "amount": 5000})
    assert created.status_code == 200
    assert created.json()["response"] == {"merchant_uid": "p-1", "amount": 5000, "currency": "KRW"}
    assert iamport.get("/payments/prepare/p-1").json()["response"]["amount"] == 5000
    again = iamport.post("/payments/prepare", {"merchant_uid": "p-1", "amount": 5000})
    assert again.json()["code"] == 0
    conflict = iamport.post("/payments/prepare", {"merchant_uid": "p-1", "amount": 6000}).json()
    assert conflict["code"] == 1 and conflict["response"] is None
    changed = iamport.call("PUT", "/payments/prepare", json={"merchant_uid": "p-1", "amount": 6000})
    assert changed.json()["response"]["amount"] == 6000

    unknown = iamport.get("/payments/prepare/p-unknown")
    assert unknown.status_code == 200
    assert unknown.json() == {
        "code": 1,
        "message": "사전등록된 결제정보가 존재하지 않습니다.",
        "response": None,
    }
    assert iamport.post("/payments/prepare", {"amount": 1}).status_code == 400


# -- cancels --------------------------------------------------------------------------------


def test_partial_cancels_down_to_zero(iamport):
    payment = paid(iamport, "order-partial", 10000)
    imp_uid = payment["imp_uid"]
    seen_tids = set()
    for i in range(1, 5):
        response = iamport.post(
            "/payments/cancel",
            {
                "imp_uid": imp_uid,
                "amount": 2500,
                "checksum": 10000 - 2500 * (i - 1),
                "reason": f"part {i}",
            },
        )
        assert response.status_code == 200
        body = response.json()
        assert body["code"] == 0, body
        cancelled = body["response"]
        assert cancelled["amount"] == 10000
        assert cancelled["cancel_amount"] == 2500 * i
        assert cancelled["status"] == ("cancelled" if i == 4 else "paid")
        assert len(cancelled["cancel_history"]) == i
        entry = cancelled["cancel_history"][-1]
        assert (
            entry["amount"] == 2500 and entry["reason"] == f"part {i}" and entry["cancellation_id"]
        )
        assert entry["cancelled_at"] > 0 and entry["receipt_url"]
        seen_tids.add(entry["pg_tid"])
    assert len(seen_tids) == 4

    final = iamport.get(f"/payments/{imp_uid}").json()["response"]
    assert (
        final["status"] == "cancelled"
        and final["cancelled_at"] > 0
        and final["cancel_reason"] == "part 4"
    )
    assert sum(e["amount"] for e in final["cancel_history"]) == 10000
    again = iamport.post("/payments/cancel", {"imp_uid": imp_uid}).json()
    assert again == {"code": 1, "message": "이미 전액취소된 주문입니다.", "response": None}


def test_missing_or_zero_amount_cancels_the_rest(iamport):
    first = paid(iamport, "order-rest-1", 9000)
    iamport.post("/payments/cancel", {"imp_uid": first["imp_uid"], "amount": 1000})
    rest = iamport.post("/payments/cancel", {"imp_uid": first["imp_uid"]}).json()["response"]
    assert rest["cancel_amount"] == 9000 and rest["status"] == "cancelled"
    assert rest["cancel_history"][-1]["amount"] == 8000

    second = paid(iamport, "order-rest-2", 7000)
    by_merchant = iamport.post(
        "/payments/cancel", {"merchant_uid": "order-rest-2", "amount": 0, "checksum": 7000}
    ).json()["response"]
    assert by_merchant["imp_uid"] == second["imp_uid"] and by_merchant["status"] == "cancelled"


def test_over_cancel_and_checksum_mismatch_refused_without_change(iamport):
    payment = paid(iamport, "order-guard", 10000)
    imp_uid = payment["imp_uid"]
    over = iamport.post("/payments/cancel", {"imp_uid": imp_uid, "amount": 10100}).json()
    assert over["code"] == 1 and over["response"] is None and over["message"]
    iamport.post("/payments/cancel", {"imp_uid": imp_uid, "amount": 4000, "checksum": 10000})
    over_rest = iamport.post("/payments/cancel", {"imp_uid": imp_uid, "amount": 6001}).json()
    assert over_rest["code"] == 1
    stale_checksum = iamport.post(
        "/payments/cancel", {"imp_uid": imp_uid, "amount": 1000, "checksum": 10000}
    ).json()
    assert stale_checksum["code"] == 1 and "checksum" in stale_checksum["message"]
    unchanged = iamport.get(f"/payments/{imp_uid}").json()["response"]
    assert unchanged["cancel_amount"] == 4000 and len(unchanged["cancel_history"]) == 1
    assert unchanged["status"] == "paid"
    null_checksum = iamport.post(
        "/payments/cancel", {"imp_uid": imp_uid, "amount": 1000, "checksum": None}
    )
    assert null_checksum.json()["response"]["cancel_amount"] == 5000


def test_cancel_failures_are_http_200_with_code(iamport):
    unknown = iamport.post(
        "/payments/cancel", {"imp_uid": "imp_000000000000", "merchant_uid": "whatever"}
    )
    assert unknown.status_code == 200
    assert unknown.json() == {
        "code": 1,
        "message": "취소할 결제건이 존재하지 않습니다.",
        "response": None,
    }
    assert iamport.post("/payments/cancel", {"merchant_uid": "nothing"}).json()["code"] == 1
    failed = pay(iamport, "order-failed", card=INSUFFICIENT)["response"]
    not_paid = iamport.post("/payments/cancel", {"imp_uid": failed["imp_uid"]})
    assert not_paid.status_code == 200 and not_paid.json()["code"] == 1


def test_cancel_as_form_body(iamport):
    payment = paid(iamport, "order-form", 3000)
    response = iamport.call(
        "POST",
        "/payments/cancel",
        data={"imp_uid": payment["imp_uid"], "amount": "1000", "checksum": "3000"},
    )
    assert response.json()["response"]["cancel_amount"] == 1000


def test_cancel_webhook_only_with_enable_webhook(iamport_factory, webhook_receiver):
    fake = iamport_factory({"WEBHOOK_URL": f"{webhook_receiver.url}/iamport"})
    payment = paid(fake, "order-hook", 5000)
    webhook_receiver.wait_for(1)
    fake.post("/payments/cancel", {"imp_uid": payment["imp_uid"], "amount": 1000})
    fake.post(
        "/payments/cancel", {"imp_uid": payment["imp_uid"], "amount": 1000, "enable_webhook": True}
    )
    received = webhook_receiver.wait_for(2)
    assert fake.webhooks() and len(webhook_receiver.received) == 2
    cancel_hook = received[1]["body"]
    history = fake.get(f"/payments/{payment['imp_uid']}").json()["response"]["cancel_history"]
    assert cancel_hook == {
        "imp_uid": payment["imp_uid"],
        "merchant_uid": "order-hook",
        "status": "cancelled",
        "cancellation_id": history[1]["cancellation_id"],
    }


# -- USD --------------------------------------------------------------------------------------


def test_usd_payment_keeps_cents(iamport):
    payment = paid(iamport, "order-usd", 12.5, currency="USD")
    assert (
        payment["amount"] == 12.5
        and payment["currency"] == "USD"
        and payment["pg_provider"] == "eximbay"
    )
    first = iamport.post(
        "/payments/cancel", {"imp_uid": payment["imp_uid"], "amount": 2.25, "checksum": 12.5}
    )
    assert first.json()["response"]["cancel_amount"] == 2.25
    wrong = iamport.post(
        "/payments/cancel", {"imp_uid": payment["imp_uid"], "amount": 1, "checksum": 10.26}
    )
    assert wrong.json()["code"] == 1
    rest = iamport.post(
        "/payments/cancel", {"imp_uid": payment["imp_uid"], "checksum": 10.25}
    ).json()["response"]
    assert rest["cancel_amount"] == 12.5 and rest["status"] == "cancelled"
    assert rest["cancel_history"][1]["amount"] == 10.25
    too_precise = iamport.post(
        "/subscribe/payments/onetime",
        {
            "merchant_uid": "usd-bad",
            "amount": 1.234,
            "currency": "USD",
            "card_number": APPROVED,
            "expiry": "2099-12",
        },
    )
    assert too_precise.status_code == 400 and too_precise.json()["code"] == -1


# -- billing keys and key-in --------------------------------------------------------------


def test_customers_create_get_replace_delete(iamport):
    created = iamport.post(
        "/subscribe/customers/cust-1",
        {
            "card_number": APPROVED,
            "expiry": "2099-12",
            "birth": "900101",
            "customer_name": "김철수",
        },
    ).json()
    assert created["code"] == 0
    customer = created["response"]
    assert customer["customer_uid"] == "cust-1" and customer["card_number"] == "424242******4242"
    assert (
        customer["customer_name"] == "김철수"
        and customer["inserted"] > 0
        and customer["sandbox"] is True
    )
    assert iamport.get("/subscribe/customers/cust-1").json()["response"] == customer

    iamport.advance(10)
    replaced = iamport.post(
        "/subscribe/customers/cust-1", {"card_number": "4111111111111111", "expiry": "2099-12"}
    ).json()["response"]
    assert replaced["card_number"] == "411111******1111"
    assert (
        replaced["inserted"] == customer["inserted"] and replaced["updated"] > customer["updated"]
    )
    listed = iamport.get("/subscribe/customers", params={"customer_uid[]": ["cust-1", "nobody"]})
    assert listed.status_code == 207 and len(listed.json()["response"]) == 1

    deleted = iamport.delete("/subscribe/customers/cust-1").json()
    assert deleted["code"] == 0 and deleted["response"]["customer_uid"] == "cust-1"
    missing = iamport.get("/subscribe/customers/cust-1")
    assert missing.status_code == 404
    assert (
        missing.json()["message"]
        == "요청하신 customer_uid(cust-1)로 등록된 정보를 찾을 수 없습니다."
    )
    assert iamport.delete("/subscribe/customers/cust-1").status_code == 404


@pytest.mark.parametrize("card", [INSUFFICIENT, EXPIRED, "1234"])
def test_customer_refused_card_is_code_minus_one(iamport, card):
    refused = iamport.post(
        "/subscribe/customers/cust-x", {"card_number": card, "expiry": "2099-12"}
    )
    assert refused.status_code == 200
    body = refused.json()
    assert body["code"] == -1 and body["response"] is None
    assert body["message"].startswith("카드정보 인증 및 빌키 발급에 실패하였습니다.")


def test_customer_card_past_expiry_is_refused(iamport):
    refused = iamport.post(
        "/subscribe/customers/cust-old", {"card_number": APPROVED, "expiry": "2001-01"}
    ).json()
    assert refused["code"] == -1


def test_again_paid_declined_and_unknown_customer(iamport):
    iamport.post("/subscribe/customers/good", {"card_number": APPROVED, "expiry": "2099-12"})
    iamport.post("/subscribe/customers/later", {"card_number": DECLINES_LATER, "expiry": "2099-12"})

    charge = iamport.post(
        "/subscribe/payments/again",
        {"customer_uid": "good", "merchant_uid": "sub-1", "amount": 9900, "name": "Plan"},
    ).json()
    assert charge["code"] == 0
    assert charge["response"]["status"] == "paid" and charge["response"]["customer_uid"] == "good"
    assert charge["response"]["customer_uid_usage"] == "payment"

    declined = iamport.post(
        "/subscribe/payments/again",
        {"customer_uid": "later", "merchant_uid": "sub-2", "amount": 9900},
    )
    assert declined.status_code == 200
    body = declined.json()
    assert body["code"] == 0
    assert body["response"]["status"] == "failed" and body["response"]["fail_reason"]
    assert body["response"]["failed_at"] > 0 and body["response"]["paid_at"] == 0

    unknown = iamport.post(
        "/subscribe/payments/again", {"customer_uid": "ghost", "merchant_uid": "sub-3", "amount": 1}
    ).json()
    assert unknown == {"code": 1, "message": "등록되지 않은 구매자입니다.", "response": None}
    twice = iamport.post(
        "/subscribe/payments/again",
        {"customer_uid": "good", "merchant_uid": "sub-1", "amount": 9900},
    )
    assert twice.json()["code"] == 1


def test_onetime_card_problems_and_declines(iamport):
    wrong_number = pay(iamport, "one-1", card="4092-0230-12")
    assert wrong_number["code"] == -1
    assert wrong_number["message"] == "카드정보 인증에 실패하였습니다. [F113]거래거절 카드번호틀림"
    assert pay(iamport, "one-2", card=EXPIRED)["code"] == -1
    declined = pay(iamport, "one-3", card=INSUFFICIENT)
    assert declined["code"] == 0 and declined["response"]["status"] == "failed"
    assert declined["message"] == declined["response"]["fail_reason"]
    assert declined["response"]["fail_reason"].startswith("[F0004]")

    stored = paid(iamport, "one-4", 5000, customer_uid="from-onetime")
    assert stored["customer_uid"] == "from-onetime" and stored["customer_uid_usage"] == "issue"
    assert iamport.get("/subscribe/customers/from-onetime").json()["code"] == 0
    assert (
        iamport.post("/subscribe/payments/onetime", {"merchant_uid": "x", "amount": 1}).status_code
        == 400
    )
    assert pay(iamport, "one-4")["code"] == 1  # merchant_uid already paid


# -- virtual accounts ------------------------------------------------------------------------


def issue_vbank(iamport, merchant_uid: str, amount: int = 20000, **extra) -> dict:
    body = {
        "merchant_uid": merchant_uid,
        "amount": amount,
        "vbank_code": "088",
        "vbank_due": iamport.gateway.now() + 86400,
        "vbank_holder": "홍길동",
        **extra,
    }
    response = iamport.post("/vbanks", body)
    assert response.status_code == 200 and response.json()["code"] == 0, response.text
    return response.json()["response"]


def test_vbank_issue_deposit_and_refund_needs_account(iamport_factory, webhook_receiver):
    fake = iamport_factory({"WEBHOOK_URL": f"{webhook_receiver.url}/default"})
    account = issue_vbank(fake, "vb-1", notice_url=f"{webhook_receiver.url}/notice")
    assert account["status"] == "ready" and account["pay_method"] == "vbank"
    assert (
        account["vbank_name"] == "신한은행"
        and account["vbank_num"]
        and account["vbank_holder"] == "홍길동"
    )
    assert account["vbank_date"] > account["vbank_issued_at"] > 0 and account["paid_at"] == 0
    ready_hook = webhook_receiver.wait_for(1)[0]
    assert ready_hook["path"] == "/notice"
    assert ready_hook["body"] == {
        "imp_uid": account["imp_uid"],
        "merchant_uid": "vb-1",
        "status": "ready",
    }

    not_paid = fake.post(
        "/payments/cancel", {"imp_uid": account["imp_uid"], **REFUND_ACCOUNT}
    ).json()
    assert not_paid["code"] == 1
    deposited = fake.deposit(account["imp_uid"])["response"]
    assert deposited["status"] == "paid" and deposited["paid_at"] > 0
    assert webhook_receiver.wait_for(2)[1]["body"]["status"] == "paid"

    without = fake.post("/payments/cancel", {"imp_uid": account["imp_uid"], "amount": 5000}).json()
    assert without == {
        "code": 1,
        "message": "가상계좌 취소는 계좌번호, 예금주, 은행명을 입력해야 합니다.",
        "response": None,
    }
    partial = fake.post(
        "/payments/cancel", {"imp_uid": account["imp_uid"], "amount": 5000, **REFUND_ACCOUNT}
    ).json()
    assert partial["response"]["cancel_amount"] == 5000 and partial["response"]["status"] == "paid"


def test_vbank_revoke_update_and_deposit_rules(iamport):
    account = issue_vbank(iamport, "vb-2")
    changed = iamport.call("PUT", f"/vbanks/{account['imp_uid']}", json={"amount": 25000}).json()[
        "response"
    ]
    assert changed["amount"] == 25000
    revoked = iamport.delete(f"/vbanks/{account['imp_uid']}")
    assert revoked.status_code == 200 and revoked.json()["response"]["status"] == "cancelled"
    assert iamport.delete(f"/vbanks/{account['imp_uid']}").status_code == 400
    assert iamport.delete("/vbanks/imp_000000000000").status_code == 404
    card = paid(iamport, "vb-card")
    assert iamport.delete(f"/vbanks/{card['imp_uid']}").status_code == 400
    no_code = iamport.post("/vbanks", {"merchant_uid": "vb-x", "amount": 1, "vbank_due": 1})
    assert no_code.status_code == 400

    late = issue_vbank(iamport, "vb-3")
    iamport.advance(2 * 86400)
    refused = requests.post(f"{iamport.url}/__control/deposit/{late['imp_uid']}", json={})
    assert refused.status_code == 422
    assert iamport.deposit(late["imp_uid"], force=True)["response"]["status"] == "paid"
    assert (
        requests.post(f"{iamport.url}/__control/deposit/{late['imp_uid']}", json={}).status_code
        == 422
    )


def test_seed_internal_deposit_route(iamport):
    account = issue_vbank(iamport, "vb-seed")
    response = requests.put(f"{iamport.url}/internal/deposit/{account['imp_uid']}")
    assert response.status_code == 200 and response.text == ""
    assert iamport.get(f"/payments/{account['imp_uid']}").json()["response"]["status"] == "paid"
    card = paid(iamport, "vb-seed-card")
    assert requests.put(f"{iamport.url}/internal/deposit/{card['imp_uid']}").status_code == 422
    assert requests.post(f"{iamport.url}/internal/webhook", json={}).status_code == 200


# -- control API -----------------------------------------------------------------------------


def test_reset_forgets_everything(iamport):
    payment = paid(iamport, "order-reset")
    iamport.advance(3600)
    iamport.add_fault({"path": "/nothing", "status": 500})
    iamport.reset()
    assert iamport.get(f"/payments/{payment['imp_uid']}").status_code == 404
    assert iamport.faults() == []
    assert abs(iamport.clock()["offset"]) < 1


def test_http_faults_on_api_routes(iamport):
    payment = paid(iamport, "order-fault")
    iamport.add_fault(
        {
            "method": "GET",
            "path": "/payments/*",
            "status": 503,
            "body": {"code": -1, "message": "busy", "response": None},
            "times": 1,
        },
    )
    broken = iamport.get(f"/payments/{payment['imp_uid']}")
    assert broken.status_code == 503 and broken.json()["message"] == "busy"
    assert iamport.get(f"/payments/{payment['imp_uid']}").status_code == 200


def test_concurrent_cancels_never_exceed_the_balance(iamport):
    payment = paid(iamport, "order-race", 10000)
    token = iamport.token()

    def cancel_part(_: int) -> int:
        response = requests.post(
            f"{iamport.url}/payments/cancel",
            json={"imp_uid": payment["imp_uid"], "amount": 2000},
            headers={"Authorization": token},
        )
        return response.json()["code"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(cancel_part, range(8)))
    assert codes.count(0) == 5 and codes.count(1) == 3
    final = iamport.get(f"/payments/{payment['imp_uid']}").json()["response"]
    assert final["cancel_amount"] == 10000 and final["status"] == "cancelled"
    assert len(final["cancel_history"]) == 5
