"""Python client of the payment service's API (the seed-compatible encrypted service API).

    from payment_api import PaymentClient, Source, Vendor

    with PaymentClient("http://127.0.0.1:37821", key, iv) as client:
        history = client.create_history(
            Vendor("iamport", imp_uid), Source("shop", "orders", order_id), 20000,
            password, "https://shop.example/payments/webhook",
        )
        client.cancel_history(history.source, password, 5000, "partial refund")

Errors are the exceptions of payment_api.errors (see the table at its top).
"""

from payment_api import errors
from payment_api.client import PaymentClient
from payment_api.errors import PaymentApiError
from payment_api.models import (
    IAMPORT,
    TOSS,
    PaymentCancel,
    PaymentHistory,
    PaymentReservation,
    RefundAccount,
    Source,
    Vendor,
)

__all__ = [
    "IAMPORT",
    "TOSS",
    "PaymentApiError",
    "PaymentCancel",
    "PaymentClient",
    "PaymentHistory",
    "PaymentReservation",
    "RefundAccount",
    "Source",
    "Vendor",
    "errors",
]
