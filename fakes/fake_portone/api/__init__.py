"""The REST API and what its routes share: `Authorization: PortOne <secret>` (or a Bearer token),
the JSON body (or `?requestBody=` on GET and DELETE), quoted Idempotency-Key replay."""

from __future__ import annotations

import json

from flask import Blueprint, Flask, current_app, request

from fake_common.idempotency import PROCESSING, register_idempotency
from fake_portone.errors import PortOneError, invalid, register_error_handlers
from fake_portone.gateway import PortOneGateway

MAX_IDEMPOTENCY_KEY = 256


def gateway() -> PortOneGateway:
    """The app's gateway state."""
    return current_app.extensions["fake_portone"]


def body() -> dict:
    """The request's JSON object: the body, else `?requestBody=<json>`; {} when neither."""
    raw = request.args.get("requestBody")
    if raw is None and not request.get_data():
        return {}
    try:
        data = json.loads(raw) if raw is not None else request.get_json(force=True)
    except ValueError as exc:
        raise invalid("요청 본문이 올바른 JSON이 아닙니다.") from exc
    if not isinstance(data, dict):
        raise invalid("요청 본문은 JSON 객체여야 합니다.")
    return data


def client_origin() -> dict:
    """The Payment's origin fields for a REST call."""
    return {
        "platform_type": "API",
        "ip_address": request.remote_addr or "127.0.0.1",
        "user_agent": request.headers.get("User-Agent") or None,
    }


def authenticate() -> None:
    """before_request: every API route needs the API secret or an access token."""
    gateway().authorize(request.headers.get("Authorization", ""))


def refuse_idempotency_key(problem: str) -> PortOneError:
    """409 while the key's first request runs; 400 for a malformed key."""
    if problem == PROCESSING:
        return PortOneError("IDEMPOTENCY_OUTSTANDING_REQUEST")
    return invalid("Idempotency-Key 값이 올바르지 않습니다.")


def api_blueprint(name: str, import_name: str, *, auth: bool = True) -> Blueprint:
    """A blueprint whose routes need credentials (unless auth=False) and honour Idempotency-Key."""
    bp = Blueprint(name, import_name)
    if auth:
        bp.before_request(authenticate)
    register_idempotency(
        bp,
        store=lambda: gateway().idempotency,
        scope=lambda key: (key.strip().strip('"'), request.path, request.method),
        refuse=refuse_idempotency_key,
        max_length=MAX_IDEMPOTENCY_KEY + 2,
    )
    return bp


def register_api(app: Flask) -> None:
    """Register the REST routes, the fake-only routes and PortOne's error format."""
    from fake_portone.api import auth, billing, internal, payments

    register_error_handlers(app)
    for module in (auth, payments, billing, internal):
        app.register_blueprint(module.bp)
