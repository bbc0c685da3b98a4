"""PortOne V2 subscriptions: requestIssueBillingKey's key, checked against our customer, then
POST /payments/{period's order id}/billing-key; renewals charged on demand by the worker."""

from __future__ import annotations

import json


def test_first_period_is_charged_with_the_key_under_the_periods_order_id(subscriber, fakes):
    active = subscriber.subscribe("portone")
    sub_id = active["subscription_id"]
    first = fakes.portone.payment(f"{sub_id}_p1")
    assert first is not None and first["status"] == "PAID"
    assert first["amount"]["total"] == active["plan"]["amount"] and first["billingKey"]
    records = subscriber.records(sub_id)
    assert records["charges"][1][0] == "paid" and records["charges"][1][2] == f"{sub_id}_p1"
    info = fakes.portone.get(f"/billing-keys/{first['billingKey']}").json()
    assert info["customer"]["id"] == records["customer_key"]


def test_a_billing_key_issued_to_someone_else_is_never_charged(subscriber, fakes):
    sub = subscriber.create("portone")
    stolen = fakes.portone.issue_billing_key()  # a real key, of another customer
    response = subscriber.activate(sub["subscription_id"], {"billing_key": stolen})
    assert response.status_code == 409, response.get_json()
    assert response.get_json()["code"] == "BILLING_KEY_MISSING"
    assert fakes.portone.payment(f"{sub['subscription_id']}_p1") is None
    assert subscriber.get(sub["subscription_id"])["status"] == "incomplete"


def test_a_declined_first_charge_leaves_it_incomplete_and_a_retry_subscribes(subscriber, fakes):
    sub = subscriber.create("portone")
    sub_id = sub["subscription_id"]
    proof = subscriber.card_window("portone", sub["setup"])
    decline = {
        "type": "PG_PROVIDER",
        "message": "잔액부족",
        "pgCode": "CD0002",
        "pgMessage": "한도초과 혹은 잔액부족",
    }
    fakes.portone.add_fault(
        {"method": "POST", "path": "/payments/*/billing-key", "status": 502, "body": decline}
    )
    try:
        declined = subscriber.activate(sub_id, proof)
    finally:
        fakes.portone.clear_faults()
    assert declined.status_code in (402, 409), declined.get_json()
    assert subscriber.get(sub_id)["status"] == "incomplete"
    assert fakes.portone.payment(f"{sub_id}_p1") is None
    # The key was forgotten with the decline: the browser registers a card again. The second
    # try of the period has its own payment id, the order id being in its customData.
    retried = subscriber.activate(sub_id, subscriber.card_window("portone", sub["setup"]))
    assert retried.status_code == 200, retried.get_json()
    assert fakes.portone.payment(f"{sub_id}_p1") is None
    second = fakes.portone.payment(f"{sub_id}_p1-2")
    assert second["status"] == "PAID" and json.loads(second["customData"]) == {
        "orderId": f"{sub_id}_p1"
    }
    records = subscriber.records(sub_id)
    assert records["charges"][1][0] == "paid" and records["charges"][1][2] == f"{sub_id}_p1-2"
