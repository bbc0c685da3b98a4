"""Monitor responses."""

from marshmallow import Schema, fields


class HealthSchema(Schema):
    """Liveness of the service and its database."""

    status = fields.String(required=True, metadata={"example": "ok"})
    database = fields.String(required=True, metadata={"example": "ok"})
