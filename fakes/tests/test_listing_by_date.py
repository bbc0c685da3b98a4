"""The fakes list payments by date as the real APIs do: PortOne V1 GET /payments/status/{status}
with from/to on the time of that status; Toss GET /v1/transactions with startDate/endDate."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from fake_toss.models import KST


def test_iamport_lists_by_the_time_of_the_status_asked_for(iamport):
    early = iamport.key_in_payment("day-1", 1000)
    iamport.advance(2 * 86400)
    late = iamport.key_in_payment("day-3", 2000)
    iamport.post("/payments/cancel", {"imp_uid": early["imp_uid"], "reason": "later refund"})
    today = iamport.clock()["now"]
    window = {"from": int(today - 3600), "to": int(today + 60)}
    paid_today = iamport.get("/payments/status/paid", params=window).json()["response"]
    assert [p["imp_uid"] for p in paid_today["list"]] == [late["imp_uid"]]
    cancelled_today = iamport.get("/payments/status/cancelled", params=window).json()["response"]
    assert [p["imp_uid"] for p in cancelled_today["list"]] == [early["imp_uid"]]
    started_today = iamport.get("/payments/status/all", params=window).json()["response"]
    assert [p["imp_uid"] for p in started_today["list"]] == [late["imp_uid"]]


def test_toss_lists_approvals_and_cancels_between_dates(toss):
    order = f"tx-{time.time_ns()}"
    key = toss.confirmed_card_payment(amount=15000, order_id=order)
    toss.post(f"/v1/payments/{key}/cancel", {"cancelReason": "part", "cancelAmount": 5000})
    toss.post(f"/v1/payments/{key}/cancel", {"cancelReason": "rest"})
    now = datetime.fromtimestamp(toss.clock()["now"], KST)
    window = {
        "startDate": (now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S"),
        "endDate": (now + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S"),
        "limit": 10000,
    }
    listed = toss.get("/v1/transactions", params=window)
    assert listed.status_code == 200, listed.text
    mine = [t for t in listed.json() if t["paymentKey"] == key]
    assert [(t["status"], t["amount"]) for t in mine] == [
        ("DONE", 15000),
        ("PARTIAL_CANCELED", 5000),
        ("CANCELED", 10000),
    ]
    assert len({t["transactionKey"] for t in mine}) == 3
    assert all(t["orderId"] == order and t["method"] == "카드" for t in mine)
    first = toss.get("/v1/transactions", params={**window, "limit": 1}).json()
    after = toss.get(
        "/v1/transactions", params={**window, "startingAfter": first[0]["transactionKey"]}
    ).json()
    assert first[0] not in after and len(after) == len(listed.json()) - 1
    earlier = {
        "startDate": (now - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S"),
        "endDate": (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S"),
    }
    assert not [
        t for t in toss.get("/v1/transactions", params=earlier).json() if t["paymentKey"] == key
    ]
    assert toss.get("/v1/transactions", params={"startDate": "yesterday"}).status_code == 400
