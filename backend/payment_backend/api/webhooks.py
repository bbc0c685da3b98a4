"""Inbound gateway webhooks (plain JSON; answered 200 so gateways stop retrying)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import request
from flask_smorest import Blueprint

from payment_backend.errors import ApiError, error_doc
from payment_backend.limits import rate_limited
from payment_backend.schemas.webhooks import WebhookReceiptSchema
from payment_backend.services import inbound
from payment_backend.vendors import REGISTRY
from payment_backend.vendors.base import Vendor

blp = Blueprint(
    "webhooks", __name__, url_prefix="/payments/webhooks", description="Gateway webhooks"
)


def _body(description: str) -> dict:
    """OpenAPI: a webhook body is a JSON object with whatever the gateway sends (a form is
    taken too, as older PortOne settings send one)."""
    return {
        "required": True,
        "description": description,
        "content": {"application/json": {"schema": {"type": "object"}}},
    }


def _receive(vendor: str):
    body = request.get_json(silent=True)
    if body is None and request.form:
        body = request.form.to_dict()
    if not isinstance(body, dict):
        raise ApiError(400, "INVALID_BODY", "A webhook body must be a JSON object.")
    headers = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
    raw = request.get_data(cache=True)  # the exact bytes a signed delivery was signed over
    return {"result": inbound.receive(vendor, body, headers, raw)}


def _route(vendor: Vendor) -> None:
    """POST /payments/webhooks/<name>: a gateway's webhooks, documented by its registry entry."""

    def view() -> dict[str, Any]:
        return _receive(vendor.name)

    view.__name__ = view.__qualname__ = vendor.name
    view.__doc__ = vendor.webhook
    decorated: Callable[[], Any] = blp.doc(requestBody=_body(vendor.webhook))(view)
    decorated = blp.alt_response(400, **error_doc("INVALID_BODY"))(decorated)
    # A body carrying a secret the payment's own does not match (e.g. Toss's deposit callback).
    decorated = blp.alt_response(403, **error_doc("INVALID_SECRET"))(decorated)
    # A delivery its gateway signs whose signature or timestamp does not verify (PortOne V2).
    decorated = blp.alt_response(401, **error_doc("INVALID_SIGNATURE"))(decorated)
    decorated = rate_limited("webhooks")(blp.response(200, WebhookReceiptSchema)(decorated))
    blp.route(f"/{vendor.name}", methods=["POST"], endpoint=vendor.name)(decorated)


for _vendor in REGISTRY.values():
    _route(_vendor)
