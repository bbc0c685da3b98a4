"""Three `flask worker` processes on one PostgreSQL database charge a batch of renewals that fall
due at one instant: each period is charged exactly once, at the gateway and in our records,
although every charge outlasts the jobs' lease (renewed while it runs) and the processes claim
side by side."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from fake_common.window_client import toss_register_card

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL (TEST_DATABASE_URL)"
)

BACKEND = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
SUBSCRIPTIONS = 16
WORKERS = 3
THREADS = 4
LEASE_SECONDS = 1  # each charge below takes longer: only the lease keeper keeps it ours
CHARGE_LATENCY_MS = 1500


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@contextlib.contextmanager
def _started(argv: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    with log.open("wb") as out:
        child = subprocess.Popen(
            argv,
            cwd=BACKEND,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield child
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGTERM)
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
            child.wait(timeout=5)


def _subscribe(http: requests.Session, base: str, toss_url: str) -> str:
    created = http.post(
        f"{base}/api/subscriptions", json={"plan_id": 1, "vendor": "toss"}, timeout=30
    )
    assert created.status_code == 201, created.text
    sub = created.json()
    query = toss_register_card(toss_url, customer_key=sub["setup"]["customer_key"])
    proof = {"auth_key": query["authKey"], "customer_key": query["customerKey"]}
    active = http.post(
        f"{base}/api/subscriptions/{sub['subscription_id']}/activate", json=proof, timeout=30
    )
    assert active.status_code == 200 and active.json()["status"] == "active", active.text
    return sub["subscription_id"]


def test_renewals_due_at_once_are_charged_once_by_several_worker_processes(
    database, fakes, tmp_path
):
    import psycopg
    from gunicorn.config import KNOWN_SETTINGS

    env = {
        **os.environ,
        "PAYMENT_MODE": "test",
        "DATABASE_URL": database,
        "PAYMENT_INSTANCE_PATH": str(tmp_path),
        "IAMPORT_API_URL": fakes.iamport.url,
        "TOSS_API_URL": fakes.toss.url,
        "WORKER_LEASE_SECONDS": str(LEASE_SECONDS),
        "RATELIMIT_ENABLED": "false",  # one address subscribes many times
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
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    extra = (
        ["--no-control-socket"]
        if any(s.name == "control_socket_disable" for s in KNOWN_SETTINGS)
        else []
    )
    server_argv = [PYTHON, "-m", "gunicorn", "--config", "gunicorn.conf.py", *extra]
    server_env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "PUBLIC_URL": base}
    with contextlib.ExitStack() as stack:
        stack.enter_context(
            _started([*server_argv, "payment_backend:create_app()"], server_env, tmp_path / "s.log")
        )

        def healthy() -> bool:
            with contextlib.suppress(requests.RequestException):
                return requests.get(f"{base}/monitors/health", timeout=1).status_code == 200
            return False

        _wait(healthy, 30, "the server")
        http = requests.Session()
        ids = [_subscribe(http, base, fakes.toss.url) for _ in range(SUBSCRIPTIONS)]

        worker = [PYTHON, "-m", "flask", "--app", "payment_backend", "worker"]
        worker += ["--threads", str(THREADS), "--interval", "0.2"]
        logs = [tmp_path / f"worker{n}.log" for n in range(WORKERS)]
        for log in logs:
            stack.enter_context(_started(worker, env, log))
        _wait(lambda: all("side by side" in log.read_text() for log in logs), 60, "the workers")
        rule = fakes.toss.add_fault(
            {"method": "POST", "path": "/v1/billing/*", "latency_ms": CHARGE_LATENCY_MS}
        )["id"]
        stack.callback(fakes.toss.remove_fault, rule)
        keys = [f"charge:{sub_id}:2" for sub_id in ids]
        with psycopg.connect(database, autocommit=True) as conn:
            with conn.transaction():  # all due at one instant
                conn.execute(
                    "UPDATE subscription_charges SET due_at = now() "
                    "WHERE period = 2 AND subscription_id = ANY(%s)",
                    (ids,),
                )
                conn.execute(
                    "UPDATE outbox_jobs SET due_at = now() WHERE unique_key = ANY(%s)", (keys,)
                )

            def charged() -> bool:
                paid = conn.execute(
                    "SELECT count(*) FROM subscription_charges "
                    "WHERE period = 2 AND status = 'paid' AND subscription_id = ANY(%s)",
                    (ids,),
                ).fetchone()[0]
                return paid == len(ids)

            _wait(charged, 120, "every renewal to be charged")
            time.sleep(2 * LEASE_SECONDS)  # a second run of a job would show now
            charges = conn.execute(
                "SELECT c.order_id, c.attempts, count(a.id) FROM subscription_charges c "
                "JOIN subscription_charge_attempts a ON a.charge_id = c.id "
                "WHERE c.period = 2 AND c.subscription_id = ANY(%s) "
                "GROUP BY c.order_id, c.attempts",
                (ids,),
            ).fetchall()
            payments = Counter(
                row[0]
                for row in conn.execute(
                    "SELECT source_id FROM payments WHERE source_id = ANY(%s)",
                    ([f"{sub_id}_p2" for sub_id in ids],),
                )
            )
            jobs = conn.execute(
                "SELECT status, attempts FROM outbox_jobs WHERE unique_key = ANY(%s)", (keys,)
            ).fetchall()
            planned = conn.execute(
                "SELECT count(*) FROM subscription_charges "
                "WHERE period = 3 AND subscription_id = ANY(%s)",
                (ids,),
            ).fetchone()[0]
            dead = conn.execute("SELECT count(*) FROM outbox_jobs WHERE status = 'dead'")

            # Our records: one attempt, one payment, the next period planned once.
            assert sorted(charges) == sorted((f"{s}_p2", 1, 1) for s in ids)
            assert payments == Counter(f"{s}_p2" for s in ids)
            assert planned == len(ids)
            assert dead.fetchone()[0] == 0
            # Each job was claimed once, although its charge outlasted the lease.
            assert sorted(jobs) == [("done", 1)] * len(ids)
        # The gateway: one approval per period.
        window = {
            "startDate": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
            "endDate": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
            "limit": 10000,
        }
        approvals = Counter(
            t["orderId"]
            for t in fakes.toss_api("GET", "/v1/transactions", params=window).json()
            if t["status"] == "DONE" and t["orderId"].endswith("_p2")
        )
        assert {f"{s}_p2": approvals[f"{s}_p2"] for s in ids} == {f"{s}_p2": 1 for s in ids}
        runs = [len(re.findall(r"charge_subscription -> done", log.read_text())) for log in logs]
        assert sum(runs) == len(ids), runs
        assert sum(1 for n in runs if n) >= 2, f"one process ran every renewal: {runs}"
