"""Fields shared by the schemas."""

from __future__ import annotations

import numbers
from typing import Any

from marshmallow import ValidationError, fields


class MinorUnits(fields.Integer):
    """An amount in the currency's minor unit: an integer (20000 or 20000.0), never a fraction."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValidationError("Must be an integer amount in the currency's minor unit.")
        if isinstance(value, float) and not value.is_integer():
            raise ValidationError("Must be an integer amount in the currency's minor unit.")
        return int(value)
