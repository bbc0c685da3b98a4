"""Toss Payments V1: payments and billing, and its registry entry."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from payment_backend.vendors.base import Vendor
from payment_backend.vendors.toss.billing import TossClient, billing_card
from payment_backend.vendors.toss.payments import WEBHOOK_PATH, normalize

__all__ = ["VENDOR", "WEBHOOK_PATH", "TossClient", "billing_card", "connect", "normalize"]


def connect(settings: Mapping[str, Any]) -> TossClient:
    """The client for the app's settings."""
    return TossClient(
        settings["TOSS_API_URL"],
        settings["TOSS_SECRET_KEY"],
        settings,
        widget_secret_key=settings.get("TOSS_WIDGET_SECRET_KEY"),
    )


VENDOR = Vendor(
    name="toss",
    payment_id=re.compile(r"[0-9A-Za-z_-]{1,200}"),  # 48 random characters, or tviva2023...vM4Q2
    normalize=normalize,
    connect=connect,
    seed_code="toss.payments",
    webhook="Toss PAYMENT_STATUS_CHANGED, DEPOSIT_CALLBACK (secret checked) and BILLING_DELETED.",
)
