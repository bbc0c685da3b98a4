"""Fake-only routes: the seed's deposit route and the control API's simulated deposit."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from fake_toss.api import gateway
from fake_toss.errors import TossError

bp = Blueprint("toss_internal", __name__)


@bp.put("/internal/<payment_key>/deposit")
def seed_deposit(payment_key: str):
    """The seed's fake-only deposit into a virtual account waiting for it."""
    return jsonify(gateway().deposit(payment_key))


@bp.post("/__control/deposit/<ident>")
def control_deposit(ident: str):
    """Simulate the buyer's deposit (by paymentKey or orderId), as the developer center's 입금처리 does."""
    return jsonify(gateway().deposit(ident))


@bp.post("/__control/deposit/<ident>/reverse")
def control_reverse_deposit(ident: str):
    """The bank reverses a deposit: DONE back to WAITING_FOR_DEPOSIT (with a DEPOSIT_CALLBACK)."""
    return jsonify(gateway().reverse_deposit(ident))


@bp.post("/__control/refunds/<ident>/payout")
def control_payout(ident: str):
    """Pay out a virtual account's pending refunds now: {"outcome": "COMPLETED" | "FAILED"}
    (default: as the refund account decides; a number starting with 999 fails)."""
    outcome = (request.get_json(silent=True) or {}).get("outcome")
    if outcome not in (None, "COMPLETED", "FAILED"):
        raise TossError("INVALID_REQUEST", "outcome is COMPLETED or FAILED")
    changed = gateway().pay_out(ident, outcome)
    return jsonify(
        changed[0] if changed else gateway().payment(gateway().find_payment(ident).payment_key)
    )
