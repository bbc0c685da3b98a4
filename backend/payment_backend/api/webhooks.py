"""Inbound gateway webhooks (plain JSON; answered 200 so gateways stop retrying)."""

from __future__ import annotations

from flask import request
from flask_smorest import Blueprint

from payment_backend.errors import ApiError, error_doc
from payment_backend.limits import rate_limited
from payment_backend.schemas.webhooks import WebhookReceiptSchema
from payment_backend.services import inbound

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
    return {"result": inbound.receive(vendor, body, headers)}


@blp.route("/iamport", methods=["POST"])
@rate_limited("webhooks")
@blp.response(200, WebhookReceiptSchema)
@blp.alt_response(400, **error_doc("INVALID_BODY"))
@blp.doc(requestBody=_body("PortOne's notification: {imp_uid, merchant_uid, status}"))
def iamport():
    """PortOne notification {imp_uid, merchant_uid, status}: the payment is re-read, then settled."""
    return _receive("iamport")


@blp.route("/toss", methods=["POST"])
@rate_limited("webhooks")
@blp.response(200, WebhookReceiptSchema)
@blp.alt_response(400, **error_doc("INVALID_BODY"))
@blp.alt_response(403, **error_doc("INVALID_SECRET"))
@blp.doc(requestBody=_body("Toss's event: {eventType, createdAt, data} or a deposit callback"))
def toss():
    """Toss PAYMENT_STATUS_CHANGED, DEPOSIT_CALLBACK (secret checked) and BILLING_DELETED."""
    return _receive("toss")
