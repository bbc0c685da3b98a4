"""Load benchmark: checkout completion, refunds and webhook intake beside a bare Flask endpoint
and the floor (the same work done with nothing else).

.venv/bin/python bench/run.py [--duration S] [--concurrency C] [--db sqlite|postgres] [--workers W]
                              [--phases bare,completion,paced,intake,floor]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import floor_app
import requests
import worker_phases
from loadgen import Connection, Feed, Result, Sample, closed_loop, encode_request, open_loop
from pyspy import Profiler, summarize
from stack import (
    BACKEND,
    BENCH,
    HOST,
    Child,
    Fake,
    Stack,
    StackError,
    cpu_seconds,
    database,
    free_port,
    gunicorn_argv,
    gunicorn_env,
    machine_busy_seconds,
    memory_kb,
    migrate,
    postgres_pids,
    python,
    worker_pids,
)

from fake_common.window_client import iamport_pay, toss_pay
from fake_iamport.testing import IamportTestClient
from fake_toss.testing import TossTestClient

RESULTS = BENCH / "results"
POSTGRES_SERVER = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
PRODUCT_ID = 1  # a KRW product of the demo catalog
TARGET_SHARE = 0.25  # completion throughput / bare throughput
TARGET_P99_MS = 50.0
TARGET_RSS_MB = 120.0
TARGET_FLOOR_RATIO = 1.5  # the backend's CPU per request over the floor's
PHASES = ("bare", "completion", "paced", "toss", "intake", "floor", "renewals", "deliveries")
DEFAULT_PHASES = "bare,completion,paced,intake,floor"
# Paid payments at the fake that the floor's refunds cancel 1 won of, in turn.
FLOOR_REFUND_PAYMENTS = 50
# Backend phase -> the floor phase doing the same unavoidable work.
FLOOR_OF = {
    "completion iamport card": "floor: completion",
    "webhook intake iamport": "floor: webhook intake",
    "refund iamport (full)": "floor: refund",
}
PACED_CLIENTS = 64
WARM_PER_WORKER = 6
BUSY_CORES = 0.2  # other processes' load above which the report warns
# Inclusive shares worth a line in the report (they cut across the parts).
PROFILE_NOTABLE = (
    "SQLAlchemy flush",
    "reload of expired rows",
    "seal / unseal (AES-GCM)",
    "pool pre-ping",
    "requests: proxy lookup in os.environ",
)


@dataclass(frozen=True)
class Plan:
    """How long each phase may take, from the total duration asked for."""

    warmup: float
    bare: float
    throughput: float
    paced: float
    intake: float
    profile: float
    prep_budget: float

    @classmethod
    def for_total(cls, total: float) -> Plan:
        """Split about total seconds over the phases (preparing orders included)."""
        unit = max(total, 20.0) / 10
        return cls(
            warmup=max(1.0, unit / 3),
            bare=unit,
            throughput=unit,
            paced=unit,
            intake=unit / 2,
            profile=unit / 2,
            prep_budget=2.5 * unit,
        )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--duration", type=float, default=60, help="about this many seconds in all (default 60)"
    )
    parser.add_argument(
        "--concurrency", type=int, default=16, help="closed-loop clients C (default 16)"
    )
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="postgres")
    parser.add_argument(
        "--workers", type=int, default=None, help="GUNICORN_WORKERS for both apps (default: config)"
    )
    parser.add_argument("--gateway-latency-ms", type=float, default=20.0)
    parser.add_argument("--gateway-jitter-ms", type=float, default=5.0)
    parser.add_argument("--toss", action="store_true", help="also measure Toss card completion")
    parser.add_argument(
        "--phases",
        default=DEFAULT_PHASES,
        help=f"comma-separated, of {','.join(PHASES)} (default {DEFAULT_PHASES}); completion "
        "is always run when paced, intake or floor is (they use its orders); floor needs postgres",
    )
    parser.add_argument(
        "--profile",
        choices=("auto", "always", "never"),
        default="auto",
        help="py-spy the workers over extra completions after the measured ones "
        "(auto: when py-spy is installed)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    jobs = parser.add_argument_group("the worker's phases (renewals, deliveries)")
    jobs.add_argument(
        "--subscriptions", type=int, default=10_000, help="renewals due at once (default 10000)"
    )
    jobs.add_argument(
        "--worker-processes",
        default="1,2,4",
        help="`flask worker` processes of each renewal round (default 1,2,4)",
    )
    jobs.add_argument(
        "--worker-threads", type=int, default=16, help="threads per worker process (default 16)"
    )
    jobs.add_argument("--charge-latency-ms", type=float, default=200.0)
    jobs.add_argument("--deliveries", type=int, default=1000)
    jobs.add_argument("--delivery-rate", type=float, default=20.0, help="queued per second")
    jobs.add_argument("--delivery-processes", type=int, default=2)
    jobs.add_argument("--slow-endpoint-s", type=float, default=10.0)
    args = parser.parse_args(argv)
    args.worker_processes = [int(n) for n in str(args.worker_processes).split(",") if n.strip()]
    chosen = {name.strip() for name in args.phases.split(",") if name.strip()}
    unknown = chosen - set(PHASES)
    if unknown:
        parser.error(f"unknown phases {sorted(unknown)}; choose from {','.join(PHASES)}")
    if args.toss:
        chosen.add("toss")
    if chosen & {"paced", "intake", "floor"}:
        chosen.add("completion")
    for name in ("floor", "renewals", "deliveries"):
        if name in chosen and args.db != "postgres":
            parser.error(f"the {name} phase runs on PostgreSQL only (--db postgres)")
    args.phase_set = chosen
    return args


def say(message: str) -> None:
    """Progress on stderr, so stdout carries only the report."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- the shop: paid-but-uncompleted orders ----------------------------------------------------


class Shop:
    """Makes orders paid at the fake's window and not yet completed: what a browser holds."""

    def __init__(self, backend_url: str, fakes: dict[str, Fake]) -> None:
        self.backend_url = backend_url
        self.fakes = fakes
        self._local = threading.local()

    def _session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session

    def paid_order(self, vendor: str) -> dict[str, Any]:
        """Create an order and pay it at the fake's window: the completion request's body."""
        response = self._session().post(
            self.backend_url + "/api/checkout/orders",
            json={
                "vendor": vendor,
                "method": "card",
                "items": [{"product_id": PRODUCT_ID, "quantity": 1}],
            },
            timeout=30,
        )
        if response.status_code != 201:
            raise RuntimeError(f"order refused: {response.status_code} {response.text[:300]}")
        order = response.json()
        window = self.fakes[vendor].url
        if vendor == "iamport":
            paid = iamport_pay(window, merchant_uid=order["order_id"], amount=order["amount"])
            payment_id = paid.get("imp_uid")
        else:
            paid = toss_pay(window, order_id=order["order_id"], amount=order["amount"])
            payment_id = paid.get("paymentKey")
        if not payment_id:
            raise RuntimeError(f"the window did not pay: {paid}")
        return {
            "order_id": order["order_id"],
            "vendor": vendor,
            "payment_id": payment_id,
            "amount": order["amount"],
        }

    def prepare(
        self, vendor: str, *, concurrency: int, count: int, seconds: float
    ) -> list[dict[str, Any]]:
        """count paid orders, or as many as seconds allow."""
        made: list[dict[str, Any]] = []
        failures: list[str] = []
        lock = threading.Lock()
        deadline = time.monotonic() + seconds
        claimed = 0

        def work() -> None:
            nonlocal claimed
            while time.monotonic() < deadline and len(failures) < 10:
                with lock:
                    if len(made) + claimed >= count:
                        return
                    claimed += 1
                try:
                    order = self.paid_order(vendor)
                except (RuntimeError, requests.RequestException, AssertionError) as exc:
                    with lock:
                        claimed -= 1
                        failures.append(str(exc))
                    continue
                with lock:
                    claimed -= 1
                    made.append(order)

        with ThreadPoolExecutor(concurrency) as pool:
            for future in [pool.submit(work) for _ in range(concurrency)]:
                future.result()
        if failures and not made:
            raise StackError(f"could not prepare any {vendor} order: {failures[0]}")
        if failures:
            say(f"{len(failures)} {vendor} orders failed to prepare, e.g. {failures[0]}")
        return made


# -- measuring -------------------------------------------------------------------------------


class CpuMeter:
    """CPU seconds each part of the system, and everything else on the machine, used in a phase."""

    def __init__(self, parts: dict[str, Callable[[], list[int]]]) -> None:
        self.parts = parts
        self._start: dict[str, dict[int, float]] = {}
        self._self = 0.0
        self._machine = 0.0

    def start(self) -> None:
        """Remember the counters now."""
        self._start = {
            name: {p: cpu_seconds(p) for p in pids()} for name, pids in self.parts.items()
        }
        self._self = time.process_time()
        self._machine = machine_busy_seconds()

    def stop(self) -> dict[str, Any]:
        """CPU seconds per part since start ("others": the rest of the machine), and per process."""
        used: dict[str, float] = {}
        per_process: dict[str, list[float]] = {}
        for name, pids in self.parts.items():
            before = self._start.get(name, {})
            now = {p: cpu_seconds(p) for p in set(pids()) | set(before)}
            spent = [round(max(0.0, now[p] - before.get(p, 0.0)), 3) for p in sorted(now)]
            used[name] = sum(spent)
            per_process[name] = spent
        used["load generator"] = time.process_time() - self._self
        busy = machine_busy_seconds() - self._machine
        used["others"] = max(0.0, busy - sum(used.values()))
        return {
            "cpu_s": {name: round(seconds, 3) for name, seconds in used.items()},
            # Uneven spread over gunicorn workers (each bound to one core by the GIL) shows here.
            "cpu_s_per_worker": {
                k: v for k, v in per_process.items() if k.endswith("workers") and any(v)
            },
            "machine_busy_s": round(busy, 3),
        }


def accept_order(status: str) -> Callable[[Sample], bool]:
    """200 and the order in status."""

    def accept(sample: Sample) -> bool:
        if sample.status != 200:
            return False
        try:
            return json.loads(sample.body).get("status") == status
        except ValueError:
            return False

    return accept


def accept_ok(sample: Sample) -> bool:
    """Any 2xx."""
    return 200 <= sample.status < 300


def accept_webhook(sample: Sample) -> bool:
    """200 and the order was looked at (not deferred, not ignored)."""
    if sample.status != 200:
        return False
    try:
        return str(json.loads(sample.body).get("result", "")).startswith("order ")
    except ValueError:
        return False


def summarize_phase(name: str, result: Result, accept: Callable[[Sample], bool], **extra) -> dict:
    """A phase's figures, with a few of the answers that were not accepted."""
    result.accept = accept
    summary = {"phase": name, **extra, **result.summary()}
    if "cpu_s" in summary:
        summary["busy_cores"] = round(summary.pop("machine_busy_s") / summary["window_s"], 2)
        summary["others_cores"] = round(summary["cpu_s"]["others"] / summary["window_s"], 2)
        ours = sum(v for k, v in summary["cpu_s"].items() if k != "others")
        per_request = ours * 1000 / max(summary["requests"], 1)
        summary["cpu_ms_per_request"] = round(per_request, 2)
        # What the machine's cores could do if this phase had them all to itself.
        cores = len(os.sched_getaffinity(0))
        summary["cpu_bound_rps"] = round(cores * 1000 / per_request, 1) if per_request else None
    rejected = [s for s in result.samples if not accept(s)][:3]
    if rejected:
        summary["rejected_examples"] = [
            {"status": s.status, "body": s.body[:300].decode(errors="replace")} for s in rejected
        ]
    return summary


def warm_up(port: int, requests_: list[bytes], concurrency: int) -> int:
    """Each request over a new connection, so every worker pays its first-request costs now."""

    def one(request: bytes) -> int:
        conn = Connection(HOST, port)
        try:
            return conn.send(request)[0]
        except OSError:
            return 0
        finally:
            conn.close()

    with ThreadPoolExecutor(concurrency) as pool:
        return sum(status == 200 for status in pool.map(one, requests_))


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": len(os.sched_getaffinity(0)),
        "cpu": model,
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "loadavg_at_start": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def commit() -> str:
    """The code measured: git describe of the work tree (with -dirty for local changes)."""
    try:
        return subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=BENCH,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def rss_report(master: int) -> dict[str, Any]:
    """VmRSS and VmHWM of each worker of a gunicorn master, in MB."""
    workers = []
    for pid in worker_pids(master):
        kb = memory_kb(pid)
        if kb:
            workers.append(
                {
                    "pid": pid,
                    "rss_mb": round(kb["VmRSS"] / 1024, 1),
                    "peak_mb": round(kb["VmHWM"] / 1024, 1),
                }
            )
    return {"workers": workers, "max_peak_mb": max((w["peak_mb"] for w in workers), default=None)}


# -- the run ---------------------------------------------------------------------------------


class Bench:
    """One run: the started stack and the phases measured against it."""

    def __init__(self, args: argparse.Namespace, stack: Stack, database_url: str, instance: str):
        self.args = args
        self.plan = Plan.for_total(args.duration)
        self.C = args.concurrency
        self.stack = stack
        self.database_url = database_url
        self.instance = instance
        self.admin_token = secrets.token_urlsafe(24)
        self.phases: list[dict[str, Any]] = []
        self.completed: list[dict[str, Any]] = []
        self.profile: dict[str, Any] = {}
        self.floor: Child | None = None

    # start-up

    def start(self) -> None:
        """Fakes, migrations, backend and bare app; wait until all answer."""
        self.fakes: dict[str, Fake] = {}
        for vendor, module, api, client in (
            ("iamport", "fake_iamport", "/payments*", IamportTestClient),
            ("toss", "fake_toss", "/v1/payments*", TossTestClient),
        ):
            port = free_port()
            child = self.stack.start(
                f"fake-{vendor}",
                [python(), "-m", module, "--host", HOST, "--port", str(port), "--threads", "96"],
                port=port,
                cwd=BENCH,
                env=dict(os.environ, PYTHONUNBUFFERED="1"),
            )
            self.fakes[vendor] = Fake(child, api, client(child.url))
        env = dict(
            os.environ,
            PAYMENT_MODE="test",
            DATABASE_URL=self.database_url,
            IAMPORT_API_URL=self.fakes["iamport"].url,
            TOSS_API_URL=self.fakes["toss"].url,
            PAYMENT_INSTANCE_PATH=self.instance,
            PAYMENT_ADMIN_TOKEN=self.admin_token,
        )
        self.backend_env = env
        self.postgres_server = POSTGRES_SERVER
        # Migrating first also writes the instance's dev secrets once, before workers race for it.
        migrate(env, self.stack.log_dir / "migrate.log")
        port = free_port()
        self.backend = self.stack.start(
            "backend",
            gunicorn_argv("payment_backend:create_app()"),
            port=port,
            cwd=BACKEND,
            env={**env, **gunicorn_env(port, self.args.workers)},
        )
        port = free_port()
        self.bare = self.stack.start(
            "bare",
            gunicorn_argv("bare_app:create_app()", "--pythonpath", str(BENCH)),
            port=port,
            cwd=BENCH,
            env=gunicorn_env(port, self.args.workers),
        )
        if "floor" in self.args.phase_set:
            port = free_port()
            floor_env = {
                **gunicorn_env(port, self.args.workers),
                "FLOOR_DATABASE_URL": self.database_url,
                "FLOOR_IAMPORT_URL": self.fakes["iamport"].url,
                "FLOOR_IMP_KEY": "test_imp_key",
                "FLOOR_IMP_SECRET": "test_imp_secret",
            }
            self.floor = self.stack.start(
                "floor",
                gunicorn_argv("floor_app:create_app()", "--pythonpath", str(BENCH)),
                port=port,
                cwd=BENCH,
                env=floor_env,
            )
        for fake in self.fakes.values():
            self.stack.wait_ready(fake.child, "/__control/faults")
        self.stack.wait_ready(self.backend, "/monitors/health")
        self.stack.wait_ready(self.bare, "/bare")
        self.workers = {
            "backend": len(worker_pids(self.backend.popen.pid)),
            "bare": len(worker_pids(self.bare.popen.pid)),
        }
        parts: dict[str, Callable[[], list[int]]] = {
            "backend workers": lambda: worker_pids(self.backend.popen.pid),
            "bare workers": lambda: worker_pids(self.bare.popen.pid),
            "floor workers": lambda: worker_pids(self.floor.popen.pid) if self.floor else [],
            "fake iamport": lambda: [self.fakes["iamport"].child.popen.pid],
            "fake toss": lambda: [self.fakes["toss"].child.popen.pid],
        }
        if self.args.db == "postgres":
            parts["postgres"] = lambda: postgres_pids(self.database_url, POSTGRES_SERVER)
        self.meter = CpuMeter(parts)
        self.shop = Shop(self.backend.url, self.fakes)

    def backend_pids(self) -> list[int]:
        """The backend's gunicorn workers."""
        return worker_pids(self.backend.popen.pid)

    def gateways(self, slow: bool) -> None:
        """The fakes' API latency on (timed phases) or off (preparing orders)."""
        for fake in self.fakes.values():
            if slow:
                fake.slow_down(self.args.gateway_latency_ms, self.args.gateway_jitter_ms)
            else:
                fake.restore()

    def prepare(self, vendor: str, count: int, seconds: float) -> list[dict[str, Any]]:
        """Paid orders, made with the gateways at full speed."""
        self.gateways(slow=False)
        t0 = time.monotonic()
        orders = self.shop.prepare(vendor, concurrency=self.C, count=count, seconds=seconds)
        say(f"prepared {len(orders)} {vendor} orders in {time.monotonic() - t0:.1f} s")
        self.gateways(slow=True)
        return orders

    def completions(self, orders: list[dict[str, Any]]) -> list[bytes]:
        """POST /api/checkout/complete for each order."""
        return [
            encode_request(HOST, self.backend.port, "POST", "/api/checkout/complete", order)
            for order in orders
        ]

    def closed(self, child: Child, feed: Feed, seconds: float, keep_bodies: bool = True) -> Result:
        """Closed loop at C against child."""
        return closed_loop(
            HOST, child.port, feed, concurrency=self.C, duration=seconds, keep_bodies=keep_bodies
        )

    # phases

    def measure_bare(self) -> float:
        """(1) The bare endpoint's max throughput at C."""
        request = encode_request(
            HOST, self.bare.port, "POST", "/bare", {"order_id": "ord_" + "0" * 20, "amount": 15000}
        )
        self.closed(self.bare, Feed(repeat=request), self.plan.warmup, keep_bodies=False)
        say(f"bare endpoint, closed loop C={self.C}, {self.plan.bare:.0f} s")
        self.meter.start()
        result = self.closed(self.bare, Feed(repeat=request), self.plan.bare, keep_bodies=False)
        figures = summarize_phase(
            "bare endpoint", result, accept_ok, concurrency=self.C, **self.meter.stop()
        )
        self.phases.append(figures)
        say(f"bare: {figures['throughput_rps']:.0f} req/s")
        return figures["throughput_rps"]

    def measure_completion(self) -> float:
        """(2) Completion's max throughput at C; a pilot run (also the warm-up) sizes it."""
        warm = WARM_PER_WORKER * self.workers["backend"]
        orders = self.prepare("iamport", warm + max(6 * self.C, 40), self.plan.prep_budget / 2)
        warm = min(warm, len(orders) // 3)
        warmed = warm_up(self.backend.port, self.completions(orders[:warm]), min(self.C, 8))
        self.completed += orders[:warm]
        pilot = self.closed(self.backend, Feed(self.completions(orders[warm:])), self.plan.warmup)
        pilot.accept = accept_order("paid")
        self.completed += orders[warm : warm + len(pilot.samples)]
        estimate = max(pilot.throughput, 1.0)
        say(f"warm-up: {warmed}/{warm} over new connections; pilot {estimate:.0f} req/s")

        profiling = self.args.profile != "never"
        seconds = self.plan.throughput + (self.plan.profile if profiling else 0.0)
        orders = self.prepare("iamport", math.ceil(estimate * seconds * 1.3), self.plan.prep_budget)
        say(f"completion, closed loop C={self.C}, up to {self.plan.throughput:.0f} s")
        self.meter.start()
        result = self.closed(self.backend, Feed(self.completions(orders)), self.plan.throughput)
        figures = summarize_phase(
            "completion iamport card",
            result,
            accept_order("paid"),
            concurrency=self.C,
            **self.meter.stop(),
            prepared=len(orders),
            ran_out=len(result.samples) >= len(orders),
        )
        self.phases.append(figures)
        used = len(result.samples)
        self.completed += orders[:used]
        say(f"completion: {figures['throughput_rps']:.0f} req/s, {figures['errors']} errors")
        if profiling:
            self.profile_completion(orders[used:])
        return figures["throughput_rps"]

    def profile_completion(self, orders: list[dict[str, Any]]) -> None:
        """py-spy the backend workers and the iamport fake over extra completions."""
        # Apart from the measured phase: the sampler's own CPU would have slowed it.
        profiler = Profiler(RESULTS)
        seconds = self.plan.profile
        if not orders or not profiler.start(
            "backend", self.backend.popen.pid, seconds, subprocesses=True
        ):
            if self.args.profile == "always":
                raise StackError(
                    "no profile: py-spy missing (pip install py-spy) or no orders left"
                )
            return
        profiler.start("fake-iamport", self.fakes["iamport"].child.popen.pid, seconds)
        say(f"profiling completion with py-spy, up to {seconds:.0f} s")
        try:
            result = self.closed(self.backend, Feed(self.completions(orders)), seconds)
        except BaseException:
            profiler.stop()
            raise
        written = profiler.finish()
        self.completed += orders[: len(result.samples)]
        for name, path in written.items():
            self.profile[name] = {
                "file": str(path),
                "completions": len(result.samples),
                **summarize(path),
            }

    def measure_paced(self, rate: float) -> None:
        """(3) Completion latency at a fixed rate, open loop."""
        orders = self.prepare("iamport", math.ceil(rate * self.plan.paced), self.plan.prep_budget)
        say(f"completion, open loop at {rate:.1f} req/s for {len(orders) / rate:.1f} s")
        self.meter.start()
        result = open_loop(
            HOST,
            self.backend.port,
            self.completions(orders),
            rate=rate,
            clients=PACED_CLIENTS,
            keep_bodies=True,
        )
        figures = summarize_phase(
            "completion iamport card, half rate",
            result,
            accept_order("paid"),
            rate_rps=round(rate, 1),
            **self.meter.stop(),
        )
        self.phases.append(figures)
        self.completed += orders
        lat = figures["latency_ms"]
        say(f"half rate: p50 {lat['p50']} p95 {lat['p95']} p99 {lat['p99']} ms")

    def measure_toss(self, estimate: float) -> None:
        """(2b) Toss card completion (confirm at the gateway), closed loop."""
        orders = self.prepare(
            "toss", 2 * self.C + math.ceil(estimate * self.plan.throughput), self.plan.prep_budget
        )
        self.closed(self.backend, Feed(self.completions(orders[: 2 * self.C])), self.plan.warmup)
        say(f"toss completion, closed loop C={self.C}, up to {self.plan.throughput:.0f} s")
        self.meter.start()
        result = self.closed(
            self.backend, Feed(self.completions(orders[2 * self.C :])), self.plan.throughput
        )
        self.phases.append(
            summarize_phase(
                "completion toss card",
                result,
                accept_order("paid"),
                concurrency=self.C,
                **self.meter.stop(),
            )
        )

    def measure_intake(self) -> None:
        """(4) Webhook intake, then full refunds, on the completed orders, closed loop."""
        port = self.backend.port
        hooks = [
            encode_request(
                HOST,
                port,
                "POST",
                "/payments/webhooks/iamport",
                {"imp_uid": o["payment_id"], "merchant_uid": o["order_id"], "status": "paid"},
            )
            for o in self.completed
        ]
        refunds = [
            encode_request(
                HOST,
                port,
                "POST",
                f"/api/checkout/orders/{o['order_id']}/refund",
                {"reason": "bench"},
                {"Authorization": f"Bearer {self.admin_token}"},
            )
            for o in self.completed
        ]
        for name, feed, accept in (
            ("webhook intake iamport", hooks, accept_webhook),
            ("refund iamport (full)", refunds, accept_order("refunded")),
        ):
            say(f"{name}, closed loop C={self.C}, up to {self.plan.intake:.0f} s")
            self.meter.start()
            result = self.closed(self.backend, Feed(feed), self.plan.intake)
            self.phases.append(
                summarize_phase(name, result, accept, concurrency=self.C, **self.meter.stop())
            )

    def measure_floor(self) -> None:
        """(5) The floor app doing the same work as completion, webhook intake and refund."""
        assert self.floor is not None
        self.stack.wait_ready(self.floor, "/floor/complete")  # 405 on GET: it answers
        paid = [o["payment_id"] for o in self.completed] or [""]
        count = 4000
        orders = floor_app.prepare(self.database_url, count)
        self.gateways(slow=False)
        window = self.fakes["iamport"].url
        refundable = [
            iamport_pay(window, merchant_uid=f"floor_{secrets.token_hex(6)}", amount=10_000_000)[
                "imp_uid"
            ]
            for _ in range(FLOOR_REFUND_PAYMENTS)
        ]
        self.gateways(slow=True)
        port = self.floor.port
        feeds = {
            "floor: completion": (
                [
                    encode_request(
                        HOST,
                        port,
                        "POST",
                        "/floor/complete",
                        {"order_id": o, "payment_id": paid[n % len(paid)], "amount": 15000},
                    )
                    for n, o in enumerate(orders)
                ],
                accept_order("paid"),
            ),
            "floor: webhook intake": (
                [
                    encode_request(
                        HOST,
                        port,
                        "POST",
                        "/floor/webhook",
                        {"imp_uid": paid[n % len(paid)], "merchant_uid": o, "status": "paid"},
                    )
                    for n, o in enumerate(orders)
                ],
                accept_webhook,
            ),
            "floor: refund": (
                [
                    encode_request(
                        HOST,
                        port,
                        "POST",
                        "/floor/refund",
                        {"order_id": o, "payment_id": refundable[n % len(refundable)], "amount": 1},
                    )
                    for n, o in enumerate(orders)
                ],
                accept_order("refunded"),
            ),
        }
        warm = [feed[: 2 * self.C] for feed, _ in feeds.values()]
        self.closed(self.floor, Feed(sum(warm, [])), self.plan.warmup)
        for name, (feed, accept) in feeds.items():
            seconds = self.plan.throughput if name.endswith("completion") else self.plan.intake
            say(f"{name}, closed loop C={self.C}, up to {seconds:.0f} s")
            self.meter.start()
            result = self.closed(self.floor, Feed(feed[2 * self.C :]), seconds)
            self.phases.append(
                summarize_phase(name, result, accept, concurrency=self.C, **self.meter.stop())
            )


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Start everything, measure every phase, stop everything; the results."""
    started = time.monotonic()
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python bench/run.py", *sys.argv[1:]]),
        "commit": commit(),
        "machine": machine(),
    }
    with (
        database(args.db, POSTGRES_SERVER) as database_url,
        tempfile.TemporaryDirectory(prefix="bench-instance-") as instance,
        Stack(RESULTS / "logs") as stack,
    ):
        bench = Bench(args, stack, database_url, instance)
        say(f"starting fakes, backend and bare app on {args.db}; logs in {stack.log_dir}")
        bench.start()
        say(f"up in {time.monotonic() - started:.1f} s; gunicorn workers {bench.workers}")
        phases = args.phase_set
        if "bare" in phases:
            bench.measure_bare()
        if "completion" in phases:
            done = bench.measure_completion()
            if "paced" in phases:
                bench.measure_paced(max(done / 2, 1.0))
            if "toss" in phases:
                bench.measure_toss(done)
            if "floor" in phases:
                bench.measure_floor()  # before the refunds: it re-reads the completed payments
            if "intake" in phases:
                bench.measure_intake()
        jobs = worker_phases.WorkerPhases(bench)
        if "renewals" in phases:
            jobs.measure_renewals()
        if "deliveries" in phases:
            bench.gateways(slow=False)
            jobs.measure_deliveries()
        results["jobs"] = jobs.results
        bench.gateways(slow=False)
        results["rss"] = {
            "backend": rss_report(bench.backend.popen.pid),
            "bare": rss_report(bench.bare.popen.pid),
        }
        if bench.floor is not None:
            results["rss"]["floor"] = rss_report(bench.floor.popen.pid)
        results["settings"] = {
            "concurrency": args.concurrency,
            "phases": sorted(args.phase_set),
            "db": args.db,
            "gunicorn_workers": bench.workers,
            "gunicorn_threads": os.environ.get("GUNICORN_THREADS", "4 (config default)"),
            "gateway_latency_ms": args.gateway_latency_ms,
            "gateway_jitter_ms": args.gateway_jitter_ms,
            "plan_s": asdict(bench.plan),
        }
        results["phases"] = bench.phases
        results["profile"] = bench.profile
    results["floor"] = floor_ratios(results)
    results["targets"] = targets(results) + worker_phases.targets(results["jobs"])
    results["elapsed_s"] = round(time.monotonic() - started, 1)
    return results


def floor_ratios(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Per phase: the backend's CPU per request over the floor's, and the whole system's."""
    by_name = {p["phase"]: p for p in results["phases"]}
    rows = []
    for ours, floor in FLOOR_OF.items():
        if ours not in by_name or floor not in by_name:
            continue
        a, b = by_name[ours], by_name[floor]
        app_ms = a["cpu_s"]["backend workers"] * 1000 / max(a["requests"], 1)
        floor_ms = b["cpu_s"]["floor workers"] * 1000 / max(b["requests"], 1)
        rows.append(
            {
                "phase": ours,
                "backend_ms": round(app_ms, 2),
                "floor_ms": round(floor_ms, 2),
                "ratio": round(app_ms / floor_ms, 2) if floor_ms else None,
                "system_ms": a["cpu_ms_per_request"],
                "floor_system_ms": b["cpu_ms_per_request"],
                "system_ratio": round(a["cpu_ms_per_request"] / b["cpu_ms_per_request"], 2)
                if b["cpu_ms_per_request"]
                else None,
            }
        )
    return rows


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets against this run's figures (those whose phases ran)."""
    by_name = {p["phase"]: p for p in results["phases"]}
    found = []
    for row in results.get("floor", []):
        found.append(
            {
                "target": f"{row['phase']}: backend CPU <= {TARGET_FLOOR_RATIO}x the floor's",
                "figure": f"{row['ratio']}x ({row['backend_ms']:.2f} / {row['floor_ms']:.2f} ms)",
                "met": row["ratio"] is not None and row["ratio"] <= TARGET_FLOOR_RATIO,
            }
        )
    paced = by_name.get("completion iamport card, half rate")
    if paced:
        limit = TARGET_P99_MS if results["settings"]["db"] == "postgres" else 2 * TARGET_P99_MS
        p99 = paced["latency_ms"]["p99"]
        found.append(
            {
                "target": f"p99 < {limit:.0f} ms at half the completion rate",
                "figure": f"{p99:.1f} ms",
                "met": p99 < limit,
            }
        )
    peak = results["rss"]["backend"]["max_peak_mb"] or math.nan
    found.append(
        {
            "target": f"< {TARGET_RSS_MB:.0f} MB resident per backend worker",
            "figure": f"{peak:.1f} MB peak",
            "met": peak < TARGET_RSS_MB,
        }
    )
    return found


def markdown(results: dict[str, Any]) -> str:
    """The report."""
    m, s = results["machine"], results["settings"]
    lines = [
        f"## Benchmark {results['when']}",
        "",
        f"`{results['command']}` (code: `{results['commit']}`)",
        "",
        f"Machine: {m['cores']} cores ({m['cpu']}), {m['memory_gb']} GB, Python {m['python']}. "
        "The load generator, both fakes and the database run on the same "
        f"{m['cores']} cores as the apps. Database {s['db']}; gunicorn "
        f"gthread, {s['gunicorn_workers']['backend']} workers x {s['gunicorn_threads']} threads "
        f"for both apps; fakes answer API calls after {s['gateway_latency_ms']:g} ± "
        f"{s['gateway_jitter_ms']:g} ms.",
        "",
        "| phase | load | req/s | p50 ms | p95 ms | p99 ms | ok | not ok | CPU ms/req "
        "| CPU-bound req/s | cores busy (others) |",
        "| --- | --- |" + " ---: |" * 9,
    ]
    for p in results["phases"]:
        if "rate_rps" in p:
            load = f"open loop, {p['rate_rps']:g} req/s"
        else:
            load = f"closed loop, C={p['concurrency']}"
        lat = p["latency_ms"]
        lines.append(
            f"| {p['phase']} | {load} | {p['throughput_rps']:.0f} | {lat['p50']:.1f} | "
            f"{lat['p95']:.1f} | {lat['p99']:.1f} | {p['ok']} | {p['errors']} | "
            f"{p['cpu_ms_per_request']:.2f} | {p['cpu_bound_rps'] or 0:.0f} | "
            f"{p['busy_cores']:.2f} ({p['others_cores']:.2f}) |"
        )
    lines += [
        "",
        "CPU ms/req: CPU time of the apps, fakes, database and load generator per request; "
        "CPU-bound req/s: the cores divided by it, the throughput if the phase had the machine "
        "to itself; cores busy: the whole machine's average over the phase, (others) the part of it "
        "that was not this benchmark.",
    ]
    busy = max((p["others_cores"] for p in results["phases"]), default=0.0)
    if busy > BUSY_CORES:
        lines += [
            "",
            f"**Other processes kept up to {busy:.1f} of the {m['cores']} cores busy during this "
            "run: throughput and latency are lower than on a quiet machine; CPU per request "
            "below is the steadier figure.**",
        ]
    lines += ["", "| target | this run | met |", "| --- | --- | --- |"]
    lines += [
        f"| {t['target']} | {t['figure']} | {'yes' if t['met'] else '**no**'} |"
        for t in results["targets"]
    ]
    if results.get("floor"):
        lines += [
            "",
            "Against the floor (bench/floor_app.py: the same gateway call and transaction, nothing "
            "else), CPU ms per request:",
            "",
            "| phase | backend | floor | ratio | whole system | floor's whole system | ratio |",
            "| --- |" + " ---: |" * 6,
        ]
        for r in results["floor"]:
            lines.append(
                f"| {r['phase']} | {r['backend_ms']:.2f} | {r['floor_ms']:.2f} | {r['ratio']}x | "
                f"{r['system_ms']:.2f} | {r['floor_system_ms']:.2f} | {r['system_ratio']}x |"
            )
    parts = [k for k in results["phases"][0]["cpu_s"] if k != "others"] if results["phases"] else []
    parts.append("others")
    lines += [
        "",
        'CPU per request, ms, by process ("others": the rest of the machine meanwhile):',
        "",
        "| phase | " + " | ".join(parts) + " |",
        "| --- |" + " ---: |" * len(parts),
    ]
    for p in results["phases"]:
        n = max(p["requests"], 1)
        cells = [f"{p['cpu_s'].get(k, 0) * 1000 / n:.2f}" for k in parts]
        lines.append(f"| {p['phase']} | " + " | ".join(cells) + " |")
    lines.append("")
    for app, rss in results["rss"].items():
        per = ", ".join(f"{w['rss_mb']:.0f}" for w in rss["workers"])
        lines.append(f"- RSS per {app} worker: {per} MB (peak {rss['max_peak_mb']} MB)")
    for name, prof in results.get("profile", {}).items():
        lines += [
            "",
            f"Profile of {name} over {prof['completions']} more completions at "
            f"C={s['concurrency']} (py-spy --gil, {prof['samples']} samples; share of its Python "
            "CPU):",
            "",
        ]
        if name == "backend":
            parts = prof["completion_parts"].items()
            lines.append("- by part: " + "; ".join(f"{k} {v:.0%}" for k, v in parts))
            notable = [k for k in PROFILE_NOTABLE if k in prof["steps"]]
            lines.append(
                "- across parts: " + "; ".join(f"{k} {prof['steps'][k]:.0%}" for k in notable)
            )
        else:
            share = prof["steps"].get("whole request in Flask", 0.0)
            lines.append(f"- in the Flask app: {share:.0%}; the rest is its HTTP server")
        libs = [f"{lib} {share:.0%}" for lib, share in prof["libraries"].items() if share >= 0.02]
        lines.append("- by library (innermost frame): " + "; ".join(libs))
    lines += worker_phases.markdown(results.get("jobs", {}))
    lines += ["", f"Total {results['elapsed_s']} s."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run, print the report, write the JSON; 1 when a completion answer was not accepted."""
    args = parse_args(argv)

    def terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, terminate)
    try:
        results = run(args)
    except KeyboardInterrupt:
        say("interrupted; every process the benchmark started was stopped")
        return 130
    except StackError as exc:
        say(str(exc))
        return 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(markdown(results))
    say(f"wrote {args.output}")
    broken = [p for p in results["phases"] if p["phase"].startswith("completion") and p["errors"]]
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
