"""fake_toss over real HTTP: auth, reads, confirm and its 10-minute window, key-in, idempotency."""

from __future__ import annotations

import base64
import uuid

import pytest
import requests

from fake_toss import SEED_SECRET_KEY


def key_in(toss, order_id="order-0001", amount=15000, **extra):
    body = {
        "amount": amount,
        "orderId": order_id,
        "orderName": "Coffee beans 1kg",
        "cardNumber": "4242424242424242",
        "cardExpirationYear": "39",
        "cardExpirationMonth": "12",
        "customerIdentityNumber": "881212",
        **extra,
    }
    return toss.post("/v1/payments/key-in", body)


# -- authentication -----------------------------------------------------------------------------


def test_basic_auth_with_the_documented_and_the_seed_secret_keys(toss):
    for key in ("test_sk_zXLkKEypNArWmo50nX3lmeaxYG5R", SEED_SECRET_KEY):
        response = requests.get(toss.url + "/v1/payments/nope", auth=(key, ""), timeout=5)
        assert response.status_code == 404
        assert response.json()["code"] == "NOT_FOUND_PAYMENT"
    documented = {"Authorization": "Basic dGVzdF9za196WExrS0V5cE5BcldtbzUwblgzbG1lYXhZRzVSOg=="}
    assert (
        requests.get(toss.url + "/v1/payments/x", headers=documented, timeout=5).status_code == 404
    )


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer test_sk_zXLkKEypNArWmo50nX3lmeaxYG5R",
        "Basic " + base64.b64encode(b"test_sk_wrong:").decode(),
        "Basic " + base64.b64encode(b"test_ck_D5GePWvyJnrK0W0k6q8gLzN97Eoq:").decode(),
        "Basic not-base64!",
    ],
)
def test_unknown_or_missing_key_is_401_unauthorized_key(toss, header):
    headers = {"Authorization": header} if header else {}
    response = requests.post(toss.url + "/v1/payments/confirm", json={}, headers=headers, timeout=5)
    assert response.status_code == 401
    assert response.json() == {
        "code": "UNAUTHORIZED_KEY",
        "message": "인증되지 않은 시크릿 키 혹은 클라이언트 키 입니다.",
    }


def test_missing_colon_is_403_incorrect_basic_auth_format(toss):
    encoded = base64.b64encode(b"test_sk_zXLkKEypNArWmo50nX3lmeaxYG5R").decode()
    response = requests.get(
        toss.url + "/v1/payments/x", headers={"Authorization": "Basic " + encoded}, timeout=5
    )
    assert response.status_code == 403
    assert response.json()["code"] == "INCORRECT_BASIC_AUTH_FORMAT"


def test_english_messages_on_request(toss):
    response = toss.get("/v1/payments/nope", headers={"Accept-Language": "en-US"})
    assert response.json() == {
        "code": "NOT_FOUND_PAYMENT",
        "message": "The payment does not exist.",
    }


def test_test_code_header_reproduces_an_error(toss):
    payment = toss.authenticated_payment()
    response = toss.post(
        "/v1/payments/confirm",
        {"paymentKey": payment["paymentKey"], "orderId": "order-0001", "amount": 15000},
        headers={"TossPayments-Test-Code": "REJECT_CARD_PAYMENT"},
    )
    assert response.status_code == 403
    assert response.json()["code"] == "REJECT_CARD_PAYMENT"
    assert toss.get(f"/v1/payments/{payment['paymentKey']}").json()["status"] == "IN_PROGRESS"


# -- window + confirm ---------------------------------------------------------------------------


def test_confirm_after_the_window_approves_the_payment(toss):
    success = toss.authenticated_payment(amount=15000, order_id="order-0001")
    assert success["orderId"] == "order-0001"
    assert success["amount"] == "15000"
    assert success["paymentType"] == "NORMAL"
    key = success["paymentKey"]
    assert toss.get(f"/v1/payments/{key}").json()["status"] == "IN_PROGRESS"

    response = toss.post(
        "/v1/payments/confirm", {"paymentKey": key, "orderId": "order-0001", "amount": 15000}
    )
    assert response.status_code == 200
    payment = response.json()
    assert payment["status"] == "DONE"
    assert payment["paymentKey"] == key
    assert payment["method"] == "카드"
    assert payment["type"] == "NORMAL"
    assert payment["currency"] == "KRW"
    assert payment["totalAmount"] == payment["balanceAmount"] == 15000
    assert payment["suppliedAmount"] + payment["vat"] == 15000
    assert payment["vat"] == 1364
    assert payment["approvedAt"].endswith("+09:00")
    assert payment["version"] == "2022-11-16"
    assert payment["card"]["number"] == "42424242****424*"
    assert payment["cancels"] is None and payment["secret"] is None
    assert toss.get("/v1/payments/orders/order-0001").json() == payment
    assert toss.get(f"/v1/payments/{key}").json() == payment


def test_confirm_twice_is_already_processed(toss):
    key = toss.authenticated_payment()["paymentKey"]
    body = {"paymentKey": key, "orderId": "order-0001", "amount": 15000}
    assert toss.post("/v1/payments/confirm", body).status_code == 200
    again = toss.post("/v1/payments/confirm", body)
    assert again.status_code == 400
    assert again.json() == {
        "code": "ALREADY_PROCESSED_PAYMENT",
        "message": "이미 처리된 결제 입니다.",
    }


def test_confirm_must_match_what_the_window_authorized(toss):
    key = toss.authenticated_payment(amount=15000, order_id="order-0001")["paymentKey"]
    wrong_amount = toss.post(
        "/v1/payments/confirm", {"paymentKey": key, "orderId": "order-0001", "amount": 100}
    )
    assert (wrong_amount.status_code, wrong_amount.json()["code"]) == (400, "INVALID_REQUEST")
    wrong_order = toss.post(
        "/v1/payments/confirm", {"paymentKey": key, "orderId": "order-9999", "amount": 15000}
    )
    assert (wrong_order.status_code, wrong_order.json()["code"]) == (
        404,
        "NOT_FOUND_PAYMENT_SESSION",
    )
    assert toss.get(f"/v1/payments/{key}").json()["status"] == "IN_PROGRESS"
    unknown = toss.post(
        "/v1/payments/confirm", {"paymentKey": "nope", "orderId": "order-0001", "amount": 1}
    )
    assert (unknown.status_code, unknown.json()["code"]) == (404, "NOT_FOUND_PAYMENT")
    missing = toss.post("/v1/payments/confirm", {"paymentKey": key})
    assert (missing.status_code, missing.json()["code"]) == (400, "INVALID_REQUEST")
    ok = toss.post(
        "/v1/payments/confirm", {"paymentKey": key, "orderId": "order-0001", "amount": "15000"}
    )
    assert ok.json()["status"] == "DONE"


def test_confirm_window_closes_after_ten_minutes_of_fake_time(toss):
    key = toss.authenticated_payment()["paymentKey"]
    toss.advance(599)
    assert toss.get(f"/v1/payments/{key}").json()["status"] == "IN_PROGRESS"
    toss.advance(2)
    response = toss.post(
        "/v1/payments/confirm", {"paymentKey": key, "orderId": "order-0001", "amount": 15000}
    )
    assert response.status_code == 404
    assert response.json() == {
        "code": "NOT_FOUND_PAYMENT_SESSION",
        "message": "결제 시간이 만료되어 결제 진행 데이터가 존재하지 않습니다.",
    }
    assert toss.get(f"/v1/payments/{key}").json()["status"] == "EXPIRED"


def test_legacy_approve_route_is_confirm(toss):
    key = toss.post(
        "/v1/payments/key-in", {**_key_in_body("order-legacy"), "__approved": False}
    ).json()["paymentKey"]
    wrong = toss.post(f"/v1/payments/{key}", {"orderId": "order-legacy", "amount": 14000})
    assert wrong.status_code == 400
    response = toss.post(f"/v1/payments/{key}", {"orderId": "order-legacy", "amount": 15000})
    assert response.status_code == 200
    assert response.json()["status"] == "DONE"
    again = toss.post(f"/v1/payments/{key}", {"orderId": "order-legacy", "amount": 15000})
    assert again.json()["code"] == "ALREADY_PROCESSED_PAYMENT"


def _key_in_body(order_id):
    return {
        "amount": 15000,
        "orderId": order_id,
        "orderName": "Coffee beans 1kg",
        "cardNumber": "4242424242424242",
        "cardExpirationYear": "39",
        "cardExpirationMonth": "12",
    }


def test_usd_payment_keeps_its_cents(toss):
    success = toss.authenticated_payment(amount="12.50", currency="USD", order_id="order-usd-1")
    assert success["amount"] == "12.5"
    confirmed = toss.post(
        "/v1/payments/confirm",
        {"paymentKey": success["paymentKey"], "orderId": "order-usd-1", "amount": 12.5},
    ).json()
    assert confirmed["currency"] == "USD"
    assert confirmed["totalAmount"] == 12.5
    assert confirmed["balanceAmount"] == 12.5
    cancelled = toss.post(
        f"/v1/payments/{success['paymentKey']}/cancel",
        {"cancelReason": "partial", "cancelAmount": 0.25},
    ).json()
    assert cancelled["balanceAmount"] == 12.25
    assert cancelled["cancels"][0]["cancelAmount"] == 0.25
    assert cancelled["currency"] == "USD"
    too_fine = toss.post(
        f"/v1/payments/{success['paymentKey']}/cancel",
        {"cancelReason": "x", "cancelAmount": 0.125},
    )
    assert too_fine.json()["code"] == "INVALID_REQUEST"


# -- key-in ---------------------------------------------------------------------------------------


def test_key_in_approves_at_once(toss):
    response = key_in(toss)
    assert response.status_code == 200
    payment = response.json()
    assert payment["status"] == "DONE"
    assert payment["type"] == "NORMAL"
    assert payment["approvedAt"] is not None
    assert payment["orderName"] == "Coffee beans 1kg"


def test_key_in_with_seed_flag_waits_for_confirm(toss):
    payment = key_in(toss, __approved=False).json()
    assert payment["status"] == "IN_PROGRESS"
    assert payment["approvedAt"] is None


@pytest.mark.parametrize(
    ("card_number", "status", "code"),
    [
        ("4000000000009995", 403, "REJECT_CARD_PAYMENT"),
        ("4000000000000002", 403, "REJECT_CARD_COMPANY"),
        ("4000000000000069", 400, "INVALID_CARD_EXPIRATION"),
        ("1234", 400, "INVALID_CARD_NUMBER"),
    ],
)
def test_key_in_declines_are_errors(toss, card_number, status, code):
    response = key_in(toss, cardNumber=card_number)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert toss.get("/v1/payments/orders/order-0001").status_code == 404


def test_key_in_refusals(toss):
    expired = key_in(toss, cardExpirationYear="20", cardExpirationMonth="01")
    assert expired.json()["code"] == "INVALID_CARD_EXPIRATION"
    assert key_in(toss, amount=50).json()["code"] == "BELOW_MINIMUM_AMOUNT"
    assert key_in(toss, order_id="bad id!").json()["code"] == "INVALID_REQUEST"
    assert key_in(toss, amount=None).json()["code"] == "INVALID_REQUEST"
    assert key_in(toss).status_code == 200
    duplicate = key_in(toss)
    assert (duplicate.status_code, duplicate.json()["code"]) == (400, "DUPLICATED_ORDER_ID")


def test_reads_of_unknown_payments_and_orders(toss):
    assert toss.get("/v1/payments/orders/order-none").json()["code"] == "NOT_FOUND_PAYMENT"
    assert toss.get("/v1/payments/orders/order-none").status_code == 404
    not_json = toss.api.post(toss.url + "/v1/payments/confirm", data="[1]", timeout=5)
    assert not_json.status_code == 400


# -- idempotency -----------------------------------------------------------------------------------


def test_idempotency_key_replays_the_first_response(toss):
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    first = toss.post("/v1/payments/key-in", _key_in_body("order-idem"), headers=headers)
    second = toss.post("/v1/payments/key-in", _key_in_body("order-idem"), headers=headers)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert toss.gateway.payment_count() == 1
    # Without the key the same request runs again (and is refused: the orderId is spent).
    assert toss.post("/v1/payments/key-in", _key_in_body("order-idem")).status_code == 400


def test_idempotent_confirm_and_cancel_replay_instead_of_failing(toss):
    key = toss.authenticated_payment()["paymentKey"]
    confirm = {"paymentKey": key, "orderId": "order-0001", "amount": 15000}
    headers = {"Idempotency-Key": "confirm-" + key}
    first = toss.post("/v1/payments/confirm", confirm, headers=headers).json()
    assert toss.post("/v1/payments/confirm", confirm, headers=headers).json() == first
    cancel = {"cancelReason": "refund", "cancelAmount": 5000}
    cancel_headers = {"Idempotency-Key": "cancel-1"}
    once = toss.post(f"/v1/payments/{key}/cancel", cancel, headers=cancel_headers).json()
    twice = toss.post(f"/v1/payments/{key}/cancel", cancel, headers=cancel_headers).json()
    assert once == twice
    assert toss.get(f"/v1/payments/{key}").json()["balanceAmount"] == 10000


def test_idempotency_errors_are_replayed_too_and_keys_are_scoped(toss):
    headers = {"Idempotency-Key": "same-key"}
    missing = toss.post("/v1/payments/confirm", {"paymentKey": "nope"}, headers=headers)
    assert missing.status_code == 400
    replay = toss.post(
        "/v1/payments/confirm",
        {"paymentKey": "nope", "orderId": "order-0001", "amount": 1},
        headers=headers,
    )
    assert (replay.status_code, replay.json()) == (400, missing.json())
    # The same key on another URL is another request.
    assert key_in(toss, order_id="order-scope").status_code == 200
    other = toss.post("/v1/payments/key-in", _key_in_body("order-scope2"), headers=headers)
    assert other.status_code == 200


def test_idempotency_key_over_300_characters_is_refused(toss):
    response = toss.post(
        "/v1/payments/key-in", _key_in_body("order-long"), headers={"Idempotency-Key": "k" * 301}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_IDEMPOTENCY_KEY"
    assert toss.gateway.payment_count() == 0


def test_idempotency_records_expire_after_15_days(toss):
    headers = {"Idempotency-Key": "old-key"}
    assert toss.post("/v1/payments/key-in", _key_in_body("order-old"), headers=headers).ok
    toss.advance(15 * 24 * 3600 + 1)
    again = toss.post("/v1/payments/key-in", _key_in_body("order-old"), headers=headers)
    assert again.json()["code"] == "DUPLICATED_ORDER_ID"


def test_idempotency_key_being_processed_is_409(toss):
    scope = ("busy-key", "test_sk_zXLkKEypNArWmo50nX3lmeaxYG5R", "/v1/payments/key-in", "POST")
    assert toss.gateway.idempotency_begin(scope) == "new"
    response = toss.post(
        "/v1/payments/key-in", _key_in_body("order-busy"), headers={"Idempotency-Key": "busy-key"}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "IDEMPOTENT_REQUEST_PROCESSING"


def test_fault_rule_error_status_on_a_route(toss):
    rule = {
        "method": "GET",
        "path": "/v1/payments/*",
        "status": 500,
        "times": 1,
        "body": {"code": "FAILED_INTERNAL_SYSTEM_PROCESSING", "message": "x"},
    }
    assert toss.control("POST", "/faults", rule).ok
    assert toss.get("/v1/payments/abc").status_code == 500
    assert toss.get("/v1/payments/abc").status_code == 404
