"""Schemas of the dev-only routes (test clock)."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema


class ClockMoveSchema(Schema):
    """How far to move the test clock: seconds, or whole calendar months (Jan 31 + 1 = Feb 28)."""

    advance = fields.Float(
        validate=validate.Range(min=0, max=366 * 86400), metadata={"example": 86400}
    )
    months = fields.Integer(validate=validate.Range(min=1, max=12), metadata={"example": 1})

    @validates_schema
    def _one_of(self, data: dict, **_kwargs) -> None:
        if ("advance" in data) == ("months" in data):
            raise ValidationError("give either advance (seconds) or months", "_schema")


class ClockStateSchema(Schema):
    """The backend's test clock, and each fake gateway's after it was moved."""

    now = fields.String(required=True)
    offset_seconds = fields.Float(required=True)
    ran = fields.Dict(metadata={"description": "what ran after moving: {jobs}"})
    fakes = fields.Dict(metadata={"description": "each fake gateway's clock after syncing"})
