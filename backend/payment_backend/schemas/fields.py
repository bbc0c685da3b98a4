"""Fields shared by the schemas."""

from __future__ import annotations

import numbers
from datetime import datetime
from typing import Any

from marshmallow import ValidationError, fields, validate

from payment_backend.clock import iso

# The largest id a database integer column holds (PostgreSQL integer): a larger one is not found.
MAX_ID = 2**31 - 1
# The largest amount accepted, in minor units: far above any payment, far below BIGINT.
MAX_AMOUNT = 10**15


def row_id(**kwargs: Any) -> fields.Integer:
    """A strict integer id that a database integer column can hold."""
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class MinorUnits(fields.Integer):
    """An amount in the currency's minor unit: an integer (20000 or 20000.0), never a fraction."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # stated in the OpenAPI document; _deserialize refuses a larger one first
        self.validators.insert(0, validate.Range(min=-MAX_AMOUNT, max=MAX_AMOUNT))

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValidationError("Must be an integer amount in the currency's minor unit.")
        if isinstance(value, float) and not value.is_integer():
            raise ValidationError("Must be an integer amount in the currency's minor unit.")
        if abs(value) > MAX_AMOUNT:
            raise ValidationError(f"Must be at most {MAX_AMOUNT}.")
        return int(value)


class UtcDateTime(fields.DateTime):
    """A moment answered as ISO 8601 in UTC with "+00:00" (a naive value is taken as UTC).

    A string is passed through as it is: an answer stored for an idempotent replay, dumped once.
    """

    def _serialize(self, value: datetime | str | None, attr: str | None, obj: Any, **kwargs: Any):
        if value is None or isinstance(value, str):
            return value
        return iso(value)
