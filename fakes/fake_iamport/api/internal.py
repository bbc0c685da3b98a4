"""The seed's fake-only routes and this fake's deposit control route."""

from __future__ import annotations

from flask import Blueprint, request

from fake_iamport.api import gateway, locked, ok, params

bp = Blueprint("iamport_internal", __name__)


@bp.put("/internal/deposit/<imp_uid>")
@locked
def internal_deposit(imp_uid: str):
    """The seed's simulated deposit: 200 with an empty body."""
    gateway().deposit(imp_uid)
    return "", 200


@bp.post("/internal/webhook")
@locked
def internal_webhook():
    """The seed's do-nothing webhook sink."""
    return "", 200


@bp.post("/__control/deposit/<imp_uid>")
@locked
def control_deposit(imp_uid: str):
    """Simulate the buyer's deposit ({"force": true} ignores the deadline); returns the payment."""
    force = bool(params().get("force")) or request.args.get("force") == "true"
    return ok(gateway().deposit(imp_uid, force=force).to_api())


@bp.post("/__control/approve/<imp_uid>")
@locked
def control_approve(imp_uid: str):
    """The PG approves a ready or failed window payment late: paid, with its webhook."""
    return ok(gateway().approve_late(imp_uid).to_api())
