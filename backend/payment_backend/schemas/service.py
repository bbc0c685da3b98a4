"""The seed-compatible service API: bodies after decryption (requests) and before encryption (answers)."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from payment_backend.money import CURRENCIES
from payment_backend.schemas.fields import MinorUnits, UtcDateTime
from payment_backend.vendors import VENDOR_BY_SEED_CODE


class SeedSchema(Schema):
    """Unknown members are dropped, as the seed's clients may send more than we read."""

    class Meta:
        unknown = EXCLUDE


class VendorSchema(SeedSchema):
    """Which gateway payment: `iamport` (imp_uid) or `toss.payments` (paymentKey)."""

    code = fields.String(required=True, validate=validate.OneOf(list(VENDOR_BY_SEED_CODE)))
    store_id = fields.String(load_default="", validate=validate.Length(max=100))
    uid = fields.String(required=True, validate=validate.Length(min=1, max=200))


class SourceSchema(SeedSchema):
    """The caller's own order reference; `id` is the gateway's merchant_uid / orderId."""

    schema = fields.String(required=True, validate=validate.Length(min=1, max=100))
    table = fields.String(required=True, validate=validate.Length(min=1, max=100))
    id = fields.String(required=True, validate=validate.Length(min=1, max=100))


class SourceAccessorSchema(SourceSchema):
    """A source reference and the record's password (PATCH /payments/histories/get)."""

    password = fields.String(required=True, validate=validate.Length(min=1, max=500))


class PasswordSchema(SeedSchema):
    """The record's password (PATCH /payments/histories/{id})."""

    password = fields.String(required=True, validate=validate.Length(min=1, max=500))


class HistoryCreateSchema(SeedSchema):
    """IPaymentHistory.ICreate; `currency` is our addition (default KRW, as the seed assumed)."""

    vendor = fields.Nested(VendorSchema, required=True)
    source = fields.Nested(SourceSchema, required=True)
    price = MinorUnits(required=True, validate=validate.Range(min=0))
    currency = fields.String(load_default="KRW", validate=validate.OneOf(list(CURRENCIES)))
    password = fields.String(required=True, validate=validate.Length(min=1, max=500))
    webhook_url = fields.String(required=True, validate=validate.Length(min=1, max=1024))


class RefundAccountSchema(SeedSchema):
    """Where a refunded virtual-account deposit goes (passed to the gateway, never stored)."""

    bank = fields.String(required=True, validate=validate.Length(min=1, max=50))
    account = fields.String(required=True, validate=validate.Length(min=1, max=50))
    holder = fields.String(required=True, validate=validate.Length(min=1, max=100))
    mobile = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=30))


class CancelCreateSchema(SeedSchema):
    """IPaymentCancelHistory.ICreate; `price` null or absent refunds all that is left."""

    source = fields.Nested(SourceSchema, required=True)
    password = fields.String(required=True, validate=validate.Length(min=1, max=500))
    price = MinorUnits(load_default=None, allow_none=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))
    account = fields.Nested(RefundAccountSchema, load_default=None, allow_none=True)


class PaymentCancelSchema(Schema):
    """One refund as the gateway recorded it."""

    id = fields.String()
    price = fields.Integer(metadata={"description": "minor units"})
    reason = fields.String()
    created_at = UtcDateTime(metadata={"description": "the gateway's cancel time"})
    data = fields.Dict(metadata={"description": "the gateway's cancel entry"})


class PaymentHistorySchema(Schema):
    """IPaymentHistory: what every histories route answers (encrypted)."""

    id = fields.String()
    vendor = fields.Nested(VendorSchema)
    source = fields.Nested(SourceSchema)
    currency = fields.String()
    price = fields.Integer(metadata={"description": "minor units"})
    refund = fields.Integer(allow_none=True, metadata={"description": "null when nothing refunded"})
    status = fields.String(
        metadata={
            "description": "awaiting_deposit|paid|partially_refunded|refunded|cancelled|failed"
        }
    )
    webhook_url = fields.String(allow_none=True)
    created_at = UtcDateTime()
    paid_at = UtcDateTime(allow_none=True)
    cancelled_at = UtcDateTime(allow_none=True, metadata={"description": "the first cancel"})
    cancels = fields.List(fields.Nested(PaymentCancelSchema))
    data = fields.Dict(metadata={"description": "the gateway's payment object"})


class ReservationCreateSchema(SeedSchema):
    """IPaymentReservation.ICreate: a billing key to record (iamport uid = customer_uid)."""

    vendor = fields.Nested(VendorSchema, required=True)
    source = fields.Nested(SourceSchema, required=True)
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    password = fields.String(required=True, validate=validate.Length(min=1, max=500))


class CardSummarySchema(Schema):
    """The card behind a billing key, masked."""

    company = fields.String(allow_none=True)
    number = fields.String(allow_none=True)


class PaymentReservationSchema(Schema):
    """IPaymentReservation: what every reservations route answers (encrypted)."""

    id = fields.String()
    vendor = fields.Nested(VendorSchema, metadata={"description": "uid: the billing key"})
    source = fields.Nested(SourceSchema)
    title = fields.String()
    card = fields.Nested(CardSummarySchema, allow_none=True)
    data = fields.Dict(metadata={"description": "the gateway's billing key object"})
    created_at = UtcDateTime()
