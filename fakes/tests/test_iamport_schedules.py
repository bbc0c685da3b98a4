"""Scheduled billing on the fake clock, and webhooks (with retries and faults) to a real receiver."""

from __future__ import annotations

import time

import pytest

from fake_common.polling import wait_until

APPROVED = "4242-4242-4242-4242"
DECLINES_LATER = "4000-0000-0000-0341"


@pytest.fixture
def fake(iamport_factory, webhook_receiver):
    """A fake whose default webhook URL is the test receiver."""
    return iamport_factory(
        {"WEBHOOK_URL": f"{webhook_receiver.url}/default", "SCHEDULE_POLL_SECONDS": 0.1}
    )


def register(fake, customer_uid: str, card: str = APPROVED) -> None:
    body = fake.post(
        f"/subscribe/customers/{customer_uid}", {"card_number": card, "expiry": "2099-12"}
    ).json()
    assert body["code"] == 0, body


def schedule(fake, customer_uid: str, *entries: dict, **extra) -> dict:
    return fake.post(
        "/subscribe/payments/schedule",
        {"customer_uid": customer_uid, "schedules": list(entries), **extra},
    ).json()


def test_schedules_run_when_the_clock_passes_them(fake, webhook_receiver):
    register(fake, "monthly")
    now = fake.gateway.now()
    created = schedule(
        fake,
        "monthly",
        {
            "merchant_uid": "m-1",
            "schedule_at": now + 3600,
            "amount": 9900,
            "currency": "KRW",
            "name": "Plan 1",
            "notice_url": f"{webhook_receiver.url}/notice",
        },
        {"merchant_uid": "m-2", "schedule_at": now + 7200, "amount": 9900, "name": "Plan 2"},
        {"merchant_uid": "m-3", "schedule_at": now + 10800, "amount": 9900, "name": "Plan 3"},
    )
    assert created["code"] == 0
    first = created["response"][0]
    assert (
        first["schedule_status"] == "scheduled"
        and first["imp_uid"] is None
        and first["executed_at"] == 0
    )
    assert (
        first["amount"] == 9900 and first["currency"] == "KRW" and first["payment_status"] is None
    )

    listed = fake.get(
        "/subscribe/payments/schedule", params={"schedule_from": now, "schedule_to": now + 7200}
    ).json()
    assert [s["merchant_uid"] for s in listed["response"]] == ["m-1", "m-2"]
    assert fake.get("/subscribe/payments/schedule").status_code == 400

    revoked = fake.post(
        "/subscribe/payments/unschedule", {"customer_uid": "monthly", "merchant_uid": ["m-3"]}
    ).json()
    assert [s["schedule_status"] for s in revoked["response"]] == ["revoked"]
    assert revoked["response"][0]["revoked_at"] > 0

    fake.advance(3601)
    ran = fake.get("/subscribe/payments/schedule/m-1").json()["response"]
    assert (
        ran["schedule_status"] == "executed"
        and ran["payment_status"] == "paid"
        and ran["executed_at"] > 0
    )
    payment = fake.get(f"/payments/{ran['imp_uid']}").json()["response"]
    assert payment["status"] == "paid" and payment["customer_uid_usage"] == "payment.scheduled"
    assert payment["merchant_uid"] == "m-1" and payment["amount"] == 9900
    hook = webhook_receiver.wait_for(1)[0]
    assert hook["path"] == "/notice"
    assert hook["body"] == {"imp_uid": ran["imp_uid"], "merchant_uid": "m-1", "status": "paid"}
    assert (
        fake.get("/subscribe/payments/schedule/m-2").json()["response"]["schedule_status"]
        == "scheduled"
    )

    fake.advance(86400)
    assert (
        fake.get("/subscribe/payments/schedule/m-2").json()["response"]["payment_status"] == "paid"
    )
    assert (
        fake.get("/subscribe/payments/schedule/m-3").json()["response"]["schedule_status"]
        == "revoked"
    )
    hooks = webhook_receiver.wait_for(2)
    assert hooks[1]["path"] == "/default" and hooks[1]["body"]["merchant_uid"] == "m-2"
    time.sleep(0.2)
    assert len(webhook_receiver.received) == 2  # the revoked schedule never ran


def test_scheduled_decline_fails_with_webhook(fake, webhook_receiver):
    register(fake, "poor", DECLINES_LATER)
    schedule(
        fake,
        "poor",
        {
            "merchant_uid": "poor-1",
            "schedule_at": fake.gateway.now() + 60,
            "amount": 5000,
            "name": "Plan",
        },
    )
    fake.advance(61)
    ran = fake.get("/subscribe/payments/schedule/poor-1").json()["response"]
    assert ran["payment_status"] == "failed" and ran["fail_reason"]
    assert webhook_receiver.wait_for(1)[0]["body"]["status"] == "failed"
    assert fake.get(f"/payments/{ran['imp_uid']}").json()["response"]["status"] == "failed"


def test_due_schedule_runs_in_real_time_too(fake):
    register(fake, "rt")
    schedule(
        fake, "rt", {"merchant_uid": "rt-1", "schedule_at": fake.gateway.now() - 1, "amount": 100}
    )
    wait_until(
        lambda: (
            fake.get("/subscribe/payments/schedule/rt-1").json()["response"]["schedule_status"]
            == "executed"
        )
    )


def test_schedule_errors(fake):
    unknown = schedule(fake, "ghost", {"merchant_uid": "g-1", "schedule_at": 1, "amount": 1})
    assert unknown == {"code": 1, "message": "등록된 고객정보가 없습니다.", "response": None}
    with_card = schedule(
        fake,
        "new-cust",
        {"merchant_uid": "n-1", "schedule_at": fake.gateway.now() + 99, "amount": 1000},
        card_number=APPROVED,
        expiry="2099-12",
    )
    assert with_card["code"] == 0
    assert fake.get("/subscribe/customers/new-cust").json()["code"] == 0
    duplicate = schedule(
        fake,
        "new-cust",
        {"merchant_uid": "n-1", "schedule_at": fake.gateway.now() + 99, "amount": 1000},
    )
    assert duplicate["code"] == 1
    nothing = fake.post("/subscribe/payments/unschedule", {"customer_uid": "ghost"}).json()
    assert nothing == {
        "code": 1,
        "message": "취소할 예약결제 기록이 존재하지 않습니다.",
        "response": None,
    }
    assert fake.get("/subscribe/payments/schedule/nope").status_code == 404
    all_revoked = fake.post("/subscribe/payments/unschedule", {"customer_uid": "new-cust"}).json()
    assert [s["merchant_uid"] for s in all_revoked["response"]] == ["n-1"]


def test_webhook_retries_on_the_fake_clock(iamport_factory, webhook_receiver):
    fake = iamport_factory({"WEBHOOK_URL": f"{webhook_receiver.url}/hook", "WEBHOOK_RETRIES": 5})
    webhook_receiver.statuses = [500, 502]
    register(fake, "retry")
    schedule(
        fake,
        "retry",
        {"merchant_uid": "r-1", "schedule_at": fake.gateway.now() + 10, "amount": 100},
    )
    fake.advance(11)
    webhook_receiver.wait_for(1)
    entry = wait_until(lambda: (log := fake.webhooks()) and log[0]["pending_retry_at"] and log[0])
    assert entry["attempts"][0]["status"] == 500
    fake.advance(60)
    webhook_receiver.wait_for(2)
    wait_until(lambda: fake.webhooks()[0]["pending_retry_at"])
    fake.advance(60)
    webhook_receiver.wait_for(3)
    entry = fake.webhooks()[0]
    assert [a["status"] for a in entry["attempts"]] == [500, 502, 200] and entry["delivered"]
    assert all(r["body"]["merchant_uid"] == "r-1" for r in webhook_receiver.received)


def test_webhook_drop_and_duplicate_faults(fake, webhook_receiver):
    register(fake, "faulty")
    fake.add_fault({"target": "webhook", "action": "drop", "times": 1})
    schedule(
        fake,
        "faulty",
        {"merchant_uid": "f-1", "schedule_at": fake.gateway.now() + 10, "amount": 100},
    )
    fake.advance(11)
    log = fake.webhooks()
    assert log[0]["state"] == "dropped" and log[0]["attempts"] == []

    fake.add_fault(
        {"target": "webhook", "action": "duplicate", "url": "*/default", "times": 1},
    )
    schedule(
        fake,
        "faulty",
        {"merchant_uid": "f-2", "schedule_at": fake.gateway.now() + 10, "amount": 100},
    )
    fake.advance(11)
    received = webhook_receiver.wait_for(2)
    assert [r["body"]["merchant_uid"] for r in received] == ["f-2", "f-2"]
    assert len(fake.webhooks()) == 3
