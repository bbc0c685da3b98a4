"""/payments: read, list, pre-register, cancel, key-in, virtual accounts, webhook resend."""

from __future__ import annotations

from flask import jsonify, request

from fake_portone.api import api_blueprint, body, client_origin, gateway

bp = api_blueprint("portone_payments", __name__)


@bp.get("/payments/<payment_id>")
def get_payment(payment_id: str):
    """One payment (its current attempt) by the merchant's paymentId."""
    return jsonify(gateway().get_payment(payment_id, request.args.get("storeId")))


@bp.get("/payments")
def list_payments():
    """Payments matching `filter`, one `page` at a time (reconciliation)."""
    return jsonify(gateway().list_payments(body()))


@bp.post("/payments/<payment_id>/pre-register")
def pre_register(payment_id: str):
    """Register the amount the browser's payment must have."""
    return jsonify(gateway().pre_register(payment_id, body()))


@bp.post("/payments/<payment_id>/cancel")
def cancel(payment_id: str):
    """Cancel all that is left or `amount`, checked against `currentCancellableAmount`."""
    return jsonify(gateway().cancel(payment_id, body()))


@bp.post("/payments/<payment_id>/billing-key")
def pay_with_billing_key(payment_id: str):
    """Charge a billing key."""
    return jsonify(gateway().pay_with_billing_key(payment_id, body()))


@bp.post("/payments/<payment_id>/instant")
def pay_instantly(payment_id: str):
    """Key-in card payment or an API virtual account."""
    return jsonify(gateway().pay_instant(payment_id, body(), client_origin()))


@bp.post("/payments/<payment_id>/virtual-account/close")
def close_virtual_account(payment_id: str):
    """End a virtual account nobody paid into."""
    return jsonify(gateway().close_virtual_account(payment_id, request.args.get("storeId")))


@bp.post("/payments/<payment_id>/resend-webhook")
def resend_webhook(payment_id: str):
    """Send a payment's webhook again."""
    return jsonify(gateway().resend_webhook(payment_id, body()))


@bp.post("/payments/<payment_id>/schedule")
def create_schedule(payment_id: str):
    """Book a billing-key payment for `timeToPay`."""
    return jsonify(gateway().create_schedule(payment_id, body()))
