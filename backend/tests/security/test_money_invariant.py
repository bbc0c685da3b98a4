"""The money invariant, as a Hypothesis state machine over the real backend and the fakes.

Random sequences of: create an order, pay at the gateway (right or wrong amount, once or twice,
card or virtual account), complete (right, wrong, someone else's payment id), webhooks
(duplicated, in any order, or never), deposits, refunds (partial, full, two at once), expiry and
sweeps. After every step, once the worker has run what is due: for every order id, the net amount
the gateway holds equals what our records count (the order's payment, plus surplus not yet
refunded); no refund exceeds what was paid; nobody else's payment is touched.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from collections.abc import Iterator

import pytest
import requests
from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
    run_state_machine_as_test,
)

from fake_common.window_client import iamport_pay, toss_pay
from fake_portone.events import sign
from payment_backend.extensions import db
from payment_backend.models import Order, SurplusPayment
from payment_backend.services.order_sweep import sweep_pending_orders
from payment_backend.worker import run_due_jobs

# Bounded for CI (a few hundred steps per database); MONEY_INVARIANT_EXAMPLES=500 for a long hunt.
EXAMPLES = int(os.environ.get("MONEY_INVARIANT_EXAMPLES", "20"))
STEPS = 20
UNRESOLVED = ("refunding", "needs_refund_account", "refund_failed")


@pytest.fixture()
def machine_app(own_app: Flask) -> Iterator[Flask]:
    """own_app without iamport's and PortOne V2's pre-registration, so a forged amount can reach
    the window."""
    own_app.config["IAMPORT_PREPARE"] = False
    own_app.config["PORTONE_PREPARE"] = False
    yield own_app
    own_app.config["IAMPORT_PREPARE"] = True
    own_app.config["PORTONE_PREPARE"] = True
    own_app.extensions["clock"].reset()


# One machine per group: PortOne V2's payment ids are the merchant's own (one per order, paid
# once, tried again after a failure), unlike V1's and Toss's, so it gets its own examples.
@pytest.mark.parametrize("vendors", [("iamport", "toss"), ("portone",)], ids=["v1-toss", "v2"])
def test_the_gateway_holds_exactly_what_our_records_count(machine_app, fakes, vendors):
    app = machine_app
    owner = {"Authorization": f"Bearer {app.config['PAYMENT_ADMIN_TOKEN']}"}
    foreign = {k: v for k, v in _foreign_payments(fakes).items() if k in vendors}

    class Checkout(RuleBasedStateMachine):
        orders = Bundle("orders")
        payments = Bundle("payments")

        def __init__(self) -> None:
            super().__init__()
            self.client = app.test_client()
            self.ids: dict[str, set[str]] = {}  # order id -> payment ids made for it
            self.vendor: dict[str, str] = {}
            self.reported: dict[str, set[str]] = {}  # payment ids the backend was told about

        # -- the buyer's side ------------------------------------------------------------------

        @rule(
            target=orders,
            vendor=st.sampled_from(vendors),
            method=st.sampled_from(["card", "vbank"]),
        )
        def create_order(self, vendor: str, method: str) -> dict:
            response = self.client.post(
                "/api/checkout/orders",
                json={
                    "vendor": vendor,
                    "method": method,
                    "items": [{"product_id": 1, "quantity": 1}],
                },
            )
            assert response.status_code == 201, response.get_json()
            order = response.get_json()
            self.ids[order["order_id"]] = set()
            self.reported[order["order_id"]] = set()
            self.vendor[order["order_id"]] = vendor
            return order

        @rule(target=payments, order=orders, right=st.booleans(), vbank=st.booleans())
        def pay(self, order: dict, right: bool, vbank: bool) -> dict:
            amount = order["amount"] if right else order["amount"] - 1000
            if order["vendor"] == "iamport":
                query = iamport_pay(
                    fakes.iamport.url,
                    merchant_uid=order["order_id"],
                    amount=amount,
                    pay_method="vbank" if vbank else "card",
                )
                payment_id = query.get("imp_uid")
            elif order["vendor"] == "portone":
                # The merchant's own id: the order id, tried again after a failure, paid once.
                method = {"payMethod": "VIRTUAL_ACCOUNT", "virtualAccount": {}, "bank": "KOOKMIN"}
                query = fakes.portone.pay_in_window(
                    order["order_id"], amount, **(method if vbank else {})
                )
                payment_id = None if query.get("code") else query.get("paymentId")
            else:
                query = toss_pay(
                    fakes.toss.url,
                    order_id=order["order_id"],
                    amount=amount,
                    method="가상계좌" if vbank else "카드",
                )
                payment_id = query.get("paymentKey")
            if payment_id:
                self.ids[order["order_id"]].add(payment_id)
            return {"order": order, "payment_id": payment_id, "amount": amount, "vbank": vbank}

        @rule(payment=payments, honest=st.booleans())
        def complete(self, payment: dict, honest: bool) -> None:
            if not payment["payment_id"]:
                return
            order = payment["order"]
            response = self.client.post(
                "/api/checkout/complete",
                json={
                    "order_id": order["order_id"],
                    "vendor": order["vendor"],
                    "payment_id": payment["payment_id"],
                    "amount": payment["amount"] if honest else order["amount"],
                },
            )
            assert response.status_code < 500, response.get_json()
            self.reported[order["order_id"]].add(payment["payment_id"])

        @rule(order=orders, which=st.sampled_from(sorted(foreign)))
        def complete_with_someone_elses_payment(self, order: dict, which: str) -> None:
            vendor, payment_id = foreign[which]
            if vendor != order["vendor"]:
                return
            response = self.client.post(
                "/api/checkout/complete",
                json={
                    "order_id": order["order_id"],
                    "vendor": vendor,
                    "payment_id": payment_id,
                    "amount": order["amount"],
                },
            )
            assert response.status_code in (404, 409, 422), response.get_json()

        @rule(payment=payments, times=st.integers(min_value=1, max_value=2))
        def webhook(self, payment: dict, times: int) -> None:
            if not payment["payment_id"]:
                return
            order = payment["order"]
            if order["vendor"] == "iamport":
                url = "/payments/webhooks/iamport"
                body = {
                    "imp_uid": payment["payment_id"],
                    "merchant_uid": order["order_id"],
                    "status": "paid",
                }
            elif order["vendor"] == "portone":
                url = "/payments/webhooks/portone"
                body = {
                    "type": "Transaction.Paid",
                    "timestamp": "2026-01-01T00:00:00.000Z",
                    "data": {
                        "storeId": fakes.portone.store_id,
                        "paymentId": payment["payment_id"],
                        "transactionId": secrets.token_hex(8),
                    },
                }
            else:
                url = "/payments/webhooks/toss"
                body = {
                    "eventType": "PAYMENT_STATUS_CHANGED",
                    "createdAt": "2026-01-01T00:00:00.000000",
                    "data": {"paymentKey": payment["payment_id"], "orderId": order["order_id"]},
                }
            for _ in range(times):
                response = self.client.post(url, **_delivery(app, order["vendor"], body))
                assert response.status_code < 500, response.get_json()
            self.reported[order["order_id"]].add(payment["payment_id"])

        @rule(payment=consumes(payments))
        def deposit(self, payment: dict) -> None:
            if not payment["payment_id"] or not payment["vbank"]:
                return
            server = fakes.of(payment["order"]["vendor"])
            requests.post(f"{server.url}/__control/deposit/{payment['payment_id']}", timeout=10)
            # The fakes here send no webhook: the backend learns of it by a look or a webhook.
            self.reported[payment["order"]["order_id"]].discard(payment["payment_id"])

        # -- the owner's side ------------------------------------------------------------------

        @rule(order=orders, part=st.sampled_from([None, 1000, 5000]))
        def refund(self, order: dict, part: int | None) -> None:
            response = self.client.post(
                f"/api/checkout/orders/{order['order_id']}/refund",
                json={"amount": part, "reason": "property test"} if part else {"reason": "all"},
                headers=owner,
            )
            assert response.status_code < 500, response.get_json()

        @rule(order=orders)
        def two_refunds_at_once(self, order: dict) -> None:
            answers: list[int] = []

            def one() -> None:
                response = app.test_client().post(
                    f"/api/checkout/orders/{order['order_id']}/refund",
                    json={"amount": 6000, "reason": "at once"},
                    headers=owner,
                )
                answers.append(response.status_code)

            threads = [threading.Thread(target=one) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert all(code < 500 for code in answers), answers

        # -- time ------------------------------------------------------------------------------

        @rule(minutes=st.sampled_from([3, 45, 180]))
        def time_passes_and_the_sweep_runs(self, minutes: int) -> None:
            app.extensions["clock"].advance(minutes * 60)
            with app.app_context():
                for _ in range(3):
                    sweep_pending_orders()

        # -- what must always hold -------------------------------------------------------------

        def check(self, *, settled: bool) -> None:
            """Held == counted for orders whose payments the backend has all heard of (every
            order once settled); never counted more than held, never refunded past paid."""
            while run_due_jobs(app):
                pass
            for order_id, payment_ids in self.ids.items():
                vendor = self.vendor[order_id]
                held = sum(_net(fakes, vendor, pid) for pid in payment_ids)
                with app.app_context():
                    order = db.session.get(Order, order_id)
                    counted = 0
                    if order.payment is not None:
                        payment = order.payment
                        assert 0 <= payment.refunded <= payment.amount
                        if payment.status in ("paid", "partially_refunded", "refunded"):
                            counted = payment.amount - payment.refunded
                    counted += sum(
                        row.amount - row.refunded
                        for row in db.session.query(SurplusPayment).filter_by(order_id=order_id)
                        if row.status in UNRESOLVED
                    )
                    status = order.status
                    db.session.remove()
                known = settled or payment_ids <= self.reported[order_id]
                if known:
                    assert held == counted, (order_id, status, held, counted)
                else:
                    assert counted <= held, (order_id, status, held, counted)

        @invariant()
        def the_gateway_holds_what_we_count(self) -> None:
            self.check(settled=False)

        def teardown(self) -> None:
            """Give the system its chance (the sweep's looks over the next hours, the worker's
            jobs, the late looks a day after an order expired), then everything agrees."""
            for _ in range(26):
                app.extensions["clock"].advance(3600)
                with app.app_context():
                    while sweep_pending_orders().looked:
                        pass
                while run_due_jobs(app):
                    pass
            self.check(settled=True)

        @invariant()
        def nobody_elses_payment_is_touched(self) -> None:
            for vendor, payment_id in foreign.values():
                assert _net(fakes, vendor, payment_id) == 50000

    run_state_machine_as_test(
        Checkout,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        ),
    )


def _foreign_payments(fakes) -> dict[str, tuple[str, str]]:
    """Payments of the merchant's other systems, made at the gateways outside checkout."""
    iamport_uid = f"erp-{secrets.token_hex(6)}"
    paid = iamport_pay(fakes.iamport.url, merchant_uid=iamport_uid, amount=50000)
    toss_order = f"erp-{secrets.token_hex(6)}"
    key = toss_pay(fakes.toss.url, order_id=toss_order, amount=50000)["paymentKey"]
    fakes.toss_api(
        "POST",
        "/v1/payments/confirm",
        json={"paymentKey": key, "orderId": toss_order, "amount": 50000},
    ).raise_for_status()
    portone_id = f"erp-{secrets.token_hex(6)}"
    assert fakes.portone.pay_in_window(portone_id, 50000)["paymentId"] == portone_id
    return {
        "iamport": ("iamport", paid["imp_uid"]),
        "toss": ("toss", key),
        "portone": ("portone", portone_id),
    }


def _delivery(app: Flask, vendor: str, body: dict) -> dict:
    """A webhook's request as the gateway sends it (PortOne V2 signs its own)."""
    if vendor != "portone":
        return {"json": body}
    raw = json.dumps(body, separators=(",", ":"))
    msg_id, stamp = f"msg_{secrets.token_hex(8)}", str(int(time.time()))
    signature = sign(app.config["PORTONE_WEBHOOK_SECRET"], msg_id, stamp, raw)
    headers = {"webhook-id": msg_id, "webhook-timestamp": stamp, "webhook-signature": signature}
    return {"data": raw, "content_type": "application/json", "headers": headers}


def _net(fakes, vendor: str, payment_id: str) -> int:
    """What the gateway holds on one payment."""
    if vendor == "iamport":
        raw = fakes.iamport_api("GET", f"/payments/{payment_id}").json()["response"]
        return raw["amount"] - raw["cancel_amount"] if raw.get("paid_at") else 0
    if vendor == "portone":
        raw = fakes.portone.payment(payment_id)
        held = ("PAID", "PARTIAL_CANCELLED", "CANCELLED")
        return raw["amount"]["paid"] - raw["amount"]["cancelled"] if raw["status"] in held else 0
    raw = fakes.toss_api("GET", f"/v1/payments/{payment_id}").json()
    return raw["balanceAmount"] if raw["status"] in ("DONE", "PARTIAL_CANCELED", "CANCELED") else 0
