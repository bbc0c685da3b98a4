"""Gateway webhooks and the sweep settle orders whose browser never came back."""

from __future__ import annotations

import threading
import time

import requests

from fake_common.window_client import iamport_pay, toss_pay
from payment_backend.extensions import db
from payment_backend.models import InboundWebhook, Order, WebhookDelivery
from payment_backend.services.order_sweep import sweep_pending_orders


def wait_for_status(client, order_id: str, status: str, timeout: float = 5.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(f"/api/checkout/orders/{order_id}").get_json()
        if body["status"] == status or time.monotonic() > deadline:
            assert body["status"] == status, body
            return body
        time.sleep(0.05)


def test_paid_card_whose_browser_never_came_back_is_settled_by_the_webhook(
    shop, client, fakes, live
):
    order = shop.create_order("iamport")
    query = iamport_pay(
        fakes.iamport.url,
        merchant_uid=order["order_id"],
        amount=order["amount"],
        notice_url=order["notice_url"],
    )
    assert query["imp_uid"]
    # No call to /api/checkout/complete: the buyer's connection dropped.
    paid = wait_for_status(client, order["order_id"], "paid")
    assert paid["payment"]["payment_id"] == query["imp_uid"]


def test_ten_copies_of_a_webhook_change_the_order_once_and_notify_once(
    shop, app, client, fakes, live, merchant
):
    app.config["CHECKOUT_WEBHOOK_URL"] = merchant.url + "/hooks"
    try:
        order = shop.create_order("iamport")
        query = iamport_pay(
            fakes.iamport.url, merchant_uid=order["order_id"], amount=order["amount"]
        )
        body = {"imp_uid": query["imp_uid"], "merchant_uid": order["order_id"], "status": "paid"}
        answers: list[int] = []
        start = threading.Barrier(10)

        def send() -> None:
            start.wait()
            answers.append(
                requests.post(
                    f"{live.url}/payments/webhooks/iamport", json=body, timeout=20
                ).status_code
            )

        threads = [threading.Thread(target=send) for _ in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        app.config["CHECKOUT_WEBHOOK_URL"] = None
    assert answers == [200] * 10
    with app.app_context():
        stored = db.session.get(Order, order["order_id"])
        assert stored.status == "paid"
        hooks = (
            db.session.query(InboundWebhook)
            .filter(InboundWebhook.result.contains(order["order_id"]))
            .all()
        )
        assert len(hooks) == 1
        deliveries = db.session.query(WebhookDelivery).filter_by(payment_id=stored.payment_id).all()
        assert len(deliveries) == 1


def test_out_of_order_webhook_changes_nothing(shop, app, client, fakes, live):
    order = shop.create_order("iamport")
    query = iamport_pay(fakes.iamport.url, merchant_uid=order["order_id"], amount=order["amount"])
    for status in ("paid", "ready", "paid"):  # a stale "ready" arrives late
        hook = {"imp_uid": query["imp_uid"], "merchant_uid": order["order_id"], "status": status}
        assert (
            requests.post(
                f"{live.url}/payments/webhooks/iamport", json=hook, timeout=10
            ).status_code
            == 200
        )
    assert client.get(f"/api/checkout/orders/{order['order_id']}").get_json()["status"] == "paid"


def test_toss_deposit_callback_is_checked_against_the_secret(shop, client, fakes, live):
    order = shop.create_order("toss", method="vbank")
    query = toss_pay(
        fakes.toss.url, order_id=order["order_id"], amount=order["amount"], method="가상계좌"
    )
    confirmed = client.post(
        "/api/checkout/complete",
        json={
            "order_id": order["order_id"],
            "vendor": "toss",
            "payment_id": query["paymentKey"],
            "amount": order["amount"],
        },
    )
    assert confirmed.get_json()["status"] == "awaiting_deposit"
    secret = shop.toss_payment(query["paymentKey"])["secret"]
    requests.post(
        f"{fakes.toss.url}/__control/deposit/{query['paymentKey']}", timeout=5
    ).raise_for_status()
    forged = {
        "createdAt": "2026-11-22T10:00:00.000000",
        "secret": "ps_wrong",
        "status": "DONE",
        "orderId": order["order_id"],
        "transactionKey": "x",
    }
    refused = requests.post(f"{live.url}/payments/webhooks/toss", json=forged, timeout=10)
    assert refused.status_code == 403
    genuine = {**forged, "secret": secret}
    accepted = requests.post(f"{live.url}/payments/webhooks/toss", json=genuine, timeout=10)
    assert accepted.status_code == 200, accepted.text
    assert client.get(f"/api/checkout/orders/{order['order_id']}").get_json()["status"] == "paid"


def sweep_until_settled(client, order_id: str, passes: int = 20) -> None:
    """Sweep passes (each a bounded batch, oldest-due first) until the order has settled."""
    for _ in range(passes):
        sweep_pending_orders()
        if client.get(f"/api/checkout/orders/{order_id}").get_json()["status"] != "pending":
            return


def test_sweep_confirms_a_toss_payment_whose_buyer_never_returned(shop, app, client, fakes):
    order = shop.create_order("toss")
    toss_pay(fakes.toss.url, order_id=order["order_id"], amount=order["amount"])
    with app.app_context():
        from payment_backend.clock import clock

        clock().advance(180)
        try:
            sweep_until_settled(client, order["order_id"])
        finally:
            clock().advance(-180)
    assert client.get(f"/api/checkout/orders/{order['order_id']}").get_json()["status"] == "paid"


def test_sweep_settles_an_iamport_payment_whose_webhook_was_lost(shop, app, client, fakes):
    order = shop.create_order("iamport")
    iamport_pay(
        fakes.iamport.url, merchant_uid=order["order_id"], amount=order["amount"]
    )  # no notice_url
    with app.app_context():
        from payment_backend.clock import clock

        clock().advance(180)
        try:
            sweep_until_settled(client, order["order_id"])
        finally:
            clock().advance(-180)
    assert client.get(f"/api/checkout/orders/{order['order_id']}").get_json()["status"] == "paid"
