"""The service's outbound notifications: verify their signature and read them.

The service POSTs every change of a registered payment to its webhook_url (and subscription
events to SUBSCRIPTION_WEBHOOK_URL), signed the Standard Webhooks way with the service's
PAYMENT_WEBHOOK_SIGNING_SECRET:

    webhook-id: <the notification's id>
    webhook-timestamp: <unix seconds>
    webhook-signature: v1,Base64(HMAC-SHA256(key, "<id>.<timestamp>.<body>"))

where the secret is `whsec_<base64 of the key>`, so any Standard Webhooks library (for example
`standardwebhooks` on PyPI) verifies the notifications too.

The body is JSON {id, event?, source, previous, current} (payment notifications carry no
`event`; previous and current are the payment before and after, the seed's IPaymentHistory),
or, when the service runs with PAYMENT_SEED_WEBHOOK_ENCRYPTION, that JSON encrypted like the
service API's bodies (pass the client's cipher to read it). Deliveries are retried, so the same
`id` may arrive more than once: handle it once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from payment_api.cipher import BodyCipher
from payment_api.errors import ProtocolError, WebhookVerificationError
from payment_api.models import PaymentHistory, Source

PAYMENT_UPDATED = "payment.updated"
# How far the signed timestamp may be from the receiver's clock (Standard Webhooks' default).
TOLERANCE_SECONDS = 300


@dataclass(frozen=True)
class Notification:
    """A verified notification: what changed, before and after."""

    id: str
    event: str  # "payment.updated", or subscription.* events
    source: Source | None
    previous: dict[str, Any] | None
    current: dict[str, Any]
    timestamp: datetime

    @property
    def previous_payment(self) -> PaymentHistory | None:
        """The payment before the change (payment notifications; None for a first one)."""
        if self.event != PAYMENT_UPDATED or not self.previous:
            return None
        return PaymentHistory.from_dict(self.previous)

    @property
    def current_payment(self) -> PaymentHistory | None:
        """The payment after the change (None for other events)."""
        if self.event != PAYMENT_UPDATED:
            return None
        return PaymentHistory.from_dict(self.current)


def signing_key(secret: str) -> bytes:
    """whsec_<base64> is decoded (Standard Webhooks); an older secret without the prefix signs
    with its UTF-8 bytes."""
    if secret.startswith("whsec_"):
        return base64.b64decode(secret[len("whsec_") :] + "==")
    return secret.encode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The service's signature of a body: v1,Base64(HMAC-SHA256(key, id.timestamp.body))."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    mac = hmac.new(signing_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def verify_webhook(
    secret: str,
    headers: Mapping[str, str],
    body: bytes | str,
    *,
    tolerance: float | None = TOLERANCE_SECONDS,
    now: float | None = None,
    cipher: BodyCipher | None = None,
) -> Notification:
    """Check a received notification and read it; raises WebhookVerificationError.

    `body` must be exactly the bytes received (before any JSON parsing). `tolerance` bounds the
    age of the signed timestamp (None skips the check, e.g. while a test clock is moved).
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    message_id = lowered.get("webhook-id", "")
    stamp = lowered.get("webhook-timestamp", "")
    signatures = lowered.get("webhook-signature", "")
    if not (message_id and stamp and signatures):
        raise WebhookVerificationError("webhook-id, webhook-timestamp or webhook-signature missing")
    try:
        timestamp = int(stamp)
    except ValueError as exc:
        raise WebhookVerificationError(f"webhook-timestamp is not a number: {stamp!r}") from exc
    if tolerance is not None:
        skew = abs((time.time() if now is None else now) - timestamp)
        if skew > tolerance:
            raise WebhookVerificationError(
                f"webhook-timestamp is {skew:.0f} s away from now (more than {tolerance:.0f} s)"
            )
    raw = body.encode() if isinstance(body, str) else body
    expected = sign(secret, message_id, timestamp, raw).encode()
    # Several space-separated signatures may be sent while the secret is rotated.
    if not any(hmac.compare_digest(s.encode(), expected) for s in signatures.split()):
        raise WebhookVerificationError("webhook-signature does not match: wrong secret or body")
    payload = _payload(raw, lowered.get("content-type", ""), cipher)
    if payload.get("id") != message_id:
        raise WebhookVerificationError("the body's id is not the signed webhook-id")
    source = payload.get("source")
    return Notification(
        id=message_id,
        event=payload.get("event") or PAYMENT_UPDATED,
        source=Source(source["schema"], source["table"], source["id"]) if source else None,
        previous=payload.get("previous"),
        current=payload.get("current") or {},
        timestamp=datetime.fromtimestamp(timestamp, UTC),
    )


def _payload(raw: bytes, content_type: str, cipher: BodyCipher | None) -> dict[str, Any]:
    try:
        if content_type.startswith("text/plain"):
            if cipher is None:
                raise WebhookVerificationError(
                    "the body is encrypted (seed-compatible mode): pass the client's cipher"
                )
            value = cipher.decrypt(raw)
        else:
            value = json.loads(raw)
    except (ValueError, binascii.Error, ProtocolError) as exc:
        raise WebhookVerificationError(f"the body cannot be read: {exc}") from exc
    if not isinstance(value, dict):
        raise WebhookVerificationError("the body is not a JSON object")
    return value
