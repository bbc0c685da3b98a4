"""Fake-only routes: the seed's deposit route and the control API's simulated deposit."""

from __future__ import annotations

from flask import Blueprint, jsonify

from fake_toss.api import gateway

bp = Blueprint("toss_internal", __name__)


@bp.put("/internal/<payment_key>/deposit")
def seed_deposit(payment_key: str):
    """The seed's fake-only deposit into a virtual account waiting for it."""
    return jsonify(gateway().deposit(payment_key))


@bp.post("/__control/deposit/<ident>")
def control_deposit(ident: str):
    """Simulate the buyer's deposit (by paymentKey or orderId), as the developer center's 입금처리 does."""
    return jsonify(gateway().deposit(ident))
