"""Local and test mode: move the backend's clock and the fake gateways' clocks together.

Moving time runs what became due, in rounds until nothing more happens: the fakes run their due
schedules (PortOne) and send the webhooks, which this backend records (and books the next
schedule); then the outbox jobs that are due run here (Toss renewals, retries, deliveries).
A month advanced in one step therefore ends with that month's renewals recorded.
"""

from __future__ import annotations

import logging
from typing import Any

import requests
from flask import Flask, current_app

from payment_backend.clock import add_months, clock, iso
from payment_backend.extensions import db
from payment_backend.worker import run_due_jobs

log = logging.getLogger(__name__)

FAKE_URL_SETTINGS = {
    "iamport": "IAMPORT_API_URL",
    "toss": "TOSS_API_URL",
    "portone": "PORTONE_API_URL",
}
MAX_ROUNDS = 12  # each round can start the next period's work (a schedule booked in the past)
JOB_BATCH = 50
WEBHOOK_WAIT = 15.0  # seconds to wait for the fakes' webhooks to be delivered


def state() -> dict[str, Any]:
    """The clock's time and offset."""
    app_clock = clock()
    return {
        "now": iso(app_clock.now()),
        "offset_seconds": round(app_clock.offset().total_seconds(), 3),
    }


def month_seconds(months: int) -> float:
    """How many seconds from now to the same moment `months` calendar months later."""
    moment = clock().now()
    return (add_months(moment, months) - moment).total_seconds()


def advance(seconds: float) -> dict[str, Any]:
    """Move the clock forward, the fakes' clocks to the same time, and run what became due."""
    db.session.commit()  # this request holds no transaction while the clock and the jobs run
    clock().advance_shared(seconds)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    jobs, fakes = 0, {}
    for _ in range(MAX_ROUNDS):
        sent_before = sum(f.get("webhooks", 0) for f in fakes.values())
        fakes = sync_fakes()
        sent = sum(f.get("webhooks", 0) for f in fakes.values())
        ran = run_all_due(app)
        jobs += ran
        if ran == 0 and sent == sent_before:
            break
    return {**state(), "ran": {"jobs": jobs}, "fakes": fakes}


def reset() -> dict[str, Any]:
    """Back to wall-clock time: the backend's shared offset and both fakes' clocks."""
    db.session.commit()
    clock().reset()
    return {**state(), "ran": {"jobs": 0}, "fakes": push_offset()}


def push_offset() -> dict[str, dict[str, Any]]:
    """Set each fake's clock to the backend's offset (at start-up, after a reset); runs nothing here."""
    offset = clock().offset().total_seconds()
    return {vendor: _move_fake(vendor, {"offset": offset}) for vendor in FAKE_URL_SETTINGS}


def sync_fakes() -> dict[str, dict[str, Any]]:
    """Set each fake's clock to ours (its due work runs) and wait for its webhooks to land."""
    offset = clock().offset().total_seconds()
    return {
        vendor: _move_fake(vendor, {"offset": offset}, wait=WEBHOOK_WAIT)
        for vendor in FAKE_URL_SETTINGS
    }


def _move_fake(vendor: str, body: dict[str, float], wait: float = 0.0) -> dict[str, Any]:
    """POST the fake's /__control/clock; with wait, also count its webhooks once delivered."""
    base_url = current_app.config[FAKE_URL_SETTINGS[vendor]].rstrip("/")
    try:
        moved = requests.post(f"{base_url}/__control/clock", json=body, timeout=30)
        moved.raise_for_status()
        result: dict[str, Any] = {"now": moved.json().get("iso")}
        if wait:
            log_answer = requests.get(
                f"{base_url}/__control/webhooks", params={"wait": wait}, timeout=wait + 10
            )
            log_answer.raise_for_status()
            result["webhooks"] = len(log_answer.json())
        return result
    except (requests.RequestException, ValueError) as exc:
        log.warning("test clock: fake %s not moved: %s", vendor, exc)
        return {"error": str(exc)[:200]}


def run_all_due(app: Flask) -> int:
    """Run due outbox jobs until none is left; returns how many ran."""
    total = 0
    while True:
        ran = run_due_jobs(app, JOB_BATCH)
        total += ran
        if ran < JOB_BATCH:
            return total
