"""Checkout API schemas (browser <-> backend)."""

from marshmallow import Schema, fields, validate

from payment_backend.schemas.fields import MinorUnits, row_id


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


class OrderItemSchema(Schema):
    """One line of a new order."""

    product_id = row_id(required=True)
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=1000))


class BuyerSchema(Schema):
    """Who pays (optional)."""

    name = fields.String(validate=validate.Length(max=100))
    email = fields.Email()


class CreateOrderSchema(Schema):
    """A new order: what is bought, through which gateway and method."""

    vendor = fields.String(required=True, validate=validate.OneOf(["iamport", "toss"]))
    method = fields.String(required=True, validate=validate.OneOf(["card", "vbank"]))
    items = fields.List(
        fields.Nested(OrderItemSchema), required=True, validate=validate.Length(min=1, max=50)
    )
    buyer = fields.Nested(BuyerSchema, load_default=None)


class CompleteSchema(Schema):
    """What the browser says it paid."""

    order_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    vendor = fields.String(required=True, validate=validate.OneOf(["iamport", "toss"]))
    payment_id = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=200), validate.Regexp(r"^[0-9A-Za-z_-]+$")],
        metadata={"description": "iamport imp_uid (imp_...) or Toss paymentKey"},
    )
    amount = MinorUnits(
        required=True, validate=validate.Range(min=0), metadata={"description": "minor units"}
    )


class FailSchema(Schema):
    """The browser reports a failed or abandoned payment window."""

    code = fields.String(load_default="PAYMENT_FAILED", validate=validate.Length(max=50))
    message = fields.String(
        load_default="The payment did not go through.", validate=validate.Length(max=500)
    )


class RefundSchema(Schema):
    """A full (no amount) or partial refund."""

    amount = MinorUnits(
        load_default=None,
        validate=validate.Range(min=1),
        metadata={"description": "minor units; omitted = the rest"},
    )
    reason = fields.String(required=True, validate=validate.Length(min=1, max=200))


class OrderSchema(Schema):
    """An order as the browser sees it."""

    order_id = fields.String(required=True)
    vendor = fields.String(required=True)
    method = fields.String(required=True)
    name = fields.String(required=True)
    amount = fields.Integer(required=True)
    currency = fields.String(required=True)
    status = fields.String(required=True)
    items = fields.List(fields.Dict())
    buyer = fields.Dict(allow_none=True)
    refunded = fields.Integer()
    refundable = fields.Integer()
    payment = fields.Dict(allow_none=True)
    refunds = fields.List(fields.Dict())
    failure = fields.Dict(allow_none=True)
    surplus = fields.List(
        fields.Dict(),
        metadata={"description": "payments the order did not need, refunded by the worker"},
    )
    notice = fields.String(allow_none=True, metadata={"description": "a message for the buyer"})
    notice_url = fields.String()
    pg = fields.String()
    created_at = fields.String()
    updated_at = fields.String()


class OrderListSchema(Schema):
    """Orders for the owner."""

    orders = fields.List(fields.Nested(OrderSchema))


class OrderListQuerySchema(Schema):
    """Filters of the owner's order list."""

    status = fields.String(load_default=None)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
