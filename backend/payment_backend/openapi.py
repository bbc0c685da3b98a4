"""The OpenAPI document as the contract: the error envelope, the errors routes share, links.

Each route documents its own errors with alt_response(status, **error_doc(codes...)); what the
app answers on any route of a kind is merged in here, from what the route is: a JSON body (400
not JSON, 422 not valid, 413 too large), a rate group (429), the admin token (401), an
Idempotency-Key (its header and codes), the database (503).
"""

from __future__ import annotations

from typing import Any

from apispec import APISpec, BasePlugin
from flask import Flask
from flask_smorest import Api
from werkzeug.routing import IntegerConverter

from payment_backend.errors import ErrorSchema
from payment_backend.limits import RATE_GROUPS
from payment_backend.services.idempotency import MAX_KEY_LENGTH

ERROR_REF = {"$ref": "#/components/schemas/Error"}
RETRY_AFTER = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}}
IDEMPOTENCY_KEY = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "description": "The same key within 24 h answers the first request's answer again",
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": r"\S"},
}
# Endpoints that never touch the database (no 503 DATABASE_UNAVAILABLE).
WITHOUT_DATABASE = {"monitors.system", "monitors.performance"}


def shared_codes(
    path: str, operation: dict[str, Any], view: Any, endpoint: str
) -> dict[int, list[str]]:
    """The error codes an operation answers because of what it is, by status."""
    codes: dict[int, list[str]] = {}
    if any(p.get("in") == "path" for p in operation.get("parameters", [])) or "{" in path:
        codes[404] = ["NOT_FOUND"]  # a value its rule does not match (out of range, a slash)
    body = operation.get("requestBody", {}).get("content", {})
    if "application/json" in body:
        codes.setdefault(400, []).append("VALIDATION_ERROR")  # not JSON
    if "application/json" in body or any(
        p.get("in") == "query" for p in operation.get("parameters", [])
    ):
        codes.setdefault(422, []).append("VALIDATION_ERROR")
    if body:
        codes[413] = ["PAYLOAD_TOO_LARGE"]
    if operation.get("security"):
        codes[401] = ["ADMIN_TOKEN_REQUIRED"]
    if getattr(view, "idempotent", False):
        codes.setdefault(400, []).append("INVALID_IDEMPOTENCY_KEY")
        codes.setdefault(409, []).append("IDEMPOTENT_REQUEST_PROCESSING")
        codes.setdefault(422, []).append("IDEMPOTENCY_KEY_REUSED")
    group = getattr(view, "rate_group", None)
    if group == "webhooks":  # over its rate: 503, which gateways retry (limits._webhooks_busy)
        codes.setdefault(503, []).append("WEBHOOKS_BUSY")
    elif group in RATE_GROUPS:
        codes[429] = ["RATE_LIMITED"]
    if endpoint not in WITHOUT_DATABASE:
        codes.setdefault(503, []).append("DATABASE_UNAVAILABLE")
    return codes


def _enum(response: Any) -> list[str] | None:
    """The code enum of a documented error answer, or None when its codes are not listed."""
    if not isinstance(response, dict):
        return None
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    for part in schema.get("allOf", []):
        enum = part.get("properties", {}).get("code", {}).get("enum")
        if enum is not None:
            return enum
    return None


def merge_codes(responses: dict[Any, Any], status: int, codes: list[str]) -> None:
    """Add codes to the documented answer of one status (a new one when there is none)."""
    key = next((k for k in responses if str(k) == str(status)), status)
    existing = responses.get(key)
    if isinstance(existing, dict) and "content" in existing and _enum(existing) is None:
        return  # the route documents the envelope with codes it does not list
    enum = _enum(existing) or []
    enum.extend(code for code in codes if code not in enum)
    if _enum(existing) is not None:
        if existing["description"].startswith("The error envelope:"):
            existing["description"] = f"The error envelope: {', '.join(enum)}"
        return
    response: dict[str, Any] = {
        "description": f"The error envelope: {', '.join(enum)}",
        "content": {
            "application/json": {
                "schema": {
                    "allOf": [
                        ERROR_REF,
                        {
                            "type": "object",
                            "properties": {"code": {"type": "string", "enum": enum}},
                        },
                    ]
                }
            }
        },
    }
    if status in (409, 429, 503):
        response["headers"] = RETRY_AFTER
    responses.pop(key, None)
    responses[status] = response


class SharedErrorsPlugin(BasePlugin):
    """Merges the errors each kind of route shares into its operations."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def init_spec(self, spec: APISpec) -> None:
        """Name the envelope `Error` in the document."""
        if "Error" not in spec.components.schemas:
            spec.components.schema("Error", schema=ErrorSchema)

    def operation_helper(self, path=None, operations=None, **kwargs: Any) -> None:  # type: ignore[no-untyped-def]
        """Document the shared errors (and the Idempotency-Key) of each operation of the rule."""
        rule = kwargs.get("rule")
        endpoint = rule.endpoint if rule is not None else ""
        view = self.app.view_functions.get(endpoint)
        for operation in (operations or {}).values():
            responses = operation.setdefault("responses", {})
            for status in (422, "422"):
                if isinstance(responses.get(status), str):  # flask-smorest's, for @arguments
                    del responses[status]
            for status, codes in shared_codes(path or "", operation, view, endpoint).items():
                merge_codes(responses, status, codes)
            if getattr(view, "idempotent", False):
                operation.setdefault("parameters", []).append(dict(IDEMPOTENCY_KEY))


class PaymentApi(Api):
    """flask-smorest's Api with our envelope as its error schema and no catch-all `default`
    answer: every status a route answers is listed on the route."""

    ERROR_SCHEMA = ErrorSchema
    DEFAULT_ERROR_RESPONSE_NAME = None


def nullable_reference(self: Any, field: Any, ret: dict[str, Any], **kwargs: Any) -> dict:
    """A nullable nested schema is that schema or null: apispec's own `anyOf [the schema,
    {type: object, nullable: true}]` admits any object, fields the schema refuses included."""
    loose = {"type": "object", "nullable": True}
    if loose in ret.get("anyOf", []):
        ret["allOf"] = [part for part in ret.pop("anyOf") if part != loose]
        ret["nullable"] = True
    return {}


def integer_path(converter: IntegerConverter) -> dict[str, Any]:
    """An <int> path segment with its bounds (another number matches no route: 404)."""
    schema: dict[str, Any] = {"type": "integer"}
    low = converter.min if converter.min is not None else (None if converter.signed else 0)
    if low is not None:
        schema["minimum"] = low
    if converter.max is not None:
        schema["maximum"] = converter.max
    return schema


def create_api(app: Flask) -> Api:
    """The app's Api, its document built with the shared errors."""
    api = PaymentApi(app, spec_kwargs={"extra_plugins": [SharedErrorsPlugin(app)]})
    api.ma_plugin.converter.add_attribute_function(nullable_reference)
    api.register_converter(IntegerConverter, integer_path)
    return api


def link(path: str, method: str = "get", **parameters: str) -> dict[str, Any]:
    """An OpenAPI link to the operation `method path`, its parameters taken from this answer
    (`order_id="$response.body#/order_id"`)."""
    pointer = path.replace("~", "~0").replace("/", "~1")
    return {"operationRef": f"#/paths/{pointer}/{method}", "parameters": parameters}


def links(status: int, **named: dict[str, Any]) -> dict[str, Any]:
    """@blp.doc(**links(201, GetOrder=link(...))): the links of one answer."""
    return {"responses": {status: {"links": named}}}
