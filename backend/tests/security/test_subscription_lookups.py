"""An abandoned PortOne subscription costs a handful of gateway look-ups, not one every 10 minutes."""

from __future__ import annotations

from payment_backend.clock import clock
from payment_backend.vendors.iamport import IamportClient

MOST_LOOKS = 8


def test_an_abandoned_subscription_is_looked_up_a_few_times_with_backoff_then_never(
    subscriber, monkeypatch
):
    sub_id = subscriber.create("iamport")["subscription_id"]
    with subscriber.app.app_context():
        created = clock().now().timestamp()
    merchant_uid = f"{sub_id}_p1"
    looked: list[float] = []
    find_by_order = IamportClient.find_by_order

    def counting(client, order_id):
        if order_id == merchant_uid:
            looked.append(clock().now().timestamp())  # runs inside the worker's app context
        return find_by_order(client, order_id)

    monkeypatch.setattr(IamportClient, "find_by_order", counting)
    for _ in range(26 * 3):  # 26 hours in 20-minute steps: the buyer never pays
        subscriber.advance(20 * 60)

    assert 3 <= len(looked) <= MOST_LOOKS, len(looked)
    gaps = [later - earlier for earlier, later in zip(looked, looked[1:], strict=False)]
    assert gaps == sorted(gaps)  # backing off
    assert looked[0] - created <= 30 * 60  # a buyer whose tab closed is found soon
    assert looked[-1] - created >= 20 * 3600  # and watched for near a day
    assert subscriber.records(sub_id)["pending_jobs"] == []  # and then no more
    assert subscriber.get(sub_id)["status"] == "incomplete"
