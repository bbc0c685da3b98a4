"""Prometheus metrics at /metrics (the admin token outside local mode).

Two sources. Counters and histograms of this process, kept by prometheus_client (across gunicorn's
workers when PROMETHEUS_MULTIPROC_DIR is set): request latency by route, checkout completions,
owner refunds and webhook intake by outcome (read from the answers of those routes here, so views
and services carry no metric code), and gateway calls by vendor (counted in vendors/http.py).
And what the database knows whichever process did it (the worker included), read at each scrape:
the outbox's depth, age and dead jobs, refunds made, and subscription renewals by result.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from flask import Response, g, request
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy import func, select

from payment_backend.clock import now
from payment_backend.extensions import db

VENDORS = ("iamport", "toss")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUEST_LATENCY = Histogram(
    "payment_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template and status class.",
    ["method", "route", "status"],
    buckets=LATENCY_BUCKETS,
)
COMPLETIONS = Counter(
    "payment_checkout_completions_total",
    "POST /api/checkout/complete answers, by vendor and outcome (order status or error code).",
    ["vendor", "outcome"],
)
REFUND_REQUESTS = Counter(
    "payment_refund_requests_total",
    "The owner's refund requests, by vendor and outcome (refunded or error code).",
    ["vendor", "outcome"],
)
WEBHOOKS = Counter(
    "payment_webhooks_received_total",
    "Gateway webhooks received, by vendor and outcome (accepted, duplicate or error code).",
    ["vendor", "outcome"],
)
GATEWAY_LATENCY = Histogram(
    "payment_gateway_request_duration_seconds",
    "Time of one HTTP call to a gateway, answered or not.",
    ["vendor", "method"],
    buckets=LATENCY_BUCKETS,
)
GATEWAY_ERRORS = Counter(
    "payment_gateway_errors_total",
    "Gateway calls that failed: connection (no answer), status_5xx, status_4xx (refused).",
    ["vendor", "kind"],
)


def observe_gateway_call(vendor: str, method: str, started: float, status: int | None) -> None:
    """Count one gateway call (status None: no answer)."""
    GATEWAY_LATENCY.labels(vendor, method).observe(time.perf_counter() - started)
    if status is None:
        GATEWAY_ERRORS.labels(vendor, "connection").inc()
    elif status >= 400:
        GATEWAY_ERRORS.labels(vendor, f"status_{status // 100}xx").inc()


# -- outcomes read from the answers of the routes that decide ---------------------------------


def _answer(response: Response) -> dict[str, Any]:
    body = response.get_json(silent=True) if response.is_json else None
    return body if isinstance(body, dict) else {}


def _vendor(value: Any) -> str:
    return value if value in VENDORS else "unknown"


def _error_outcome(response: Response, body: dict[str, Any]) -> str:
    code = body.get("code")
    return str(code).lower()[:40] if code else f"status_{response.status_code}"


def _count_completion(response: Response) -> None:
    body = _answer(response)
    sent = request.get_json(silent=True)
    vendor = _vendor(sent.get("vendor") if isinstance(sent, dict) else None)
    outcome = body.get("status") if response.status_code == 200 else None
    COMPLETIONS.labels(vendor, str(outcome or _error_outcome(response, body))[:40]).inc()


def _count_refund(response: Response) -> None:
    body = _answer(response)
    if response.status_code == 200:
        REFUND_REQUESTS.labels(_vendor(body.get("vendor")), "refunded").inc()
    else:
        REFUND_REQUESTS.labels("unknown", _error_outcome(response, body)).inc()


def _count_webhook(response: Response) -> None:
    body = _answer(response)
    vendor = _vendor((request.endpoint or "").rpartition(".")[2])
    if response.status_code == 200:
        outcome = "duplicate" if str(body.get("result", "")).startswith("duplicate") else "accepted"
    else:
        outcome = _error_outcome(response, body)
    WEBHOOKS.labels(vendor, outcome).inc()


DECIDING_ROUTES = {
    "checkout.complete": _count_completion,
    "checkout.refund": _count_refund,
    "webhooks.iamport": _count_webhook,
    "webhooks.toss": _count_webhook,
}


def start_timer() -> None:
    g.metrics_started = time.perf_counter()


def observe(response: Response) -> Response:
    started = g.pop("metrics_started", None)
    if started is None:
        return response
    route = request.url_rule.rule if request.url_rule is not None else "unmatched"
    status = f"{response.status_code // 100}xx"
    REQUEST_LATENCY.labels(request.method, route, status).observe(time.perf_counter() - started)
    counter = DECIDING_ROUTES.get(request.endpoint or "")
    if counter is not None:
        counter(response)
    return response


# -- what the database knows ------------------------------------------------------------------


def _seconds_since(moment: datetime | None, at: datetime) -> float:
    return max(0.0, (at - moment).total_seconds()) if moment is not None else 0.0


def _outbox_families(at: datetime) -> Iterator[Metric]:
    from payment_backend.models import OutboxJob

    depth = GaugeMetricFamily(
        "payment_outbox_jobs_due", "Pending outbox jobs already due, by kind.", labels=["kind"]
    )
    waiting = GaugeMetricFamily(
        "payment_outbox_jobs_pending",
        "Pending outbox jobs (due or later), by kind.",
        labels=["kind"],
    )
    age = GaugeMetricFamily(
        "payment_outbox_oldest_due_age_seconds",
        "How long the oldest due pending job has waited, by kind.",
        labels=["kind"],
    )
    dead = GaugeMetricFamily(
        "payment_outbox_dead_jobs", "Jobs that gave up (status dead), by kind.", labels=["kind"]
    )
    pending = (OutboxJob.status == "pending",)
    for kind, count in db.session.execute(
        select(OutboxJob.kind, func.count()).where(*pending).group_by(OutboxJob.kind)
    ):
        waiting.add_metric([kind], count)
    due_rows = db.session.execute(
        select(OutboxJob.kind, func.count(), func.min(OutboxJob.due_at))
        .where(*pending, OutboxJob.due_at <= at)
        .group_by(OutboxJob.kind)
    )
    for kind, count, oldest in due_rows:
        depth.add_metric([kind], count)
        age.add_metric([kind], _seconds_since(oldest, at))
    for kind, count in db.session.execute(
        select(OutboxJob.kind, func.count())
        .where(OutboxJob.status == "dead")
        .group_by(OutboxJob.kind)
    ):
        dead.add_metric([kind], count)
    yield from (depth, waiting, age, dead)


def _money_families() -> Iterator[Metric]:
    from payment_backend.models import (
        ChargeAttempt,
        Payment,
        PaymentCancel,
        Subscription,
        SubscriptionCharge,
    )

    refunds = CounterMetricFamily(
        "payment_refunds", "Refunds (cancels) made at the gateways, by vendor.", labels=["vendor"]
    )
    refunded = CounterMetricFamily(
        "payment_refunded_amount",
        "Money refunded, in the currency's minor unit, by vendor and currency.",
        labels=["vendor", "currency"],
    )
    rows = db.session.execute(
        select(Payment.vendor, Payment.currency, func.count(), func.sum(PaymentCancel.amount))
        .join(PaymentCancel, PaymentCancel.payment_id == Payment.id)
        .group_by(Payment.vendor, Payment.currency)
    )
    per_vendor: dict[str, int] = {}
    for vendor, currency, count, amount in rows:
        per_vendor[vendor] = per_vendor.get(vendor, 0) + count
        refunded.add_metric([vendor, currency], int(amount or 0))
    for vendor, count in per_vendor.items():
        refunds.add_metric([vendor], count)
    renewals = CounterMetricFamily(
        "payment_subscription_renewals",
        "Charge attempts for a subscription's second and later periods, by vendor and result.",
        labels=["vendor", "result"],
    )
    for vendor, result, count in db.session.execute(
        select(Subscription.vendor, ChargeAttempt.outcome, func.count())
        .join(SubscriptionCharge, ChargeAttempt.charge_id == SubscriptionCharge.id)
        .join(Subscription, SubscriptionCharge.subscription_id == Subscription.id)
        .where(SubscriptionCharge.period > 1)
        .group_by(Subscription.vendor, ChargeAttempt.outcome)
    ):
        renewals.add_metric([vendor, result], count)
    yield from (refunds, refunded, renewals)


class _Snapshot:
    """A collector over metric families read beforehand (in the request's app context)."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        yield from self.families


def exposition() -> bytes:
    """Every metric in the Prometheus text format: this process's (or all workers') and the DB's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        process_registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(process_registry)
    else:
        process_registry = REGISTRY
    database = CollectorRegistry(auto_describe=False)
    database.register(_Snapshot([*_outbox_families(now()), *_money_families()]))
    db.session.rollback()  # read only; end the read transaction
    return generate_latest(process_registry) + generate_latest(database)
