"""PortOne V2 webhooks (version 2024-04-25): the bodies, Standard Webhooks signatures, retries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import secrets
import time
from collections.abc import Iterable

from fake_common.clock import Clock
from fake_common.faults import FaultRules
from fake_common.webhooks import WebhookSender
from fake_portone.models import Payment, WebhookRecord, iso, new_id

# Five retries, 1, 4, 16, 64 and 256 minutes after the previous try (portone-v2.md §9.1); the
# sender takes offsets from the first attempt, so these are the running sums.
RETRY_INTERVALS_MINUTES = (1, 4, 16, 64, 256)
RETRY_OFFSETS_SECONDS = tuple(60.0 * m for m in itertools.accumulate(RETRY_INTERVALS_MINUTES))
MAX_EXECUTIONS = 1 + len(RETRY_INTERVALS_MINUTES)
# How far back a stale_timestamp fault dates the header: past the receivers' 300 s tolerance.
STALE_SECONDS = 600
USER_AGENT = "PortOne-Webhook/2024-04-25 (fake_portone)"

# Transaction.* type per payment status reached.
TRANSACTION_TYPES = {
    "READY": "Transaction.Ready",
    "PAY_PENDING": "Transaction.PayPending",
    "VIRTUAL_ACCOUNT_ISSUED": "Transaction.VirtualAccountIssued",
    "PAID": "Transaction.Paid",
    "FAILED": "Transaction.Failed",
    "PARTIAL_CANCELLED": "Transaction.PartialCancelled",
    "CANCELLED": "Transaction.Cancelled",
}


def secret_bytes(secret: str) -> bytes:
    """The HMAC key of a whsec_ secret: base64 after the prefix."""
    return base64.b64decode(secret.removeprefix("whsec_"))


def sign(secret: str, msg_id: str, timestamp: str, payload: str) -> str:
    """The Standard Webhooks signature entry: v1,base64(HMAC-SHA256(id.timestamp.body))."""
    digest = hmac.new(
        secret_bytes(secret), f"{msg_id}.{timestamp}.{payload}".encode(), hashlib.sha256
    ).digest()
    return "v1," + base64.b64encode(digest).decode()


def payload_of(body: dict) -> str:
    """The body exactly as the sender puts it on the wire (the text that is signed)."""
    return json.dumps(body, ensure_ascii=False)


class PortOneEvents:
    """Builds webhook bodies and hands them to the sender, signed anew for every attempt."""

    def __init__(
        self, sender: WebhookSender, clock: Clock, faults: FaultRules, config: dict
    ) -> None:
        self._sender = sender
        self._clock = clock
        self._faults = faults
        self._config = config

    def urls(self, notice_urls: Iterable[str] | None) -> list[str]:
        """Where a webhook goes: the request's noticeUrls, else the configured URL, else nowhere."""
        urls = [u for u in (notice_urls or []) if u]
        if urls:
            return urls
        return [self._config["WEBHOOK_URL"]] if self._config.get("WEBHOOK_URL") else []

    def send(self, url: str, body: dict, msg_id: str | None = None) -> str:
        """Queue one signed delivery with PortOne's retries; returns the sender's id."""
        msg_id = msg_id or "msg_" + secrets.token_hex(12)
        payload = payload_of(body)
        fault = self._faults.signing_action(url)
        secret = self._config["WEBHOOK_SECRET"]

        def headers(retry_count: int) -> dict:
            # Receivers check the timestamp against their wall clock, so it is real time (the
            # body's timestamp is the event's, on the fake clock); a fault spoils the first try.
            stamp = int(time.time())
            if fault == "stale_timestamp" and retry_count == 0:
                stamp -= STALE_SECONDS
            signature = sign(secret, msg_id, str(stamp), payload)
            if fault == "corrupt_signature" and retry_count == 0:
                signature = sign(
                    "whsec_" + base64.b64encode(b"x" * 32).decode(), msg_id, str(stamp), payload
                )
            return {
                "webhook-id": msg_id,
                "webhook-timestamp": str(stamp),
                "webhook-signature": signature,
            }

        return self._sender.send(url, body, headers, retry_delays=RETRY_OFFSETS_SECONDS)

    def transaction(
        self,
        payment: Payment,
        type_: str | None = None,
        *,
        cancellation_id: str | None = None,
        trigger: str | None = None,
    ) -> None:
        """Send Transaction.<status> (or type_) for payment to its URLs; log it on the payment."""
        type_ = type_ or TRANSACTION_TYPES[payment.status]
        data = {
            "storeId": payment.store_id,
            "paymentId": payment.id,
            "transactionId": payment.transaction_id,
        }
        if cancellation_id:
            data["cancellationId"] = cancellation_id
        now = self._clock.now()
        body = {"type": type_, "timestamp": iso(now), "data": data}
        for url in self.urls(payment.notice_urls):
            record = WebhookRecord(new_id(), url, body, payment.status, now, trigger)
            record.sender_ids.append(self.send(url, body))
            payment.webhooks.append(record)

    def resend(self, record: WebhookRecord) -> None:
        """Send a logged webhook again (resend-webhook), with a new message id."""
        record.sender_ids.append(self.send(record.url, record.body))
        record.manual_sends += 1

    def billing_key(self, type_: str, billing_key: str, store_id: str, urls=None) -> None:
        """Send BillingKey.<type_> (Issued, Failed, Deleted, ...)."""
        body = {
            "type": f"BillingKey.{type_}",
            "timestamp": iso(self._clock.now()),
            "data": {"storeId": store_id, "billingKey": billing_key},
        }
        for url in self.urls(urls):
            self.send(url, body)

    def record_json(self, record: WebhookRecord) -> dict:
        """The PaymentWebhook object: the record and its latest send's attempts."""
        sent = self._sender.get(record.sender_ids[-1]) if record.sender_ids else None
        attempts = sent["attempts"] if sent else []
        data = {
            "paymentStatus": record.payment_status,
            "id": record.id,
            "url": record.url,
            "isAsync": record.trigger is not None,
            "currentExecutionCount": len(attempts),
            "maxExecutionCount": MAX_EXECUTIONS,
            "trigger": record.trigger,
            "request": {"body": payload_of(record.body), "requestedAt": iso(record.triggered_at)},
            "triggeredAt": iso(record.triggered_at),
        }
        if sent and sent["delivered"]:
            data["status"] = "SUCCEEDED"
        elif attempts:
            failed_http = attempts[-1]["status"] is not None
            data["status"] = "FAILED_NOT_OK_RESPONSE" if failed_http else "FAILED_UNEXPECTED_ERROR"
        return {k: v for k, v in data.items() if v is not None}
