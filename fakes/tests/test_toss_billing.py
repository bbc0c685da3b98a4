"""fake_toss billing over real HTTP: billing window -> authKey -> issue, card issue, charge, decline, delete."""

from __future__ import annotations

from datetime import datetime


def issue(toss, customer_key="cust-0001", card_number="4242424242424242") -> dict:
    redirect = toss.register_card(customer_key, card_number)
    assert redirect["path"] == "/billing/success", redirect
    assert redirect["query"]["customerKey"] == customer_key
    auth_key = redirect["query"]["authKey"]
    response = toss.post(
        "/v1/billing/authorizations/issue", {"authKey": auth_key, "customerKey": customer_key}
    )
    assert response.status_code == 200, response.text
    return response.json()


def charge(toss, billing_key, customer_key="cust-0001", order_id="sub-0001", amount=9900, **extra):
    body = {
        "customerKey": customer_key,
        "amount": amount,
        "orderId": order_id,
        "orderName": "Monthly plan",
        **extra,
    }
    return toss.post(f"/v1/billing/{billing_key}", body)


def test_billing_window_issue_and_charge(toss):
    billing = issue(toss)
    assert billing["customerKey"] == "cust-0001"
    assert billing["method"] == "카드"
    assert billing["mId"] == "tvivarepublica"
    assert billing["card"]["number"] == "42424242****424*"
    assert billing["authenticatedAt"].endswith("+09:00")
    assert len(billing["billingKey"]) == 44

    response = charge(toss, billing["billingKey"])
    assert response.status_code == 200
    payment = response.json()
    assert payment["type"] == "BILLING"
    assert payment["status"] == "DONE"
    assert payment["method"] == "카드"
    assert payment["totalAmount"] == 9900
    assert payment["card"]["number"] == "42424242****424*"
    assert toss.get("/v1/payments/orders/sub-0001").json()["paymentKey"] == payment["paymentKey"]
    second = charge(toss, billing["billingKey"], order_id="sub-0002").json()
    assert second["status"] == "DONE"
    refund = toss.post(f"/v1/payments/{second['paymentKey']}/cancel", {"cancelReason": "x"})
    assert refund.json()["status"] == "CANCELED"


def test_auth_key_is_single_use_and_bound_to_its_customer(toss):
    redirect = toss.register_card("cust-0001")
    auth_key = redirect["query"]["authKey"]
    other = toss.post(
        "/v1/billing/authorizations/issue", {"authKey": auth_key, "customerKey": "cust-other"}
    )
    assert (other.status_code, other.json()["code"]) == (400, "NOT_MATCHES_CUSTOMER_KEY")
    body = {"authKey": auth_key, "customerKey": "cust-0001"}
    assert toss.post("/v1/billing/authorizations/issue", body).status_code == 200
    assert toss.post("/v1/billing/authorizations/issue", body).status_code == 400
    unknown = toss.post(
        "/v1/billing/authorizations/issue", {"authKey": "bln_nope", "customerKey": "cust-0001"}
    )
    assert unknown.status_code == 404
    missing = toss.post("/v1/billing/authorizations/issue", {"customerKey": "cust-0001"})
    assert missing.json()["code"] == "INVALID_REQUEST"


def test_billing_key_from_card_data(toss):
    body = {
        "customerKey": "cust-card-1",
        "cardNumber": "5555555555554444",
        "cardExpirationYear": "39",
        "cardExpirationMonth": "06",
        "customerIdentityNumber": "881212",
    }
    billing = toss.post("/v1/billing/authorizations/card", body).json()
    assert billing["customerKey"] == "cust-card-1"
    assert billing["card"]["issuerCode"] == "61"
    assert (
        charge(toss, billing["billingKey"], customer_key="cust-card-1").json()["status"] == "DONE"
    )
    # The seed's spelling (customerBirthday) is accepted too.
    seed = {**body, "customerIdentityNumber": None, "customerBirthday": "881212"}
    assert toss.post("/v1/billing/authorizations/card", seed).status_code == 200
    bad_key = toss.post("/v1/billing/authorizations/card", {**body, "customerKey": "a"})
    assert bad_key.json()["code"] == "INVALID_REQUEST"
    expired = toss.post("/v1/billing/authorizations/card", {**body, "cardExpirationYear": "20"})
    assert expired.json()["code"] == "INVALID_CARD_EXPIRATION"
    declined = toss.post(
        "/v1/billing/authorizations/card", {**body, "cardNumber": "4000000000000002"}
    )
    assert (declined.status_code, declined.json()["code"]) == (403, "REJECT_CARD_COMPANY")


def test_card_that_declines_later_issues_but_every_charge_is_an_error(toss):
    billing = issue(toss, card_number="4000 0000 0000 0341")
    response = charge(toss, billing["billingKey"])
    assert response.status_code == 403
    assert response.json() == {
        "code": "REJECT_CARD_PAYMENT",
        "message": "한도초과 혹은 잔액부족으로 결제에 실패했습니다.",
    }
    assert toss.get("/v1/payments/orders/sub-0001").status_code == 404


def test_charge_refusals(toss):
    billing_key = issue(toss)["billingKey"]
    other = charge(toss, billing_key, customer_key="cust-other")
    assert (other.status_code, other.json()["code"]) == (400, "NOT_MATCHES_CUSTOMER_KEY")
    assert charge(toss, billing_key).status_code == 200
    duplicate = charge(toss, billing_key)
    assert (duplicate.status_code, duplicate.json()["code"]) == (400, "DUPLICATED_ORDER_ID")
    unknown = charge(toss, "no-such-key", order_id="sub-0003")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "NOT_FOUND_BILLING")
    assert charge(toss, billing_key, order_id="sub-0004", amount=None).status_code == 400


def test_card_expiry_passes_on_the_fake_clock(toss):
    body = {
        "customerKey": "cust-exp",
        "cardNumber": "4242424242424242",
        "cardExpirationYear": str(datetime.fromtimestamp(toss.gateway.clock.now()).year + 1),
        "cardExpirationMonth": "12",
    }
    billing = toss.post("/v1/billing/authorizations/card", body).json()
    toss.advance(3 * 365 * 24 * 3600)
    response = charge(toss, billing["billingKey"], customer_key="cust-exp")
    assert response.json()["code"] == "INVALID_CARD_EXPIRATION"


def test_delete_billing_key(toss):
    billing_key = issue(toss)["billingKey"]
    response = toss.delete(f"/v1/billing/{billing_key}")
    assert response.status_code == 200
    assert response.content == b""
    gone = charge(toss, billing_key)
    assert (gone.status_code, gone.json()["code"]) == (404, "NOT_FOUND_BILLING")
    assert toss.delete(f"/v1/billing/{billing_key}").status_code == 404


def test_billing_window_refusals(toss):
    invalid = toss.register_card("cust-0001", card_number="4000000000000069")
    assert invalid["path"] == "/billing/fail"
    assert invalid["query"]["code"] == "INVALID_CARD_EXPIRATION"
    declined = toss.register_card("cust-0001", card_number="4000000000000002")
    assert declined["query"]["code"] == "REJECT_CARD_COMPANY"
    past = toss.register_card("cust-0001", expiry="01/20")
    assert past["query"]["code"] == "INVALID_CARD_EXPIRATION"


def test_legacy_authorization_route_issues_from_auth_key_and_reads_billing_keys(toss):
    auth_key = toss.register_card("cust-legacy")["query"]["authKey"]
    issued = toss.post(f"/v1/billing/authorizations/{auth_key}", {"customerKey": "cust-legacy"})
    assert issued.status_code == 200
    billing_key = issued.json()["billingKey"]
    read = toss.post(f"/v1/billing/authorizations/{billing_key}", {"customerKey": "cust-legacy"})
    assert read.json() == issued.json()
    other = toss.post(f"/v1/billing/authorizations/{billing_key}", {"customerKey": "cust-x"})
    assert other.json()["code"] == "NOT_MATCHES_CUSTOMER_KEY"
    unknown = toss.post("/v1/billing/authorizations/nothing", {"customerKey": "cust-legacy"})
    assert unknown.status_code == 404
