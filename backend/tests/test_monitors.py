"""The system and performance monitors."""

from __future__ import annotations

import platform
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from payment_backend import __version__, create_app
from payment_backend.api.monitors import RequestStats
from payment_backend.extensions import db


@pytest.fixture()
def fresh_app(app_config: dict) -> Iterator[Flask]:
    """An app of its own (its own request counters), on the session's database."""
    fresh = create_app({**app_config, "GIT_COMMIT": "0123abcd"})
    yield fresh
    with fresh.app_context():
        db.engine.dispose()


def _owner(app: Flask) -> dict[str, str]:
    return {"Authorization": f"Bearer {app.config['PAYMENT_ADMIN_TOKEN']}"}


def test_system_names_version_commit_start_and_runtime(client, app):
    body = client.get("/monitors/system", headers=_owner(app)).get_json()
    assert body["version"] == __version__
    assert body["commit"] == "unknown" or re.fullmatch(r"[0-9a-f]{40}", body["commit"])
    started = datetime.fromisoformat(body["started_at"])
    assert datetime.now(UTC) - timedelta(hours=1) < started <= datetime.now(UTC)
    assert body["python"] == platform.python_version()
    assert body["mode"] == "test"
    assert body["pid"] > 0


def test_system_prefers_the_configured_commit(fresh_app):
    answer = fresh_app.test_client().get("/monitors/system", headers=_owner(fresh_app))
    assert answer.get_json()["commit"] == "0123abcd"


def test_performance_counts_requests_per_route_with_latencies(fresh_app):
    client = fresh_app.test_client()
    for _ in range(3):
        assert client.get("/monitors/health").status_code == 200
    assert client.get("/api/checkout/orders/no-such-order").status_code == 404
    assert client.get("/api/no-such-route").status_code == 404  # no route: not the demo's pages
    assert client.delete("/monitors/health").status_code == 405  # no route at all

    body = client.get("/monitors/performance", headers=_owner(fresh_app)).get_json()

    assert 0 < body["uptime_seconds"] < 3600
    assert 10 * 2**20 < body["memory"]["rss_bytes"] <= body["memory"]["max_rss_bytes"] < 2**31
    rows = {(r["method"], r["endpoint"]): r for r in body["requests"]["endpoints"]}
    health = rows[("GET", "/monitors/health")]
    assert health["count"] == 3 and health["statuses"] == {"2xx": 3}
    latency = health["latency_ms"]
    assert 0 < latency["p50"] <= latency["p95"] <= latency["p99"] <= latency["max"] < 5000
    assert latency["window"] == 3
    assert rows[("GET", "/api/checkout/orders/<order_id>")]["statuses"] == {"4xx": 1}
    assert rows[("GET", "<unmatched>")]["statuses"] == {"4xx": 1}
    assert rows[("DELETE", "<unmatched>")]["statuses"] == {"4xx": 1}
    assert body["requests"]["total"] == 6  # the performance request itself is counted after


def test_percentiles_are_nearest_rank_over_a_bounded_window():
    stats = RequestStats(window=100)
    for millis in range(1, 201):  # only the latest 100 (101..200) stay in the window
        stats.record("POST", "/api/x", 200 if millis % 10 else 500, float(millis))
    [row] = stats.snapshot()["endpoints"]
    assert row["count"] == 200
    assert row["statuses"] == {"2xx": 180, "5xx": 20}
    assert row["latency_ms"] == {
        "p50": 150.0,
        "p95": 195.0,
        "p99": 199.0,
        "max": 200.0,
        "window": 100,
    }


def test_the_openapi_document_has_the_monitors_and_admin_routes(client):
    spec = client.get("/openapi.json").get_json()
    for path in (
        "/monitors/system",
        "/monitors/performance",
        "/api/admin/deliveries",
        "/api/admin/deliveries/{delivery_id}/retry",
    ):
        assert path in spec["paths"], path
    retry = spec["paths"]["/api/admin/deliveries/{delivery_id}/retry"]["post"]
    assert retry["security"] == [{"adminToken": []}]
    assert spec["components"]["securitySchemes"]["adminToken"]["scheme"] == "bearer"
