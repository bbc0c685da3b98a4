"""The OpenAPI document as the contract: the error envelope, the errors every route shares, links.

Each route documents its own errors with alt_response(status, **error_doc(codes...)); what the
app answers on any route is added here once, from what the route is: a JSON body (400 not JSON,
413 too large), a rate group (429), the database (503).
"""

from __future__ import annotations

from typing import Any

from apispec import APISpec, BasePlugin
from flask import Flask
from flask_smorest import Api

from payment_backend.errors import ErrorSchema, error_doc
from payment_backend.limits import RATE_GROUPS

RETRY_AFTER = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}}
# Shared error answers: (status, component name, documentation).
SHARED = {
    "ValidationError": error_doc(
        "VALIDATION_ERROR", description="The input does not match the schema (errors per field)"
    ),
    "NotJson": error_doc("VALIDATION_ERROR", description="The body is not JSON"),
    "PayloadTooLarge": error_doc("PAYLOAD_TOO_LARGE", description="The body is too large"),
    "RateLimited": {**error_doc("RATE_LIMITED"), "headers": RETRY_AFTER},
    "DatabaseUnavailable": {
        **error_doc("DATABASE_UNAVAILABLE", description="Send the same request again later"),
        "headers": RETRY_AFTER,
    },
}
# Endpoints that never touch the database (no 503 DATABASE_UNAVAILABLE).
WITHOUT_DATABASE = {"monitors.system", "monitors.performance"}


class SharedErrorsPlugin(BasePlugin):
    """Adds the errors every route of a kind answers to its operations."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def init_spec(self, spec: APISpec) -> None:
        """Register the shared error answers as response components (emitted when used)."""
        for name, doc in SHARED.items():
            response = {k: v for k, v in doc.items() if k != "schema"}
            response["content"] = {"application/json": {"schema": doc["schema"]}}
            spec.components.response(name, response, lazy=True)

    def operation_helper(self, path=None, operations=None, **kwargs: Any) -> None:  # type: ignore[no-untyped-def]
        """Document the shared errors of each operation of the rule."""
        rule = kwargs.get("rule")
        view = self.app.view_functions.get(rule.endpoint) if rule is not None else None
        for operation in (operations or {}).values():
            responses = operation.setdefault("responses", {})
            # flask-smorest's 422 of @arguments: the envelope with VALIDATION_ERROR
            for status in (422, "422"):
                if responses.get(status) == "UNPROCESSABLE_ENTITY":
                    responses[status] = "ValidationError"
            shared: dict[int, str] = {}
            body = operation.get("requestBody", {}).get("content", {})
            if "application/json" in body:
                shared[400] = "NotJson"
            if body:
                shared[413] = "PayloadTooLarge"
            if getattr(view, "rate_group", None) in RATE_GROUPS:
                shared[429] = "RateLimited"
            if rule is not None and rule.endpoint not in WITHOUT_DATABASE:
                shared[503] = "DatabaseUnavailable"
            for status, name in shared.items():
                if status not in responses and str(status) not in responses:
                    responses[status] = name


class PaymentApi(Api):
    """flask-smorest's Api with our envelope as its error schema and no catch-all `default`
    answer: every status a route answers is listed on the route."""

    ERROR_SCHEMA = ErrorSchema
    DEFAULT_ERROR_RESPONSE_NAME = None


def create_api(app: Flask) -> Api:
    """The app's Api, its document built with the shared errors."""
    return PaymentApi(app, spec_kwargs={"extra_plugins": [SharedErrorsPlugin(app)]})


def link(path: str, method: str = "get", **parameters: str) -> dict[str, Any]:
    """An OpenAPI link to the operation `method path`, its parameters taken from this answer
    (`name="$response.body#/order_id"`)."""
    pointer = path.replace("~", "~0").replace("/", "~1")
    return {"operationRef": f"#/paths/{pointer}/{method}", "parameters": parameters}


def links(status: int, **named: dict[str, Any]) -> dict[str, Any]:
    """@blp.doc(**links(201, GetOrder=link(...))): the links of one answer."""
    return {"responses": {status: {"links": named}}}
