"""Outbound destinations and their circuit breakers, for the owner."""

from marshmallow import Schema, fields


class DestinationSchema(Schema):
    """One webhook destination (scheme://host:port) and its circuit breaker."""

    destination = fields.String(required=True, metadata={"example": "https://shop.example:443"})
    state = fields.String(
        required=True,
        metadata={
            "enum": ["closed", "open", "half_open"],
            "description": "open: its deliveries wait until retry_at; half_open: one probe may "
            "go, and its success closes the circuit",
        },
    )
    consecutive_failures = fields.Integer(required=True)
    opened_at = fields.DateTime(allow_none=True)
    retry_at = fields.DateTime(allow_none=True, metadata={"description": "when a probe may go"})
    last_error = fields.String(allow_none=True)
    queued_jobs = fields.Integer(
        required=True, metadata={"description": "its deliveries waiting for the worker"}
    )


class DestinationListSchema(Schema):
    """Every destination the backend has delivered to."""

    destinations = fields.List(fields.Nested(DestinationSchema), required=True)
