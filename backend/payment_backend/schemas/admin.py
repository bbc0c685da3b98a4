"""Owner (admin) routes: outbound webhook deliveries and their attempts."""

from marshmallow import Schema, fields, validate


class DeliveryQuerySchema(Schema):
    """Filters for the delivery list."""

    payment_id = fields.String(load_default=None, metadata={"description": "Only this payment's"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class DeliveryAttemptSchema(Schema):
    """One try at delivering a notification."""

    attempted_at = fields.DateTime(required=True)
    state = fields.String(
        required=True,
        metadata={
            "description": "sending (in flight, or its sender died), done, or interrupted "
            "(its sender died; the notification was sent again)"
        },
    )
    status_code = fields.Integer(allow_none=True, metadata={"description": "null: no answer"})
    response_body = fields.String(
        allow_none=True, metadata={"description": "The merchant's answer, truncated"}
    )
    error = fields.String(allow_none=True)
    duration_ms = fields.Integer(required=True)


class DeliverySchema(Schema):
    """A notification to a merchant's webhook_url, with every attempt."""

    id = fields.String(required=True, metadata={"description": "Also the webhook-id header"})
    payment_id = fields.String(allow_none=True)
    event = fields.String(required=True)
    url = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["pending", "delivered", "failed"]})
    attempt_count = fields.Integer(required=True)
    next_attempt_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime(required=True)
    attempts = fields.List(fields.Nested(DeliveryAttemptSchema), required=True)


class DeliveryListSchema(Schema):
    """Deliveries, newest first."""

    deliveries = fields.List(fields.Nested(DeliverySchema), required=True)


class ReplaySchema(Schema):
    """The delivery after a replay, and the replay's own attempt."""

    delivered = fields.Boolean(required=True, metadata={"description": "The replay got a 2xx"})
    attempt = fields.Nested(DeliveryAttemptSchema, required=True)
    delivery = fields.Nested(DeliverySchema, required=True)
