"""Write-ahead intents: a refund whose process dies after the gateway's cancel and before our
commit is recorded by the worker from the gateway's state; reconciliation waits for the truth;
a refund caught up through a refused retry is answered as done."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask
from sqlalchemy import select

from fake_common.polling import wait_until
from fake_common.window_client import iamport_pay, toss_pay
from payment_backend.extensions import db
from payment_backend.models import AuditEntry, Order, Payment, WebhookDelivery
from payment_backend.vendors import gateway
from payment_backend.worker import run_due_jobs

BACKEND = Path(__file__).resolve().parents[2]
CANCEL_ROUTES = {
    "iamport": "/payments/cancel",
    "toss": "/v1/payments/*/cancel",
    "portone": "/payments/*/cancel",
}


@pytest.fixture()
def shop_app(worker_app: Flask, merchant) -> Iterator[Flask]:
    """worker_app with checkout notifications going to the merchant; clock reset after."""
    worker_app.config["CHECKOUT_WEBHOOK_URL"] = merchant.url + "/checkout"
    yield worker_app
    worker_app.config.pop("CHECKOUT_WEBHOOK_URL", None)
    worker_app.extensions["clock"].reset()


def owner(app: Flask) -> dict[str, str]:
    return {"Authorization": f"Bearer {app.config['PAYMENT_ADMIN_TOKEN']}"}


def paid_order(app: Flask, fakes, vendor: str) -> dict:
    """A checkout order of 30,000 paid by card; the completion's answer."""
    client = app.test_client()
    created = client.post(
        "/api/checkout/orders",
        json={"vendor": vendor, "method": "card", "items": [{"product_id": 1, "quantity": 2}]},
    )
    assert created.status_code == 201, created.get_json()
    order = created.get_json()
    if vendor == "iamport":
        paid = iamport_pay(
            fakes.iamport.url, merchant_uid=order["order_id"], amount=order["amount"]
        )
        payment_id = paid["imp_uid"]
    elif vendor == "portone":
        payment_id = fakes.portone.pay_in_window(order["order_id"], order["amount"])["paymentId"]
    else:
        paid = toss_pay(fakes.toss.url, order_id=order["order_id"], amount=order["amount"])
        payment_id = paid["paymentKey"]
    response = client.post(
        "/api/checkout/complete",
        json={
            "order_id": order["order_id"],
            "vendor": vendor,
            "payment_id": payment_id,
            "amount": order["amount"],
        },
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def gateway_cancels(app: Flask, vendor: str, payment_id: str) -> list[tuple[str, int]]:
    """(cancel id, amount) of every cancel the gateway holds, oldest first."""
    with app.app_context():
        gp = gateway(vendor).get_payment(payment_id)
    return [(c.vendor_cancel_id, c.amount) for c in gp.cancels]


def records(app: Flask, order_id: str) -> dict:
    """Our order, its payment and its cancels, and the merchant notifications queued."""
    with app.app_context():
        order = db.session.get(Order, order_id)
        payment = db.session.get(Payment, order.payment_id)
        deliveries = db.session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.payment_id == payment.id)
        ).all()
        return {
            "order": order.status,
            "payment": payment.status,
            "refunded": payment.refunded,
            "unknown": payment.outcome_unknown,
            "cancels": sorted((c.vendor_cancel_id, c.amount) for c in payment.cancels),
            "notifications": len(deliveries),
        }


def intents(app: Flask, payment_id: str) -> list[tuple[str, str | None, int | None]]:
    """(status, cancel id, amount) of the intents on a gateway payment, oldest first."""
    from payment_backend.models import GatewayIntent

    with app.app_context():
        rows = db.session.scalars(
            select(GatewayIntent)
            .where(GatewayIntent.vendor_payment_id == payment_id)
            .order_by(GatewayIntent.id)
        ).all()
        return [(r.status, r.cancel_id, r.amount) for r in rows]


def run_worker_later(app: Flask, seconds: float) -> None:
    """Move the app clock on and run every due job."""
    app.extensions["clock"].advance(seconds)
    run_due_jobs(app, limit=50)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def served_in_a_process(app: Flask, app_config: dict, tmp_path: Path) -> Iterator[tuple]:
    """The app on the same database and secrets, served by a child process: (url, process)."""
    port = _free_port()
    env = {
        **os.environ,
        "PAYMENT_MODE": "test",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "PAYMENT_INSTANCE_PATH": app_config["INSTANCE_PATH"],
        "IAMPORT_API_URL": app.config["IAMPORT_API_URL"],
        "TOSS_API_URL": app.config["TOSS_API_URL"],
        "PORTONE_API_URL": app.config["PORTONE_API_URL"],
        "RATELIMIT_ENABLED": "false",
        "CHECKOUT_WEBHOOK_URL": app.config["CHECKOUT_WEBHOOK_URL"],
        "PYTHONUNBUFFERED": "1",
    }
    script = (
        "import sys; from werkzeug.serving import run_simple; "
        "from payment_backend import create_app; "
        "run_simple('127.0.0.1', int(sys.argv[1]), create_app(), threaded=True)"
    )
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as out:
        child = subprocess.Popen(
            [sys.executable, "-c", script, str(port)],
            cwd=BACKEND,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        with contextlib.suppress(requests.RequestException):
            return requests.get(f"{url}/monitors/health", timeout=1).status_code == 200
        return False

    try:
        try:
            wait_until(healthy, timeout=30)
        except Exception:
            raise AssertionError(log_path.read_text(errors="replace")[-3000:]) from None
        yield url, child
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        child.wait(timeout=10)


# -- item 1: the process dies between the gateway's cancel and our commit ------------------------


@pytest.mark.parametrize("vendor", ["iamport", "toss", "portone"])
def test_a_refund_whose_process_is_killed_mid_call_is_recorded_from_the_gateway(
    shop_app, app_config, fakes, faults, tmp_path, vendor
):
    order = paid_order(shop_app, fakes, vendor)
    order_id, payment_id = order["order_id"], order["payment"]["payment_id"]
    before = records(shop_app, order_id)
    url = f"/api/checkout/orders/{order_id}/refund"
    headers = {**owner(shop_app), "Idempotency-Key": f"killed-{uuid.uuid4()}"}
    body = {"amount": 10000, "reason": "one item back"}
    # The fake sits on the cancel for 2 s, then makes it whether anyone still listens or not.
    rule = faults(vendor, method="POST", path=CANCEL_ROUTES[vendor], latency_ms=2000, times=1)

    with served_in_a_process(shop_app, app_config, tmp_path) as (server, child):
        answers: list[object] = []

        def call() -> None:
            try:
                answers.append(requests.post(server + url, json=body, headers=headers, timeout=30))
            except requests.RequestException as exc:
                answers.append(exc)

        caller = threading.Thread(target=call)
        caller.start()
        wait_until(lambda: fakes.fault_hits(vendor, rule["id"]) >= 1, timeout=15)
        os.killpg(child.pid, signal.SIGKILL)  # while the gateway call is in flight
        caller.join(30)
    assert isinstance(answers[0], requests.RequestException), answers
    wait_until(lambda: gateway_cancels(shop_app, vendor, payment_id), timeout=10)
    landed = gateway_cancels(shop_app, vendor, payment_id)
    assert [amount for _, amount in landed] == [10000]
    # The gateway refunded; our records do not know it yet.
    assert records(shop_app, order_id)["refunded"] == 0

    run_worker_later(shop_app, 180)  # the intent's resolve_intent job is due

    after = records(shop_app, order_id)
    assert (after["order"], after["payment"], after["refunded"]) == (
        "partially_refunded",
        "partially_refunded",
        10000,
    )
    assert after["cancels"] == sorted(landed)
    assert not after["unknown"]
    # The merchant is told once of the change.
    assert after["notifications"] == before["notifications"] + 1
    assert intents(shop_app, payment_id) == [("done", landed[0][0], 10000)]

    # The owner retries the same request (its answer was lost): it is done, not done twice.
    retried = shop_app.test_client().post(url, json=body, headers=headers)
    assert retried.status_code == 200, retried.get_json()
    assert retried.get_json()["refunded"] == 10000
    assert gateway_cancels(shop_app, vendor, payment_id) == landed
    assert records(shop_app, order_id)["notifications"] == before["notifications"] + 1


def test_a_refund_whose_database_connection_drops_after_the_gateway_answers_is_recorded(
    shop_app, fakes, monkeypatch, is_postgres
):
    if not is_postgres:
        pytest.skip("pg_terminate_backend is PostgreSQL's")
    import psycopg
    from sqlalchemy import text

    order = paid_order(shop_app, fakes, "iamport")
    order_id, payment_id = order["order_id"], order["payment"]["payment_id"]
    with shop_app.app_context():
        client = gateway("iamport")
        real_cancel = client.cancel

    def cancel_then_drop(*args, **kwargs):
        answer = real_cancel(*args, **kwargs)
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        url = shop_app.config["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg", "postgresql")
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        return answer

    monkeypatch.setattr(client, "cancel", cancel_then_drop)
    with contextlib.suppress(Exception):  # whatever the request makes of the lost connection
        shop_app.test_client().post(
            f"/api/checkout/orders/{order_id}/refund",
            json={"amount": 5000, "reason": "dropped"},
            headers={**owner(shop_app), "Idempotency-Key": str(uuid.uuid4())},
        )
    monkeypatch.undo()
    landed = gateway_cancels(shop_app, "iamport", payment_id)
    assert [amount for _, amount in landed] == [5000]
    assert records(shop_app, order_id)["refunded"] == 0

    run_worker_later(shop_app, 180)

    after = records(shop_app, order_id)
    assert (after["order"], after["refunded"], after["cancels"]) == (
        "partially_refunded",
        5000,
        landed,
    )
    assert intents(shop_app, payment_id) == [("done", landed[0][0], 5000)]


# -- item 2: reconciliation waits until the gateway's state explains the call -------------------


def test_reconciliation_does_not_clear_an_unknown_refund_before_the_late_cancel_lands(
    shop_app, fakes, faults, monkeypatch
):
    order = paid_order(shop_app, fakes, "iamport")
    order_id, payment_id = order["order_id"], order["payment"]["payment_id"]
    with shop_app.app_context():
        monkeypatch.setattr(gateway("iamport").http, "timeout", (3.05, 0.5))
    faults("iamport", method="POST", path=CANCEL_ROUTES["iamport"], latency_ms=2500, times=1)
    timed_out = shop_app.test_client().post(
        f"/api/checkout/orders/{order_id}/refund",
        json={"amount": 3000, "reason": "late"},
        headers={**owner(shop_app), "Idempotency-Key": str(uuid.uuid4())},
    )
    assert timed_out.status_code == 502, timed_out.get_json()
    monkeypatch.undo()

    # The reconcile job is due at once; the gateway still shows the payment untouched.
    run_due_jobs(shop_app, limit=50)
    assert gateway_cancels(shop_app, "iamport", payment_id) == []
    early = records(shop_app, order_id)
    assert early["unknown"] and early["refunded"] == 0
    assert intents(shop_app, payment_id) == [("unknown", None, 3000)]

    landed = wait_until(lambda: gateway_cancels(shop_app, "iamport", payment_id), timeout=10)
    run_worker_later(shop_app, 60)  # the next look, after the backoff
    after = records(shop_app, order_id)
    assert not after["unknown"]
    assert (after["order"], after["refunded"], after["cancels"]) == (
        "partially_refunded",
        3000,
        landed,
    )
    assert intents(shop_app, payment_id) == [("done", landed[0][0], 3000)]
    with shop_app.app_context():
        our_id = db.session.get(Order, order_id).payment_id
        decisions = db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.payment_id == our_id, AuditEntry.action.like("intent.%")
            )
        ).all()
        # Every look is audited with the gateway data it was based on.
        assert [d.action for d in decisions] == ["intent.still_unknown", "intent.done"]
        assert all("gateway" in d.detail for d in decisions)


# -- item 4 (part): a refund caught up through a refused retry -----------------------------------


def test_a_retry_refused_because_its_first_call_landed_meanwhile_is_answered_done(
    shop_app, fakes, faults, monkeypatch
):
    order = paid_order(shop_app, fakes, "iamport")
    order_id, payment_id = order["order_id"], order["payment"]["payment_id"]
    url = f"/api/checkout/orders/{order_id}/refund"
    headers = {**owner(shop_app), "Idempotency-Key": str(uuid.uuid4())}
    body = {"amount": 4000, "reason": "twice asked"}
    with shop_app.app_context():
        monkeypatch.setattr(gateway("iamport").http, "timeout", (3.05, 0.5))
    # The first call lands after 1.5 s; the retry's call is refused after 3 s (the balance it
    # was checked against is gone by then: the first call landed).
    faults("iamport", method="POST", path=CANCEL_ROUTES["iamport"], latency_ms=1500, times=1)
    faults(
        "iamport",
        method="POST",
        path=CANCEL_ROUTES["iamport"],
        latency_ms=3000,
        status=200,
        body={"code": 1, "message": "checksum mismatch", "response": None},
        times=1,
    )
    first = shop_app.test_client().post(url, json=body, headers=headers)
    assert first.status_code == 502, first.get_json()
    monkeypatch.undo()
    retried = shop_app.test_client().post(url, json=body, headers=headers)
    assert retried.status_code == 200, retried.get_json()
    assert retried.get_json()["refunded"] == 4000
    assert [amount for _, amount in gateway_cancels(shop_app, "iamport", payment_id)] == [4000]
    after = records(shop_app, order_id)
    assert (after["order"], after["payment"], after["refunded"]) == (
        "partially_refunded",
        "partially_refunded",
        4000,
    )
