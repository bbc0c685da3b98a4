"""A gateway that does not answer is 502 GATEWAY_UNAVAILABLE, and a gateway that refuses is 409
GATEWAY_REFUSED with its own code: one status and one shape, whichever route met it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from payment_backend.errors import GATEWAY_UNAVAILABLE


def registration(customer_uid: str) -> dict:
    """The service API's registration of an iamport billing key (its own source)."""
    return {
        "vendor": {"code": "iamport", "store_id": "store-1", "uid": customer_uid},
        "source": {"schema": "shop", "table": "members", "id": customer_uid},
        "title": "Monthly tea box",
        "password": "reservation-pw",
    }


DOWN = {"status": 503, "body": {"code": -1, "message": "down for maintenance"}}
REFUSING = {"status": 200, "body": {"code": 1, "message": "the merchant may not do that"}}


@contextmanager
def failing(fake, method: str, path: str, answer: dict) -> Iterator[None]:
    """Every call to method path at the fake gets answer, until the block ends."""
    rule = fake.add_fault({"method": method, "path": path, "times": 20, **answer})
    try:
        yield
    finally:
        fake.remove_fault(rule["id"])


def _failed_answers(client, seed, fakes, answer: dict) -> list[tuple[int, dict]]:
    """What a new iamport order (browser checkout) and a billing key registration (the service
    API, encrypted) answer while the gateway fails so."""
    with failing(fakes.iamport, "POST", "/payments/prepare", answer):
        order = client.post(
            "/api/checkout/orders",
            json={
                "vendor": "iamport",
                "method": "card",
                "items": [{"product_id": 2, "quantity": 1}],
            },
        )
    customer_uid = f"cus_{uuid.uuid4().hex}"
    fakes.iamport.issue_billing_key(customer_uid)
    with failing(fakes.iamport, "GET", f"/subscribe/customers/{customer_uid}", answer):
        registered = seed.call("POST", "/payments/reservations", registration(customer_uid))
    return [(order.status_code, order.get_json()), registered]


def test_a_gateway_that_does_not_answer_is_502_with_one_message_on_every_route(client, seed, fakes):
    for status, body in _failed_answers(client, seed, fakes, DOWN):
        assert (status, body) == (
            502,
            {"code": "GATEWAY_UNAVAILABLE", "message": GATEWAY_UNAVAILABLE},
        )


def test_a_gateway_that_refuses_is_409_with_its_code_on_every_route(client, seed, fakes):
    for status, body in _failed_answers(client, seed, fakes, REFUSING):
        assert (status, body) == (
            409,
            {
                "code": "GATEWAY_REFUSED",
                "message": "the merchant may not do that",
                "gateway_code": "1",
            },
        )


@pytest.mark.parametrize("answer, status", [(DOWN, 502), (REFUSING, 409)])
def test_the_openapi_document_lists_the_gateway_failure_of_a_new_order(client, answer, status):
    operation = client.get("/openapi.json").get_json()["paths"]["/api/checkout/orders"]["post"]
    assert str(status) in operation["responses"]
