"""The REST API blueprints and what they share: the envelope, parameters and the token check."""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from fake_iamport import errors as msg
from fake_iamport.errors import GatewayError
from fake_iamport.gateway import IamportGateway


def gateway() -> IamportGateway:
    """The running app's gateway state."""
    return current_app.extensions["fake_iamport"]


def ok(response: object, message: str | None = None) -> Response:
    """HTTP 200 with {code: 0, message (null on success), response}."""
    return jsonify({"code": 0, "message": message, "response": response})


def envelope_error(code: int, message: str, status: int) -> tuple[Response, int]:
    """A failure in the envelope, with the HTTP status the real API uses."""
    return jsonify({"code": code, "message": message, "response": None}), status


def params() -> dict:
    """Request parameters from a JSON body, a form body or the query string."""
    body = request.get_json(silent=True) if request.is_json else None
    if isinstance(body, dict):
        return body
    if request.form:
        data = request.form.to_dict()
        for key in request.form:
            if key.endswith("[]"):
                data[key] = request.form.getlist(key)
        return data
    return request.args.to_dict()


def bearer_token() -> str | None:
    """The access token from Authorization (bare or Bearer) or X-ImpTokenHeader."""
    header = request.headers.get("Authorization", "").strip()
    if header.lower().startswith("bearer "):
        header = header[7:].strip()
    return header or request.headers.get("X-ImpTokenHeader", "").strip() or None


def require_token() -> tuple[Response, int] | None:
    """before_request hook: 401 without a valid token."""
    if request.method == "OPTIONS":
        return None
    if not gateway().token_valid(bearer_token()):
        return envelope_error(-1, msg.UNAUTHORIZED, 401)
    return None


def locked(view: Callable) -> Callable:
    """Run a view under the gateway lock, so its answer is a consistent snapshot."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        with gateway().lock:
            return view(*args, **kwargs)

    return wrapper


def protected_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint whose every route needs an access token."""
    bp = Blueprint(name, import_name)
    bp.before_request(require_token)
    return bp


def register_api(app: Flask) -> None:
    """Register the REST routes and the envelope error handlers."""
    from fake_iamport.api import auth, internal, payments, subscribe, vbanks

    for module in (auth, payments, subscribe, vbanks, internal):
        app.register_blueprint(module.bp)

    @app.errorhandler(GatewayError)
    def gateway_error(error: GatewayError):
        return envelope_error(error.code, error.message, error.http_status)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        return envelope_error(-1, error.description or error.name, error.code or 500)
