"""One error envelope for every response: {code, message, errors?, ...}."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify
from marshmallow import INCLUDE, Schema, fields
from werkzeug.exceptions import HTTPException

from payment_backend.vendors.base import GatewayError, GatewayUnavailable


class ErrorSchema(Schema):
    """The error envelope of every error answer (the OpenAPI component `Error`)."""

    class Meta:
        unknown = INCLUDE  # documented as additionalProperties: each route adds fields of its own

    code = fields.String(required=True, metadata={"example": "ORDER_NOT_FOUND"})
    message = fields.String(required=True, metadata={"description": "for people, in English"})
    errors = fields.Dict(
        metadata={
            "description": "VALIDATION_ERROR: the messages per location (json, query) and field"
        }
    )


# The documentation of an error answer whose codes are not listed: alt_response(status, **ERRORS).
ERRORS = {"schema": ErrorSchema, "description": "The error envelope {code, message, ...}"}


def error_doc(*codes: str, description: str | None = None, **extra: Any) -> dict[str, Any]:
    """alt_response(status, **error_doc(...)): the envelope with this route's codes as an enum and
    its extra fields (JSON Schema dicts, or marshmallow schemas for objects)."""
    own: dict[str, Any] = {"type": "object", "properties": dict(extra)}
    if codes:
        own["properties"]["code"] = {"type": "string", "enum": list(codes)}
    return {
        "schema": {"allOf": [ErrorSchema, own]},
        "description": description or f"The error envelope: {', '.join(codes) or 'code'}",
    }


class ApiError(Exception):
    """An error answered to the caller with a code, a message and an HTTP status."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> dict[str, Any]:
        """The JSON envelope."""
        return {"code": self.code, "message": self.message, **self.extra}


# Codes for statuses whose HTTP name is not the clearest code.
CODES = {413: "PAYLOAD_TOO_LARGE", 429: "RATE_LIMITED"}
MESSAGES = {
    413: "The request body is larger than this route accepts.",
    429: "Too many requests from this address; try again after Retry-After seconds.",
}


# The one answer to a gateway that did not answer (the outcome of a call may be unknown: whatever
# landed is reconciled with the gateway, so the same request can be sent again).
GATEWAY_UNAVAILABLE = (
    "The payment gateway did not answer. Please retry the same request in a moment."
)
GATEWAY_REFUSED = "The payment gateway refused the request."


def gateway_refused(exc: GatewayError, **extra: Any) -> ApiError:
    """The answer to a gateway's refusal (409 GATEWAY_REFUSED with the gateway's own code).

    A route that only lets GatewayError rise gets the same answer from the app's handler; call
    this only to add fields of its own.
    """
    return ApiError(
        409, "GATEWAY_REFUSED", exc.message or GATEWAY_REFUSED, gateway_code=exc.code, **extra
    )


def _http_code(exc: HTTPException) -> str:
    if exc.code in CODES:
        return CODES[exc.code]
    return (exc.name or "ERROR").upper().replace(" ", "_").replace("'", "")


def register_error_handlers(app: Flask) -> None:
    """Answer every error with the envelope; never an HTML page, never a bare 500 for bad input."""

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return jsonify(exc.body()), exc.status, exc.headers

    @app.errorhandler(GatewayUnavailable)
    def _gateway_unavailable(exc: GatewayUnavailable):
        app.logger.warning("gateway unavailable: %s", exc)
        return jsonify({"code": "GATEWAY_UNAVAILABLE", "message": GATEWAY_UNAVAILABLE}), 502

    @app.errorhandler(GatewayError)
    def _gateway_refused(exc: GatewayError):
        error = gateway_refused(exc)
        return jsonify(error.body()), error.status

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if exc.response is not None:  # an answer made for this refusal (the webhooks' 503)
            return exc.response
        message = MESSAGES.get(exc.code or 0) or exc.description or exc.name
        body: dict[str, Any] = {"code": _http_code(exc), "message": message}
        data = getattr(exc, "data", None) or {}
        if "messages" in data:  # webargs / flask-smorest validation errors
            body = {
                "code": "VALIDATION_ERROR",
                "message": "The request is not valid.",
                "errors": data["messages"],
            }
        # werkzeug's own headers (Allow on a 405, RFC 9110), not its HTML content type
        headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
        return jsonify(body), exc.code or 500, headers

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        app.logger.exception("unhandled error")
        return jsonify(
            {"code": "INTERNAL_ERROR", "message": "Something went wrong on our side."}
        ), 500
