"""Checkout API schemas (browser <-> backend)."""

from typing import Any

from marshmallow import Schema, ValidationError, fields, post_dump, validate

from payment_backend.models.orders import MAX_QUANTITY
from payment_backend.schemas.fields import MinorUnits, UtcDateTime, row_id
from payment_backend.vendors import VENDORS


class ProductSchema(Schema):
    """A catalog product; price in the currency's minor unit."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    description = fields.String()
    price = fields.Integer(required=True, metadata={"description": "minor units (USD cents)"})
    currency = fields.String(required=True, metadata={"example": "KRW"})


class IamportConfigSchema(Schema):
    """What the browser needs for PortOne V1 (iamport)."""

    sdk_url = fields.String(required=True)
    merchant_code = fields.String(required=True)
    pg = fields.String(required=True)
    prepare = fields.Boolean(required=True, metadata={"description": "amounts pre-registered"})


class TossConfigSchema(Schema):
    """What the browser needs for Toss Payments: the v1 script, and the v2 SDK with both key
    families (payment window and billing: client_key; payment widget: widget_client_key)."""

    sdk_url = fields.String(required=True, metadata={"description": "the v1 script"})
    client_key = fields.String(
        required=True, metadata={"description": "API-individual client key (test_ck_...)"}
    )
    sdk_v2_url = fields.String(
        required=True,
        metadata={"description": "the v2 script, for loadTossPayments(clientKey, {src})"},
    )
    widget_client_key = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "payment-widget client key (test_gck_...); null: no widget"},
    )


class PortOneConfigSchema(Schema):
    """PortOne V2: what the browser SDK (@portone/browser-sdk) needs."""

    enabled = fields.Boolean(required=True, metadata={"description": "PORTONE_* settings given"})
    sdk_url = fields.String(
        required=True, metadata={"description": "for setPortOneJsSdkUrl (the fake's outside real)"}
    )
    store_id = fields.String(required=True)
    channel_key = fields.String(required=True)
    prepare = fields.Boolean(required=True, metadata={"description": "amounts pre-registered"})


class VendorsConfigSchema(Schema):
    """Each gateway's browser settings."""

    iamport = fields.Nested(IamportConfigSchema, required=True)
    toss = fields.Nested(TossConfigSchema, required=True)
    portone = fields.Nested(PortOneConfigSchema, required=True)


class CurrencySchema(Schema):
    """A currency's minor unit."""

    exponent = fields.Integer(required=True, metadata={"description": "KRW 0, USD 2"})


class CheckoutConfigSchema(Schema):
    """What the browser needs to run a checkout."""

    mode = fields.String(required=True)
    vendors = fields.Nested(VendorsConfigSchema, required=True)
    products = fields.List(fields.Nested(ProductSchema), required=True)
    currencies = fields.Dict(
        keys=fields.String(), values=fields.Nested(CurrencySchema), required=True
    )
    simulate_deposit = fields.Boolean(required=True)


class OrderItemSchema(Schema):
    """One line of a new order."""

    product_id = row_id(required=True)
    quantity = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1, max=MAX_QUANTITY),
        metadata={
            "description": f"at most {MAX_QUANTITY} of a product per order, its lines added up "
            "(more: 422 QUANTITY_TOO_LARGE)"
        },
    )


class BuyerSchema(Schema):
    """Who pays (optional)."""

    name = fields.String(validate=validate.Length(max=100))
    email = fields.Email()


class CreateOrderSchema(Schema):
    """A new order: what is bought, through which gateway and method."""

    vendor = fields.String(required=True, validate=validate.OneOf(list(VENDORS)))
    method = fields.String(required=True, validate=validate.OneOf(["card", "vbank"]))
    items = fields.List(
        fields.Nested(OrderItemSchema), required=True, validate=validate.Length(min=1, max=50)
    )
    buyer = fields.Nested(BuyerSchema, load_default=None)


class CompleteSchema(Schema):
    """What the browser says it paid."""

    order_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    vendor = fields.String(required=True, validate=validate.OneOf(list(VENDORS)))
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


def _account_digits(value: str) -> None:
    """6 to 20 digits, hyphens allowed between them (Toss takes at most 20 digits)."""
    if not 6 <= sum(c.isdigit() for c in value) <= 20:
        raise ValidationError("An account number has 6 to 20 digits.")


class BankAccountSchema(Schema):
    """The buyer's bank account for a virtual-account refund (passed on, never stored)."""

    bank = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^[0-9A-Za-z]{2,3}$", error="A bank code of the order's gateway."
        ),
        metadata={"description": "the gateway's bank code (Toss `88`, PortOne V1 `088`)"},
    )
    account = fields.String(
        required=True,
        validate=[validate.Regexp(r"^\d+(-\d+)*$", error="Digits and hyphens."), _account_digits],
    )
    holder = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=50), validate.Regexp(r"^\s*\S", error="A name.")],
    )


class RefundSchema(Schema):
    """A full (no amount) or partial refund; a virtual-account order also names the account."""

    amount = MinorUnits(
        load_default=None,
        validate=validate.Range(min=1),
        metadata={"description": "minor units; omitted = the rest"},
    )
    reason = fields.String(required=True, validate=validate.Length(min=1, max=200))
    refund_account = fields.Nested(
        BankAccountSchema,
        load_default=None,
        metadata={"description": "required for a deposited virtual account"},
    )


class OrderLineSchema(Schema):
    """One line of an order, priced from the catalog when the order was made."""

    product_id = fields.Integer(required=True)
    name = fields.String(required=True)
    unit_price = fields.Integer(required=True, metadata={"description": "minor units"})
    quantity = fields.Integer(required=True)


class PaymentCardSchema(Schema):
    """The card a payment was made with, masked."""

    company = fields.String(allow_none=True)
    number = fields.String(allow_none=True)


class VirtualAccountSchema(Schema):
    """The virtual account a deposit is awaited in."""

    bank = fields.String(allow_none=True)
    account = fields.String(allow_none=True)
    holder = fields.String(allow_none=True)
    due = UtcDateTime(allow_none=True)


class EasyPaySchema(Schema):
    """The easy-pay app (간편결제) a payment was made with."""

    provider = fields.String(
        required=True, metadata={"example": "tosspay", "description": "or naverpay, kakaopay, ..."}
    )
    amount = fields.Integer(allow_none=True, metadata={"description": "paid through the app"})
    discount = fields.Integer(allow_none=True, metadata={"description": "the app's discount"})


class OrderPaymentSchema(Schema):
    """The order's payment, as last read from its gateway."""

    payment_id = fields.String(required=True, metadata={"description": "imp_uid or paymentKey"})
    status = fields.String(required=True)
    method = fields.String(
        metadata={"example": "card", "description": "card, vbank, easypay, or the gateway's"}
    )
    amount = fields.Integer(required=True)
    refunded = fields.Integer(required=True, metadata={"description": "money returned"})
    refund_pending = fields.Integer(
        metadata={"description": "refunds on their way to the buyer (not returned yet)"}
    )
    easy_pay = fields.Nested(EasyPaySchema, allow_none=True)
    gateway_status = fields.String(allow_none=True, metadata={"description": "the gateway's own"})
    paid_at = UtcDateTime(allow_none=True)
    card = fields.Nested(PaymentCardSchema, allow_none=True)
    receipt_url = fields.String(allow_none=True)
    vbank = fields.Nested(VirtualAccountSchema, allow_none=True)


class OrderRefundSchema(Schema):
    """One refund of the order's payment."""

    amount = fields.Integer(required=True)
    reason = fields.String(required=True)
    status = fields.String(
        metadata={
            "example": "done",
            "description": "done, pending (paid out later: a virtual account) or failed "
            "(the amount is refundable again)",
        }
    )
    settles_at = UtcDateTime(
        allow_none=True, metadata={"description": "a pending refund's expected payout"}
    )
    created_at = UtcDateTime(required=True)


class SurplusSchema(Schema):
    """A payment the order did not need."""

    payment_id = fields.String(required=True)
    amount = fields.Integer(required=True)
    refunded = fields.Integer(required=True)
    currency = fields.String(required=True)
    reason = fields.String(
        required=True, metadata={"example": "second_payment", "description": "or order_closed"}
    )
    status = fields.String(required=True)
    detected_at = UtcDateTime(required=True)


class OrderSchema(Schema):
    """An order as the browser sees it."""

    order_id = fields.String(required=True)
    vendor = fields.String(required=True)
    method = fields.String(required=True)
    name = fields.String(required=True)
    amount = fields.Integer(required=True)
    currency = fields.String(required=True)
    status = fields.String(required=True)
    items = fields.List(fields.Nested(OrderLineSchema))
    buyer = fields.Nested(BuyerSchema, allow_none=True)
    refunded = fields.Integer(metadata={"description": "money returned"})
    refund_pending = fields.Integer(
        metadata={
            "description": "refunds on their way to the buyer: neither returned nor refundable"
        }
    )
    refundable = fields.Integer()
    payment = fields.Nested(OrderPaymentSchema, allow_none=True)
    refunds = fields.List(fields.Nested(OrderRefundSchema))
    failure = fields.Dict(
        allow_none=True,
        metadata={"description": "{code, message, ...detail}: why the order did not go through"},
    )
    surplus = fields.List(
        fields.Nested(SurplusSchema),
        metadata={"description": "payments the order did not need, refunded by the worker"},
    )
    notice = fields.String(allow_none=True, metadata={"description": "a message for the buyer"})
    notice_url = fields.String(metadata={"description": "iamport only"})
    pg = fields.String(metadata={"description": "iamport only"})
    created_at = UtcDateTime()
    updated_at = UtcDateTime(allow_none=True)

    @post_dump
    def _iamport_only(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """pg and notice_url are answered for iamport orders only."""
        for name in ("notice_url", "pg"):
            if data.get(name) is None:
                data.pop(name, None)
        return data


class OrderListSchema(Schema):
    """Orders for the owner."""

    orders = fields.List(fields.Nested(OrderSchema))


class GatewayViewSchema(Schema):
    """What the gateway says about an order's payment (the owner's debugging view)."""

    vendor = fields.String(required=True)
    live = fields.Boolean(
        required=True, metadata={"description": "false: the gateway failed; payment as last read"}
    )
    error = fields.String(metadata={"description": "why the gateway was not read (live false)"})
    payment = fields.Dict(
        allow_none=True, metadata={"description": "the gateway's own payment object, unchanged"}
    )


class OrderListQuerySchema(Schema):
    """Filters of the owner's order list."""

    status = fields.String(load_default=None)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
