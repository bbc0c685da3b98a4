"""/v1/payments and /v1/virtual-accounts: read, confirm, key-in, cancel, issue an account."""

from __future__ import annotations

from datetime import datetime

from flask import g, jsonify, request

from fake_toss.api import body, gateway, origin, v1_blueprint
from fake_toss.errors import TossError
from fake_toss.models import KST

MAX_TRANSACTIONS = 10000

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
        gateway().confirm(
            data.get("paymentKey"), data.get("orderId"), data.get("amount"), g.toss_secret_key
        )
    )


@bp.post("/payments/key-in")
def key_in():
    """Card payment from card data, approved at once."""
    return jsonify(gateway().key_in(body(), origin()))


@bp.post("/payments/<payment_key>")
def legacy_approve(payment_key: str):
    """The approval URL from before /confirm existed: the same checks and answers as confirm."""
    data = body()
    return jsonify(
        gateway().confirm(payment_key, data.get("orderId"), data.get("amount"), g.toss_secret_key)
    )


@bp.post("/payments/<payment_key>/cancel")
def cancel(payment_key: str):
    """Cancel all of a payment or part of it."""
    return jsonify(gateway().cancel(payment_key, body()))


@bp.post("/virtual-accounts")
def virtual_accounts():
    """Issue a virtual account for a deposit."""
    return jsonify(gateway().virtual_account(body(), origin()))


def _date_arg(name: str) -> float:
    """startDate / endDate: yyyy-MM-ddTHH:mm:ss in KST (an offset, if given, is honoured)."""
    value = request.args.get(name, "")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise TossError("INVALID_REQUEST", f"{name} 값이 올바르지 않습니다.") from exc
    return (moment if moment.tzinfo else moment.replace(tzinfo=KST)).timestamp()


@bp.get("/transactions")
def transactions():
    """Approvals and cancels between startDate and endDate, oldest first; startingAfter (a
    transactionKey) and limit (at most 10,000, default 100) page through them."""
    start, end = _date_arg("startDate"), _date_arg("endDate")
    limit = request.args.get("limit", 100, type=int)
    if not 1 <= limit <= MAX_TRANSACTIONS:
        raise TossError("INVALID_REQUEST", "limit 값이 올바르지 않습니다.")
    found = gateway().transactions(start, end, request.args.get("startingAfter"), limit)
    return jsonify(found)
