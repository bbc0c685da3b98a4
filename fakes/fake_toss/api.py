"""The /v1 REST API: Basic auth, Idempotency-Key replay, TossPayments-Test-Code, and the routes."""

from __future__ import annotations

import base64
import binascii

from flask import Blueprint, Response, current_app, g, jsonify, request

from fake_common.idempotency import PROCESSING, register_idempotency
from fake_toss.errors import TossError
from fake_toss.gateway import TossGateway

bp = Blueprint("toss_api", __name__, url_prefix="/v1")

MAX_IDEMPOTENCY_KEY = 300


def gateway() -> TossGateway:
    """The app's gateway state."""
    return current_app.extensions["fake_toss"]


def origin() -> str:
    """The URL the fake is reached at, for receipt and checkout links."""
    return current_app.config.get("FAKE_TOSS_PUBLIC_URL") or request.host_url.rstrip("/")


def body() -> dict:
    """The JSON request body; INVALID_REQUEST unless it is an object (an empty body is {})."""
    if not request.get_data():
        return {}
    data = request.get_json(silent=True, force=True)
    if not isinstance(data, dict):
        raise TossError("INVALID_REQUEST", "요청 본문은 JSON 객체여야 합니다.")
    return data


def secret_key_of(header: str) -> str:
    """The secret key in an Authorization header; UNAUTHORIZED_KEY or INCORRECT_BASIC_AUTH_FORMAT."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        raise TossError("UNAUTHORIZED_KEY")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise TossError("UNAUTHORIZED_KEY") from exc
    if ":" not in decoded:
        raise TossError("INCORRECT_BASIC_AUTH_FORMAT")
    return decoded.split(":", 1)[0]


@bp.before_request
def authenticate() -> None:
    """Every /v1 route needs Basic base64(secretKey + ":") with a known secret key."""
    key = secret_key_of(request.headers.get("Authorization", ""))
    if key not in gateway().config["SECRET_KEYS"]:
        raise TossError("UNAUTHORIZED_KEY")
    g.toss_secret_key = key


@bp.before_request
def apply_test_code() -> None:
    """With a test key, TossPayments-Test-Code makes the API answer that error (as live would)."""
    code = request.headers.get("TossPayments-Test-Code", "").strip()
    if code and g.toss_secret_key.startswith("test_"):
        raise TossError(code)


def refuse_idempotency_key(problem: str) -> TossError:
    """Toss's error for a bad Idempotency-Key, or one whose first request still runs."""
    if problem == PROCESSING:
        return TossError("IDEMPOTENT_REQUEST_PROCESSING")
    return TossError("INVALID_IDEMPOTENCY_KEY")


register_idempotency(
    bp,
    store=lambda: gateway().idempotency,
    scope=lambda key: (key, g.toss_secret_key, request.path, request.method),
    refuse=refuse_idempotency_key,
    max_length=MAX_IDEMPOTENCY_KEY,
)


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


@bp.post("/billing/authorizations/issue")
def issue_billing():
    """Exchange the billing window's authKey for a billing key."""
    return jsonify(gateway().issue_billing(body()))


@bp.post("/billing/authorizations/card")
def billing_from_card():
    """Issue a billing key from card data."""
    return jsonify(gateway().billing_from_card(body()))


@bp.post("/billing/authorizations/<auth_key>")
def legacy_billing_authorization(auth_key: str):
    """The older authKey URL; also the seed's look-up of a billing key by {customerKey}."""
    return jsonify(gateway().legacy_authorization(auth_key, body()))


@bp.post("/billing/<billing_key>")
def charge_billing(billing_key: str):
    """Charge a billing key."""
    return jsonify(gateway().charge_billing(billing_key, body(), origin()))


@bp.delete("/billing/<billing_key>")
def delete_billing(billing_key: str):
    """Delete a billing key (200 with an empty body)."""
    gateway().delete_billing(billing_key)
    return Response(b"", status=200)
