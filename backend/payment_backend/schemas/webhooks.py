"""Inbound gateway webhook answers."""

from marshmallow import Schema, fields


class WebhookReceiptSchema(Schema):
    """What became of an inbound gateway webhook (answered 200 so the gateway stops retrying)."""

    result = fields.String(
        required=True, metadata={"example": "paid", "description": "what the delivery changed"}
    )
