"""The seed's /payments/reservations routes (billing keys), driven by the from-the-docs client:
encrypted bodies, keys sealed at rest, one record per source and per key, reads with a password."""

from __future__ import annotations

import uuid

import requests
from sqlalchemy import select

from fake_common.window_client import toss_register_card
from payment_backend.extensions import db
from payment_backend.models import Reservation


def iamport_billing_key(fakes, customer_uid: str) -> None:
    """A billing key issued at fake PortOne from card data (POST /subscribe/customers/{uid})."""
    fakes.iamport.issue_billing_key(customer_uid)


def toss_billing_key(fakes, customer_key: str) -> str:
    """A billing key from Toss's billing window (authKey) and POST .../authorizations/issue."""
    query = toss_register_card(fakes.toss.url, customer_key=customer_key)
    issued = fakes.toss_api(
        "POST",
        "/v1/billing/authorizations/issue",
        json={"authKey": query["authKey"], "customerKey": customer_key},
    ).json()
    return issued["billingKey"]


def request(code: str, uid: str, source_id: str, password: str = "reservation-pw") -> dict:
    return {
        "vendor": {"code": code, "store_id": "store-1", "uid": uid},
        "source": {"schema": "shop", "table": "members", "id": source_id},
        "title": "Monthly tea box",
        "password": password,
    }


def stored(app, reservation_id: str) -> Reservation:
    with app.app_context():
        row = db.session.scalars(select(Reservation).where(Reservation.id == reservation_id)).one()
        db.session.expunge(row)
        return row


def test_iamport_reservation_is_sealed_and_read_only_with_its_password(app, seed, fakes):
    customer_uid = f"cus_{uuid.uuid4().hex}"
    iamport_billing_key(fakes, customer_uid)
    status, created = seed.call(
        "POST", "/payments/reservations", request("iamport", customer_uid, customer_uid)
    )
    assert status == 201, created
    assert created["vendor"] == {"code": "iamport", "store_id": "store-1", "uid": customer_uid}
    assert created["source"] == {"schema": "shop", "table": "members", "id": customer_uid}
    assert created["title"] == "Monthly tea box"
    assert created["data"]["customer_uid"] == customer_uid
    assert created["data"]["card_number"].startswith("555555")
    assert created["card"] == {
        "company": created["data"]["card_name"],
        "number": created["data"]["card_number"],
    }

    row = stored(app, created["id"])
    assert customer_uid not in row.sealed_uid and customer_uid not in row.uid_digest
    assert "card_number" not in row.sealed_data and row.password_hash.startswith("scrypt$")

    by_source = {
        "schema": "shop",
        "table": "members",
        "id": customer_uid,
        "password": "reservation-pw",
    }
    assert seed.call("PATCH", "/payments/reservations/get", by_source) == (200, created)
    assert seed.call(
        "PATCH", f"/payments/reservations/{created['id']}", {"password": "reservation-pw"}
    ) == (200, created)

    # Wrong password and unknown record: the same answer (the seed told them apart).
    wrong = seed.call("PATCH", "/payments/reservations/get", {**by_source, "password": "nope"})
    unknown = seed.call("PATCH", f"/payments/reservations/{uuid.uuid4()}", {"password": "x"})
    assert wrong == unknown
    assert wrong[0] == 404 and wrong[1]["code"] == "RESERVATION_NOT_FOUND"

    # The same registration again answers the record; with another password it is refused.
    again = seed.call(
        "POST", "/payments/reservations", request("iamport", customer_uid, customer_uid)
    )
    assert again == (201, created)
    other = seed.call(
        "POST", "/payments/reservations", request("iamport", customer_uid, customer_uid, "other")
    )
    assert other[0] == 409 and other[1]["code"] == "ALREADY_REGISTERED"
    elsewhere = seed.call(
        "POST", "/payments/reservations", request("iamport", customer_uid, "another-member")
    )
    assert elsewhere[0] == 409


def test_toss_reservation_of_a_billing_key(app, seed, fakes):
    customer_key = f"member-{uuid.uuid4().hex}"
    billing_key = toss_billing_key(fakes, customer_key)
    status, created = seed.call(
        "POST", "/payments/reservations", request("toss.payments", billing_key, customer_key)
    )
    assert status == 201, created
    assert created["vendor"]["uid"] == billing_key
    assert created["vendor"]["code"] == "toss.payments"
    assert created["data"]["customerKey"] == customer_key
    assert created["data"]["billingKey"] == billing_key
    row = stored(app, created["id"])
    assert billing_key not in row.sealed_uid and billing_key not in row.sealed_data
    assert row.customer_key == customer_key


def test_unknown_keys_and_bad_bodies_are_refused(seed):
    status, body = seed.call(
        "POST", "/payments/reservations", request("iamport", "cus_nobody_has_this", "m-1")
    )
    assert (status, body["code"]) == (404, "VENDOR_RESERVATION_NOT_FOUND")
    status, body = seed.call(
        "POST", "/payments/reservations", request("toss.payments", "bln_unknown", "member-1")
    )
    assert status == 404
    status, body = seed.call("POST", "/payments/reservations", {"vendor": {"code": "paypal"}})
    assert (status, body["code"]) == (400, "VALIDATION_ERROR")
    plain = requests.post(
        seed.host + "/payments/reservations", json=request("iamport", "x", "y"), timeout=10
    )
    assert (plain.status_code, plain.json()["code"]) == (400, "UNSUPPORTED_CONTENT_TYPE")


def test_subscription_keys_are_not_readable_through_the_service_api(subscriber, fakes):
    active = subscriber.subscribe("toss")
    with subscriber.app.app_context():
        from payment_backend.models import Subscription

        sub = db.session.get(Subscription, active["subscription_id"])
        source = {
            "schema": sub.reservation.source_schema,
            "table": sub.reservation.source_table,
            "id": sub.reservation.source_id,
        }
        assert sub.reservation.password_hash is None
    from payment_backend.services import reservations

    with subscriber.app.test_request_context():
        try:
            reservations.find_by_source(source, "")
        except Exception as error:  # the one not-found answer
            assert getattr(error, "status", None) == 404
        else:
            raise AssertionError("a subscription's billing key was readable without a password")
