"""The worker's phases (issue 16): month-end renewals at scale, and outbound deliveries with one
slow destination among healthy ones.

renewals: N subscriptions (copies of a few activated through the API, see seed.py) fall due at
one instant; P `flask worker --threads T` processes charge them at the Toss fake, which takes
200 ms per billing charge; measured: renewals per second, the time until all are charged, the
CPU per renewal, each period charged exactly once (our records and the fake's transactions),
and the delay of webhook deliveries queued meanwhile (2 per second).

deliveries: 1,000 notifications queued at a steady rate, every tenth to an endpoint that
answers after 10 s; measured: the delay from queueing to arrival of the healthy 90 %.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
import requests
from cheroot.wsgi import Server as WsgiServer
from loadgen import percentile
from stack import BACKEND, BENCH, HOST, Child, StackError, postgres_pids, python

from fake_common.window_client import toss_register_card

if TYPE_CHECKING:
    from run import Bench

TEMPLATES = 8  # subscriptions made through the API; the others are copies of them
PROBE_RATE = 2.0  # deliveries per second queued while renewals run
TARGET_RENEWALS_PER_S = 100.0
TARGET_PROBE_DELAY_S = 5.0
TARGET_HEALTHY_P99_S = 2.0
STALL_S = 60.0  # a round without progress this long is given up
RECEIVER_THREADS = 64


class Receiver:
    """A merchant's webhook endpoint on a port of its own: records when each delivery arrived,
    answering 200 after `delay` seconds."""

    def __init__(self, name: str, delay: float = 0.0) -> None:
        self.name = name
        self.delay = delay
        self.arrivals: dict[str, float] = {}
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._server = WsgiServer((HOST, 0), self._app, numthreads=RECEIVER_THREADS, timeout=30)
        self._server.prepare()
        self.url = f"http://{HOST}:{self._server.bind_addr[1]}/hooks/{name}"
        self._thread = threading.Thread(target=self._server.serve, daemon=True)
        self._thread.start()

    def _app(self, environ: dict, start_response: Any) -> list[bytes]:
        arrived = time.time()
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        delivery = environ.get("HTTP_WEBHOOK_ID", "")
        with self._lock:
            self.arrivals.setdefault(delivery, arrived)
            self.counts[delivery] += 1
        if self.delay:
            time.sleep(self.delay)
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "2")])
        return [b"{}"]

    def close(self) -> None:
        """Stop serving."""
        self._server.stop()


def delays(queued: list[dict[str, Any]], receiver: Receiver) -> dict[str, Any]:
    """Queue-to-arrival delays (s) of the deliveries queued, and how many never arrived."""
    found = sorted(
        receiver.arrivals[q["id"]] - q["queued_at"] for q in queued if q["id"] in receiver.arrivals
    )
    return {
        "queued": len(queued),
        "arrived": len(found),
        "missing": len(queued) - len(found),
        "twice": sum(1 for q in queued if receiver.counts[q["id"]] > 1),
        **{
            name: round(percentile(found, p), 3) if found else None
            for name, p in (("p50_s", 50), ("p95_s", 95), ("p99_s", 99), ("max_s", 100))
        },
    }


def read_lines(path: Path) -> list[dict[str, Any]]:
    """The seeder's log of queued deliveries."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class WorkerPhases:
    """The renewal and delivery phases, on a Bench's started stack."""

    def __init__(self, bench: Bench) -> None:
        self.bench = bench
        self.args = bench.args
        self.results: dict[str, Any] = {}
        self.templates: list[str] = []
        self._workers: list[Child] = []
        self._seeded = 0

    # processes

    def _env(self) -> dict[str, str]:
        return dict(self.bench.backend_env, PYTHONUNBUFFERED="1")

    def start_workers(self, processes: int, threads: int) -> list[Child]:
        """P `flask worker --threads T`; returns once each has logged that it runs."""
        argv = [python(), "-m", "flask", "--app", "payment_backend", "worker"]
        argv += ["--threads", str(threads), "--interval", "0.2"]
        started = [
            self.bench.stack.start(f"worker-{n}", argv, port=0, cwd=BACKEND, env=self._env())
            for n in range(processes)
        ]
        deadline = time.monotonic() + 60
        for child in started:
            while "jobs side by side" not in child.log.read_text(errors="replace"):
                if child.popen.poll() is not None or time.monotonic() > deadline:
                    raise StackError(f"{child.name} did not start:\n{child.log_tail()}")
                time.sleep(0.1)
        self._workers = started
        return started

    def stop_workers(self) -> None:
        """SIGTERM the workers (each finishes its jobs in hand) and wait for them."""
        for child in self._workers:
            self.bench.stack.stop(child)
        self._workers = []

    def seeder(self, name: str, *args: str) -> Child:
        """seed.py with the backend's environment, as a child of the stack."""
        argv = [python(), str(BENCH / "seed.py"), *args]
        return self.bench.stack.start(name, argv, port=0, cwd=BACKEND, env=self._env())

    def meter(self) -> Any:
        """A CpuMeter over the workers, the fake, the backend and the database."""
        from run import CpuMeter

        bench = self.bench
        return CpuMeter(
            {
                "worker processes": lambda: [c.popen.pid for c in self._workers],
                "fake toss": lambda: [bench.fakes["toss"].child.popen.pid],
                "backend workers": lambda: bench.backend_pids(),
                "postgres": lambda: postgres_pids(bench.database_url, bench.postgres_server),
            }
        )

    # renewals

    def make_templates(self) -> None:
        """A few Toss subscriptions activated through the API (billing key, period 1 paid)."""
        http = requests.Session()
        base = self.bench.backend.url
        for _ in range(TEMPLATES):
            created = http.post(
                base + "/api/subscriptions",
                json={"plan_id": 1, "vendor": "toss", "buyer": {"name": "Bench"}},
                timeout=30,
            )
            if created.status_code != 201:
                raise StackError(f"subscription refused: {created.status_code} {created.text}")
            sub = created.json()
            query = toss_register_card(
                self.bench.fakes["toss"].url, customer_key=sub["setup"]["customer_key"]
            )
            proof = {"auth_key": query["authKey"], "customer_key": query["customerKey"]}
            active = http.post(
                f"{base}/api/subscriptions/{sub['subscription_id']}/activate",
                json=proof,
                timeout=30,
            )
            if active.status_code != 200 or active.json().get("status") != "active":
                raise StackError(f"activation refused: {active.status_code} {active.text}")
            self.templates.append(sub["subscription_id"])

    def seed_renewals(self, count: int) -> list[str]:
        """count subscriptions whose period 2 is due in a day (seed.py)."""
        self._seeded += 1
        out = self.bench.stack.log_dir / f"renewals-{self._seeded}.json"
        child = self.seeder(
            f"seed-renewals-{self._seeded}",
            "renewals",
            "--templates",
            ",".join(self.templates),
            "--count",
            str(count),
            "--out",
            str(out),
        )
        if child.popen.wait(timeout=600) != 0:
            raise StackError(f"seeding failed:\n{child.log_tail()}")
        return json.loads(out.read_text())

    def make_due(self, conn: psycopg.Connection, ids: list[str]) -> float:
        """The period-2 charges of ids and their jobs, all due now (one transaction)."""
        keys = [f"charge:{sub_id}:2" for sub_id in ids]
        with conn.transaction():
            conn.execute(
                "UPDATE subscription_charges SET due_at = now() "
                "WHERE period = 2 AND subscription_id = ANY(%s)",
                (ids,),
            )
            conn.execute(
                "UPDATE outbox_jobs SET due_at = now() WHERE unique_key = ANY(%s)", (keys,)
            )
        return time.time()

    def renewal_round(self, processes: int, threads: int, probe: Receiver) -> dict[str, Any]:
        """One round: N renewals due at once, charged by P x T workers."""
        count = self.args.subscriptions
        ids = self.seed_renewals(count)
        self.start_workers(processes, threads)
        probes_log = self.bench.stack.log_dir / f"probes-{self._seeded}.jsonl"
        meter = self.meter()
        with psycopg.connect(self.bench.database_url, autocommit=True) as conn:
            meter.start()
            t0 = self.make_due(conn, ids)
            prober = self.seeder(
                f"probes-{self._seeded}",
                "deliveries",
                "--healthy",
                probe.url,
                "--count",
                "100000",
                "--rate",
                str(PROBE_RATE),
                "--out",
                str(probes_log),
            )
            progress = self._wait_charged(conn, ids, t0)
            cpu = meter.stop()
            self.bench.stack.stop(prober)
            self.stop_workers()
            checks = self.check_once(conn, ids, t0)
        queued = read_lines(probes_log)
        self._wait_arrivals(queued, probe, 10.0)
        elapsed = progress["last_at"] - t0 if progress["paid"] else math.nan
        used = sum(v for k, v in cpu["cpu_s"].items() if k != "others")
        window = max(time.time() - t0, 1e-9)
        return {
            "processes": processes,
            "threads": threads,
            "subscriptions": count,
            "paid": progress["paid"],
            "other": progress["other"],
            "seconds_to_all": round(elapsed, 1),
            "renewals_per_s": round(progress["paid"] / elapsed, 1) if progress["paid"] else 0.0,
            "steady_per_s": progress["steady"],
            "cpu_ms_per_renewal": {
                k: round(v * 1000 / max(progress["paid"], 1), 2) for k, v in cpu["cpu_s"].items()
            },
            "cpu_ms_per_renewal_total": round(used * 1000 / max(progress["paid"], 1), 2),
            "others_cores": round(cpu["cpu_s"]["others"] / window, 2),
            "loadavg": round(os.getloadavg()[0], 2),
            "probes": delays(queued, probe),
            "checks": checks,
        }

    def _wait_charged(self, conn: psycopg.Connection, ids: list[str], t0: float) -> dict[str, Any]:
        """Poll until every period-2 charge of ids is settled (or nothing moves for STALL_S)."""
        samples: list[tuple[float, int]] = []
        last_change, last_paid, last_at = time.monotonic(), -1, t0
        paid = other = 0
        while True:
            time.sleep(0.25)
            rows = dict(
                conn.execute(
                    "SELECT status, count(*) FROM subscription_charges "
                    "WHERE period = 2 AND subscription_id = ANY(%s) GROUP BY status",
                    (ids,),
                ).fetchall()
            )
            paid = rows.get("paid", 0)
            other = sum(v for k, v in rows.items() if k not in ("paid", "scheduled"))
            moment = time.time()
            samples.append((moment, paid))
            if paid != last_paid:
                last_change, last_paid, last_at = time.monotonic(), paid, moment
            if paid + other >= len(ids) or time.monotonic() - last_change > STALL_S:
                break
        return {
            "paid": paid,
            "other": other,
            "last_at": last_at,
            "steady": steady(samples, len(ids)),
        }

    def check_once(self, conn: psycopg.Connection, ids: list[str], t0: float) -> dict[str, Any]:
        """Each period charged once: one payment record per order id, one approval at the fake,
        the next period planned once, no job dead."""
        orders = [f"{sub_id}_p2" for sub_id in ids]
        payments = conn.execute(
            "SELECT count(*), count(DISTINCT source_id) FROM payments WHERE source_id = ANY(%s)",
            (orders,),
        ).fetchone()
        planned = conn.execute(
            "SELECT count(*), count(DISTINCT subscription_id) FROM subscription_charges "
            "WHERE period = 3 AND subscription_id = ANY(%s)",
            (ids,),
        ).fetchone()
        dead = conn.execute("SELECT count(*) FROM outbox_jobs WHERE status = 'dead'").fetchone()[0]
        approvals = self.fake_approvals(t0, set(orders))
        per_order = Counter(approvals)
        return {
            "payment_records": payments[0],
            "orders_with_a_record": payments[1],
            "approvals_at_fake": len(approvals),
            "orders_approved_twice": sum(1 for n in per_order.values() if n > 1),
            "next_period_rows": planned[0],
            "dead_jobs": dead,
            "exactly_once": payments[0] == payments[1] == len(ids) == len(approvals)
            and max(per_order.values(), default=0) == 1,
        }

    def fake_approvals(self, t0: float, orders: set[str]) -> list[str]:
        """Order ids of the DONE approvals at the fake since t0 that are among orders."""
        client = self.bench.fakes["toss"].client
        start = datetime.fromtimestamp(t0 - 60, UTC)
        end = datetime.now(UTC) + timedelta(minutes=1)
        found: list[str] = []
        after = None
        while True:
            params = {"startDate": start.isoformat(), "endDate": end.isoformat(), "limit": 10000}
            if after:
                params["startingAfter"] = after
            page = client.get("/v1/transactions", params=params, timeout=120).json()
            found += [
                t["orderId"] for t in page if t["status"] == "DONE" and t["orderId"] in orders
            ]
            if len(page) < 10000:
                return found
            after = page[-1]["transactionKey"]

    @staticmethod
    def _wait_arrivals(queued: list[dict[str, Any]], receiver: Receiver, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and any(q["id"] not in receiver.arrivals for q in queued):
            time.sleep(0.2)

    def measure_renewals(self) -> None:
        """(a) Month-end renewals with 1, 2 and 4 worker processes."""
        toss = self.bench.fakes["toss"]
        self.bench.gateways(slow=False)
        self.make_templates()
        rule = toss.client.add_fault(
            {"method": "POST", "path": "/v1/billing/*", "latency_ms": self.args.charge_latency_ms}
        )["id"]
        probe = Receiver("probe")
        rounds = []
        try:
            for processes in self.args.worker_processes:
                from run import say

                say(
                    f"renewals: {self.args.subscriptions} due at once, {processes} worker "
                    f"processes x {self.args.worker_threads} threads"
                )
                figures = self.renewal_round(processes, self.args.worker_threads, probe)
                say(
                    f"renewals: {figures['renewals_per_s']} /s, all in "
                    f"{figures['seconds_to_all']} s; exactly once: "
                    f"{figures['checks']['exactly_once']}; probes max {figures['probes']['max_s']} s"
                )
                rounds.append(figures)
        finally:
            self.stop_workers()
            toss.client.remove_fault(rule)
            probe.close()
        self.results["renewals"] = {
            "charge_latency_ms": self.args.charge_latency_ms,
            "rounds": rounds,
        }

    # deliveries

    def measure_deliveries(self) -> None:
        """(b) 1,000 deliveries, every tenth to an endpoint that answers after 10 s."""
        from run import say

        healthy, slow = Receiver("healthy"), Receiver("slow", delay=self.args.slow_endpoint_s)
        count, rate = self.args.deliveries, self.args.delivery_rate
        processes, threads = self.args.delivery_processes, self.args.worker_threads
        say(
            f"deliveries: {count} at {rate:g}/s, 10 % to an endpoint taking "
            f"{self.args.slow_endpoint_s:g} s; {processes} worker processes x {threads} threads"
        )
        log = self.bench.stack.log_dir / "deliveries.jsonl"
        try:
            self.start_workers(processes, threads)
            meter = self.meter()
            meter.start()
            t0 = time.time()
            seeder = self.seeder(
                "seed-deliveries",
                "deliveries",
                "--healthy",
                healthy.url,
                "--slow",
                slow.url,
                "--count",
                str(count),
                "--rate",
                str(rate),
                "--out",
                str(log),
            )
            if seeder.popen.wait(timeout=count / rate + 120) != 0:
                raise StackError(f"seeding deliveries failed:\n{seeder.log_tail()}")
            queued = read_lines(log)
            fine = [q for q in queued if not q["slow"]]
            self._wait_arrivals(fine, healthy, 30.0)
            cpu = meter.stop()
            window = max(time.time() - t0, 1e-9)
            circuits = self._circuits()
        finally:
            self.stop_workers()
            healthy.close()
            slow.close()
        figures = {
            "deliveries": count,
            "rate_per_s": rate,
            "slow_endpoint_s": self.args.slow_endpoint_s,
            "processes": processes,
            "threads": threads,
            "healthy": delays(fine, healthy),
            "slow": delays([q for q in queued if q["slow"]], slow),
            "circuits": circuits,
            "cpu_s": cpu["cpu_s"],
            "others_cores": round(cpu["cpu_s"]["others"] / window, 2),
            "loadavg": round(os.getloadavg()[0], 2),
        }
        self.results["deliveries"] = figures
        say(f"deliveries: healthy p99 {figures['healthy']['p99_s']} s, {figures['healthy']}")

    def _circuits(self) -> list[dict[str, Any]]:
        with psycopg.connect(self.bench.database_url) as conn:
            rows = conn.execute(
                "SELECT destination, state, consecutive_failures, openings FROM delivery_circuits"
            ).fetchall()
        return [
            {"destination": d, "state": s, "consecutive_failures": f, "openings": o}
            for d, s, f, o in rows
        ]


def steady(samples: list[tuple[float, int]], total: int) -> float | None:
    """Renewals per second between 10 % and 90 % of total paid (the ramps left out)."""
    low = next(((t, n) for t, n in samples if n >= 0.1 * total), None)
    high = next(((t, n) for t, n in samples if n >= 0.9 * total), None)
    if low is None or high is None or high[0] <= low[0]:
        return None
    return round((high[1] - low[1]) / (high[0] - low[0]), 1)


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The worker phases' targets against this run's figures."""
    found = []
    for r in results.get("renewals", {}).get("rounds", []):
        label = f"{r['processes']} x {r['threads']}"
        found.append(
            {
                "target": f"renewals >= {TARGET_RENEWALS_PER_S:.0f}/s ({label})",
                "figure": f"{r['renewals_per_s']}/s, {r['paid']} in {r['seconds_to_all']} s",
                "met": r["renewals_per_s"] >= TARGET_RENEWALS_PER_S,
            }
        )
        found.append(
            {
                "target": f"every renewal charged exactly once ({label})",
                "figure": f"{r['checks']['approvals_at_fake']} approvals, "
                f"{r['checks']['payment_records']} records for {r['subscriptions']}",
                "met": r["checks"]["exactly_once"],
            }
        )
        probes = r["probes"]
        found.append(
            {
                "target": f"deliveries queued meanwhile out within {TARGET_PROBE_DELAY_S:.0f} s "
                f"({label})",
                "figure": f"max {probes['max_s']} s over {probes['arrived']}, "
                f"{probes['missing']} missing",
                "met": probes["max_s"] is not None
                and probes["max_s"] < TARGET_PROBE_DELAY_S
                and not probes["missing"],
            }
        )
    d = results.get("deliveries")
    if d:
        p99 = d["healthy"]["p99_s"]
        found.append(
            {
                "target": f"healthy deliveries p99 < {TARGET_HEALTHY_P99_S:.0f} s beside a slow one",
                "figure": f"{p99} s ({d['healthy']['arrived']} of {d['healthy']['queued']})",
                "met": p99 is not None
                and p99 < TARGET_HEALTHY_P99_S
                and not d["healthy"]["missing"],
            }
        )
    return found


def markdown(results: dict[str, Any]) -> list[str]:
    """The worker phases' part of the report."""
    lines: list[str] = []
    renewals = results.get("renewals")
    if renewals:
        lines += [
            "",
            f"Month-end renewals: N subscriptions due at one instant, the Toss fake taking "
            f"{renewals['charge_latency_ms']:g} ms per billing charge; deliveries queued at "
            f"{PROBE_RATE:g}/s meanwhile:",
            "",
            "| workers | N | renewals/s | steady /s | all charged in s | CPU ms/renewal "
            "(workers / postgres / fake / total) | others' cores | load avg | exactly once "
            "| deliveries meanwhile p50 / max s |",
            "| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | --- | --- |",
        ]
        for r in renewals["rounds"]:
            cpu = r["cpu_ms_per_renewal"]
            p = r["probes"]
            lines.append(
                f"| {r['processes']} x {r['threads']} | {r['subscriptions']} | "
                f"{r['renewals_per_s']} | {r['steady_per_s']} | {r['seconds_to_all']} | "
                f"{cpu.get('worker processes', 0):.1f} / {cpu.get('postgres', 0):.1f} / "
                f"{cpu.get('fake toss', 0):.1f} / {r['cpu_ms_per_renewal_total']:.1f} | "
                f"{r['others_cores']} | {r['loadavg']} | "
                f"{'yes' if r['checks']['exactly_once'] else '**no**'} | "
                f"{p['p50_s']} / {p['max_s']} ({p['missing']} missing) |"
            )
    d = results.get("deliveries")
    if d:
        h, s = d["healthy"], d["slow"]
        lines += [
            "",
            f"Deliveries: {d['deliveries']} queued at {d['rate_per_s']:g}/s, every tenth to an "
            f"endpoint answering after {d['slow_endpoint_s']:g} s; {d['processes']} worker "
            f"processes x {d['threads']} threads; others' cores {d['others_cores']}, load "
            f"average {d['loadavg']}:",
            "",
            "| endpoint | queued | arrived | p50 s | p95 s | p99 s | max s |",
            "| --- |" + " ---: |" * 6,
            f"| healthy | {h['queued']} | {h['arrived']} | {h['p50_s']} | {h['p95_s']} | "
            f"{h['p99_s']} | {h['max_s']} |",
            f"| slow | {s['queued']} | {s['arrived']} | {s['p50_s']} | {s['p95_s']} | "
            f"{s['p99_s']} | {s['max_s']} |",
            "",
            "Circuits at the end: "
            + "; ".join(
                f"{c['destination']} {c['state']} ({c['consecutive_failures']} failures, "
                f"{c['openings']} openings)"
                for c in d["circuits"]
            ),
        ]
    return lines
