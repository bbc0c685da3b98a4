"""Checkout API schemas (browser <-> backend)."""

from marshmallow import Schema, fields


class ProductSchema(Schema):
    """A catalog product; price in the currency's minor unit."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    description = fields.String()
    price = fields.Integer(required=True, metadata={"description": "minor units (USD cents)"})
    currency = fields.String(required=True, metadata={"example": "KRW"})


class CheckoutConfigSchema(Schema):
    """What the browser needs to run a checkout."""

    mode = fields.String(required=True)
    vendors = fields.Dict(required=True)
    products = fields.List(fields.Nested(ProductSchema), required=True)
    currencies = fields.Dict(required=True)
    simulate_deposit = fields.Boolean(required=True)
