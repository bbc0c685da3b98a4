"""Declined renewals with both gateways: past_due, retries after 1, 3 and 5 days, then recovery by
a new card or the end of the subscription; declined first cards."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from fake_common.window_client import APPROVED

DECLINES_LATER = "4000000000000341"  # issues a billing key; every later charge declines
DECLINED = "4000000000000002"
MONTH = 31


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def declining_subscription(subscriber, vendor: str) -> dict:
    """An active subscription whose renewals will be declined.

    PortOne: the card pays the key-issuing payment and declines afterwards. Toss charges period 1
    with the billing key itself, so that card would be refused at once: the subscription starts
    with a good card and switches to the declining one.
    """
    if vendor == "iamport":
        return subscriber.subscribe("iamport", card=DECLINES_LATER)
    active = subscriber.subscribe("toss")
    replaced = subscriber.replace_card(active["subscription_id"], DECLINES_LATER)
    assert replaced.status_code == 200, replaced.get_json()
    assert [c["status"] for c in replaced.get_json()["charges"]] == ["paid", "scheduled"]
    return replaced.get_json()


def gateway_attempts(subscriber, vendor: str, order_id: str) -> list[str]:
    """The payments the gateway made for an order id, by status."""
    if vendor == "iamport":
        return sorted(p["status"] for p in subscriber.iamport_payments(order_id))
    payment = subscriber.toss_payment(order_id)  # Toss keeps no declined billing charges
    return [payment["status"]] if payment else []


def decline_twice(subscriber, vendor: str) -> tuple[str, dict]:
    active = declining_subscription(subscriber, vendor)
    sub_id = active["subscription_id"]
    moved = subscriber.advance_days(MONTH)  # past the due date: declined when the clock got there
    first = subscriber.get(sub_id)
    assert first["status"] == "past_due"
    assert first["current_period"] == 1  # period 2 is not paid: access ended with period 1
    failed = first["charges"][-1]
    assert (failed["period"], failed["status"], failed["attempts"]) == (2, "failed", 1)
    assert failed["failure"]  # the gateway's decline text
    retry_at = at(first["retry"]["next_retry_at"])
    assert first["retry"]["attempt"] == 1
    assert first["next_charge_at"] == first["retry"]["next_retry_at"]
    assert timedelta(days=1, minutes=-1) <= retry_at - at(moved["now"]) <= timedelta(days=1)

    subscriber.advance_days(1)
    second = subscriber.get(sub_id)
    assert second["status"] == "past_due"
    assert second["retry"]["attempt"] == 2
    assert at(second["retry"]["next_retry_at"]) - retry_at == timedelta(days=2)  # 3 days in
    return sub_id, second


@pytest.mark.parametrize("vendor", ["iamport", "toss", "portone"])
def test_a_declined_renewal_is_retried_and_a_new_card_recovers_it_at_once(subscriber, vendor):
    sub_id, past_due = decline_twice(subscriber, vendor)
    old_card = past_due["card"]
    old_key = subscriber.records(sub_id)["customer_key"]

    replaced = subscriber.replace_card(sub_id, APPROVED)
    assert replaced.status_code == 200, replaced.get_json()
    recovered = replaced.get_json()
    assert recovered["status"] == "active" and recovered["retry"] is None
    assert recovered["card"]["number"].startswith("424242")
    assert old_card["number"].startswith("400000")
    paid = next(c for c in recovered["charges"] if c["period"] == 2)
    assert (paid["status"], paid["attempts"], paid["failure"]) == ("paid", 3, None)
    assert recovered["current_period"] == 2
    records = subscriber.records(sub_id)
    assert records["pending_jobs"] == [3]  # the retry job is gone; period 3 is queued
    assert records["attempts"][-3:] == [(2, "failed"), (2, "failed"), (2, "paid")]
    # Period 3 keeps the anchor: due a month after period 2 was due, not after the recovery.
    assert at(recovered["next_charge_at"]) == at(recovered["current_period_end"])

    subscriber.advance_days(MONTH)
    renewed = subscriber.get(sub_id)
    assert renewed["status"] == "active" and renewed["current_period"] == 3
    assert gateway_attempts(subscriber, vendor, f"{sub_id}_p3") == (
        ["paid"] if vendor == "iamport" else ["DONE"]
    )
    new_key = subscriber.records(sub_id)["customer_key"]
    assert new_key != old_key
    if vendor == "iamport":
        assert gateway_attempts(subscriber, vendor, f"{sub_id}_p2") == ["failed", "failed", "paid"]
        assert subscriber.iamport_schedule(f"{sub_id}_p4")["customer_uid"] == new_key
        # The old billing key is deleted at the gateway.
        assert (
            subscriber.fakes.iamport_api("GET", f"/subscribe/customers/{old_key}").status_code
            == 404
        )
        assert (
            subscriber.fakes.iamport_api("GET", f"/subscribe/customers/{new_key}").status_code
            == 200
        )


@pytest.mark.parametrize("vendor", ["iamport", "toss", "portone"])
def test_after_the_last_retry_the_subscription_is_canceled_with_a_reason(subscriber, vendor):
    sub_id, _ = decline_twice(subscriber, vendor)
    subscriber.advance_days(2)  # day 3: the second retry
    third = subscriber.get(sub_id)
    assert third["status"] == "past_due" and third["retry"]["attempt"] == 3

    subscriber.advance_days(2)  # day 5: the last retry
    ended = subscriber.get(sub_id)
    assert ended["status"] == "canceled"
    assert ended["cancel_reason"].startswith("Payment failed after 3 retries")
    assert ended["retry"] is None and ended["next_charge_at"] is None
    assert ended["access_until"] == ended["current_period_end"]  # the end of period 1
    assert [(c["period"], c["status"], c["attempts"]) for c in ended["charges"]] == [
        (1, "paid", 1),
        (2, "failed", 4),
    ]
    records = subscriber.records(sub_id)
    assert records["pending_jobs"] == []

    subscriber.advance_days(MONTH)
    assert subscriber.records(sub_id) == records
    if vendor == "iamport":
        assert gateway_attempts(subscriber, vendor, f"{sub_id}_p2") == ["failed"] * 4
        assert subscriber.iamport_schedule(f"{sub_id}_p3") is None
        assert subscriber.iamport_payments(f"{sub_id}_p3") == []
    else:
        assert subscriber.toss_payment(f"{sub_id}_p2") is None
        assert subscriber.toss_payment(f"{sub_id}_p3") is None


def test_toss_a_declined_first_charge_leaves_it_incomplete_and_another_card_starts_it(
    subscriber,
):
    sub = subscriber.create("toss")
    sub_id = sub["subscription_id"]
    declined = subscriber.activate(
        sub_id, subscriber.card_window("toss", sub["setup"], DECLINES_LATER)
    )
    assert declined.status_code == 402
    assert declined.get_json()["code"] == "CHARGE_DECLINED"
    incomplete = subscriber.get(sub_id)
    assert incomplete["status"] == "incomplete" and incomplete["card"] is None
    assert incomplete["setup"] == sub["setup"]  # the same setup serves another card

    started = subscriber.activate(sub_id, subscriber.card_window("toss", sub["setup"], APPROVED))
    assert started.status_code == 200, started.get_json()
    assert started.get_json()["status"] == "active"
    records = subscriber.records(sub_id)
    assert records["attempts"] == [(1, "failed"), (1, "paid")]
    assert records["charges"][1][0] == "paid"


def test_portone_a_declined_card_window_leaves_it_incomplete(subscriber):
    sub = subscriber.create("iamport")
    sub_id = sub["subscription_id"]
    declined = subscriber.activate(
        sub_id, subscriber.card_window("iamport", sub["setup"], DECLINED)
    )
    assert declined.status_code == 402
    assert declined.get_json()["code"] == "CHARGE_DECLINED"
    assert subscriber.get(sub_id)["status"] == "incomplete"
    # The same setup again with a good card (the merchant_uid is not paid yet).
    started = subscriber.activate(sub_id, subscriber.card_window("iamport", sub["setup"]))
    assert started.status_code == 200, started.get_json()
    assert subscriber.records(sub_id)["charges"][1][:2] == ("paid", True)
