"""Issue 10, items 1-4 and 11: what an attacker tried against the checkout, each kept as a test.

Every test here failed on the code before the fix (commit "Checkout: only our own payments are
cancelled ..."): a foreign payment was cancelled, a payment after a rejection or a second payment
was kept, the sweep looked at the same oldest orders forever, a non-ASCII secret was a 500.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
import requests

from fake_common.window_client import iamport_pay, toss_pay
from payment_backend.clock import now
from payment_backend.extensions import db
from payment_backend.models import Order
from payment_backend.services.order_sweep import sweep_pending_orders
from payment_backend.worker import run_due_jobs


def iamport_net(fakes, merchant_uid: str) -> int:
    """What fake PortOne holds for a merchant_uid, over every payment made for it."""
    response = fakes.iamport_api("GET", f"/payments/findAll/{merchant_uid}")
    if response.status_code == 404:
        return 0
    return sum(
        p["amount"] - p["cancel_amount"]
        for p in response.json()["response"]
        if p["status"] in ("paid", "cancelled")
    )


def toss_net(fakes, order_id: str) -> int:
    """What fake Toss holds for an orderId."""
    response = fakes.toss_api("GET", f"/v1/payments/orders/{order_id}")
    if response.status_code == 404:
        return 0
    raw = response.json()
    if raw["status"] not in ("DONE", "PARTIAL_CANCELED", "CANCELED"):
        return 0
    return raw["balanceAmount"]


def drain(app, seconds: float = 120) -> None:
    """Let the worker run everything due within `seconds` of the test clock."""
    app.extensions["clock"].advance(seconds)
    try:
        while run_due_jobs(app):
            pass
    finally:
        app.extensions["clock"].advance(-seconds)


def new_order(client, vendor: str, method: str = "card") -> dict:
    """A checkout order of one product, as the shop's browser creates it."""
    response = client.post(
        "/api/checkout/orders",
        json={"vendor": vendor, "method": method, "items": [{"product_id": 1, "quantity": 1}]},
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def sweep_until_settled(app, client, order_id: str, passes: int = 20) -> None:
    """Sweep passes (each a bounded batch, oldest-due first) until the order is no longer pending;
    other tests' orders share the database and may be due first."""
    for _ in range(passes):
        with app.app_context():
            sweep_pending_orders()
        if order_status(client, order_id)["status"] != "pending":
            return


def order_status(client, order_id: str) -> dict:
    response = client.get(f"/api/checkout/orders/{order_id}")
    assert response.status_code == 200
    return response.get_json()


# -- 1. nobody can cancel a payment that is not theirs -------------------------------------------


def test_another_systems_iamport_payment_reported_for_a_cheap_order_is_never_cancelled(
    shop, client, fakes
):
    """A payment made by the merchant's other system (its merchant_uid is not ours)."""
    victim_uid = f"erp-{secrets.token_hex(6)}"
    paid = iamport_pay(fakes.iamport.url, merchant_uid=victim_uid, amount=50000)
    cheap = shop.create_order("iamport", items=[{"product_id": 3, "quantity": 1}])
    response = shop.complete(cheap, paid["imp_uid"], amount=cheap["amount"])
    assert response.status_code == 409
    assert response.get_json()["code"] == "ORDER_MISMATCH"
    assert shop.iamport_payment(paid["imp_uid"])["status"] == "paid"
    assert shop.iamport_payment(paid["imp_uid"])["cancel_amount"] == 0
    # The attacker's own order is not spoiled either: it can still be paid.
    assert order_status(client, cheap["order_id"])["status"] == "pending"


def test_another_systems_toss_payment_reported_for_a_cheap_order_is_never_cancelled(
    shop, client, fakes
):
    """A Toss payment confirmed by someone else (a renewal, another system's order)."""
    other_order = f"erp-{secrets.token_hex(6)}"
    query = toss_pay(fakes.toss.url, order_id=other_order, amount=50000)
    confirmed = fakes.toss_api(
        "POST",
        "/v1/payments/confirm",
        json={"paymentKey": query["paymentKey"], "orderId": other_order, "amount": 50000},
    )
    assert confirmed.status_code == 200, confirmed.text
    cheap = shop.create_order("toss", items=[{"product_id": 3, "quantity": 1}])
    response = shop.complete(cheap, query["paymentKey"], amount=cheap["amount"])
    assert response.status_code in (404, 409), response.get_json()
    assert shop.toss_payment(query["paymentKey"])["status"] == "DONE"
    assert shop.toss_payment(query["paymentKey"])["balanceAmount"] == 50000


def test_a_subscription_renewal_reported_for_a_cheap_order_is_never_cancelled(
    shop, client, fakes, subscriber
):
    """Renewals' payment ids are shown by the unauthenticated subscription page."""
    sub = subscriber.subscribe("toss")
    payment_key = subscriber.records(sub["subscription_id"])["charges"][1][2]
    before = shop.toss_payment(payment_key)
    cheap = shop.create_order("toss", items=[{"product_id": 3, "quantity": 1}])
    response = shop.complete(cheap, payment_key, amount=cheap["amount"])
    assert response.status_code in (404, 409), response.get_json()
    after = shop.toss_payment(payment_key)
    assert (after["status"], after["balanceAmount"]) == (before["status"], before["balanceAmount"])


def test_another_checkout_orders_payment_is_left_to_its_own_order(shop, client, fakes):
    cheap = shop.create_order("iamport", items=[{"product_id": 3, "quantity": 1}])
    dear = shop.create_order("iamport", items=[{"product_id": 4, "quantity": 1}])
    payment_id, _ = shop.pay(dear)
    response = shop.complete(cheap, payment_id, amount=cheap["amount"])
    assert response.status_code == 409 and response.get_json()["code"] == "ORDER_MISMATCH"
    assert shop.iamport_payment(payment_id)["status"] == "paid"
    assert order_status(client, cheap["order_id"])["status"] == "pending"
    assert shop.complete(dear, payment_id).get_json()["status"] == "paid"


@pytest.mark.parametrize(
    ("vendor", "crafted"),
    [
        ("iamport", "find/{order_id}"),
        ("iamport", "../payments/find/{order_id}"),
        ("iamport", "imp_123%2F..%2Ffind%2F{order_id}"),
        ("toss", "orders/{order_id}"),
        ("toss", "x/../orders/{order_id}"),
    ],
)
def test_a_crafted_payment_id_never_reaches_another_gateway_route(
    shop, client, fakes, vendor, crafted
):
    """find/<merchant_uid> once turned GET /payments/{imp_uid} into a look-up by order id."""
    victim_uid = f"erp-{secrets.token_hex(6)}"
    if vendor == "iamport":
        payment_id = iamport_pay(fakes.iamport.url, merchant_uid=victim_uid, amount=50000)[
            "imp_uid"
        ]
    else:
        payment_id = toss_pay(fakes.toss.url, order_id=victim_uid, amount=50000)["paymentKey"]
        fakes.toss_api(
            "POST",
            "/v1/payments/confirm",
            json={"paymentKey": payment_id, "orderId": victim_uid, "amount": 50000},
        ).raise_for_status()
    cheap = shop.create_order(vendor, items=[{"product_id": 3, "quantity": 1}])
    response = shop.complete(cheap, crafted.format(order_id=victim_uid), amount=cheap["amount"])
    assert response.status_code in (404, 409, 422), response.get_json()
    if vendor == "iamport":
        assert shop.iamport_payment(payment_id)["cancel_amount"] == 0
    else:
        assert shop.toss_payment(payment_id)["balanceAmount"] == 50000


def test_payment_ids_are_quoted_into_gateway_paths(app):
    """Every id that goes into a gateway URL is one path segment."""
    from payment_backend.vendors.base import PaymentNotFound
    from payment_backend.vendors.iamport import IamportClient

    seen: list[str] = []

    class Recorder:
        def send(self, method, path, **kwargs):
            seen.append(path)
            raise PaymentNotFound("no", code="NOT_FOUND", status=404)

    client = IamportClient("http://gateway.invalid", "k", "s")
    client.http = Recorder()  # type: ignore[assignment]
    client._token, client._expires_at = "t", float("inf")
    with pytest.raises(PaymentNotFound):
        client.get_payment("find/ord_1")
    assert seen == ["/payments/find%2Ford_1"]


# -- 2. a rejected order never swallows a later genuine payment ---------------------------------


def test_a_toss_payment_after_a_rejection_is_never_confirmed(shop, client, fakes):
    order = shop.create_order("toss")
    payment_id, _ = shop.pay(order)
    refused = shop.complete(order, payment_id, amount=order["amount"] - 1000)
    assert refused.status_code == 409 and refused.get_json()["code"] == "AMOUNT_MISMATCH"
    again = shop.complete(order, payment_id)
    assert again.status_code == 409
    assert shop.toss_payment(payment_id)["status"] in ("IN_PROGRESS", "READY")
    assert toss_net(fakes, order["order_id"]) == 0
    assert order_status(client, order["order_id"])["status"] == "rejected"


# PortOne refuses any payment for a merchant_uid that was paid once (even if cancelled since), so
# on iamport a payment after a rejection is the expired-order case below.


# -- 3. a second payment for one order is never kept --------------------------------------------


def test_a_second_payment_while_a_virtual_account_waits_is_refunded(worker_app, fakes):
    client = worker_app.test_client()
    order = new_order(client, "iamport", "vbank")
    vbank = iamport_pay(
        fakes.iamport.url,
        merchant_uid=order["order_id"],
        amount=order["amount"],
        pay_method="vbank",
    )
    base = {"order_id": order["order_id"], "vendor": "iamport", "amount": order["amount"]}
    waiting = client.post("/api/checkout/complete", json={**base, "payment_id": vbank["imp_uid"]})
    assert waiting.get_json()["status"] == "awaiting_deposit"
    card = iamport_pay(fakes.iamport.url, merchant_uid=order["order_id"], amount=order["amount"])
    second = client.post("/api/checkout/complete", json={**base, "payment_id": card["imp_uid"]})
    assert second.status_code == 409
    assert second.get_json()["code"] == "ORDER_ALREADY_PAID"
    assert second.get_json()["refund_pending"] is True
    drain(worker_app)
    paid = client.post(f"/api/checkout/orders/{order['order_id']}/simulate-deposit")
    assert paid.status_code == 200, paid.get_json()
    drain(worker_app)
    assert order_status(client, order["order_id"])["status"] == "paid"
    assert iamport_net(fakes, order["order_id"]) == order["amount"]
    view = order_status(client, order["order_id"])
    assert [(s["payment_id"], s["status"]) for s in view["surplus"]] == [
        (card["imp_uid"], "refunded")
    ]
    assert "refunded" in view["notice"]


def test_a_second_payment_learned_from_a_webhook_is_refunded(worker_app, fakes):
    """The browser never reports the second payment; the gateway's webhook does."""
    client = worker_app.test_client()
    order = new_order(client, "iamport", "vbank")
    vbank = iamport_pay(
        fakes.iamport.url,
        merchant_uid=order["order_id"],
        amount=order["amount"],
        pay_method="vbank",
    )
    base = {"order_id": order["order_id"], "vendor": "iamport", "amount": order["amount"]}
    assert (
        client.post(
            "/api/checkout/complete", json={**base, "payment_id": vbank["imp_uid"]}
        ).status_code
        == 200
    )
    card = iamport_pay(fakes.iamport.url, merchant_uid=order["order_id"], amount=order["amount"])
    hook = client.post(
        "/payments/webhooks/iamport",
        json={"imp_uid": card["imp_uid"], "merchant_uid": order["order_id"], "status": "paid"},
    )
    assert hook.status_code == 200
    drain(worker_app)
    assert shop_status(fakes, card["imp_uid"]) == "cancelled"
    assert shop_status(fakes, vbank["imp_uid"]) == "ready"
    assert order_status(client, order["order_id"])["status"] == "awaiting_deposit"


def shop_status(fakes, imp_uid: str) -> str:
    return fakes.iamport_api("GET", f"/payments/{imp_uid}").json()["response"]["status"]


# -- 4. the sweep covers every live order fairly, and orders expire -----------------------------


def test_the_sweep_reaches_a_new_paid_order_behind_many_abandoned_carts(worker_app, fakes):
    client = worker_app.test_client()
    with worker_app.app_context():
        for _ in range(130):
            db.session.add(
                Order(
                    id="ord_" + secrets.token_hex(10),
                    vendor="iamport",
                    method="card",
                    name="abandoned",
                    amount=1000,
                    currency="KRW",
                    status="pending",
                    items=[],
                    created_at=now() - timedelta(minutes=5),
                    next_check_at=now() - timedelta(minutes=1),
                )
            )
        db.session.commit()
    order = new_order(client, "iamport", "card")
    iamport_pay(fakes.iamport.url, merchant_uid=order["order_id"], amount=order["amount"])
    clock = worker_app.extensions["clock"]
    try:
        looked = []
        for _ in range(10):  # ten minutes of sweeps
            clock.advance(60)
            with worker_app.app_context():
                looked.append(sweep_pending_orders().looked)
            if order_status(client, order["order_id"])["status"] == "paid":
                break
        assert order_status(client, order["order_id"])["status"] == "paid"
        assert max(looked) <= 50  # a bounded number of gateway look-ups per pass
    finally:
        clock.reset()


def test_an_abandoned_order_expires_and_is_no_longer_looked_up(worker_app, fakes):
    client = worker_app.test_client()
    order = new_order(client, "toss", "card")
    clock = worker_app.extensions["clock"]
    try:
        clock.advance(3 * 3600)
        sweep_until_settled(worker_app, client, order["order_id"])
        with worker_app.app_context():
            assert db.session.get(Order, order["order_id"]).next_check_at is None
        assert order_status(client, order["order_id"])["status"] == "expired"
    finally:
        clock.reset()


def test_a_payment_after_expiry_is_refunded(worker_app, fakes):
    client = worker_app.test_client()
    order = new_order(client, "iamport", "card")
    clock = worker_app.extensions["clock"]
    try:
        clock.advance(3 * 3600)
        sweep_until_settled(worker_app, client, order["order_id"])
        assert order_status(client, order["order_id"])["status"] == "expired"
        late = iamport_pay(
            fakes.iamport.url, merchant_uid=order["order_id"], amount=order["amount"]
        )
        response = client.post(
            "/api/checkout/complete",
            json={
                "order_id": order["order_id"],
                "vendor": "iamport",
                "amount": order["amount"],
                "payment_id": late["imp_uid"],
            },
        )
        assert response.status_code == 409 and response.get_json()["refund_pending"] is True
        drain(worker_app)
    finally:
        clock.reset()
    assert iamport_net(fakes, order["order_id"]) == 0


# -- 11. a non-ASCII DEPOSIT_CALLBACK secret ----------------------------------------------------


def test_a_deposit_callback_with_a_non_ascii_secret_is_refused_not_a_500(shop, client, fakes):
    order = shop.create_order("toss", method="vbank")
    payment_id, _ = shop.pay(order, method="vbank")
    assert shop.complete(order, payment_id).status_code == 200
    response = client.post(
        "/payments/webhooks/toss",
        json={
            "createdAt": "2026-01-01T00:00:00.000000",
            "secret": "비밀번호",
            "status": "DONE",
            "orderId": order["order_id"],
            "transactionKey": "x" + secrets.token_hex(4),
        },
    )
    assert response.status_code == 403, response.get_json()


def test_the_live_server_refuses_a_crafted_id_over_http(live, shop, fakes):
    """The same through a real HTTP server (the id's slash is not a route)."""
    cheap = shop.create_order("iamport", items=[{"product_id": 3, "quantity": 1}])
    response = requests.post(
        f"{live.url}/api/checkout/complete",
        json={
            "order_id": cheap["order_id"],
            "vendor": "iamport",
            "payment_id": "find/" + cheap["order_id"],
            "amount": cheap["amount"],
        },
        timeout=10,
    )
    assert response.status_code == 422


def test_an_orphan_payment_of_our_format_is_refunded_on_the_webhook_path(worker_app, fakes):
    """A payment for an order id of our format that has no order: nobody counts it."""
    client = worker_app.test_client()
    orphan_id = "ord_" + secrets.token_hex(10)
    paid = iamport_pay(fakes.iamport.url, merchant_uid=orphan_id, amount=12000)
    hook = client.post(
        "/payments/webhooks/iamport",
        json={"imp_uid": paid["imp_uid"], "merchant_uid": orphan_id, "status": "paid"},
    )
    assert hook.status_code == 200
    drain(worker_app)
    assert shop_status(fakes, paid["imp_uid"]) == "cancelled"
    assert iamport_net(fakes, orphan_id) == 0
