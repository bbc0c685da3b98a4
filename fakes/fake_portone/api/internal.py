"""Fake-only routes: the control API's simulated deposit and schedule runner."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from fake_portone.api import gateway

bp = Blueprint("portone_internal", __name__)


@bp.post("/__control/deposit/<payment_id>")
def control_deposit(payment_id: str):
    """Simulate the buyer's deposit into a virtual account (`{"force": true}` past its expiry)."""
    force = bool((request.get_json(silent=True) or {}).get("force"))
    return jsonify(gateway().deposit(payment_id, force=force))


@bp.post("/__control/schedules/run")
def run_schedules():
    """Charge the schedules that are due now; how many ran."""
    return jsonify({"ran": gateway().run_due_schedules()})
