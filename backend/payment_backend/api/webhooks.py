"""Inbound gateway webhooks (plain JSON; answered 200 so gateways stop retrying)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import request
from flask_smorest import Blueprint

from payment_backend.errors import ERRORS, ApiError
from payment_backend.limits import rate_limited
from payment_backend.schemas.webhooks import WebhookReceiptSchema
from payment_backend.services import inbound
from payment_backend.vendors import REGISTRY
from payment_backend.vendors.base import Vendor

blp = Blueprint(
    "webhooks", __name__, url_prefix="/payments/webhooks", description="Gateway webhooks"
)


def _receive(vendor: str):
    body = request.get_json(silent=True)
    if body is None and request.form:
        body = request.form.to_dict()
    if not isinstance(body, dict):
        raise ApiError(400, "INVALID_BODY", "A webhook body must be a JSON object.")
    headers = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
    return {"result": inbound.receive(vendor, body, headers)}


def _route(vendor: Vendor) -> None:
    """POST /payments/webhooks/<name>: a gateway's webhooks, documented by its registry entry."""

    def view() -> dict[str, Any]:
        return _receive(vendor.name)

    view.__name__ = view.__qualname__ = vendor.name
    view.__doc__ = vendor.webhook
    decorated: Callable[[], Any] = blp.alt_response(400, **ERRORS)(view)
    decorated = rate_limited("webhooks")(blp.response(200, WebhookReceiptSchema)(decorated))
    blp.route(f"/{vendor.name}", methods=["POST"], endpoint=vendor.name)(decorated)


for _vendor in REGISTRY.values():
    _route(_vendor)
