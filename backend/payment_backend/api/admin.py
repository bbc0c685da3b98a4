"""Owner routes for outbound webhooks: list deliveries with their attempts, replay one, see each
destination's circuit breaker."""

from __future__ import annotations

from flask_smorest import Blueprint

from payment_backend.api.auth import ADMIN_SECURITY, document_admin_security, require_admin
from payment_backend.errors import ApiError, error_doc
from payment_backend.schemas.admin import (
    DeliveryListSchema,
    DeliveryQuerySchema,
    ReplaySchema,
)
from payment_backend.schemas.circuits import DestinationListSchema
from payment_backend.services import circuits, deliveries

blp = Blueprint(
    "admin", __name__, url_prefix="/api/admin", description="Owner: outbound webhook deliveries"
)
blp.record_once(lambda state: document_admin_security(state.app))


@blp.before_request
def _admin_only() -> None:
    require_admin()


@blp.route("/deliveries")
@blp.arguments(DeliveryQuerySchema, location="query")
@blp.response(200, DeliveryListSchema)
@blp.doc(security=ADMIN_SECURITY)
def list_deliveries(query):
    """Notifications to merchants, newest first, each with every attempt."""
    return {"deliveries": deliveries.deliveries_for(query["payment_id"], query["limit"])}


@blp.route("/deliveries/<delivery_id>/retry", methods=["POST"])
@blp.response(200, ReplaySchema)
@blp.alt_response(404, **error_doc("DELIVERY_NOT_FOUND"))
@blp.doc(security=ADMIN_SECURITY)
def retry_delivery(delivery_id: str):
    """Deliver a notification again now, whatever its status; the attempt is recorded."""
    replayed = deliveries.replay(delivery_id)
    if replayed is None:
        raise ApiError(404, "DELIVERY_NOT_FOUND", f"No delivery {delivery_id}.")
    delivery, result = replayed
    return {"delivered": result.ok, "attempt": result.attempt, "delivery": delivery}


@blp.route("/destinations")
@blp.response(200, DestinationListSchema)
@blp.doc(security=ADMIN_SECURITY)
def list_destinations():
    """Webhook destinations with their circuit breakers: open ones hold their deliveries back."""
    return {"destinations": circuits.circuits()}
