"""/metrics in the Prometheus format: what the routes decided, gateway calls, the outbox and the
ledger; behind the admin token; summed over gunicorn's workers in multiprocess mode."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from payment_backend.clock import now
from payment_backend.extensions import db
from payment_backend.jobs import enqueue

BACKEND = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of an exposition, keyed by name and labels."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(text_samples: dict, name: str, **labels: str) -> float:
    return text_samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture()
def owner(app) -> dict[str, str]:
    return {"Authorization": f"Bearer {app.config['PAYMENT_ADMIN_TOKEN']}"}


@pytest.fixture()
def scrape(client, owner):
    def read() -> dict:
        response = client.get("/metrics", headers=owner)
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        return samples(response.get_data(as_text=True))

    return read


def test_metrics_need_the_admin_token_outside_local_mode(client, app):
    answer = client.get("/metrics")
    assert answer.status_code == 401
    assert answer.get_json()["code"] == "ADMIN_TOKEN_REQUIRED"
    app.config["PAYMENT_MODE"] = "local"
    try:
        assert client.get("/metrics").status_code == 200
    finally:
        app.config["PAYMENT_MODE"] = "test"


def test_a_payment_a_forgery_a_refund_and_a_webhook_are_counted(shop, client, owner, scrape):
    before = scrape()
    order = shop.create_order("iamport")
    payment_id, _ = shop.pay(order)
    assert shop.complete(order, payment_id).status_code == 200
    forged = shop.create_order("toss")
    toss_id, _ = shop.pay(forged, amount=forged["amount"] - 1000)
    refused = shop.complete(forged, toss_id)
    assert refused.status_code == 409
    refused_code = refused.get_json()["code"].lower()
    url = f"/api/checkout/orders/{order['order_id']}/refund"
    assert client.post(url, json={"amount": 1000, "reason": "x"}, headers=owner).status_code == 200
    assert client.post(url, json={"amount": 10**9, "reason": "x"}, headers=owner).status_code == 409
    hook = {"imp_uid": payment_id, "merchant_uid": order["order_id"], "status": "paid"}
    assert client.post("/payments/webhooks/iamport", json=hook).status_code == 200
    assert client.post("/payments/webhooks/iamport", json=hook).status_code == 200
    assert client.post("/payments/webhooks/toss", data="[]").status_code == 400
    after = scrape()

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    completions = "payment_checkout_completions_total"
    assert delta(completions, vendor="iamport", outcome="paid") == 1
    assert delta(completions, vendor="toss", outcome=refused_code) == 1
    refunds = "payment_refund_requests_total"
    assert delta(refunds, vendor="iamport", outcome="refunded") == 1
    assert delta(refunds, vendor="unknown", outcome="over_refund") == 1
    assert delta("payment_refunds_total", vendor="iamport") == 1
    assert delta("payment_refunded_amount_total", vendor="iamport", currency="KRW") == 1000
    webhooks = "payment_webhooks_received_total"
    assert delta(webhooks, vendor="iamport", outcome="accepted") == 1
    assert delta(webhooks, vendor="iamport", outcome="duplicate") == 1
    assert delta(webhooks, vendor="toss", outcome="invalid_body") == 1
    latency = "payment_http_request_duration_seconds_count"
    assert delta(latency, method="POST", route="/api/checkout/complete", status="2xx") == 1
    assert delta(latency, method="POST", route="/api/checkout/complete", status="4xx") == 1
    assert delta("payment_gateway_request_duration_seconds_count", vendor="iamport", method="GET")
    assert delta("payment_gateway_request_duration_seconds_count", vendor="toss", method="POST")


def test_gateway_errors_are_counted_by_vendor(shop, fakes, scrape):
    before = scrape()
    order = shop.create_order("iamport")
    payment_id, _ = shop.pay(order)
    rule = fakes.iamport.add_fault({"path": "/payments/*", "status": 503, "times": 2})
    try:
        assert shop.complete(order, payment_id).status_code in (502, 503)
    finally:
        fakes.iamport.control("DELETE", f"faults/{rule['id']}")
    after = scrape()
    kind = {"vendor": "iamport", "kind": "status_5xx"}
    assert (
        value(after, "payment_gateway_errors_total", **kind)
        - value(before, "payment_gateway_errors_total", **kind)
        >= 2
    )


def test_the_outbox_depth_age_and_dead_jobs(app, scrape):
    with app.app_context():
        due = enqueue("metrics_probe", {}, due_at=now() - timedelta(minutes=10))
        later = enqueue("metrics_probe", {}, due_in=timedelta(days=1))
        dead = enqueue("metrics_probe", {})
        dead.status = "dead"
        db.session.commit()
        ids = [due.id, later.id, dead.id]
    try:
        read = scrape()
        assert value(read, "payment_outbox_jobs_due", kind="metrics_probe") == 1
        assert value(read, "payment_outbox_jobs_pending", kind="metrics_probe") == 2
        age = value(read, "payment_outbox_oldest_due_age_seconds", kind="metrics_probe")
        assert 590 <= age <= 700
        assert value(read, "payment_outbox_dead_jobs", kind="metrics_probe") == 1
    finally:
        with app.app_context():
            from payment_backend.models import OutboxJob

            db.session.query(OutboxJob).filter(OutboxJob.id.in_(ids)).delete()
            db.session.commit()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_under_gunicorn_the_workers_counts_are_summed(tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "PAYMENT_MODE": "local",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'metrics.sqlite3'}",
        "PAYMENT_INSTANCE_PATH": str(tmp_path),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "2",
        "GUNICORN_ACCESS_LOG": "/dev/null",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
    }
    flask, gunicorn = BIN / "flask", BIN / "gunicorn"
    upgrade = [flask, "--app", "payment_backend", "db", "upgrade"]
    subprocess.run(upgrade, cwd=BACKEND, env=env, check=True, capture_output=True)
    server = subprocess.Popen(
        [gunicorn, "--config", "gunicorn.conf.py", "payment_backend:create_app()"],
        cwd=BACKEND,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{url}/monitors/health", timeout=1)
                break
            except requests.RequestException:
                assert time.monotonic() < deadline, "gunicorn did not answer"
                time.sleep(0.2)
        # Requests until two workers answered: after 100 from one only, a HUP brings new ones
        # (the old workers' counts stay counted).
        pids: list[int] = []
        while len(set(pids)) < 2:
            assert len(pids) < 400, "one worker answered everything"
            if len(pids) == 100:
                server.send_signal(signal.SIGHUP)
            answer = requests.get(
                f"{url}/monitors/system", headers={"Connection": "close"}, timeout=5
            )
            pids.append(answer.json()["pid"])
        read = samples(requests.get(f"{url}/metrics", timeout=10).text)
    finally:
        server.terminate()
        server.wait(timeout=30)
    route = {"method": "GET", "route": "/monitors/system", "status": "2xx"}
    assert value(read, "payment_http_request_duration_seconds_count", **route) == len(pids)
