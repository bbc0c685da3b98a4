"""Checkout API for the browser (plain JSON)."""

from __future__ import annotations

from flask import current_app
from flask_smorest import Blueprint
from sqlalchemy import select

from payment_backend.api.auth import ADMIN_SECURITY, document_admin_security, require_admin
from payment_backend.errors import ApiError, error_doc
from payment_backend.extensions import db
from payment_backend.limits import rate_limited
from payment_backend.models import Product
from payment_backend.money import CURRENCIES
from payment_backend.openapi import link, links
from payment_backend.schemas.checkout import (
    CheckoutConfigSchema,
    CompleteSchema,
    CreateOrderSchema,
    FailSchema,
    OrderSchema,
    RefundSchema,
)
from payment_backend.services import checkout, refunds
from payment_backend.services.idempotency import idempotent
from payment_backend.services.ledger import once_more_on_conflict
from payment_backend.services.orders_view import order_view
from payment_backend.vendors.base import RefundAccount

blp = Blueprint("checkout", __name__, url_prefix="/api/checkout", description="Browser checkout")
blp.record_once(lambda state: document_admin_security(state.app))

ORDER = "/api/checkout/orders/{order_id}"
INTEGER = {"type": "integer"}
STRING = {"type": "string"}
GATEWAY_CODE = {"gateway_code": {**STRING, "nullable": True, "description": "the gateway's own"}}
UNAVAILABLE = error_doc("GATEWAY_UNAVAILABLE", "REFUND_OUTCOME_UNKNOWN")
# What /complete answers when the payment does not make the order paid (409).
NOT_COMPLETED = error_doc(
    "VENDOR_MISMATCH",
    "ORDER_ALREADY_PAID",
    "ORDER_CLOSED",
    "ORDER_MISMATCH",
    "PAYMENT_NOT_PAID",
    "PAYMENT_DECLINED",
    "PAYMENT_NOT_COMPLETED",
    "AMOUNT_MISMATCH",
    "CURRENCY_MISMATCH",
    "GATEWAY_REFUSED",
    description="The payment does not make the order paid; a forged one is cancelled",
    expected={**INTEGER, "description": "AMOUNT_MISMATCH: the order's amount"},
    paid={**INTEGER, "description": "AMOUNT_MISMATCH: what the gateway holds"},
    reported={**INTEGER, "nullable": True, "description": "AMOUNT_MISMATCH: what you sent"},
    expected_currency=STRING,
    paid_currency=STRING,
    expected_order_id=STRING,
    payment_order_id={**STRING, "nullable": True},
    order_status=STRING,
    refund_pending={"type": "boolean", "description": "the payment is being refunded"},
    order=OrderSchema,
    **GATEWAY_CODE,
)


@blp.route("/config")
@blp.response(200, CheckoutConfigSchema)
def config():
    """Vendors, their SDK scripts and keys, and the catalog."""
    settings = current_app.config
    products = db.session.scalars(select(Product).where(Product.active).order_by(Product.id)).all()
    return {
        "mode": settings["PAYMENT_MODE"],
        "vendors": {
            "iamport": {
                "sdk_url": settings["IAMPORT_SDK_URL"],
                "merchant_code": settings["IAMPORT_MERCHANT_CODE"],
                "pg": settings["IAMPORT_PG"],
                "prepare": settings["IAMPORT_PREPARE"],
            },
            "toss": {
                "sdk_url": settings["TOSS_SDK_URL"],
                "client_key": settings["TOSS_CLIENT_KEY"],
                "sdk_v2_url": settings["TOSS_SDK_V2_URL"],
                "widget_client_key": settings["TOSS_WIDGET_CLIENT_KEY"],
            },
            "portone": {
                "enabled": bool(settings.get("PORTONE_API_SECRET")),
                "sdk_url": settings["PORTONE_SDK_URL"],
                "store_id": settings.get("PORTONE_STORE_ID") or "",
                "channel_key": settings.get("PORTONE_CHANNEL_KEY") or "",
                "prepare": settings["PORTONE_PREPARE"],
            },
        },
        "products": products,
        "currencies": {code: {"exponent": c.exponent} for code, c in CURRENCIES.items()},
        "simulate_deposit": settings["PAYMENT_MODE"] != "real",
    }


@blp.route("/orders", methods=["POST"])
@rate_limited("checkout")
@blp.arguments(CreateOrderSchema)
@blp.response(201, OrderSchema)
@blp.alt_response(409, **error_doc("GATEWAY_REFUSED", **GATEWAY_CODE))
@blp.alt_response(
    422,
    **error_doc(
        "UNKNOWN_PRODUCT",
        "QUANTITY_TOO_LARGE",
        "MIXED_CURRENCY",
        "METHOD_NOT_AVAILABLE",
        description="The catalog refuses the order (the product, a quantity, the currencies)",
        product_ids={"type": "array", "items": INTEGER, "description": "UNKNOWN_PRODUCT"},
    ),
)
@blp.alt_response(502, **error_doc("GATEWAY_UNAVAILABLE"))
@blp.doc(
    **links(
        201,
        GetOrder=link(ORDER, order_id="$response.body#/order_id"),
        ReportFailure=link(f"{ORDER}/fail", "post", order_id="$response.body#/order_id"),
    )
)
def create_order(body):
    """Create an order priced by the server (iamport: also pre-registered at the gateway)."""
    order = checkout.create_order(body["vendor"], body["method"], body["items"], body["buyer"])
    return order_view(order)


@blp.route("/complete", methods=["POST"])
@rate_limited("checkout")
@blp.arguments(CompleteSchema)
@blp.response(200, OrderSchema)
@blp.alt_response(404, **error_doc("ORDER_NOT_FOUND", "PAYMENT_NOT_FOUND"))
@blp.alt_response(409, **NOT_COMPLETED)
@blp.alt_response(422, **error_doc("INVALID_PAYMENT_ID"))
@blp.alt_response(502, **error_doc("GATEWAY_UNAVAILABLE"))
def complete(body):
    """Verify a payment with the gateway and complete the order (409 AMOUNT_MISMATCH on forgery)."""
    try:
        order = once_more_on_conflict(
            lambda: checkout.complete(
                body["order_id"], body["vendor"], body["payment_id"], body["amount"]
            )
        )
    except ApiError as error:
        if error.code in ("AMOUNT_MISMATCH", "CURRENCY_MISMATCH", "ORDER_MISMATCH"):
            error.extra["order"] = OrderSchema().dump(
                order_view(checkout.get_order(body["order_id"]))
            )
        raise
    return order_view(order)


@blp.route("/orders/<order_id>")
@blp.response(200, OrderSchema)
@blp.alt_response(404, **error_doc("ORDER_NOT_FOUND"))
def get_order(order_id: str):
    """One order with its payment and refunds."""
    return order_view(checkout.get_order(order_id))


@blp.route("/orders/<order_id>/fail", methods=["POST"])
@rate_limited("checkout")
@blp.arguments(FailSchema, required=False)
@blp.response(200, OrderSchema)
@blp.alt_response(404, **error_doc("ORDER_NOT_FOUND"))
def fail(body, order_id: str):
    """Record that the payment window was closed or the card declined."""
    return order_view(checkout.report_failure(order_id, body["code"], body["message"]))


@blp.route("/orders/<order_id>/refund", methods=["POST"])
@blp.arguments(RefundSchema)
@blp.response(200, OrderSchema)
@blp.alt_response(404, **error_doc("ORDER_NOT_FOUND"))
@blp.alt_response(
    409,
    **error_doc(
        "NOT_REFUNDABLE",
        "OVER_REFUND",
        "GATEWAY_REFUSED",
        remaining={**INTEGER, "description": "OVER_REFUND: what is left"},
        requested={**INTEGER, "description": "OVER_REFUND: what you asked for"},
        refund_pending={**INTEGER, "description": "refunds being paid out, not refundable again"},
        **GATEWAY_CODE,
    ),
)
@blp.alt_response(502, **UNAVAILABLE)
@blp.doc(security=ADMIN_SECURITY)
@idempotent("checkout.refund", authenticate=require_admin)
def refund(body, order_id: str):
    """Refund all that is left, or a part; never more than is left (409 OVER_REFUND)."""
    account = body["refund_account"]
    order = refunds.refund_order(
        checkout.get_order(order_id),
        body["amount"],
        body["reason"],
        actor="owner",
        refund_account=RefundAccount(**account) if account else None,
    )
    return OrderSchema().dump(order_view(order))  # stored as it is answered, for a replay
