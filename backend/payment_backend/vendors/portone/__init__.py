"""PortOne V2: payments and billing through the official server SDK, and its registry entry."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from payment_backend.vendors.base import Vendor
from payment_backend.vendors.portone.billing import PortOneClient, key_card
from payment_backend.vendors.portone.objects import normalize
from payment_backend.vendors.portone.payments import WEBHOOK_PATH

__all__ = ["VENDOR", "WEBHOOK_PATH", "PortOneClient", "connect", "key_card", "normalize"]


def connect(settings: Mapping[str, Any]) -> PortOneClient:
    """The client for the app's settings (PORTONE_API_URL: the fake outside real mode)."""
    return PortOneClient(settings)


VENDOR = Vendor(
    name="portone",
    # The merchant's own ids: ours are order ids (ord_..., sub_..._p1); other services' may be
    # payment-<uuid>. Nothing that could leave its URL path segment.
    payment_id=re.compile(r"[0-9A-Za-z_-]{1,128}"),
    normalize=normalize,
    connect=connect,
    seed_code="portone",
    webhook="PortOne V2 Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature with "
    "PORTONE_WEBHOOK_SECRET; 401 unless verified) {type, timestamp, data{paymentId}}: "
    "Transaction.* re-reads the payment, then settles; BillingKey.* is noted.",
)
