"""The owner's daily settlement: the query, and the answer dumped from services.settlement."""

from datetime import date

from marshmallow import Schema, fields, validate

DIFFERENCES = ["missing_in_ledger", "missing_at_gateway", "amount_differs", "status_differs"]


class SettlementQuerySchema(Schema):
    """Which day (a calendar day in the settlement time zone, Asia/Seoul by default)."""

    date = fields.Date(
        required=True,
        # Gateways list nothing before 2000; far dates also meet time-zone history (LMT offsets).
        validate=validate.Range(min=date(2000, 1, 1), max=date(2099, 12, 31)),
        metadata={"example": "2026-11-29", "pattern": r"^20[0-9]{2}-[0-9]{2}-[0-9]{2}$"},
    )


class SettlementLineSchema(Schema):
    """One payment or refund: the gateway's side beside the ledger's, and what differs."""

    vendor = fields.String(required=True)
    kind = fields.String(required=True, metadata={"enum": ["payment", "refund"]})
    transaction_id = fields.String(
        required=True, metadata={"description": "payment: its payment id; refund: the cancel id"}
    )
    payment_id = fields.String(required=True)
    order_id = fields.String(required=True)
    method = fields.String(required=True)
    currency = fields.String(required=True)
    at = fields.DateTime(required=True)
    gateway_amount = fields.Integer(allow_none=True, metadata={"description": "minor units"})
    ledger_amount = fields.Integer(allow_none=True, metadata={"description": "minor units"})
    gateway_status = fields.String(allow_none=True)
    ledger_status = fields.String(allow_none=True)
    difference = fields.String(allow_none=True, metadata={"enum": DIFFERENCES})
    note = fields.String(required=True)


class SettlementTotalSchema(Schema):
    """Per vendor, method and currency: the gateway's sums, and the ledger's net."""

    vendor = fields.String(required=True)
    method = fields.String(required=True)
    currency = fields.String(required=True)
    payments = fields.Integer(required=True)
    payment_count = fields.Integer(required=True)
    refunds = fields.Integer(required=True)
    refund_count = fields.Integer(required=True)
    net = fields.Integer(required=True, metadata={"description": "payments - refunds (gateway)"})
    ledger_net = fields.Integer(required=True)


class SettlementSchema(Schema):
    """A day's settlement."""

    day = fields.Date(required=True, data_key="date")
    timezone = fields.String(required=True)
    start = fields.DateTime(required=True, metadata={"description": "in the settlement time zone"})
    end = fields.DateTime(required=True, metadata={"description": "in the settlement time zone"})
    differences = fields.Integer(required=True)
    lines = fields.List(fields.Nested(SettlementLineSchema), required=True)
    totals = fields.List(fields.Nested(SettlementTotalSchema), required=True)
    unavailable = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        required=True,
        metadata={"description": "gateways that could not be listed, and why"},
    )
