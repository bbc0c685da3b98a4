"""Two gunicorn servers and two outbox workers on one PostgreSQL database: completions, refunds and
webhooks for the same orders sent across both servers at once. Nothing happens twice: each
payment is refunded exactly what our records count, and every outbound webhook is delivered once."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from fake_common.window_client import iamport_pay, toss_pay

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL (TEST_DATABASE_URL)"
)

BACKEND = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
ORDERS = {"iamport": 3, "toss": 3}
REFUND = 5000  # each of the two refunds per order (orders are 30000)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Processes:
    """Child processes, each leading its own process group; all stopped on close()."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.children: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, argv: list, env: dict[str, str]) -> subprocess.Popen:
        with (self.log_dir / f"{name}.log").open("wb") as out:
            child = subprocess.Popen(
                argv,
                cwd=BACKEND,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.children.append((name, child))
        return child

    def log(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text(errors="replace")[-3000:]

    def close(self) -> None:
        for _, child in reversed(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGTERM)
        for _, child in reversed(self.children):
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGKILL)
                child.wait(timeout=5)


def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture()
def stack(database, fakes, merchant, tmp_path) -> Iterator[dict]:
    """Two gunicorn servers and two `flask worker`s on one database, pointed at the fakes."""
    from gunicorn.config import KNOWN_SETTINGS

    env = {
        **os.environ,
        "PAYMENT_MODE": "test",
        "DATABASE_URL": database,
        "PAYMENT_INSTANCE_PATH": str(tmp_path),
        "IAMPORT_API_URL": fakes.iamport.url,
        "TOSS_API_URL": fakes.toss.url,
        "PORTONE_API_URL": fakes.portone.url,
        "CHECKOUT_WEBHOOK_URL": merchant.url + "/checkout",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_THREADS": "4",
        "GUNICORN_ACCESS_LOG": "/dev/null",
        "PYTHONUNBUFFERED": "1",
    }
    subprocess.run(
        [PYTHON, "-m", "flask", "--app", "payment_backend", "db", "upgrade"],
        cwd=BACKEND,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    secrets = json.loads((tmp_path / "dev-secrets.json").read_text())
    processes = Processes(tmp_path)
    extra = (
        ["--no-control-socket"]
        if any(s.name == "control_socket_disable" for s in KNOWN_SETTINGS)
        else []
    )
    urls = []
    try:
        ports = [_free_port(), _free_port()]
        for n, port in enumerate(ports):
            url = f"http://127.0.0.1:{port}"
            urls.append(url)
            server_env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "PUBLIC_URL": url}
            argv = [PYTHON, "-m", "gunicorn", "--config", "gunicorn.conf.py", *extra]
            processes.start(f"server{n}", [*argv, "payment_backend:create_app()"], server_env)
        for n in range(2):
            worker = [PYTHON, "-m", "flask", "--app", "payment_backend", "worker"]
            processes.start(f"worker{n}", [*worker, "--interval", "0.2"], env)

        for n, url in enumerate(urls):

            def healthy(url: str = url) -> bool:
                with contextlib.suppress(requests.RequestException):
                    return requests.get(f"{url}/monitors/health", timeout=1).status_code == 200
                return False

            try:
                _wait(healthy, 30, f"server {n}")
            except AssertionError:
                raise AssertionError(processes.log(f"server{n}")) from None
        yield {"urls": urls, "token": secrets["PAYMENT_ADMIN_TOKEN"], "database": database}
    finally:
        processes.close()


def _both(calls: list[Callable[[], requests.Response]]) -> list[requests.Response]:
    """Run the calls at the same moment (as far as threads allow)."""
    start = threading.Barrier(len(calls))

    def call(fn: Callable[[], requests.Response]) -> requests.Response:
        start.wait()
        return fn()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(call, calls))


def _pay(fakes, order: dict) -> str:
    if order["vendor"] == "iamport":
        query = iamport_pay(
            fakes.iamport.url, merchant_uid=order["order_id"], amount=order["amount"]
        )
        return query["imp_uid"]
    return toss_pay(fakes.toss.url, order_id=order["order_id"], amount=order["amount"])[
        "paymentKey"
    ]


def _gateway_refunded(fakes, vendor: str, payment_id: str) -> tuple[int, int]:
    """(paid, refunded) at the fake."""
    if vendor == "iamport":
        raw = fakes.iamport_api("GET", f"/payments/{payment_id}").json()["response"]
        return raw["amount"], raw["cancel_amount"]
    raw = fakes.toss_api("GET", f"/v1/payments/{payment_id}").json()
    return raw["totalAmount"], raw["totalAmount"] - raw["balanceAmount"]


def _jobs(database: str) -> list[tuple[str, str, int]]:
    import psycopg

    with psycopg.connect(database) as conn:
        return conn.execute("SELECT kind, status, attempts FROM outbox_jobs").fetchall()


def _deliveries(database: str) -> dict[str, str]:
    import psycopg

    with psycopg.connect(database) as conn:
        return dict(conn.execute("SELECT id, status FROM webhook_deliveries").fetchall())


def test_two_servers_and_two_workers_do_everything_once(stack, fakes, merchant):
    a, b = stack["urls"]
    owner = {"Authorization": f"Bearer {stack['token']}"}
    http = requests.Session()
    started = time.monotonic()

    orders = []
    for vendor, count in ORDERS.items():
        for n in range(count):
            server = (a, b)[n % 2]
            created = http.post(
                f"{server}/api/checkout/orders",
                json={
                    "vendor": vendor,
                    "method": "card",
                    "items": [{"product_id": 1, "quantity": 2}],
                },
                timeout=30,
            )
            assert created.status_code == 201, created.text
            order = created.json()
            order["payment_id"] = _pay(fakes, order)
            orders.append(order)

    def complete(server: str, order: dict) -> Callable[[], requests.Response]:
        body = {
            "order_id": order["order_id"],
            "vendor": order["vendor"],
            "payment_id": order["payment_id"],
            "amount": order["amount"],
        }
        return lambda: http.post(f"{server}/api/checkout/complete", json=body, timeout=30)

    def webhook(server: str, order: dict) -> Callable[[], requests.Response]:
        body = {"imp_uid": order["payment_id"], "merchant_uid": order["order_id"], "status": "paid"}
        return lambda: http.post(f"{server}/payments/webhooks/iamport", json=body, timeout=30)

    # Completions (and PortOne's webhooks) for every order on both servers at once.
    calls = []
    for order in orders:
        calls += [complete(a, order), complete(b, order)]
        if order["vendor"] == "iamport":
            calls += [webhook(a, order), webhook(b, order)]
    answers = _both(calls)
    assert all(r.status_code < 500 for r in answers), [r.text for r in answers]
    for order in orders:
        state = http.get(f"{a}/api/checkout/orders/{order['order_id']}", timeout=30).json()
        assert state["status"] == "paid", state
        assert _gateway_refunded(fakes, order["vendor"], order["payment_id"]) == (
            order["amount"],
            0,
        )

    # Two refunds per order, each sent to both servers under its own Idempotency-Key.
    def refund(server: str, order: dict, key: str) -> Callable[[], requests.Response]:
        url = f"{server}/api/checkout/orders/{order['order_id']}/refund"
        headers = {**owner, "Idempotency-Key": key}
        body = {"amount": REFUND, "reason": "two servers"}
        return lambda: http.post(url, json=body, headers=headers, timeout=30)

    calls, keys = [], []
    for order in orders:
        for n in range(2):
            key = f"{order['order_id']}-refund-{n}"
            calls += [refund(a, order, key), refund(b, order, key)]
            keys += [(order["order_id"], key)] * 2
    answers = _both(calls)
    assert all(r.status_code < 500 for r in answers), [r.text for r in answers]
    accepted = {k for k, r in zip(keys, answers, strict=True) if r.status_code == 200}
    assert accepted, [r.text for r in answers]

    for order in orders:
        recorded = http.get(f"{b}/api/checkout/orders/{order['order_id']}", timeout=30).json()
        paid, refunded = _gateway_refunded(fakes, order["vendor"], order["payment_id"])
        refunds_done = sum(REFUND for order_id, _ in accepted if order_id == order["order_id"])
        # Each key refunded at most once, and the gateway holds what our records say.
        assert refunded == recorded["refunded"] <= 2 * REFUND, (order, recorded)
        assert refunded == refunds_done, (order["order_id"], refunded, refunds_done)
        assert paid == order["amount"]

    # The workers deliver every notification once: one webhook-id, one request.
    def settled() -> bool:
        jobs = _jobs(stack["database"])
        deliveries = _deliveries(stack["database"])
        due = [j for j in jobs if j[0] == "deliver_webhook" and j[1] != "done"]
        return not due and deliveries and len(merchant.received) >= len(deliveries)

    _wait(settled, 30, "the workers to deliver every notification")
    time.sleep(1.0)  # a double delivery would arrive now
    deliveries = _deliveries(stack["database"])
    received = Counter(r["headers"]["Webhook-Id"] for r in merchant.received)
    assert set(received) == set(deliveries)
    assert max(received.values()) == 1, [k for k, v in received.items() if v > 1]
    assert set(deliveries.values()) == {"delivered"}
    # Every job ran once: one claim each, none left behind.
    jobs = _jobs(stack["database"])
    assert {
        (kind, status, attempts) for kind, status, attempts in jobs if kind == "deliver_webhook"
    } == {("deliver_webhook", "done", 1)}
    assert all(status != "dead" for _, status, _ in jobs), jobs
    # Notifications: one per change of a payment (paid, then each refund that happened).
    per_payment = Counter(r["body"]["current"]["id"] for r in merchant.received)
    assert len(per_payment) == len(orders)
    assert time.monotonic() - started < 60
