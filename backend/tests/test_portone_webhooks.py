"""PortOne V2's signed webhooks (Standard Webhooks): verified before anything is stored or read,
then the payment is re-read and settled as for the other gateways."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time

import requests
from sqlalchemy import select

from fake_common.polling import wait_until
from payment_backend.extensions import db
from payment_backend.models import InboundWebhook, SurplusPayment

from .test_inbound_webhooks import wait_for_status

ROUTE = "/payments/webhooks/portone"


def signed(app, body: dict, *, msg_id: str | None = None, at: float | None = None) -> dict:
    """A delivery as PortOne sends it: the raw body and its Standard Webhooks headers."""
    raw = json.dumps(body, separators=(",", ":"))
    msg_id = msg_id or f"msg_{secrets.token_hex(8)}"
    stamp = str(int(at if at is not None else time.time()))
    key = base64.b64decode(app.config["PORTONE_WEBHOOK_SECRET"].removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{stamp}.{raw}".encode(), hashlib.sha256).digest()
    return {
        "data": raw.encode(),
        "headers": {
            "Content-Type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": stamp,
            "webhook-signature": "v1," + base64.b64encode(mac).decode(),
        },
    }


def paid_body(app, payment_id: str) -> dict:
    return {
        "type": "Transaction.Paid",
        "timestamp": "2026-01-01T00:00:00.000Z",
        "data": {
            "storeId": app.config["PORTONE_STORE_ID"],
            "paymentId": payment_id,
            "transactionId": "00000000-0000-4000-8000-000000000000",
        },
    }


def stored(app) -> int:
    """How many PortOne deliveries the backend stored."""
    with app.app_context():
        return len(
            db.session.scalars(
                select(InboundWebhook).where(InboundWebhook.vendor == "portone")
            ).all()
        )


def test_a_lost_completion_is_settled_by_the_signed_webhook(shop, client, fakes, live):
    order = shop.create_order("portone")
    payment_id, query = shop.pay(order)  # the window paid; the browser never calls /complete
    assert payment_id == order["order_id"], query
    paid = wait_for_status(client, order["order_id"], "paid")
    assert paid["payment"]["payment_id"] == payment_id
    delivered = [
        w for w in fakes.portone.webhooks() if w["body"]["data"].get("paymentId") == payment_id
    ]
    assert any(w["body"]["type"] == "Transaction.Paid" and w["delivered"] for w in delivered)


def test_a_corrupted_signature_is_refused_and_the_sound_retry_settles(shop, client, fakes, live):
    fakes.portone.add_fault({"target": "webhook", "action": "corrupt_signature", "times": 3})
    try:
        order = shop.create_order("portone")
        payment_id, _ = shop.pay(order)
        # The Ready and Paid deliveries were refused (401): nothing settled the order.
        first = wait_until(
            lambda: [
                w
                for w in fakes.portone.webhooks()
                if w["body"]["type"] == "Transaction.Paid"
                and w["body"]["data"]["paymentId"] == payment_id
                and w["attempts"]
            ]
        )
        assert first[0]["attempts"][0]["status"] == 401
        assert client.get(f"/api/checkout/orders/{order['order_id']}").get_json()["status"] == (
            "pending"
        )
        fakes.portone.advance(61)  # PortOne retries a minute later, soundly signed
        wait_for_status(client, order["order_id"], "paid")
    finally:
        fakes.portone.clear_faults()
        fakes.portone.set_clock(time.time())


def test_forged_stale_and_unsigned_deliveries_are_refused_before_anything_is_stored(
    app, shop, client, fakes, live
):
    order = shop.create_order("portone")
    body = paid_body(app, order["order_id"])
    before = stored(app)
    unsigned = requests.post(live.url + ROUTE, json=body, timeout=10)
    assert unsigned.status_code == 401 and unsigned.json()["code"] == "INVALID_SIGNATURE"
    stale = signed(app, body, at=time.time() - 600)
    assert requests.post(live.url + ROUTE, timeout=10, **stale).status_code == 401
    forged = signed(app, body)
    forged["headers"]["webhook-signature"] = "v1," + base64.b64encode(b"x" * 32).decode()
    assert requests.post(live.url + ROUTE, timeout=10, **forged).status_code == 401
    tampered = signed(app, body)
    tampered["data"] = tampered["data"].replace(b"Transaction.Paid", b"Transaction.Cancelled")
    assert requests.post(live.url + ROUTE, timeout=10, **tampered).status_code == 401
    assert stored(app) == before
    assert client.get(f"/api/checkout/orders/{order['order_id']}").get_json()["status"] == "pending"


def test_a_signed_webhook_is_only_a_hint_the_payment_is_re_read(app, shop, client, live):
    """A genuine signature on a body that claims a payment PortOne does not hold as paid."""
    order = shop.create_order("portone")
    answer = requests.post(
        live.url + ROUTE, timeout=10, **signed(app, paid_body(app, order["order_id"]))
    )
    assert answer.status_code == 200, answer.text
    assert "no such payment" in answer.json()["result"] or "gateway says" in answer.json()["result"]
    assert client.get(f"/api/checkout/orders/{order['order_id']}").get_json()["status"] == "pending"


def test_repeats_of_one_message_are_processed_once(app, shop, client, fakes, live):
    order = shop.create_order("portone")
    payment_id, _ = shop.pay(order)
    wait_for_status(client, order["order_id"], "paid")
    delivery = signed(app, paid_body(app, payment_id), msg_id="msg_repeat_" + payment_id[-8:])
    results = [
        requests.post(live.url + ROUTE, timeout=10, **delivery).json()["result"] for _ in range(3)
    ]
    assert results[1:] == ["duplicate ignored", "duplicate ignored"], results
    with app.app_context():
        rows = db.session.scalars(
            select(InboundWebhook).where(InboundWebhook.dedupe_key.isnot(None))
        ).all()
        assert len({r.dedupe_key for r in rows}) == len(rows)


def test_a_payment_for_an_order_id_of_ours_without_an_order_is_refunded(app, fakes, live):
    """The money invariant: PortOne holds money for ord_... that no order counts -> surplus."""
    orphan = "ord_" + secrets.token_hex(10)
    notice = live.url + ROUTE
    query = fakes.portone.pay_in_window(orphan, 12000, noticeUrls=[notice])
    assert query.get("paymentId") == orphan and not query.get("code"), query

    def recorded():
        with app.app_context():
            return db.session.scalars(
                select(SurplusPayment).where(SurplusPayment.vendor_payment_id == orphan)
            ).first()

    row = wait_until(recorded, timeout=10)
    assert (row.vendor, row.reason, row.amount) == ("portone", "orphan", 12000)


def test_a_payment_names_our_order_by_its_id_and_customdata_only_names_its_own_tries():
    """customData is set by whoever pays (a browser too): it only names the order of a payment
    whose id is one of that order's tries."""
    from payment_backend.vendors import normalize

    def order_of(payment_id: str, custom: dict | None = None) -> str:
        raw = {"id": payment_id, "status": "PAID", "amount": {"total": 1000}}
        if custom is not None:
            raw["customData"] = json.dumps(custom)
        return normalize("portone", raw).order_id

    assert order_of("ord_0123456789abcdef0123") == "ord_0123456789abcdef0123"
    assert order_of("sub_ab_p2-2", {"orderId": "sub_ab_p2"}) == "sub_ab_p2"
    assert order_of("payment-elsewhere", {"orderId": "ord_victim"}) == "payment-elsewhere"
    assert order_of("ord_victimX", {"orderId": "ord_victim"}) == "ord_victimX"
