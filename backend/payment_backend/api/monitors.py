"""Health, system and performance monitors."""

from __future__ import annotations

import math
import os
import platform
import resource
import subprocess
import threading
import time
from collections import deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g, request
from flask.blueprints import BlueprintSetupState
from flask_smorest import Blueprint
from sqlalchemy import text

from payment_backend.api.auth import ADMIN_SECURITY, document_admin_security, require_admin
from payment_backend.extensions import db
from payment_backend.schemas.monitors import HealthSchema, PerformanceSchema, SystemSchema

blp = Blueprint("monitors", __name__, url_prefix="/monitors", description="Service monitors")

REPOSITORY = Path(__file__).resolve().parents[3]
LATENCY_WINDOW = 1024  # latest requests per endpoint the percentiles cover


class RequestStats:
    """Thread-safe request counts and recent latencies per (method, route) of this process."""

    def __init__(self, window: int = LATENCY_WINDOW) -> None:
        self._lock = threading.Lock()
        self._window = window
        self._counts: dict[tuple[str, str], int] = {}
        self._statuses: dict[tuple[str, str], dict[str, int]] = {}
        self._latencies: dict[tuple[str, str], deque[float]] = {}

    def record(self, method: str, endpoint: str, status: int, millis: float) -> None:
        """Count one request."""
        key = (method, endpoint)
        status_class = f"{status // 100}xx"
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + 1
            statuses = self._statuses.setdefault(key, {})
            statuses[status_class] = statuses.get(status_class, 0) + 1
            self._latencies.setdefault(key, deque(maxlen=self._window)).append(millis)

    def snapshot(self) -> dict[str, Any]:
        """Counts and latency percentiles, busiest endpoint first."""
        with self._lock:
            rows = [
                (key, self._counts[key], dict(self._statuses[key]), sorted(self._latencies[key]))
                for key in self._counts
            ]
        endpoints = [
            {
                "method": method,
                "endpoint": endpoint,
                "count": count,
                "statuses": statuses,
                "latency_ms": {
                    "p50": _percentile(latencies, 50),
                    "p95": _percentile(latencies, 95),
                    "p99": _percentile(latencies, 99),
                    "max": round(latencies[-1], 3),
                    "window": len(latencies),
                },
            }
            for (method, endpoint), count, statuses, latencies in rows
        ]
        endpoints.sort(key=lambda row: (-row["count"], row["endpoint"], row["method"]))
        return {"total": sum(row["count"] for row in endpoints), "endpoints": endpoints}


def _percentile(ordered: list[float], pct: int) -> float:
    """Nearest-rank percentile of a sorted, non-empty list."""
    rank = max(math.ceil(pct / 100 * len(ordered)), 1)
    return round(ordered[rank - 1], 3)


def git_commit(configured: str | None) -> str:
    """The configured commit, else what git says about the checkout, else 'unknown'."""
    if configured and configured != "unknown":
        return configured
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=REPOSITORY,
            capture_output=True,
            text=True,
            timeout=2,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return result.stdout.strip() or "unknown"


def memory() -> dict[str, int]:
    """Resident memory of this process now and at its peak, in bytes."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
                return {"rss_bytes": rss, "max_rss_bytes": max(rss, peak)}
    except OSError:
        pass
    return {"rss_bytes": peak, "max_rss_bytes": peak}


def _install(state: BlueprintSetupState) -> None:
    """Remember when and what started, and time every request of the app."""
    app: Flask = state.app
    document_admin_security(app)
    app.extensions["monitors"] = {
        "started_at": datetime.now(UTC),
        "started": time.monotonic(),
        "commit": git_commit(app.config.get("GIT_COMMIT")),
        "stats": RequestStats(),
    }

    @app.before_request
    def _start_timer() -> None:
        g.monitor_started = time.perf_counter()

    @app.after_request
    def _count_request(response):
        started = g.pop("monitor_started", None)
        if started is not None:
            endpoint = request.url_rule.rule if request.url_rule else "<unmatched>"
            millis = (time.perf_counter() - started) * 1000
            app.extensions["monitors"]["stats"].record(
                request.method, endpoint, response.status_code, millis
            )
        return response


blp.record_once(_install)


@blp.route("/health")
@blp.response(200, HealthSchema)
@blp.alt_response(503, schema=HealthSchema, description="The database is unreachable")
def health():
    """Check that the service and its database answer."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means "down"
        current_app.logger.warning("health check failed: %s", exc)
        db.session.rollback()
        return {"status": "down", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok"}


@blp.route("/system")
@blp.response(200, SystemSchema)
@blp.doc(security=ADMIN_SECURITY)
def system():
    """Version, commit, start time and runtime of this process (owner only outside local mode)."""
    require_admin()
    state = current_app.extensions["monitors"]
    return {
        "version": current_app.config["API_VERSION"],
        "commit": state["commit"],
        "started_at": state["started_at"],
        "python": platform.python_version(),
        "mode": current_app.config["PAYMENT_MODE"],
        "pid": os.getpid(),
    }


@blp.route("/performance")
@blp.response(200, PerformanceSchema)
@blp.doc(security=ADMIN_SECURITY)
def performance():
    """Uptime, memory, request counts and latency percentiles of this process (owner only outside
    local mode)."""
    require_admin()
    state = current_app.extensions["monitors"]
    return {
        "pid": os.getpid(),
        "uptime_seconds": round(time.monotonic() - state["started"], 3),
        "memory": memory(),
        "requests": state["stats"].snapshot(),
    }
