"""fake_toss cancels and virtual accounts over real HTTP: partial down to zero, refusals, deposits."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

REFUND_ACCOUNT = {"bank": "신한", "accountNumber": "110-123-456789", "holderName": "홍길동"}


def paid_card(toss, amount=15000, order_id="order-0001") -> str:
    key = toss.authenticated_payment(amount=amount, order_id=order_id)["paymentKey"]
    confirmed = toss.post(
        "/v1/payments/confirm", {"paymentKey": key, "orderId": order_id, "amount": amount}
    )
    assert confirmed.json()["status"] == "DONE"
    return key


def virtual_account(toss, amount=19900, order_id="order-va-1", **extra) -> dict:
    response = toss.post(
        "/v1/virtual-accounts",
        {
            "amount": amount,
            "orderId": order_id,
            "orderName": "Tea set",
            "customerName": "홍길동",
            "bank": "신한",
            **extra,
        },
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_partial_cancels_down_to_zero(toss):
    key = paid_card(toss, amount=15000)
    transaction_keys = set()
    for i in range(1, 6):
        response = toss.post(
            f"/v1/payments/{key}/cancel", {"cancelReason": f"refund {i}", "cancelAmount": 3000}
        )
        assert response.status_code == 200
        payment = response.json()
        assert payment["balanceAmount"] == 15000 - 3000 * i
        assert payment["totalAmount"] == 15000
        assert len(payment["cancels"]) == i
        assert sum(c["cancelAmount"] for c in payment["cancels"]) == 3000 * i
        latest = payment["cancels"][-1]
        assert latest["refundableAmount"] == payment["balanceAmount"]
        assert latest["cancelReason"] == f"refund {i}"
        assert latest["cancelStatus"] == "DONE"
        assert latest["canceledAt"].endswith("+09:00")
        assert payment["lastTransactionKey"] == latest["transactionKey"]
        transaction_keys.add(latest["transactionKey"])
        assert payment["status"] == ("CANCELED" if i == 5 else "PARTIAL_CANCELED")
        assert payment["suppliedAmount"] + payment["vat"] == payment["balanceAmount"]
    assert len(transaction_keys) == 5
    again = toss.post(f"/v1/payments/{key}/cancel", {"cancelReason": "again", "cancelAmount": 1})
    assert (again.status_code, again.json()["code"]) == (400, "ALREADY_CANCELED_PAYMENT")


def test_cancel_without_amount_cancels_what_is_left(toss):
    key = paid_card(toss, amount=10000)
    toss.post(f"/v1/payments/{key}/cancel", {"cancelReason": "part", "cancelAmount": 2500})
    payment = toss.post(f"/v1/payments/{key}/cancel", {"cancelReason": "rest"}).json()
    assert payment["status"] == "CANCELED"
    assert payment["balanceAmount"] == 0
    assert [c["cancelAmount"] for c in payment["cancels"]] == [2500, 7500]


def test_over_cancel_is_refused_and_changes_nothing(toss):
    key = paid_card(toss, amount=15000)
    over = toss.post(f"/v1/payments/{key}/cancel", {"cancelReason": "x", "cancelAmount": 15100})
    assert over.status_code == 403
    assert over.json() == {
        "code": "NOT_CANCELABLE_AMOUNT",
        "message": "취소 할 수 없는 금액 입니다.",
    }
    toss.post(f"/v1/payments/{key}/cancel", {"cancelReason": "x", "cancelAmount": 10000})
    over_rest = toss.post(f"/v1/payments/{key}/cancel", {"cancelReason": "x", "cancelAmount": 5001})
    assert over_rest.json()["code"] == "NOT_CANCELABLE_AMOUNT"
    payment = toss.get(f"/v1/payments/{key}").json()
    assert payment["balanceAmount"] == 5000
    assert len(payment["cancels"]) == 1


def test_refundable_amount_must_match_the_balance(toss):
    key = paid_card(toss, amount=15000)
    wrong = toss.post(
        f"/v1/payments/{key}/cancel",
        {"cancelReason": "x", "cancelAmount": 1000, "refundableAmount": 14000},
    )
    assert (wrong.status_code, wrong.json()["code"]) == (400, "NOT_MATCHES_REFUNDABLE_AMOUNT")
    right = toss.post(
        f"/v1/payments/{key}/cancel",
        {"cancelReason": "x", "cancelAmount": 1000, "refundableAmount": 15000},
    )
    assert right.json()["balanceAmount"] == 14000


def test_cancel_refusals(toss):
    key = paid_card(toss)
    no_reason = toss.post(f"/v1/payments/{key}/cancel", {"cancelAmount": 100})
    assert (no_reason.status_code, no_reason.json()["code"]) == (400, "INVALID_REQUEST")
    zero = toss.post(f"/v1/payments/{key}/cancel", {"cancelReason": "x", "cancelAmount": 0})
    assert zero.json()["code"] == "INVALID_REQUEST"
    currency = toss.post(
        f"/v1/payments/{key}/cancel", {"cancelReason": "x", "cancelAmount": 1, "currency": "USD"}
    )
    assert currency.json()["code"] == "INVALID_REQUEST"
    unknown = toss.post("/v1/payments/nope/cancel", {"cancelReason": "x"})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "NOT_FOUND_PAYMENT")
    waiting = toss.authenticated_payment(order_id="order-waiting")["paymentKey"]
    not_yet = toss.post(f"/v1/payments/{waiting}/cancel", {"cancelReason": "x"})
    assert (not_yet.status_code, not_yet.json()["code"]) == (403, "NOT_CANCELABLE_PAYMENT")


def test_virtual_account_issue_deposit_and_refund(toss):
    issued = virtual_account(toss)
    assert issued["status"] == "WAITING_FOR_DEPOSIT"
    assert issued["method"] == "가상계좌"
    assert issued["secret"].startswith("ps_")
    account = issued["virtualAccount"]
    assert account["accountNumber"].startswith("X")
    assert account["bankCode"] == "88"
    assert account["customerName"] == "홍길동"
    assert account["expired"] is False
    assert account["refundStatus"] == "NONE"
    assert issued["approvedAt"] is None
    key = issued["paymentKey"]

    deposited = toss.control("POST", f"/deposit/{key}")
    assert deposited.status_code == 200
    assert deposited.json()["status"] == "DONE"
    assert deposited.json()["approvedAt"] is not None
    twice = toss.control("POST", f"/deposit/{key}")
    assert twice.status_code == 403

    no_account = toss.post(f"/v1/payments/{key}/cancel", {"cancelReason": "x", "cancelAmount": 100})
    assert (no_account.status_code, no_account.json()["code"]) == (
        400,
        "INVALID_REFUND_ACCOUNT_INFO",
    )
    bad_bank = toss.post(
        f"/v1/payments/{key}/cancel",
        {"cancelReason": "x", "refundReceiveAccount": {**REFUND_ACCOUNT, "bank": "nowhere"}},
    )
    assert bad_bank.json()["code"] == "INVALID_BANK"
    bad_number = toss.post(
        f"/v1/payments/{key}/cancel",
        {"cancelReason": "x", "refundReceiveAccount": {**REFUND_ACCOUNT, "accountNumber": "12ab"}},
    )
    assert bad_number.json()["code"] == "INVALID_REFUND_ACCOUNT_NUMBER"
    for i, amount in enumerate((9900, 10000), start=1):
        refunded = toss.post(
            f"/v1/payments/{key}/cancel",
            {
                "cancelReason": "refund",
                "cancelAmount": amount,
                "refundReceiveAccount": REFUND_ACCOUNT,
            },
        ).json()
        assert len(refunded["cancels"]) == i
    assert refunded["status"] == "CANCELED"
    assert refunded["balanceAmount"] == 0
    assert refunded["virtualAccount"]["refundReceiveAccount"] == {
        "bankCode": "88",
        "accountNumber": "110123456789",
        "holderName": "홍길동",
    }


def test_virtual_account_before_deposit_cancels_only_in_full(toss):
    key = virtual_account(toss)["paymentKey"]
    partial = toss.post(f"/v1/payments/{key}/cancel", {"cancelReason": "x", "cancelAmount": 100})
    assert partial.status_code == 403
    assert partial.json()["code"] == "NOT_ALLOWED_PARTIAL_REFUND_WAITING_DEPOSIT"
    full = toss.post(f"/v1/payments/{key}/cancel", {"cancelReason": "changed my mind"})
    assert full.status_code == 200
    assert full.json()["status"] == "CANCELED"
    assert toss.control("POST", f"/deposit/{key}").status_code == 403


def test_seed_deposit_route_and_deposit_by_order_id(toss):
    first = virtual_account(toss, order_id="order-va-seed")
    response = toss.api.put(toss.url + f"/internal/{first['paymentKey']}/deposit", timeout=5)
    assert response.json()["status"] == "DONE"
    virtual_account(toss, order_id="order-va-by-order")
    assert toss.control("POST", "/deposit/order-va-by-order").json()["status"] == "DONE"
    assert toss.control("POST", "/deposit/nothing-here").status_code == 404
    card = paid_card(toss, order_id="order-card-dep")
    assert toss.control("POST", f"/deposit/{card}").status_code == 403


def test_virtual_account_due_date_passes(toss):
    payment = virtual_account(toss, validHours=1)
    toss.advance(3601)
    read = toss.get(f"/v1/payments/{payment['paymentKey']}").json()
    assert read["status"] == "WAITING_FOR_DEPOSIT"
    assert read["virtualAccount"]["expired"] is True
    assert toss.control("POST", f"/deposit/{payment['paymentKey']}").status_code == 403


def test_virtual_account_refusals(toss):
    def issue(**fields):
        body = {
            "amount": 10000,
            "orderId": "order-va-x",
            "orderName": "x",
            "customerName": "a",
            "bank": "88",
            **fields,
        }
        return toss.post("/v1/virtual-accounts", body)

    assert issue(bank="Atlantis").json()["code"] == "INVALID_BANK"
    assert issue(bank=None).json()["code"] == "INVALID_REQUEST"
    assert issue(validHours=2161).json()["code"] == "INVALID_REQUEST"
    assert issue(currency="USD").json()["code"] == "INVALID_REQUEST"
    assert issue(customerName=None).json()["code"] == "INVALID_REQUEST"
    due = issue(dueDate="2099-01-01T00:00:00").json()
    assert due["virtualAccount"]["dueDate"] == "2099-01-01T00:00:00"


def test_virtual_account_through_the_window_and_confirm(toss):
    success = toss.authenticated_payment(method="VIRTUAL_ACCOUNT", bank="20", order_id="order-va-w")
    key = success["paymentKey"]
    waiting = toss.get(f"/v1/payments/{key}").json()
    assert waiting["status"] == "IN_PROGRESS"
    assert waiting["virtualAccount"] is None
    issued = toss.post(
        "/v1/payments/confirm", {"paymentKey": key, "orderId": "order-va-w", "amount": 15000}
    ).json()
    assert issued["status"] == "WAITING_FOR_DEPOSIT"
    assert issued["virtualAccount"]["bankCode"] == "20"
    assert issued["secret"].startswith("ps_")
    assert toss.control("POST", f"/deposit/{key}").json()["status"] == "DONE"


def test_seed_virtual_account_with_approved_false_waits_for_confirm(toss):
    payment = virtual_account(toss, order_id="order-va-seed2", __approved=False)
    assert payment["status"] == "IN_PROGRESS"
    approved = toss.post(
        f"/v1/payments/{payment['paymentKey']}", {"orderId": "order-va-seed2", "amount": 19900}
    ).json()
    assert approved["status"] == "WAITING_FOR_DEPOSIT"


def test_concurrent_partial_cancels_never_exceed_the_balance(toss):
    key = paid_card(toss, amount=15000)

    def cancel_1000(i: int) -> int:
        body = {"cancelReason": f"race {i}", "cancelAmount": 1000}
        return toss.post(f"/v1/payments/{key}/cancel", body).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(cancel_1000, range(20)))
    assert statuses.count(200) == 15
    assert statuses.count(403) + statuses.count(400) == 5
    payment = toss.get(f"/v1/payments/{key}").json()
    assert payment["balanceAmount"] == 0
    assert payment["status"] == "CANCELED"
    assert len({c["transactionKey"] for c in payment["cancels"]}) == 15
