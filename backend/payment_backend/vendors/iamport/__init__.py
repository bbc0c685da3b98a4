"""PortOne (iamport) V1: payments and billing, and its registry entry."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from payment_backend.vendors.base import Vendor
from payment_backend.vendors.iamport.billing import IamportClient, customer_card
from payment_backend.vendors.iamport.payments import WEBHOOK_PATH, normalize

__all__ = ["VENDOR", "WEBHOOK_PATH", "IamportClient", "connect", "customer_card", "normalize"]


def connect(settings: Mapping[str, Any]) -> IamportClient:
    """The client for the app's settings."""
    return IamportClient(
        settings["IAMPORT_API_URL"],
        settings["IAMPORT_API_KEY"],
        settings["IAMPORT_API_SECRET"],
        settings,
    )


VENDOR = Vendor(
    name="iamport",
    payment_id=re.compile(r"imp_[0-9A-Za-z]{1,28}"),  # imp_448280090638, at most 32 characters
    normalize=normalize,
    connect=connect,
    seed_code="iamport",
    webhook="PortOne notification {imp_uid, merchant_uid, status}: the payment is re-read, "
    "then settled.",
)
