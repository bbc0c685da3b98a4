"""The chaos harness: the backend under gunicorn (2 workers x 4 threads) and the outbox worker as
real processes on a fresh PostgreSQL database, both fake gateways and a merchant endpoint in
threads of the test, and the checks every scenario ends with (the money invariant, one merchant
notification per change, no 500 to any client).

Each scenario module gets a stack of its own (`stack`, module scope), runs its faults, lets the
system recover (`Stack.recover`: the worker, reconciliation, the test clock moved past backoffs)
and asserts each property in a test of its own, so an expected failure names one issue item.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import Flask, request

from fake_common.app import close_fake
from fake_common.receiver import WebhookReceiver
from fake_common.server import RunningServer, serve_in_thread
from fake_common.window_client import iamport_pay, toss_pay, toss_register_card
from fake_iamport.gateway import DEFAULT_CONFIG as IAMPORT_DEFAULTS

BACKEND = Path(__file__).resolve().parents[2]
LAUNCH = Path(__file__).with_name("launch.py")
PYTHON = sys.executable
GATEWAY_READ_TIMEOUT = 3.0  # seconds (launch.py); faults "beyond the timeout" sleep longer
LEASE_SECONDS = 4  # the worker's job lease: a killed worker's job is taken up again after it
COUNTED = ("paid", "partially_refunded", "refunded")  # payment statuses that hold money
UNRESOLVED_SURPLUS = ("refunding", "needs_refund_account", "refund_failed")


def migrate(env: dict[str, str]) -> None:
    """`flask db upgrade` on env's database (dev secrets are generated into its instance path)."""
    subprocess.run(
        [PYTHON, "-m", "flask", "--app", "payment_backend", "db", "upgrade"],
        cwd=BACKEND,
        env={**os.environ, "PAYMENT_MODE": "test", **env},
        check=True,
        capture_output=True,
        timeout=180,
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, every: float = 0.1) -> Any:
    """Poll until predicate() is truthy and return it; fail with what after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


# -- clients that record every answer ------------------------------------------------------------


class Answers:
    """Every answer the test's clients got: (method, path, status) or (method, path, error)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.log: list[tuple[str, str, int | str, str | None]] = []

    def hook(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """A requests response hook: the status and the error envelope's code, if any."""
        code = None
        with contextlib.suppress(ValueError, AttributeError):
            code = response.json().get("code")
        with self._lock:
            self.log.append(
                (response.request.method, urlsplit(response.url).path, response.status_code, code)
            )

    def no_answer(self, method: str, url: str, exc: Exception) -> None:
        """A call that got no HTTP answer (its server process was killed)."""
        with self._lock:
            self.log.append((method, urlsplit(url).path, type(exc).__name__, None))

    def session(self) -> requests.Session:
        """A session whose every answer is recorded."""
        session = requests.Session()
        session.hooks["response"].append(self.hook)
        return session

    def server_errors(self) -> list[tuple[str, str, int | str, str | None]]:
        """Every 500, and any other 5xx without the error envelope (a 502 GATEWAY_UNAVAILABLE or
        a 503 with Retry-After is an honest answer)."""
        with self._lock:
            return [
                a
                for a in self.log
                if isinstance(a[2], int) and (a[2] == 500 or (a[2] > 500 and not a[3]))
            ]


class Client:
    """The backend's HTTP API as the shop's browser, the owner and the merchant's servers call it."""

    def __init__(self, url: str, answers: Answers, admin_token: str) -> None:
        self.url = url
        self.answers = answers
        self.http = answers.session()
        self.owner = {"Authorization": f"Bearer {admin_token}"}

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response | None:
        """The answer, or None when the connection broke (recorded either way)."""
        kwargs.setdefault("timeout", 60)
        try:
            return self.http.request(method, self.url + path, **kwargs)
        except requests.ConnectionError as exc:
            self.answers.no_answer(method, self.url + path, exc)
            return None

    def create_order(self, vendor: str) -> dict:
        """A card order of two items (30000 KRW)."""
        created = self.call(
            "POST",
            "/api/checkout/orders",
            json={"vendor": vendor, "method": "card", "items": [{"product_id": 1, "quantity": 2}]},
        )
        assert created is not None and created.status_code == 201, created and created.text
        return created.json()

    def complete(self, order: dict) -> requests.Response | None:
        body = {k: order[k] for k in ("order_id", "vendor", "payment_id", "amount")}
        return self.call("POST", "/api/checkout/complete", json=body)

    def refund(self, order: dict, amount: int | None, key: str) -> requests.Response | None:
        return self.call(
            "POST",
            f"/api/checkout/orders/{order['order_id']}/refund",
            json={"amount": amount, "reason": "chaos"},
            headers={**self.owner, "Idempotency-Key": key},
        )

    def order(self, order_id: str) -> dict:
        answer = self.call("GET", f"/api/checkout/orders/{order_id}")
        assert answer is not None and answer.status_code == 200, answer and answer.text
        return answer.json()

    def advance(self, seconds: float) -> None:
        """The test clock: backend and fakes move, and what became due runs."""
        answer = self.call("POST", "/api/test/clock", json={"advance": seconds}, timeout=120)
        assert answer is not None and answer.status_code == 200, answer and answer.text


# -- fakes and the merchant -----------------------------------------------------------------------


class Fake:
    """A fake gateway served in a thread, with its fault-rule control API and an in-flight probe."""

    def __init__(self, vendor: str, app: Flask) -> None:
        self.vendor = vendor
        self.app = app
        self.server: RunningServer = serve_in_thread(app)
        self.url = self.server.url
        self._lock = threading.Lock()
        self._watch: dict[str, list[int]] = {}
        # Before the fault rules' latency: which client port asked for a watched route.
        app.before_request_funcs.setdefault(None, []).insert(0, self._probe)

    def _probe(self) -> None:
        key = f"{request.method} {request.path}"
        with self._lock:
            for pattern, ports in self._watch.items():
                if fnmatch.fnmatchcase(key, pattern):
                    ports.append(int(request.environ.get("REMOTE_PORT") or 0))

    def watch(self, pattern: str) -> list[int]:
        """Record the client ports of requests matching 'METHOD /path-glob' (a live list)."""
        with self._lock:
            self._watch[pattern] = ports = []
        return ports

    def fault(self, **rule: Any) -> dict:
        """POST /__control/faults."""
        answer = requests.post(f"{self.url}/__control/faults", json=rule, timeout=10)
        answer.raise_for_status()
        return answer.json()

    def clear_faults(self) -> None:
        requests.delete(f"{self.url}/__control/faults", timeout=10).raise_for_status()

    def close(self) -> None:
        self.server.close()
        close_fake(self.app)

    # What the gateway holds, per order id (merchant_uid / orderId): every payment it made.
    def held(self) -> dict[str, list[tuple[str, int, int, int]]]:
        """{order id: [(payment id, paid, cancelled, net)]} for every payment that took money."""
        found: dict[str, list[tuple[str, int, int, int]]] = defaultdict(list)
        if self.vendor == "iamport":
            state = self.app.extensions["fake_iamport"]
            with state.lock:
                for p in state.payments.values():
                    if p.paid_at:
                        found[p.merchant_uid].append(
                            (p.imp_uid, p.amount, p.cancel_amount, p.amount - p.cancel_amount)
                        )
            return found
        state = self.app.extensions["fake_toss"]
        with state._lock:
            for p in state._payments.values():
                if p.status in ("DONE", "PARTIAL_CANCELED", "CANCELED"):
                    found[p.order_id].append(
                        (p.payment_key, p.total, p.total - p.balance, p.balance)
                    )
        return found

    def iamport_api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        keys = {
            "imp_key": IAMPORT_DEFAULTS["IMP_KEY"],
            "imp_secret": IAMPORT_DEFAULTS["IMP_SECRET"],
        }
        token = requests.post(f"{self.url}/users/getToken", json=keys, timeout=10).json()
        headers = {"Authorization": token["response"]["access_token"]}
        return requests.request(method, self.url + path, headers=headers, timeout=10, **kwargs)


class Merchant(WebhookReceiver):
    """The merchant's webhook endpoint; hold_next() makes the next delivery hang until released."""

    def __init__(self) -> None:
        super().__init__()
        self._hold = threading.Event()
        self.holding = threading.Event()
        self.release = threading.Event()

    def hold_next(self) -> None:
        self.release.clear()
        self.holding.clear()
        self._hold.set()

    def _hook(self, path: str):
        if self._hold.is_set():
            self._hold.clear()
            self.holding.set()
            self.release.wait(60)
        return super()._hook(path)

    def by_webhook_id(self) -> Counter:
        return Counter(r["headers"].get("webhook-id") for r in self.received)


# -- the processes ----------------------------------------------------------------------------------


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
    return inodes


def _inode_of_local_port(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(fields[9])
    return inodes


class Process:
    """A child process leading its own process group, output to a log file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.log = log
        with log.open("ab") as out:
            self.popen = subprocess.Popen(
                argv,
                cwd=BACKEND,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def kill(self, sig: int = signal.SIGKILL) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)  # what lingers in the group
        self.popen.wait(timeout=5)


class Stack:
    """The system under test and the handles a scenario needs to hurt it."""

    def __init__(self, tmp: Path, database: str) -> None:
        self.tmp = tmp
        self.database = database
        self.answers = Answers()
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        import fake_iamport
        import fake_toss

        self.iamport = Fake(
            "iamport",
            fake_iamport.create_app(
                {
                    "WEBHOOK_URL": f"{self.url}/payments/webhooks/iamport",
                    "WEBHOOK_RETRIES": 3,  # PortOne's optional retries, 60 s of fake time apart
                }
            ),
        )
        self.toss = Fake(
            "toss", fake_toss.create_app({"WEBHOOK_URL": f"{self.url}/payments/webhooks/toss"})
        )
        self.merchant = Merchant()
        self._merchant_server = serve_in_thread(self.merchant.app)
        self.merchant.url = self._merchant_server.url
        self.worker: Process | None = None
        self.server: Process | None = None
        self.worker_lost_jobs = False  # see notification_problems

    def start(self) -> None:
        """Migrate the database, start gunicorn and the worker, wait until they answer."""
        from gunicorn.config import KNOWN_SETTINGS

        tmp, database = self.tmp, self.database
        self.env = {
            **os.environ,
            "PAYMENT_MODE": "test",
            "DATABASE_URL": database,
            "PAYMENT_INSTANCE_PATH": str(tmp),
            "PUBLIC_URL": self.url,
            "IAMPORT_API_URL": self.iamport.url,
            "TOSS_API_URL": self.toss.url,
            "CHECKOUT_WEBHOOK_URL": f"{self.merchant.url}/checkout",
            "RATELIMIT_ENABLED": "false",
            "WORKER_LEASE_SECONDS": str(LEASE_SECONDS),
            "CHAOS_GATEWAY_READ_TIMEOUT": str(GATEWAY_READ_TIMEOUT),
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_WORKERS": "2",
            "GUNICORN_THREADS": "4",
            "GUNICORN_ACCESS_LOG": "/dev/null",
            "GUNICORN_GRACEFUL_TIMEOUT": "3",
            "PYTHONUNBUFFERED": "1",
            "LOG_FORMAT": "text",
        }
        self._control = (
            ["--no-control-socket"]
            if any(s.name == "control_socket_disable" for s in KNOWN_SETTINGS)
            else []
        )
        if not (tmp / "dev-secrets.json").exists():
            migrate(self.env)
        secrets = json.loads((tmp / "dev-secrets.json").read_text())
        self.admin_token = secrets["PAYMENT_ADMIN_TOKEN"]
        self.seed_key = secrets["PAYMENT_CONNECTION_ENCRYPTION_KEY"]
        self.seed_iv = secrets["PAYMENT_CONNECTION_ENCRYPTION_IV"]
        self.client = Client(self.url, self.answers, self.admin_token)
        self.server = Process(
            "server",
            [
                PYTHON,
                str(LAUNCH),
                "gunicorn",
                "--config",
                "gunicorn.conf.py",
                *self._control,
                "payment_backend:create_app()",
            ],
            self.env,
            tmp / "server.log",
        )
        self.start_worker()
        wait_for(self._healthy, 60, f"gunicorn to answer\n{self.server.tail()}")
        wait_for(lambda: len(self.server_workers()) == 2, 30, "two gunicorn workers")

    # processes
    def _healthy(self) -> bool:
        with contextlib.suppress(requests.RequestException):
            return requests.get(f"{self.url}/monitors/health", timeout=1).status_code == 200
        return False

    def start_worker(self) -> None:
        """Start `flask --app payment_backend worker` (its first pass sweeps at once)."""
        self.worker = Process(
            "worker",
            [
                PYTHON,
                str(LAUNCH),
                "flask",
                "--app",
                "payment_backend",
                "worker",
                "--interval",
                "0.2",
            ],
            self.env,
            self.tmp / "worker.log",
        )

    def kill_worker(self) -> None:
        """SIGKILL the worker process."""
        assert self.worker is not None
        self.worker.kill(signal.SIGKILL)
        self.worker = None

    def restart_worker(self) -> None:
        """Stop the worker (SIGTERM: it finishes the job in hand) and start a new one."""
        if self.worker is not None:
            self.worker.kill(signal.SIGTERM)
        self.start_worker()

    def server_workers(self) -> set[int]:
        return _children(self.server.popen.pid)

    def server_worker_calling(self, ports: list[int]) -> int | None:
        """The gunicorn worker whose socket has one of these local ports (a call to a fake)."""
        inodes = set().union(*(_inode_of_local_port(p) for p in ports)) if ports else set()
        for pid in self.server_workers():
            if _socket_inodes(pid) & inodes:
                return pid
        return None

    def kill_server_worker_in_call(self, fake: Fake, ports: list[int], timeout: float = 10) -> int:
        """Wait until a gunicorn worker is in a watched call to fake, then SIGKILL that worker;
        gunicorn starts a new one. Returns the killed pid."""
        wait_for(lambda: ports, timeout, f"a call to fake {fake.vendor}", every=0.02)
        pid = wait_for(lambda: self.server_worker_calling(ports), 5, "the calling worker", 0.02)
        before = self.server_workers()
        os.kill(pid, signal.SIGKILL)
        wait_for(
            lambda: len(self.server_workers()) == 2 and self.server_workers() != before,
            30,
            "gunicorn to replace the killed worker",
        )
        return pid

    def worker_in_call(self, ports: list[int]) -> bool:
        """Whether the worker process holds a socket with one of these local ports."""
        assert self.worker is not None
        inodes = set().union(*(_inode_of_local_port(p) for p in ports)) if ports else set()
        return bool(_socket_inodes(self.worker.popen.pid) & inodes)

    def close(self) -> None:
        """Stop everything (SIGKILL: the database is dropped next, nothing needs a clean end)."""
        if self.worker is not None:
            self.worker.kill(signal.SIGKILL)
        if self.server is not None:
            self.server.kill(signal.SIGKILL)
        self.merchant.release.set()
        self._merchant_server.close()
        self.iamport.close()
        self.toss.close()

    # the database
    def sql(self, query: str, *params: Any) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.database, autocommit=True) as conn:
            return conn.execute(query, params).fetchall()

    def terminate_connections(self) -> int:
        """pg_terminate_backend on every connection to the database but this one."""
        rows = self.sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return sum(1 for (done,) in rows if done)

    def due_jobs(self) -> list[tuple]:
        """Pending jobs due on the app clock now (or running under a lease)."""
        return self.sql(
            "SELECT id, kind, due_at, leased_until, last_error FROM outbox_jobs "
            "WHERE status = 'pending' AND due_at <= now() + "
            "coalesce((SELECT offset_us FROM test_clock WHERE id = 1), 0) * interval '1 microsecond'"
        )

    def live_orders_due(self) -> list[tuple]:
        """Live orders due for a look by the sweep on the app clock."""
        return self.sql(
            "SELECT id, status, next_check_at FROM orders "
            "WHERE status IN ('pending', 'failed', 'awaiting_deposit') AND next_check_at <= "
            "now() + coalesce((SELECT offset_us FROM test_clock WHERE id = 1), 0) "
            "* interval '1 microsecond'"
        )

    def wait_idle(self, timeout: float = 10) -> bool:
        """Wait (bounded) until no job is due; False when some still are (checks tell the rest)."""
        try:
            wait_for(lambda: not self.due_jobs(), timeout, "due jobs to run", every=0.2)
        except AssertionError:
            return False
        return True

    def recover(self, steps: tuple[float, ...] = (0, 60, 600, 3600, 6 * 3600)) -> None:
        """Give the system its chance: the worker runs what is due, the test clock moves past
        reconciliation and delivery backoffs (the clock API also runs due jobs and makes the
        fakes send due webhooks), and a fresh worker's first pass sweeps live orders."""
        if self.worker is None:
            self.start_worker()
        for seconds in steps:
            if seconds:
                self.client.advance(seconds)
            self.wait_idle()
        # A fresh worker's first pass sweeps (the worker sweeps once a minute of wall time).
        self.restart_worker()
        with contextlib.suppress(AssertionError):  # the checks tell what was left
            wait_for(lambda: not self.live_orders_due(), 20, "the sweep", every=0.2)
        self.wait_idle()
        time.sleep(0.5)  # a stray duplicate delivery would arrive now
        self.wait_idle()

    # the fakes, as a buyer's browser uses them
    def pay(self, order: dict) -> dict:
        """Pay the order in the fake's window; the order with its payment_id."""
        if order["vendor"] == "iamport":
            query = iamport_pay(
                self.iamport.url, merchant_uid=order["order_id"], amount=order["amount"]
            )
            return {**order, "payment_id": query["imp_uid"]}
        query = toss_pay(self.toss.url, order_id=order["order_id"], amount=order["amount"])
        return {**order, "payment_id": query["paymentKey"]}

    def paid_order(self, vendor: str) -> dict:
        """An order paid in the window and completed; asserts it is paid."""
        order = self.pay(self.client.create_order(vendor))
        answer = self.client.complete(order)
        assert answer is not None and answer.status_code == 200, answer and answer.text
        assert answer.json()["status"] == "paid"
        return order

    def subscribe_toss(self) -> str:
        """An active Toss subscription (first period paid); its id."""
        created = self.client.call(
            "POST",
            "/api/subscriptions",
            json={
                "plan_id": 1,
                "vendor": "toss",
                "buyer": {"name": "Hong Gildong", "email": "buyer@example.com"},
            },
        )
        assert created is not None and created.status_code == 201, created and created.text
        sub = created.json()
        query = toss_register_card(self.toss.url, customer_key=sub["setup"]["customer_key"])
        proof = {"auth_key": query["authKey"], "customer_key": query["customerKey"]}
        active = self.client.call(
            "POST", f"/api/subscriptions/{sub['subscription_id']}/activate", json=proof
        )
        assert active is not None and active.status_code == 200, active and active.text
        assert active.json()["status"] == "active"
        return sub["subscription_id"]

    # -- the checks ------------------------------------------------------------------------------

    def money_mismatches(self) -> list[dict]:
        """For every order id either side knows (checkout orders, subscription charges, service
        payments, surplus): the net the gateway holds == what our records count (the payment's
        net plus unresolved surplus); no refund beyond what was paid. Empty when all agree."""
        held: dict[str, int] = defaultdict(int)
        problems = []
        for fake in (self.iamport, self.toss):
            for order_id, payments in fake.held().items():
                for payment_id, paid, cancelled, net in payments:
                    held[order_id] += net
                    if not 0 <= cancelled <= paid:
                        problems.append({"over_refund_at_gateway": payment_id, "paid": paid})
        counted: dict[str, int] = defaultdict(int)
        detail: dict[str, list] = defaultdict(list)
        payments = self.sql(
            "SELECT source_id, vendor_payment_id, status, amount, refunded, outcome_unknown "
            "FROM payments"
        )
        for source_id, vendor_id, status, amount, refunded, unknown in payments:
            if not 0 <= refunded <= amount:
                problems.append({"over_refund_in_records": vendor_id, "refunded": refunded})
            if status in COUNTED:
                counted[source_id] += amount - refunded
            detail[source_id].append((vendor_id, status, amount, refunded, unknown))
        orders = dict(self.sql("SELECT id, status FROM orders"))
        surplus = self.sql(
            "SELECT order_id, vendor_payment_id, status, amount, refunded FROM surplus_payments"
        )
        for order_id, vendor_id, status, amount, refunded in surplus:
            if status in UNRESOLVED_SURPLUS:
                counted[order_id] += amount - refunded
            detail[order_id].append(("surplus", vendor_id, status, amount, refunded))
        for order_id in sorted(set(held) | set(counted)):
            if held[order_id] != counted[order_id]:
                problems.append(
                    {
                        "order_id": order_id,
                        "gateway_holds": held[order_id],
                        "we_count": counted[order_id],
                        "order_status": orders.get(order_id),
                        "records": detail[order_id],
                    }
                )
        return problems

    def notification_problems(self) -> list[dict]:
        """Exactly one merchant notification per change of a payment: no change notified under
        two webhook-ids, every webhook-id answered 200 once, and every payment's current state
        notified.

        When the scenario made the worker lose a job in hand (`worker_lost_jobs`: the process
        killed, or its database connection terminated), the same webhook-id may be answered 200
        more than once: delivery is at least once (Standard Webhooks), and the merchant drops a
        webhook-id it has seen. A second webhook-id for one change is always a double."""
        problems = []
        ids_per_change: dict[tuple, set[str]] = defaultdict(set)
        answered: Counter = Counter()
        notified: dict[str, set[tuple]] = defaultdict(set)
        for r in self.merchant.received:
            body, webhook_id = r["body"] or {}, r["headers"].get("webhook-id")
            answered[webhook_id] += r["status"] == 200
            current, previous = body.get("current") or {}, body.get("previous") or {}
            if "status" not in current:
                continue
            state = (current.get("status"), current.get("refund"))
            before = (previous.get("status"), previous.get("refund")) if previous else None
            ids_per_change[(current["id"], before, state)].add(webhook_id)
            notified[current["id"]].add(state)
        for change, ids in ids_per_change.items():
            if len(ids) > 1:
                problems.append({"change notified more than once": change, "webhook_ids": ids})
        for webhook_id, ok in answered.items():
            if not ok or (ok > 1 and not self.worker_lost_jobs):
                problems.append({"webhook_id": webhook_id, "delivered (200) times": ok})
        rows = self.sql(
            "SELECT id, status, refunded, source_id, source_schema FROM payments "
            "WHERE webhook_url IS NOT NULL"
        )
        for payment_id, status, refunded, source_id, schema in rows:
            registered = schema != "checkout" and not refunded and not notified[payment_id]
            if registered and status in ("paid", "awaiting_deposit"):
                continue  # registered through the service API as it is: no change to tell
            if (status, refunded or None) not in notified[payment_id]:
                problems.append(
                    {
                        "state never notified": (status, refunded),
                        "payment": source_id,
                        "notified": sorted(notified[payment_id], key=str),
                    }
                )
        return problems

    def unrecorded_attempts(self) -> list[dict]:
        """Webhook-ids the merchant received more often than attempts were recorded."""
        recorded = dict(
            self.sql(
                "SELECT d.id, count(a.id) FROM webhook_deliveries d "
                "LEFT JOIN delivery_attempts a ON a.delivery_id = d.id GROUP BY d.id"
            )
        )
        return [
            {"webhook_id": i, "received": n, "recorded": recorded.get(i, 0)}
            for i, n in self.merchant.by_webhook_id().items()
            if n > recorded.get(i, 0)
        ]


def report(items: list, what: str) -> str:
    """An assertion message listing what went wrong (and where the logs are)."""
    return f"{len(items)} {what}:\n" + "\n".join(json.dumps(i, default=str) for i in items[:20])
