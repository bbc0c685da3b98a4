"""Subscriptions API schemas (browser <-> backend, owner, test clock); amounts in minor units."""

from typing import Any

from marshmallow import Schema, fields, post_dump, validate

from payment_backend.schemas.checkout import BuyerSchema
from payment_backend.schemas.fields import MinorUnits, UtcDateTime, row_id
from payment_backend.vendors import VENDORS


class PlanSchema(Schema):
    """A plan on offer."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    amount = fields.Integer(required=True, metadata={"description": "minor units per interval"})
    currency = fields.String(required=True, metadata={"example": "KRW"})
    interval = fields.String(required=True, metadata={"enum": ["month"]})


class PlanListSchema(Schema):
    """The plans on offer."""

    plans = fields.List(fields.Nested(PlanSchema), required=True)


class CreateSubscriptionSchema(Schema):
    """A new subscription: which plan, through which gateway, for whom."""

    plan_id = row_id(required=True)
    vendor = fields.String(required=True, validate=validate.OneOf(list(VENDORS)))
    buyer = fields.Nested(BuyerSchema, load_default=None)


class CardProofSchema(Schema):
    """What the billing window returned: PortOne V1 imp_uid, Toss auth_key and customer_key, or
    PortOne V2 billing_key."""

    imp_uid = fields.String(load_default=None, validate=validate.Length(min=1, max=200))
    auth_key = fields.String(load_default=None, validate=validate.Length(min=1, max=300))
    customer_key = fields.String(load_default=None, validate=validate.Length(min=1, max=300))
    billing_key = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=300),
        metadata={"description": "PortOne V2: requestIssueBillingKey's billingKey"},
    )


class CancelSchema(Schema):
    """Why the subscriber cancels (optional)."""

    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=300))


class SubscriptionPlanSchema(PlanSchema):
    """The plan as subscribed (the amount is the one locked in when subscribing)."""


class CardSchema(Schema):
    """The card behind the billing key, masked."""

    company = fields.String(allow_none=True)
    number = fields.String(allow_none=True)


class RetrySchema(Schema):
    """While past_due: how many attempts failed and when the next one runs."""

    attempt = fields.Integer(required=True)
    next_retry_at = UtcDateTime(required=True)


class ChargeSchema(Schema):
    """One period's charge."""

    id = fields.Integer(required=True)
    period = fields.Integer(required=True)
    amount = fields.Integer(required=True)
    currency = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["scheduled", "paid", "failed"]})
    due_at = UtcDateTime(allow_none=True, metadata={"description": "when it is (next) tried"})
    scheduled_at = UtcDateTime(allow_none=True, metadata={"description": "while scheduled"})
    attempted_at = UtcDateTime(allow_none=True, metadata={"description": "the last attempt"})
    failed_at = UtcDateTime(allow_none=True, metadata={"description": "while failed"})
    paid_at = UtcDateTime(allow_none=True)
    failure = fields.String(allow_none=True)
    attempts = fields.Integer(required=True)
    key_issue = fields.Boolean(
        required=True, metadata={"description": "the PortOne payment that issued the billing key"}
    )
    payment_id = fields.String(allow_none=True, metadata={"description": "imp_uid or paymentKey"})
    refunded = fields.Integer(metadata={"description": "refunded by the owner (minor units)"})


class SubscriptionSchema(Schema):
    """A subscription as the subscriber sees it (notes/SUBSCRIPTIONS_API.md)."""

    subscription_id = fields.String(required=True)
    vendor = fields.String(required=True)
    plan = fields.Nested(SubscriptionPlanSchema, required=True)
    status = fields.String(
        required=True, metadata={"enum": ["incomplete", "active", "past_due", "canceled"]}
    )
    card = fields.Nested(CardSchema, allow_none=True)
    current_period = fields.Integer(allow_none=True)
    current_period_start = UtcDateTime(allow_none=True)
    current_period_end = UtcDateTime(allow_none=True)
    next_charge_at = UtcDateTime(allow_none=True)
    next_charge_amount = fields.Integer(allow_none=True)
    access_until = UtcDateTime(allow_none=True)
    canceled_at = UtcDateTime(allow_none=True)
    cancel_reason = fields.String(allow_none=True)
    retry = fields.Nested(RetrySchema, allow_none=True)
    buyer = fields.Dict(allow_none=True)
    charges = fields.List(fields.Nested(ChargeSchema), required=True)
    setup = fields.Dict(
        metadata={
            "description": "while a billing key is to be set up in the browser: what the "
            "gateway's SDK is handed (per gateway, vendors/<name>/billing.py key_setup)"
        }
    )
    created_at = UtcDateTime(required=True)

    @post_dump
    def _setup_only_while_open(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """No `setup` key at all once no card window is open (the browser contract)."""
        if data.get("setup") is None:
            data.pop("setup", None)
        return data


class SetupSchema(Schema):
    """The setup for a new billing key (same shape as a new subscription's `setup`)."""

    setup = fields.Dict(required=True, metadata={"description": "as SubscriptionSchema's"})


class SubscriptionListSchema(Schema):
    """Subscriptions for the owner, newest first."""

    subscriptions = fields.List(fields.Nested(SubscriptionSchema), required=True)


class DashboardQuerySchema(Schema):
    """How many calendar months to show, this one included."""

    months = fields.Integer(
        load_default=6,
        validate=validate.Range(min=1, max=24),
        metadata={"example": 12},
    )


class MonthSchema(Schema):
    """One calendar month in the settlement time zone (amounts in minor units)."""

    month = fields.String(required=True, metadata={"example": "2026-07"})
    start = fields.DateTime(required=True, metadata={"description": "in the settlement time zone"})
    end = fields.DateTime(required=True, metadata={"description": "exclusive"})
    joined = fields.Integer(required=True, metadata={"description": "subscriptions activated"})
    new = fields.Integer(required=True, metadata={"description": "the same as joined"})
    canceled = fields.Integer(required=True, metadata={"description": "canceled by subscribers"})
    churned = fields.Integer(
        required=True,
        metadata={"description": "canceled by dunning: the last retry of a renewal declined"},
    )
    active_at_end = fields.Integer(
        required=True,
        metadata={"description": "active or past due at the month's end (this month: now)"},
    )
    mrr = fields.Integer(required=True, metadata={"description": "their plans' monthly amounts"})
    revenue = fields.Integer(required=True, metadata={"description": "paid charges"})
    refunds = fields.Integer(required=True, metadata={"description": "refunded of charges"})
    net = fields.Integer(required=True, metadata={"description": "revenue - refunds"})
    failed = fields.Integer(required=True, metadata={"description": "declined charge attempts"})


class DashboardSchema(Schema):
    """The owner's figures, computed from the records; `months` oldest first."""

    active = fields.Integer(required=True)
    past_due = fields.Integer(required=True)
    new_this_month = fields.Integer(required=True, attribute="this_month.joined")
    canceled_this_month = fields.Integer(required=True, attribute="this_month.canceled")
    churned_this_month = fields.Integer(required=True, attribute="this_month.churned")
    failed_charges_this_month = fields.Integer(required=True, attribute="this_month.failed")
    mrr = fields.Integer(
        required=True, metadata={"description": "minor units per month, active and past due"}
    )
    currency = fields.String(required=True)
    timezone = fields.String(required=True, metadata={"example": "Asia/Seoul"})
    months = fields.List(fields.Nested(MonthSchema), required=True)


class RefundChargeSchema(Schema):
    """The owner's refund of a paid period: all that is left, or `amount`."""

    amount = MinorUnits(
        load_default=None,
        validate=validate.Range(min=1),
        metadata={"description": "minor units; omitted = the rest"},
    )
    reason = fields.String(required=True, validate=validate.Length(min=1, max=200))
