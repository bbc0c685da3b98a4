"""The /v1 REST API blueprint and what its routes share: Basic auth, Idempotency-Key replay,
TossPayments-Test-Code, the JSON body; the routes are in payments.py and billing.py."""

from __future__ import annotations

import base64
import binascii

from flask import Blueprint, Flask, current_app, g, request

from fake_common.idempotency import PROCESSING, register_idempotency
from fake_toss.errors import TossError, register_error_handlers
from fake_toss.gateway import TossGateway

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


def authenticate() -> None:
    """before_request: every /v1 route needs Basic base64(secretKey + ":") with a known secret key."""
    key = secret_key_of(request.headers.get("Authorization", ""))
    if key not in gateway().config["SECRET_KEYS"]:
        raise TossError("UNAUTHORIZED_KEY")
    g.toss_secret_key = key


def apply_test_code() -> None:
    """before_request: with a test key, TossPayments-Test-Code makes the API answer that error (as live would)."""
    code = request.headers.get("TossPayments-Test-Code", "").strip()
    if code and g.toss_secret_key.startswith("test_"):
        raise TossError(code)


def refuse_idempotency_key(problem: str) -> TossError:
    """Toss's error for a bad Idempotency-Key, or one whose first request still runs."""
    if problem == PROCESSING:
        return TossError("IDEMPOTENT_REQUEST_PROCESSING")
    return TossError("INVALID_IDEMPOTENCY_KEY")


def v1_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint under /v1 whose routes need a secret key and honour Idempotency-Key."""
    bp = Blueprint(name, import_name, url_prefix="/v1")
    bp.before_request(authenticate)
    bp.before_request(apply_test_code)
    register_idempotency(
        bp,
        store=lambda: gateway().idempotency,
        scope=lambda key: (key, g.toss_secret_key, request.path, request.method),
        refuse=refuse_idempotency_key,
        max_length=MAX_IDEMPOTENCY_KEY,
    )
    return bp


def register_api(app: Flask) -> None:
    """Register the /v1 routes, the fake-only routes and Toss's error format."""
    from fake_toss.api import billing, internal, payments

    register_error_handlers(app)
    for module in (payments, billing, internal):
        app.register_blueprint(module.bp)
