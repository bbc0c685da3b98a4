"""Subscriptions for the browser (plain JSON), and the owner's list and dashboard."""

from __future__ import annotations

from collections.abc import Callable

from flask_smorest import Blueprint

from payment_backend.api.auth import ADMIN_SECURITY, document_admin_security, require_admin
from payment_backend.errors import ERRORS, error_doc
from payment_backend.limits import rate_limited
from payment_backend.openapi import link, links
from payment_backend.schemas.subscriptions import (
    CancelSchema,
    CardProofSchema,
    CreateSubscriptionSchema,
    DashboardQuerySchema,
    DashboardSchema,
    PlanListSchema,
    RefundChargeSchema,
    SetupSchema,
    SubscriptionListSchema,
    SubscriptionSchema,
)
from payment_backend.services import dashboard, subscriptions
from payment_backend.services.idempotency import idempotent

blp = Blueprint(
    "subscriptions",
    __name__,
    url_prefix="/api/subscriptions",
    description="Billing-key subscriptions (browser)",
)
admin_blp = Blueprint(
    "admin_subscriptions",
    __name__,
    url_prefix="/api/admin/subscriptions",
    description="Owner: subscriptions and their figures",
)
admin_blp.record_once(lambda state: document_admin_security(state.app))
SUBSCRIPTION = "/api/subscriptions/{sub_id}"


@blp.route("/plans")
@blp.response(200, PlanListSchema)
def list_plans():
    """The plans on offer."""
    return {"plans": subscriptions.plans()}


@blp.route("", methods=["POST"])
@rate_limited("subscriptions")
@blp.arguments(CreateSubscriptionSchema)
@blp.response(201, SubscriptionSchema)
@blp.alt_response(422, **error_doc("UNKNOWN_PLAN"))
@blp.alt_response(502, **error_doc("GATEWAY_UNAVAILABLE", "GATEWAY_REFUSED"))
@blp.doc(
    **links(
        201,
        GetSubscription=link(SUBSCRIPTION, sub_id="$response.body#/subscription_id"),
        Activate=link(f"{SUBSCRIPTION}/activate", "post", sub_id="$response.body#/subscription_id"),
        Cancel=link(f"{SUBSCRIPTION}/cancel", "post", sub_id="$response.body#/subscription_id"),
        ChangeCard=link(f"{SUBSCRIPTION}/card", "post", sub_id="$response.body#/subscription_id"),
        ConfirmCard=link(
            f"{SUBSCRIPTION}/card/confirm", "post", sub_id="$response.body#/subscription_id"
        ),
    )
)
@idempotent("subscriptions.create", authenticate=None)
def create(body):
    """Start a subscription (status incomplete) and get the `setup` for the card window.

    An Idempotency-Key header makes a repeat answer the first subscription."""
    sub = subscriptions.create(body["plan_id"], body["vendor"], body["buyer"])
    return SubscriptionSchema().dump(subscriptions.view(sub))  # stored as answered, for a replay


@blp.route("/<sub_id>")
@blp.response(200, SubscriptionSchema)
@blp.alt_response(404, **error_doc("SUBSCRIPTION_NOT_FOUND"))
def get(sub_id: str):
    """A subscription with its charges."""
    return subscriptions.view(subscriptions.get(sub_id))


def _takes_card_proof(view: Callable) -> Callable:
    """The card window's answer in, the subscription out (402 when the card is declined)."""
    for decorate in (
        blp.alt_response(502, **error_doc("GATEWAY_UNAVAILABLE")),
        blp.alt_response(422, **error_doc("INVALID_PAYMENT_ID", "VALIDATION_ERROR")),
        blp.alt_response(409, **ERRORS),
        blp.alt_response(404, **error_doc("SUBSCRIPTION_NOT_FOUND", "PAYMENT_NOT_FOUND")),
        blp.alt_response(402, **error_doc("CHARGE_DECLINED")),
        blp.response(200, SubscriptionSchema),
        blp.arguments(CardProofSchema),
    ):
        view = decorate(view)
    return view


@blp.route("/<sub_id>/activate", methods=["POST"])
@rate_limited("subscriptions")
@_takes_card_proof
def activate(body, sub_id: str):
    """Verify the first card ({imp_uid} or {auth_key, customer_key}) and pay the first period."""
    return subscriptions.view(subscriptions.activate(sub_id, body))


@blp.route("/<sub_id>/cancel", methods=["POST"])
@rate_limited("subscriptions")
@blp.arguments(CancelSchema)
@blp.response(200, SubscriptionSchema)
@blp.alt_response(404, **error_doc("SUBSCRIPTION_NOT_FOUND"))
@blp.alt_response(409, **error_doc("GATEWAY_REFUSED"))
@blp.alt_response(502, **error_doc("GATEWAY_UNAVAILABLE"))
def cancel(body, sub_id: str):
    """Stop future charges; access lasts to the end of the paid period; nothing is refunded."""
    return subscriptions.view(subscriptions.cancel(sub_id, body["reason"]))


@blp.route("/<sub_id>/card", methods=["POST"])
@rate_limited("subscriptions")
@blp.response(200, SetupSchema)
@blp.alt_response(404, **error_doc("SUBSCRIPTION_NOT_FOUND"))
@blp.alt_response(409, **error_doc("SUBSCRIPTION_NOT_ACTIVE"))
def start_card_change(sub_id: str):
    """The setup for a new billing key (same shape as a new subscription's)."""
    return {"setup": subscriptions.start_card_change(sub_id)}


@blp.route("/<sub_id>/card/confirm", methods=["POST"])
@rate_limited("subscriptions")
@_takes_card_proof
def confirm_card(body, sub_id: str):
    """Switch to the new card; a past-due period is charged with it at once."""
    return subscriptions.view(subscriptions.confirm_card(sub_id, body))


@admin_blp.before_request
def _admin_only() -> None:
    require_admin()


@admin_blp.route("")
@admin_blp.response(200, SubscriptionListSchema)
@admin_blp.doc(security=ADMIN_SECURITY)
def list_subscriptions():
    """Every subscription, newest first."""
    return {"subscriptions": [subscriptions.view(s) for s in subscriptions.list_all()]}


@admin_blp.route("/<sub_id>/charges/<int(max=100000):period>/refund", methods=["POST"])
@admin_blp.arguments(RefundChargeSchema)
@admin_blp.response(200, SubscriptionSchema)
@admin_blp.alt_response(404, **error_doc("SUBSCRIPTION_NOT_FOUND", "PAYMENT_NOT_FOUND"))
@admin_blp.alt_response(409, **error_doc("NOT_REFUNDABLE", "OVER_REFUND", "GATEWAY_REFUSED"))
@admin_blp.alt_response(502, **error_doc("GATEWAY_UNAVAILABLE", "REFUND_OUTCOME_UNKNOWN"))
@admin_blp.doc(security=ADMIN_SECURITY)
@idempotent("subscriptions.refund", authenticate=require_admin)
def refund_charge(body, sub_id: str, period: int):
    """Refund a paid period (all that is left, or a part): canceling never refunds by itself."""
    sub = subscriptions.refund_charge(sub_id, period, body["amount"], body["reason"])
    return SubscriptionSchema().dump(subscriptions.view(sub))  # stored as answered, for a replay


@admin_blp.route("/dashboard")
@admin_blp.arguments(DashboardQuerySchema, location="query")
@admin_blp.response(200, DashboardSchema)
@admin_blp.alt_response(401, **error_doc("ADMIN_TOKEN_REQUIRED"))
@admin_blp.doc(security=ADMIN_SECURITY)
def owner_dashboard(query):
    """Each calendar month (Asia/Seoul): joined, canceled, churned by dunning, active at its
    end, revenue and refunds; now's active, past due and MRR."""
    return dashboard.dashboard(query["months"])
