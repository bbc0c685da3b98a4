"""Billing-key subscriptions: subscribe, activate, renew each period, retry declines, cancel.

A package split by lifecycle; what the API, the handlers and the webhook intake use is here:

- periods: dates, order ids, charge rows and charge jobs of the periods; the subscription's lock
- views: what the subscriber sees (data classes; schemas/subscriptions.py dumps them)
- events: the outbound webhooks and audit entries of a change
- activation: a new subscription and its first card
- booking: the next period, booked at the gateway (books_ahead) or queued for the worker
- recording: a period paid once, a decline retried, the end after the last retry
- renewals: the charge job's work and the gateway's webhooks for a period
- cards: replacing the card; cancellation: the end, and the owner's refunds

No module here names a gateway: vendors/base.py's Payments and Billing capabilities do.
"""

from __future__ import annotations

from payment_backend.services.subscriptions.activation import activate, create
from payment_backend.services.subscriptions.cancellation import cancel, refund_charge
from payment_backend.services.subscriptions.cards import confirm_card, start_card_change
from payment_backend.services.subscriptions.periods import (
    FIRST_PERIOD_LOOKS,
    RETRY_DELAYS,
    UNAVAILABLE_RETRY,
    add_months,
    card_order_id,
    charge_order_id,
    get,
    list_all,
    lock,
    open_charge,
    period_end,
    period_start,
    plans,
)
from payment_backend.services.subscriptions.renewals import apply_webhook, ensure_charged
from payment_backend.services.subscriptions.views import (
    ChargeView,
    SubscriptionSummary,
    SubscriptionView,
    charge_view,
    setup,
    summary,
    view,
)

__all__ = [
    "FIRST_PERIOD_LOOKS",
    "RETRY_DELAYS",
    "UNAVAILABLE_RETRY",
    "ChargeView",
    "SubscriptionSummary",
    "SubscriptionView",
    "activate",
    "add_months",
    "apply_webhook",
    "cancel",
    "card_order_id",
    "charge_order_id",
    "charge_view",
    "confirm_card",
    "create",
    "ensure_charged",
    "get",
    "list_all",
    "lock",
    "open_charge",
    "period_end",
    "period_start",
    "plans",
    "refund_charge",
    "setup",
    "start_card_change",
    "summary",
    "view",
]
