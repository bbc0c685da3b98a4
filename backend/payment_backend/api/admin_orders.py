"""The shop owner's view of orders."""

from __future__ import annotations

from flask_smorest import Blueprint
from sqlalchemy import select

from payment_backend.api.auth import ADMIN_SECURITY, document_admin_security, require_admin
from payment_backend.errors import error_doc
from payment_backend.extensions import db
from payment_backend.models import Order
from payment_backend.schemas.checkout import (
    GatewayViewSchema,
    OrderListQuerySchema,
    OrderListSchema,
)
from payment_backend.services import checkout, order_sweep
from payment_backend.services.ledger import gateway_data
from payment_backend.services.orders_view import order_view
from payment_backend.vendors.base import GatewayError, GatewayUnavailable

blp = Blueprint(
    "admin_orders", __name__, url_prefix="/api/admin/orders", description="Owner: orders"
)

blp.record_once(lambda state: document_admin_security(state.app))


@blp.before_request
def _admin_only() -> None:
    require_admin()


@blp.route("")
@blp.arguments(OrderListQuerySchema, location="query")
@blp.response(200, OrderListSchema)
@blp.doc(security=ADMIN_SECURITY)
def list_orders(query):
    """Every order, newest first."""
    statement = select(Order).order_by(Order.created_at.desc()).limit(query["limit"])
    if query["status"]:
        statement = statement.where(Order.status == query["status"])
    return {"orders": [order_view(o) for o in db.session.scalars(statement).unique()]}


@blp.route("/<order_id>/gateway")
@blp.response(200, GatewayViewSchema)
@blp.alt_response(404, **error_doc("ORDER_NOT_FOUND"))
@blp.doc(security=ADMIN_SECURITY)
def gateway_view(order_id: str):
    """What the gateway says about the order's payment now (or as last read when unreachable)."""
    order = checkout.get_order(order_id)
    try:
        gp = order_sweep.gateway_payment(order)
        return {"vendor": order.vendor, "live": True, "payment": gp.raw if gp else None}
    except (GatewayError, GatewayUnavailable) as exc:
        stored = gateway_data(order.payment) if order.payment else None
        return {"vendor": order.vendor, "live": False, "error": str(exc), "payment": stored}
