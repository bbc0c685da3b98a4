"""The owner's daily settlement: the gateways' listings beside the ledger, as JSON or CSV."""

from __future__ import annotations

from flask import Response
from flask_smorest import Blueprint

from payment_backend.api.auth import ADMIN_SECURITY, document_admin_security, require_admin
from payment_backend.errors import ERRORS
from payment_backend.schemas.settlement import SettlementQuerySchema, SettlementSchema
from payment_backend.services import settlement

blp = Blueprint(
    "settlement",
    __name__,
    url_prefix="/api/admin/settlement",
    description="Owner: daily settlement against the gateways",
)
blp.before_request(require_admin)
blp.record_once(lambda state: document_admin_security(state.app))


@blp.route("")
@blp.arguments(SettlementQuerySchema, location="query")
@blp.response(200, SettlementSchema)
@blp.alt_response(401, **ERRORS)
@blp.doc(security=ADMIN_SECURITY)
def day(query):
    """Every payment and refund of a day at each gateway beside our ledger; differences named."""
    return settlement.settle(query["date"])


@blp.route("/csv")
@blp.arguments(SettlementQuerySchema, location="query")
@blp.response(200, {"type": "string"}, content_type="text/csv")
@blp.alt_response(401, **ERRORS)
@blp.doc(security=ADMIN_SECURITY)
def day_csv(query):
    """The same lines as CSV, for a spreadsheet."""
    day = query["date"]
    body = "\ufeff" + settlement.to_csv(settlement.settle(day))  # BOM: Excel reads UTF-8 Korean
    return Response(
        body,
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="settlement-{day.isoformat()}.csv"'},
    )
