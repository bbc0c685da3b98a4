"""Python client of the payment service's API: the seed-compatible encrypted service API
(histories, reservations) and the plain-JSON subscription routes, in one class.

    from payment_api import PaymentClient, Source, Vendor

    with PaymentClient("http://127.0.0.1:37821", key, iv) as client:
        history = client.create_history(
            Vendor("iamport", imp_uid), Source("shop", "orders", order_id), 20000,
            password, "https://shop.example/payments/webhook",
        )
        client.cancel_history(history.source, password, 5000, "partial refund")
        subscription = client.get_subscription("sub_...")

Errors are the exceptions of payment_api.errors (see the table at its top); the service's
notifications are checked with PaymentClient.verify_webhook (payment_api.webhooks).
"""

from payment_api import errors
from payment_api.client import PaymentClient
from payment_api.errors import PaymentApiError
from payment_api.models import (
    IAMPORT,
    PORTONE,
    TOSS,
    DashboardMonth,
    PaymentCancel,
    PaymentHistory,
    PaymentReservation,
    Plan,
    RefundAccount,
    Source,
    Subscription,
    SubscriptionCard,
    SubscriptionCharge,
    SubscriptionDashboard,
    SubscriptionRetry,
    Vendor,
)
from payment_api.webhooks import Notification, verify_webhook

__all__ = [
    "IAMPORT",
    "PORTONE",
    "TOSS",
    "DashboardMonth",
    "Notification",
    "PaymentApiError",
    "PaymentCancel",
    "PaymentClient",
    "PaymentHistory",
    "PaymentReservation",
    "Plan",
    "RefundAccount",
    "Source",
    "Subscription",
    "SubscriptionCard",
    "SubscriptionCharge",
    "SubscriptionDashboard",
    "SubscriptionRetry",
    "Vendor",
    "errors",
    "verify_webhook",
]
