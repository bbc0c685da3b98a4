"""/v1/payments and /v1/virtual-accounts: read, confirm, key-in, cancel, issue an account."""

from __future__ import annotations

from flask import jsonify

from fake_toss.api import body, gateway, origin, v1_blueprint

bp = v1_blueprint("toss_payments", __name__)


@bp.get("/payments/<payment_key>")
def get_payment(payment_key: str):
    """Read a payment by paymentKey."""
    return jsonify(gateway().payment(payment_key))


@bp.get("/payments/orders/<order_id>")
def get_payment_by_order(order_id: str):
    """Read the payment of an orderId."""
    return jsonify(gateway().payment_by_order(order_id))


@bp.post("/payments/confirm")
def confirm():
    """Approve an authenticated payment within 10 minutes, with the authorized orderId and amount."""
    data = body()
    return jsonify(
        gateway().confirm(data.get("paymentKey"), data.get("orderId"), data.get("amount"))
    )


@bp.post("/payments/key-in")
def key_in():
    """Card payment from card data, approved at once."""
    return jsonify(gateway().key_in(body(), origin()))


@bp.post("/payments/<payment_key>")
def legacy_approve(payment_key: str):
    """The approval URL from before /confirm existed: the same checks and answers as confirm."""
    data = body()
    return jsonify(gateway().confirm(payment_key, data.get("orderId"), data.get("amount")))


@bp.post("/payments/<payment_key>/cancel")
def cancel(payment_key: str):
    """Cancel all of a payment or part of it."""
    return jsonify(gateway().cancel(payment_key, body()))


@bp.post("/virtual-accounts")
def virtual_accounts():
    """Issue a virtual account for a deposit."""
    return jsonify(gateway().virtual_account(body(), origin()))
