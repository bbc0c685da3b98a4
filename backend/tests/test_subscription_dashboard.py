"""The owner's monthly picture over two months of test time: members joined, canceled, churned by
dunning, active at the month's end, revenue and refunds, by calendar month in Asia/Seoul."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from payment_backend.config import SettingsError, load_settings

SEOUL = ZoneInfo("Asia/Seoul")
DECLINES_LATER = "4000000000000341"  # issues a billing key; every later charge declines
BASIC, PRO = 9900, 19900


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def seoul_month(now: datetime, ahead: int) -> datetime:
    """The first instant of the Seoul month `ahead` months after now's."""
    local = now.astimezone(SEOUL)
    index = local.year * 12 + local.month - 1 + ahead
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=SEOUL)


def advance_to(subscriber, moment: datetime) -> None:
    """Both clocks to moment (forward only); what became due on the way runs."""
    now = at(subscriber.client.get("/api/test/clock").get_json()["now"])
    assert moment > now
    subscriber.advance((moment - now).total_seconds())


def figures(subscriber, months: int = 3) -> dict:
    owner = {"Authorization": f"Bearer {subscriber.app.config['PAYMENT_ADMIN_TOKEN']}"}
    response = subscriber.client.get(
        f"/api/admin/subscriptions/dashboard?months={months}", headers=owner
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def refund(subscriber, sub_id: str, period: int, amount: int) -> None:
    owner = {"Authorization": f"Bearer {subscriber.app.config['PAYMENT_ADMIN_TOKEN']}"}
    response = subscriber.client.post(
        f"/api/admin/subscriptions/{sub_id}/charges/{period}/refund",
        json={"amount": amount, "reason": "goodwill"},
        headers=owner,
    )
    assert response.status_code == 200, response.get_json()


def month_of(answer: dict, start: datetime) -> dict:
    return next(m for m in answer["months"] if m["month"] == f"{start:%Y-%m}")


def test_the_monthly_picture_counts_renewals_dunning_cancels_and_refunds_by_seoul_month(
    subscriber,
):
    wall = at(subscriber.client.get("/api/test/clock").get_json()["now"])
    first, second, third = (seoul_month(wall, ahead) for ahead in (2, 3, 4))
    advance_to(subscriber, first + timedelta(days=9, hours=12))  # the 10th, noon in Seoul

    renewing = subscriber.subscribe("toss")["subscription_id"]
    dunned = subscriber.subscribe("iamport", card=DECLINES_LATER, plan_id=2)["subscription_id"]
    quitting = subscriber.subscribe("toss")["subscription_id"]
    assert subscriber.cancel(quitting, "too expensive").status_code == 200
    refund(subscriber, quitting, 1, 4000)

    # The renewals fall due on the 10th of the second month; the declined one is retried 1, 3
    # and 5 days after its first failure, then canceled by dunning.
    for day in range(10, 18):
        advance_to(subscriber, second + timedelta(days=day - 1, hours=13))
    assert subscriber.get(renewing)["status"] == "active"
    dunned_now = subscriber.get(dunned)
    assert dunned_now["status"] == "canceled"
    assert [c["status"] for c in dunned_now["charges"]] == ["paid", "failed"]
    refund(subscriber, renewing, 2, 3000)

    # Half an hour into the third month in Seoul (still the second month in UTC) the last
    # subscriber cancels: a cancel of the third month, and one of the second month's members.
    advance_to(subscriber, third + timedelta(minutes=30))
    assert subscriber.cancel(renewing).status_code == 200

    answer = figures(subscriber)
    assert answer["timezone"] == "Asia/Seoul" and answer["currency"] == "KRW"
    assert [m["month"] for m in answer["months"]] == [f"{m:%Y-%m}" for m in (first, second, third)]
    one, two, three = (month_of(answer, m) for m in (first, second, third))
    assert at(one["start"]) == first and at(one["end"]) == second
    assert {k: one[k] for k in ("joined", "canceled", "churned", "active_at_end")} == {
        "joined": 3,
        "canceled": 1,
        "churned": 0,
        "active_at_end": 2,
    }
    assert (one["revenue"], one["refunds"], one["net"]) == (
        2 * BASIC + PRO,
        4000,
        2 * BASIC + PRO - 4000,
    )
    assert one["mrr"] == BASIC + PRO and one["failed"] == 0
    assert {k: two[k] for k in ("joined", "canceled", "churned", "active_at_end")} == {
        "joined": 0,
        "canceled": 0,
        "churned": 1,
        "active_at_end": 1,
    }
    assert (two["revenue"], two["refunds"], two["mrr"]) == (BASIC, 3000, BASIC)
    assert two["failed"] == 4  # the first decline and three retries
    assert {k: three[k] for k in ("joined", "canceled", "churned", "active_at_end")} == {
        "joined": 0,
        "canceled": 1,
        "churned": 0,
        "active_at_end": 0,
    }
    assert (three["revenue"], three["refunds"], three["mrr"]) == (0, 0, 0)
    assert (answer["active"], answer["past_due"], answer["mrr"]) == (0, 0, 0)
    assert answer["canceled_this_month"] == 1 and answer["churned_this_month"] == 0
    assert answer["new_this_month"] == three["new"] == 0


def test_the_dashboard_takes_one_to_24_months_and_needs_the_owner(subscriber):
    assert len(figures(subscriber, 12)["months"]) == 12
    assert subscriber.client.get("/api/admin/subscriptions/dashboard").status_code == 401
    owner = {"Authorization": f"Bearer {subscriber.app.config['PAYMENT_ADMIN_TOKEN']}"}
    for bad in ("0", "25", "x"):
        response = subscriber.client.get(
            f"/api/admin/subscriptions/dashboard?months={bad}", headers=owner
        )
        assert (response.status_code, response.get_json()["code"]) == (422, "VALIDATION_ERROR")


def test_the_months_follow_settlement_timezone_from_the_environment(subscriber, tmp_path):
    env = {"PAYMENT_MODE": "test", "SETTLEMENT_TIMEZONE": "Europe/Berlin"}
    assert load_settings(str(tmp_path), env=env)["SETTLEMENT_TIMEZONE"] == "Europe/Berlin"
    assert load_settings(str(tmp_path), env={"PAYMENT_MODE": "test"})["SETTLEMENT_TIMEZONE"] == (
        "Asia/Seoul"
    )
    with pytest.raises(SettingsError, match="SETTLEMENT_TIMEZONE"):
        load_settings(str(tmp_path), env={**env, "SETTLEMENT_TIMEZONE": "Mars/Olympus"})
    subscriber.app.config["SETTLEMENT_TIMEZONE"] = "UTC"
    try:
        answer = figures(subscriber, 1)
    finally:
        subscriber.app.config["SETTLEMENT_TIMEZONE"] = "Asia/Seoul"
    assert answer["timezone"] == "UTC"
    assert at(answer["months"][0]["start"]).utcoffset().total_seconds() == 0
