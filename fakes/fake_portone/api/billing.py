"""/billing-keys and /payment-schedules."""

from __future__ import annotations

from flask import jsonify, request

from fake_portone.api import api_blueprint, body, gateway

bp = api_blueprint("portone_billing", __name__)


@bp.post("/billing-keys")
def issue_billing_key():
    """Issue a billing key from card data."""
    return jsonify(gateway().issue_billing_key(body()))


@bp.get("/billing-keys/<billing_key>")
def get_billing_key(billing_key: str):
    """A billing key's information (ISSUED or DELETED)."""
    return jsonify(gateway().get_billing_key(billing_key, request.args.get("storeId")))


@bp.delete("/billing-keys/<billing_key>")
def delete_billing_key(billing_key: str):
    """Delete a billing key (`reason`, `requester`, `skipWebhook` in the query)."""
    skip = request.args.get("skipWebhook", "").lower() == "true"
    return jsonify(gateway().delete_billing_key(billing_key, request.args.get("storeId"), skip))


@bp.get("/payment-schedules/<schedule_id>")
def get_schedule(schedule_id: str):
    """One payment schedule."""
    return jsonify(gateway().get_schedule(schedule_id, request.args.get("storeId")))


@bp.get("/payment-schedules")
def list_schedules():
    """Schedules whose timeToPay is in [filter.from, filter.until] (default: the past 90 days)."""
    return jsonify(gateway().list_schedules(body()))


@bp.delete("/payment-schedules")
def revoke_schedules():
    """Revoke schedules by billingKey and/or scheduleIds."""
    return jsonify(gateway().revoke_schedules(body()))
