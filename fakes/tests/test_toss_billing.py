"""fake_toss billing over real HTTP: billing window -> authKey -> issue, card issue, charge, decline, delete."""

from __future__ import annotations

from datetime import datetime

import pytest

from fake_toss.testing import running_fake


@pytest.fixture(scope="module")
def fake():
    with running_fake() as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh(fake):
    fake.reset()


def issue(fake, customer_key="cust-0001", card_number="4242424242424242") -> dict:
    redirect = fake.register_card(customer_key, card_number)
    assert redirect["path"] == "/billing/success", redirect
    assert redirect["query"]["customerKey"] == customer_key
    auth_key = redirect["query"]["authKey"]
    response = fake.post(
        "/v1/billing/authorizations/issue", {"authKey": auth_key, "customerKey": customer_key}
    )
    assert response.status_code == 200, response.text
    return response.json()


def charge(fake, billing_key, customer_key="cust-0001", order_id="sub-0001", amount=9900, **extra):
    body = {
        "customerKey": customer_key,
        "amount": amount,
        "orderId": order_id,
        "orderName": "Monthly plan",
        **extra,
    }
    return fake.post(f"/v1/billing/{billing_key}", body)


def test_billing_window_issue_and_charge(fake):
    billing = issue(fake)
    assert billing["customerKey"] == "cust-0001"
    assert billing["method"] == "카드"
    assert billing["mId"] == "tvivarepublica"
    assert billing["card"]["number"] == "42424242****424*"
    assert billing["authenticatedAt"].endswith("+09:00")
    assert len(billing["billingKey"]) == 44

    response = charge(fake, billing["billingKey"])
    assert response.status_code == 200
    payment = response.json()
    assert payment["type"] == "BILLING"
    assert payment["status"] == "DONE"
    assert payment["method"] == "카드"
    assert payment["totalAmount"] == 9900
    assert payment["card"]["number"] == "42424242****424*"
    assert fake.get("/v1/payments/orders/sub-0001").json()["paymentKey"] == payment["paymentKey"]
    second = charge(fake, billing["billingKey"], order_id="sub-0002").json()
    assert second["status"] == "DONE"
    refund = fake.post(f"/v1/payments/{second['paymentKey']}/cancel", {"cancelReason": "x"})
    assert refund.json()["status"] == "CANCELED"


def test_auth_key_is_single_use_and_bound_to_its_customer(fake):
    redirect = fake.register_card("cust-0001")
    auth_key = redirect["query"]["authKey"]
    other = fake.post(
        "/v1/billing/authorizations/issue", {"authKey": auth_key, "customerKey": "cust-other"}
    )
    assert (other.status_code, other.json()["code"]) == (400, "NOT_MATCHES_CUSTOMER_KEY")
    body = {"authKey": auth_key, "customerKey": "cust-0001"}
    assert fake.post("/v1/billing/authorizations/issue", body).status_code == 200
    assert fake.post("/v1/billing/authorizations/issue", body).status_code == 400
    unknown = fake.post(
        "/v1/billing/authorizations/issue", {"authKey": "bln_nope", "customerKey": "cust-0001"}
    )
    assert unknown.status_code == 404
    missing = fake.post("/v1/billing/authorizations/issue", {"customerKey": "cust-0001"})
    assert missing.json()["code"] == "INVALID_REQUEST"


def test_billing_key_from_card_data(fake):
    body = {
        "customerKey": "cust-card-1",
        "cardNumber": "5555555555554444",
        "cardExpirationYear": "39",
        "cardExpirationMonth": "06",
        "customerIdentityNumber": "881212",
    }
    billing = fake.post("/v1/billing/authorizations/card", body).json()
    assert billing["customerKey"] == "cust-card-1"
    assert billing["card"]["issuerCode"] == "61"
    assert (
        charge(fake, billing["billingKey"], customer_key="cust-card-1").json()["status"] == "DONE"
    )
    # The seed's spelling (customerBirthday) is accepted too.
    seed = {**body, "customerIdentityNumber": None, "customerBirthday": "881212"}
    assert fake.post("/v1/billing/authorizations/card", seed).status_code == 200
    bad_key = fake.post("/v1/billing/authorizations/card", {**body, "customerKey": "a"})
    assert bad_key.json()["code"] == "INVALID_REQUEST"
    expired = fake.post("/v1/billing/authorizations/card", {**body, "cardExpirationYear": "20"})
    assert expired.json()["code"] == "INVALID_CARD_EXPIRATION"
    declined = fake.post(
        "/v1/billing/authorizations/card", {**body, "cardNumber": "4000000000000002"}
    )
    assert (declined.status_code, declined.json()["code"]) == (403, "REJECT_CARD_COMPANY")


def test_card_that_declines_later_issues_but_every_charge_is_an_error(fake):
    billing = issue(fake, card_number="4000 0000 0000 0341")
    response = charge(fake, billing["billingKey"])
    assert response.status_code == 403
    assert response.json() == {
        "code": "REJECT_CARD_PAYMENT",
        "message": "한도초과 혹은 잔액부족으로 결제에 실패했습니다.",
    }
    assert fake.get("/v1/payments/orders/sub-0001").status_code == 404


def test_charge_refusals(fake):
    billing_key = issue(fake)["billingKey"]
    other = charge(fake, billing_key, customer_key="cust-other")
    assert (other.status_code, other.json()["code"]) == (400, "NOT_MATCHES_CUSTOMER_KEY")
    assert charge(fake, billing_key).status_code == 200
    duplicate = charge(fake, billing_key)
    assert (duplicate.status_code, duplicate.json()["code"]) == (400, "DUPLICATED_ORDER_ID")
    unknown = charge(fake, "no-such-key", order_id="sub-0003")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "NOT_FOUND_BILLING")
    assert charge(fake, billing_key, order_id="sub-0004", amount=None).status_code == 400


def test_card_expiry_passes_on_the_fake_clock(fake):
    body = {
        "customerKey": "cust-exp",
        "cardNumber": "4242424242424242",
        "cardExpirationYear": str(datetime.fromtimestamp(fake.gateway.clock.now()).year + 1),
        "cardExpirationMonth": "12",
    }
    billing = fake.post("/v1/billing/authorizations/card", body).json()
    fake.advance(3 * 365 * 24 * 3600)
    response = charge(fake, billing["billingKey"], customer_key="cust-exp")
    assert response.json()["code"] == "INVALID_CARD_EXPIRATION"


def test_delete_billing_key(fake):
    billing_key = issue(fake)["billingKey"]
    response = fake.delete(f"/v1/billing/{billing_key}")
    assert response.status_code == 200
    assert response.content == b""
    gone = charge(fake, billing_key)
    assert (gone.status_code, gone.json()["code"]) == (404, "NOT_FOUND_BILLING")
    assert fake.delete(f"/v1/billing/{billing_key}").status_code == 404


def test_billing_window_refusals(fake):
    invalid = fake.register_card("cust-0001", card_number="4000000000000069")
    assert invalid["path"] == "/billing/fail"
    assert invalid["query"]["code"] == "INVALID_CARD_EXPIRATION"
    declined = fake.register_card("cust-0001", card_number="4000000000000002")
    assert declined["query"]["code"] == "REJECT_CARD_COMPANY"
    past = fake.register_card("cust-0001", expiry="01/20")
    assert past["query"]["code"] == "INVALID_CARD_EXPIRATION"


def test_legacy_authorization_route_issues_from_auth_key_and_reads_billing_keys(fake):
    auth_key = fake.register_card("cust-legacy")["query"]["authKey"]
    issued = fake.post(f"/v1/billing/authorizations/{auth_key}", {"customerKey": "cust-legacy"})
    assert issued.status_code == 200
    billing_key = issued.json()["billingKey"]
    read = fake.post(f"/v1/billing/authorizations/{billing_key}", {"customerKey": "cust-legacy"})
    assert read.json() == issued.json()
    other = fake.post(f"/v1/billing/authorizations/{billing_key}", {"customerKey": "cust-x"})
    assert other.json()["code"] == "NOT_MATCHES_CUSTOMER_KEY"
    unknown = fake.post("/v1/billing/authorizations/nothing", {"customerKey": "cust-legacy"})
    assert unknown.status_code == 404
