"""Subscriptions over months of test time, with both gateways: one charge per period, the
key-issuing payment counted once, repeated and late webhooks, cancel, outbound webhooks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
from standardwebhooks import Webhook

from fake_common.window_client import APPROVED, iamport_pay

MONTH = 31  # days; every period is at most this long, and 4 x 31 days stay short of 5 months


def paid_periods(records: dict) -> list[int]:
    return sorted(p for p, c in records["charges"].items() if c[0] == "paid")


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_plans_come_from_the_database(subscriber):
    plans = subscriber.client.get("/api/subscriptions/plans").get_json()["plans"]
    assert plans[:2] == [
        {"id": 1, "name": "Basic monthly", "amount": 9900, "currency": "KRW", "interval": "month"},
        {"id": 2, "name": "Pro monthly", "amount": 19900, "currency": "KRW", "interval": "month"},
    ]


def test_unknown_plan_and_bad_bodies_are_422(subscriber):
    unknown = subscriber.client.post("/api/subscriptions", json={"plan_id": 99, "vendor": "toss"})
    assert (unknown.status_code, unknown.get_json()["code"]) == (422, "UNKNOWN_PLAN")
    invalid = subscriber.client.post("/api/subscriptions", json={"plan_id": 1, "vendor": "paypal"})
    assert (invalid.status_code, invalid.get_json()["code"]) == (422, "VALIDATION_ERROR")
    missing = subscriber.client.get("/api/subscriptions/sub_00000000000000000000")
    assert (missing.status_code, missing.get_json()["code"]) == (404, "SUBSCRIPTION_NOT_FOUND")


def test_portone_four_months_one_charge_per_period_and_the_key_payment_counted_once(
    subscriber,
):
    sub = subscriber.create("iamport")
    setup = sub["setup"]
    assert sub["status"] == "incomplete"
    assert setup["merchant_uid"] == f"{sub['subscription_id']}_p1"
    assert setup["amount"] == 9900 and setup["customer_uid"].startswith("cus_")
    assert setup["notice_url"].endswith("/payments/webhooks/iamport")

    proof = subscriber.card_window("iamport", setup)
    sub_id = sub["subscription_id"]
    active = subscriber.activate(sub_id, proof).get_json()
    assert active["status"] == "active"
    assert active["card"]["number"].startswith("424242")
    assert "setup" not in active
    first = next(c for c in active["charges"] if c["period"] == 1)
    assert first["key_issue"] is True and first["status"] == "paid"
    assert first["payment_id"] == proof["imp_uid"]
    # Activating again (a reload) answers the same; the key-issuing payment is not counted twice.
    assert subscriber.activate(sub_id, proof).get_json()["charges"] == active["charges"]

    # One schedule booked ahead, under the key, for period 2 only: none for the key payment.
    assert subscriber.iamport_schedule(f"{sub_id}_p1") is None
    booked = subscriber.iamport_schedule(f"{sub_id}_p2")
    assert booked["schedule_status"] == "scheduled"
    assert booked["customer_uid"] == setup["customer_uid"]
    assert booked["schedule_at"] == int(at(active["next_charge_at"]).timestamp())
    assert booked["amount"] == 9900

    for month in range(1, 5):
        subscriber.advance_days(MONTH)
        records = subscriber.records(sub_id)
        assert paid_periods(records) == list(range(1, month + 2))
        assert records["charges"][month + 2][0] == "scheduled"  # exactly one ahead
        assert len(records["charges"]) == month + 2
        assert subscriber.iamport_schedule(f"{sub_id}_p{month + 2}")["schedule_status"] == (
            "scheduled"
        )
        assert subscriber.iamport_schedule(f"{sub_id}_p{month + 3}") is None

    view = subscriber.get(sub_id)
    assert view["status"] == "active" and view["current_period"] == 5
    assert [c["key_issue"] for c in view["charges"] if c["status"] == "paid"] == [
        True,
        False,
        False,
        False,
        False,
    ]
    assert [c["period"] for c in view["charges"]] == [1, 2, 3, 4, 5, 6]  # oldest first
    # At the gateway: one paid payment per period (the first one is the key-issuing payment).
    for period in range(1, 6):
        paid = [
            p for p in subscriber.iamport_payments(f"{sub_id}_p{period}") if p["status"] == "paid"
        ]
        assert len(paid) == 1, (period, paid)
        assert paid[0]["customer_uid_usage"] == ("issue" if period == 1 else "payment.scheduled")
    records = subscriber.records(sub_id)
    assert records["payments"] == [(f"{sub_id}_p{p}", "paid") for p in range(1, 6)]
    assert records["pending_jobs"] == [6]


def test_portone_repeated_and_late_webhooks_change_nothing(subscriber, fakes):
    active = subscriber.subscribe("iamport")
    sub_id = active["subscription_id"]
    key_payment = active["charges"][0]["payment_id"]
    subscriber.advance_days(MONTH)
    subscriber.advance_days(MONTH)
    before = subscriber.get(sub_id)
    records = subscriber.records(sub_id)
    second = records["charges"][2][2]
    third = records["charges"][3][2]
    webhook_url = f"{subscriber.app.config['PUBLIC_URL']}/payments/webhooks/iamport"

    deliveries = [
        # the key-issuing payment again, exactly and with another status in the body
        {"imp_uid": key_payment, "merchant_uid": f"{sub_id}_p1", "status": "paid"},
        {"imp_uid": key_payment, "merchant_uid": f"{sub_id}_p1", "status": "ready"},
        # period 2 after period 3 (out of order), and period 3 twice
        {"imp_uid": second, "merchant_uid": f"{sub_id}_p2", "status": "paid"},
        {"imp_uid": third, "merchant_uid": f"{sub_id}_p3", "status": "paid"},
        {"imp_uid": third, "merchant_uid": f"{sub_id}_p3", "status": "paid"},
        # a body that names a later period with a real payment of another one
        {"imp_uid": third, "merchant_uid": f"{sub_id}_p7", "status": "paid"},
    ]
    results = [requests.post(webhook_url, json=body, timeout=10) for body in deliveries]
    assert [r.status_code for r in results] == [200] * len(deliveries)
    assert "duplicate ignored" in results[4].json()["result"]

    assert subscriber.get(sub_id) == before
    assert subscriber.records(sub_id) == records
    # Still one schedule ahead, for period 4, and one paid payment per period at the gateway.
    assert subscriber.iamport_schedule(f"{sub_id}_p4")["schedule_status"] == "scheduled"
    assert subscriber.iamport_schedule(f"{sub_id}_p5") is None
    for period in (1, 2, 3):
        paid = [
            p for p in subscriber.iamport_payments(f"{sub_id}_p{period}") if p["status"] == "paid"
        ]
        assert len(paid) == 1


def test_portone_webhook_first_activates_and_the_browser_gets_the_same_answer(subscriber, fakes):
    sub = subscriber.create("iamport")
    sub_id = sub["subscription_id"]
    proof = subscriber.card_window("iamport", sub["setup"])
    # The key-issuing payment's webhook reaches the backend before the browser comes back.
    requests.get(f"{fakes.iamport.url}/__control/webhooks", params={"wait": 10}, timeout=20)
    by_webhook = subscriber.get(sub_id)
    assert by_webhook["status"] == "active"
    assert subscriber.activate(sub_id, proof).get_json() == by_webhook
    records = subscriber.records(sub_id)
    assert records["charges"] == {
        1: ("paid", True, proof["imp_uid"], 1),
        2: ("scheduled", False, None, 0),
    }


def test_portone_a_window_charging_another_amount_is_refunded_and_not_activated(subscriber, fakes):
    subscriber.app.config["IAMPORT_PREPARE"] = False  # let the window take another amount
    try:
        sub = subscriber.create("iamport")
    finally:
        subscriber.app.config["IAMPORT_PREPARE"] = True
    setup = sub["setup"]
    query = iamport_pay(
        fakes.iamport.url,
        merchant_uid=setup["merchant_uid"],
        amount=100,
        customer_uid=setup["customer_uid"],
        card=APPROVED,
    )
    refused = subscriber.activate(sub["subscription_id"], {"imp_uid": query["imp_uid"]})
    assert refused.status_code == 409
    assert refused.get_json()["code"] == "AMOUNT_MISMATCH"
    assert subscriber.get(sub["subscription_id"])["status"] == "incomplete"
    [payment] = subscriber.iamport_payments(setup["merchant_uid"])
    assert payment["status"] == "cancelled" and payment["cancel_amount"] == 100


def test_toss_four_months_one_charge_per_period(subscriber):
    sub = subscriber.create("toss")
    setup = sub["setup"]
    assert setup["customer_key"].startswith("cus_")
    assert setup["success_url_path"] == "/subscriptions/toss/success"
    assert setup["fail_url_path"] == "/subscriptions/toss/fail"
    assert setup["client_key"].startswith("test_ck_")
    sub_id = sub["subscription_id"]
    proof = subscriber.card_window("toss", setup)
    active = subscriber.activate(sub_id, proof).get_json()
    assert active["status"] == "active"
    assert [c["key_issue"] for c in active["charges"]] == [False, False]
    assert subscriber.activate(sub_id, proof).get_json() == active  # the success page reloaded

    for month in range(1, 5):
        subscriber.advance_days(MONTH)
        records = subscriber.records(sub_id)
        assert paid_periods(records) == list(range(1, month + 2))
        assert records["pending_jobs"] == [month + 2]
        assert records["charges"][month + 2][0] == "scheduled"

    records = subscriber.records(sub_id)
    assert records["attempts"] == [(p, "paid") for p in range(1, 6)]
    for period in range(1, 6):
        payment = subscriber.toss_payment(f"{sub_id}_p{period}")
        assert payment["status"] == "DONE" and payment["type"] == "BILLING"
        assert payment["totalAmount"] == 9900
        assert records["charges"][period][2] == payment["paymentKey"]
    # A renewal at the worker's hand runs once however often its job is run again.
    from payment_backend.services.subscriptions import ensure_charged

    with subscriber.app.app_context():
        from payment_backend.extensions import db

        assert ensure_charged(sub_id, 5, actor="test") is None
        db.session.commit()
    assert subscriber.records(sub_id) == records


@pytest.mark.parametrize("vendor", ["iamport", "toss", "portone"])
def test_cancel_stops_the_next_charge_and_keeps_access_to_the_period_end(subscriber, vendor):
    active = subscriber.subscribe(vendor)
    sub_id = active["subscription_id"]
    subscriber.advance_days(MONTH)
    renewed = subscriber.get(sub_id)
    assert renewed["current_period"] == 2
    next_charge = renewed["next_charge_at"]

    canceled = subscriber.cancel(sub_id, "too expensive").get_json()
    assert canceled["status"] == "canceled"
    assert canceled["cancel_reason"] == "too expensive"
    assert canceled["access_until"] == renewed["current_period_end"] == next_charge
    assert canceled["next_charge_at"] is None and canceled["next_charge_amount"] is None
    assert subscriber.cancel(sub_id).get_json() == canceled  # twice: the same answer
    if vendor == "iamport":
        revoked = subscriber.iamport_schedule(f"{sub_id}_p3")
        assert revoked["schedule_status"] == "revoked"

    for _ in range(2):
        subscriber.advance_days(MONTH)
    records = subscriber.records(sub_id)
    assert records["charges"] == {
        1: records["charges"][1],
        2: records["charges"][2],
    }  # the scheduled period 3 is gone, nothing charged after the cancel
    assert paid_periods(records) == [1, 2]
    assert records["pending_jobs"] == []
    assert records["payments"] == [(f"{sub_id}_p1", "paid"), (f"{sub_id}_p2", "paid")]  # no refund
    if vendor == "iamport":
        assert subscriber.iamport_payments(f"{sub_id}_p3") == []
        assert subscriber.iamport_schedule(f"{sub_id}_p3")["schedule_status"] == "revoked"
    else:
        assert subscriber.toss_payment(f"{sub_id}_p3") is None


def test_outbound_webhooks_for_every_change_and_charge(subscriber, merchant):

    subscriber.app.config["SUBSCRIPTION_WEBHOOK_URL"] = merchant.url + "/subscriptions"
    try:
        active = subscriber.subscribe("toss")
        sub_id = active["subscription_id"]
        subscriber.advance_days(MONTH)
        subscriber.cancel(sub_id)
        subscriber.advance(0)  # runs the queued deliveries
    finally:
        subscriber.app.config["SUBSCRIPTION_WEBHOOK_URL"] = None
    received = merchant.wait_for(6)
    events = [(r["body"]["event"], (r["body"]["current"] or {}).get("status")) for r in received]
    assert events == [
        ("subscription.created", "incomplete"),
        ("subscription.charge.paid", "paid"),
        ("subscription.updated", "active"),
        ("subscription.charge.paid", "paid"),
        ("subscription.updated", "active"),
        ("subscription.updated", "canceled"),
        *events[6:],
    ]
    assert [r["body"]["current"]["period"] for r in received if "charge" in r["body"]["event"]] == [
        1,
        2,
    ]
    assert all(
        r["body"]["source"] == {"schema": "subscriptions", "table": "subscriptions", "id": sub_id}
        for r in received
    )
    # The webhook's subscription is the API's, without the charges (one format for both).
    canceled = {k: v for k, v in subscriber.get(sub_id).items() if k != "charges"}
    assert received[5]["body"]["current"] == canceled
    charge = received[3]["body"]["current"]
    assert charge == next(c for c in subscriber.get(sub_id)["charges"] if c["period"] == 2)
    signer = Webhook(subscriber.app.config["PAYMENT_WEBHOOK_SIGNING_SECRET"])
    for request in received:  # signed as the Standard Webhooks library signs (test clock times)
        headers = {k.lower(): v for k, v in request["headers"].items()}
        at = datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)
        assert headers["webhook-signature"] == signer.sign(
            headers["webhook-id"], at, request["raw"]
        )


def test_dashboard_counts_from_the_records(subscriber):
    owner = {"Authorization": f"Bearer {subscriber.app.config['PAYMENT_ADMIN_TOKEN']}"}
    assert subscriber.client.get("/api/admin/subscriptions/dashboard").status_code == 401
    before = subscriber.client.get("/api/admin/subscriptions/dashboard", headers=owner).get_json()
    first = subscriber.subscribe("toss")
    subscriber.subscribe("iamport", plan_id=2)
    third = subscriber.subscribe("toss")
    subscriber.cancel(third["subscription_id"])
    after = subscriber.client.get("/api/admin/subscriptions/dashboard", headers=owner).get_json()
    assert after["active"] - before["active"] == 2
    assert after["mrr"] - before["mrr"] == 9900 + 19900
    assert after["new_this_month"] - before["new_this_month"] == 3
    assert after["canceled_this_month"] - before["canceled_this_month"] == 1
    assert after["currency"] == "KRW"
    assert len(after["months"]) == 6
    this_month = after["months"][-1]
    assert this_month["month"] == first["created_at"][:7]
    assert this_month["revenue"] - before["months"][-1]["revenue"] == 9900 * 2 + 19900
    listed = subscriber.client.get("/api/admin/subscriptions", headers=owner).get_json()
    listed = listed["subscriptions"]
    assert first["subscription_id"] in {s["subscription_id"] for s in listed}


def test_test_clock_moves_and_is_absent_in_real_mode(subscriber):
    before = subscriber.client.get("/api/test/clock").get_json()
    assert abs(before["offset_seconds"]) < 1
    moved = subscriber.advance(3 * 86400)
    assert moved["offset_seconds"] == pytest.approx(3 * 86400, abs=1)
    assert at(moved["now"]) - at(before["now"]) >= timedelta(days=3)
    assert set(moved["fakes"]) == {"iamport", "toss", "portone"}
    assert "error" not in moved["fakes"]["iamport"] and "error" not in moved["fakes"]["toss"]
    assert moved["ran"]["jobs"] >= 0
    negative = subscriber.client.post("/api/test/clock", json={"advance": -5})
    assert negative.status_code == 422
    subscriber.app.config["PAYMENT_MODE"] = "real"
    try:
        assert subscriber.client.get("/api/test/clock").status_code == 404
        assert subscriber.client.post("/api/test/clock", json={"advance": 1}).status_code == 404
    finally:
        subscriber.app.config["PAYMENT_MODE"] = "test"


def test_the_clock_offset_is_shared_through_the_database(subscriber):
    from payment_backend.clock import Clock, DatabaseOffset

    other_process = Clock(DatabaseOffset(subscriber.app), ttl=0)
    subscriber.advance(40 * 86400)
    assert other_process.offset().total_seconds() == pytest.approx(40 * 86400, abs=1)
    other_process.advance_shared(86400)
    subscriber.app.extensions["clock"]._read_at = float("-inf")  # its next read is due
    assert subscriber.app.extensions["clock"].offset().total_seconds() == pytest.approx(
        41 * 86400, abs=1
    )


def test_the_owner_refunds_a_paid_period_explicitly(subscriber):
    owner = {"Authorization": f"Bearer {subscriber.app.config['PAYMENT_ADMIN_TOKEN']}"}
    active = subscriber.subscribe("toss")
    sub_id = active["subscription_id"]
    canceled = subscriber.cancel(sub_id).get_json()
    assert canceled["charges"][0]["refunded"] == 0  # canceling refunds nothing
    path = f"/api/admin/subscriptions/{sub_id}/charges/1/refund"
    assert subscriber.client.post(path, json={"reason": "goodwill"}).status_code == 401
    refunded = subscriber.client.post(
        path, json={"amount": 4000, "reason": "goodwill"}, headers=owner
    ).get_json()
    assert refunded["charges"][0]["refunded"] == 4000
    payment = subscriber.toss_payment(f"{sub_id}_p1")
    assert (payment["status"], payment["balanceAmount"]) == ("PARTIAL_CANCELED", 5900)
    unpaid = subscriber.client.post(
        f"/api/admin/subscriptions/{sub_id}/charges/2/refund",
        json={"reason": "nothing there"},
        headers=owner,
    )
    assert (unpaid.status_code, unpaid.get_json()["code"]) == (409, "NOT_REFUNDABLE")


def test_portone_a_lost_webhook_and_a_browser_that_never_came_back(subscriber, fakes):
    rule = requests.post(
        f"{fakes.iamport.url}/__control/faults",
        json={"target": "webhook", "action": "drop", "url": "*", "times": 1},
        timeout=10,
    ).json()
    try:
        sub = subscriber.create("iamport")
        proof = subscriber.card_window("iamport", sub["setup"])  # the buyer's tab closes here
    finally:
        requests.delete(f"{fakes.iamport.url}/__control/faults/{rule['id']}", timeout=10)
    sub_id = sub["subscription_id"]
    assert subscriber.get(sub_id)["status"] == "incomplete"
    subscriber.advance(11 * 60)  # the look-up job finds the key-issuing payment
    found = subscriber.get(sub_id)
    assert found["status"] == "active"
    assert subscriber.records(sub_id)["charges"] == {
        1: ("paid", True, proof["imp_uid"], 1),
        2: ("scheduled", False, None, 0),
    }
    assert subscriber.iamport_schedule(f"{sub_id}_p2")["schedule_status"] == "scheduled"


def test_portone_a_card_window_finished_after_cancel_is_refunded(subscriber, fakes):
    sub = subscriber.create("iamport")
    sub_id = sub["subscription_id"]
    assert subscriber.cancel(sub_id, "changed my mind").get_json()["status"] == "canceled"
    proof = subscriber.card_window("iamport", sub["setup"])  # the window was still open
    requests.get(f"{fakes.iamport.url}/__control/webhooks", params={"wait": 10}, timeout=20)
    payment = subscriber.fakes.iamport_api("GET", f"/payments/{proof['imp_uid']}").json()[
        "response"
    ]
    assert (payment["status"], payment["cancel_amount"]) == ("cancelled", 9900)
    refused = subscriber.activate(sub_id, proof)
    assert (refused.status_code, refused.get_json()["code"]) == (409, "SUBSCRIPTION_NOT_INCOMPLETE")
    assert subscriber.records(sub_id)["charges"] == {}


def test_creating_with_the_same_idempotency_key_answers_the_first_subscription(client):
    body = {"plan_id": 1, "vendor": "toss", "buyer": {"name": "Kim", "email": "kim@example.com"}}
    headers = {"Idempotency-Key": "create-sub-0001"}
    first = client.post("/api/subscriptions", json=body, headers=headers)
    again = client.post("/api/subscriptions", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json()["subscription_id"] == first.get_json()["subscription_id"]
    other = client.post("/api/subscriptions", json=body)
    assert other.get_json()["subscription_id"] != first.get_json()["subscription_id"]
