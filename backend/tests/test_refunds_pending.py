"""Virtual-account refunds are paid out later: a pending refund is neither money returned nor
refundable again; it settles from the gateway (paid out: refunded; failed: refundable again).
And a deposit the bank reverses takes the order back to awaiting deposit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from payment_backend.crypto import sealer
from payment_backend.extensions import db
from payment_backend.models import AuditEntry, Order, OutboxJob, WebhookDelivery
from payment_backend.services import inbound
from payment_backend.services.refund_settlement import settle_pending

SHINHAN = {"iamport": "088", "toss": "88"}


@pytest.fixture()
def owner(app) -> dict[str, str]:
    """The admin token header (test mode asks for it)."""
    return {"Authorization": f"Bearer {app.config['PAYMENT_ADMIN_TOKEN']}"}


def deposited_order(shop, client, vendor: str) -> dict:
    order = shop.create_order(vendor, method="vbank")
    payment_id, _ = shop.pay(order, method="vbank")
    assert shop.complete(order, payment_id).status_code == 200
    deposited = client.post(f"/api/checkout/orders/{order['order_id']}/simulate-deposit")
    assert deposited.get_json()["status"] == "paid", deposited.get_json()
    return deposited.get_json()


def account(vendor: str, number: str = "110-123-456789") -> dict:
    return {"bank": SHINHAN[vendor], "account": number, "holder": "홍길동"}


def refund(client, owner, order, amount=None, *, vendor, number="110-123-456789"):
    body = {"reason": "returned", "refund_account": account(vendor, number)}
    if amount is not None:
        body["amount"] = amount
    return client.post(f"/api/checkout/orders/{order['order_id']}/refund", json=body, headers=owner)


def gateway_balance(shop, order) -> int:
    payment_id = order["payment"]["payment_id"]
    if order["vendor"] == "iamport":
        raw = shop.iamport_payment(payment_id)
        return raw["amount"] - raw["cancel_amount"]
    return shop.toss_payment(payment_id)["balanceAmount"]


def settle(app, order) -> None:
    """The settle_refunds job's look at the gateway (a reconciliation)."""
    with app.app_context():
        payment_id = db.session.get(Order, order["order_id"]).payment_id
        settle_pending(payment_id)


@pytest.mark.parametrize("vendor", ["iamport", "toss"])
def test_a_pending_refund_never_lets_a_second_refund_exceed_what_was_paid(
    app, shop, client, owner, vendor
):
    order = deposited_order(shop, client, vendor)
    total = order["amount"]
    first = refund(client, owner, order, total - 1000, vendor=vendor)
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["refund_pending"] == total - 1000
    over = refund(client, owner, order, 2000, vendor=vendor)
    assert over.status_code == 409
    assert over.get_json()["code"] == "OVER_REFUND"
    assert (over.get_json()["remaining"], over.get_json()["refund_pending"]) == (1000, total - 1000)
    rest = refund(client, owner, order, vendor=vendor)
    assert rest.status_code == 200 and rest.get_json()["refundable"] == 0
    nothing = refund(client, owner, order, vendor=vendor)
    assert (nothing.status_code, nothing.get_json()["code"]) == (409, "NOT_REFUNDABLE")
    assert gateway_balance(shop, order) == 0  # the gateway never paid back more than was paid
    view = client.get(f"/api/checkout/orders/{order['order_id']}").get_json()
    assert (view["refunded"], view["refund_pending"]) == (0, total)
    with app.app_context():
        jobs = db.session.scalars(select(OutboxJob).where(OutboxJob.kind == "settle_refunds"))
        payment_id = db.session.get(Order, order["order_id"]).payment_id
        assert any(j.payload == {"payment_id": payment_id} for j in jobs)


def test_a_failed_payout_gives_the_money_back_to_refundable(app, shop, client, owner, fakes):
    order = deposited_order(shop, client, "toss")
    total = order["amount"]
    pending = refund(client, owner, order, vendor="toss", number="999-000-1234")
    assert pending.get_json()["refund_pending"] == total
    fakes.toss.control_json("POST", f"refunds/{order['payment']['payment_id']}/payout")
    settle(app, order)
    view = client.get(f"/api/checkout/orders/{order['order_id']}").get_json()
    assert (view["status"], view["refunded"], view["refund_pending"]) == ("paid", 0, 0)
    assert view["refundable"] == total
    assert [r["status"] for r in view["refunds"]] == ["failed"]
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEntry.action).where(AuditEntry.action == "payment.refund_failed")
        ).all()
        assert actions
    again = refund(client, owner, order, vendor="toss")
    assert again.status_code == 200, again.get_json()
    assert again.get_json()["refund_pending"] == total


def test_a_paid_out_refund_counts_as_refunded_by_the_gateways_webhook(
    app, shop, client, owner, fakes
):
    order = deposited_order(shop, client, "toss")
    refund(client, owner, order, 5000, vendor="toss")
    paid = fakes.toss.control_json(
        "POST", f"refunds/{order['payment']['payment_id']}/payout", {"outcome": "COMPLETED"}
    )
    with app.app_context():
        inbound.receive(
            "toss",
            {
                "createdAt": "2026-01-02T14:46:59.65327",
                "secret": paid["secret"],
                "status": paid["status"],
                "transactionKey": paid["lastTransactionKey"],
                "orderId": paid["orderId"],
            },
            {},
        )
    view = client.get(f"/api/checkout/orders/{order['order_id']}").get_json()
    assert (view["status"], view["refunded"], view["refund_pending"]) == (
        "partially_refunded",
        5000,
        0,
    )
    assert view["refundable"] == order["amount"] - 5000
    assert [r["status"] for r in view["refunds"]] == ["done"]


def test_an_iamport_refund_is_paid_out_on_the_next_business_day(app, shop, client, owner, clock):
    order = deposited_order(shop, client, "iamport")
    pending = refund(client, owner, order, 3000, vendor="iamport").get_json()
    assert pending["refund_pending"] == 3000 and pending["refunded"] == 0
    settles_at = pending["refunds"][0]["settles_at"]
    assert settles_at is not None
    settle(app, order)  # before the payout day: still pending
    assert client.get(f"/api/checkout/orders/{order['order_id']}").get_json()["refunded"] == 0
    clock.advance(timedelta(days=4).total_seconds())
    settle(app, order)
    view = client.get(f"/api/checkout/orders/{order['order_id']}").get_json()
    assert (view["status"], view["refunded"], view["refund_pending"]) == (
        "partially_refunded",
        3000,
        0,
    )


# -- a deposit the bank reverses ------------------------------------------------------------------


def test_a_reversed_deposit_takes_the_order_back_to_awaiting_deposit_and_tells_the_merchant(
    app, shop, client, fakes, live, merchant
):
    app.config["CHECKOUT_WEBHOOK_URL"] = merchant.url + "/hooks"
    try:
        order = deposited_order(shop, client, "toss")
    finally:
        app.config["CHECKOUT_WEBHOOK_URL"] = None
    reversed_ = fakes.toss.control_json("POST", f"deposit/{order['order_id']}/reverse")
    callback = {
        "createdAt": "2026-01-02T14:46:59.65327",
        "secret": reversed_["secret"],
        "status": "WAITING_FOR_DEPOSIT",
        "transactionKey": reversed_["lastTransactionKey"],
        "orderId": order["order_id"],
    }
    with app.app_context():
        inbound.receive("toss", callback, {})
    view = client.get(f"/api/checkout/orders/{order['order_id']}").get_json()
    assert view["status"] == "awaiting_deposit"
    assert view["payment"]["status"] == "awaiting_deposit"
    assert view["payment"]["paid_at"] is None and view["refundable"] == 0
    with app.app_context():
        payment_id = db.session.get(Order, order["order_id"]).payment_id
        bodies = [
            sealer().unseal(d.sealed_body)
            for d in db.session.scalars(
                select(WebhookDelivery)
                .where(WebhookDelivery.payment_id == payment_id)
                .order_by(WebhookDelivery.created_at)
            )
        ]
    # the merchant is told: paid, then back to awaiting deposit
    assert (bodies[-1]["previous"]["status"], bodies[-1]["current"]["status"]) == (
        "paid",
        "awaiting_deposit",
    )
    again = client.post(f"/api/checkout/orders/{order['order_id']}/simulate-deposit")
    assert again.get_json()["status"] == "paid", again.get_json()


def test_an_old_read_without_the_reversal_still_cannot_move_a_paid_order_back(
    app, shop, client, fakes
):
    from payment_backend.services import ledger
    from payment_backend.vendors import normalize

    order = shop.create_order("toss", method="vbank")
    payment_id, _ = shop.pay(order, method="vbank")
    shop.complete(order, payment_id)
    waiting = shop.toss_payment(payment_id)  # read before the deposit
    client.post(f"/api/checkout/orders/{order['order_id']}/simulate-deposit")
    with app.app_context():
        stored = db.session.get(Order, order["order_id"])
        assert ledger.is_stale(stored.payment, normalize("toss", waiting))
