"""Toss's webhooks: PAYMENT_STATUS_CHANGED, the flat DEPOSIT_CALLBACK and BILLING_DELETED."""

from __future__ import annotations

import itertools

from fake_common.clock import Clock
from fake_common.webhooks import WebhookSender
from fake_toss.models import iso, random_text, webhook_time

PAYMENT_STATUS_CHANGED = "PAYMENT_STATUS_CHANGED"
DEPOSIT_CALLBACK = "DEPOSIT_CALLBACK"
BILLING_DELETED = "BILLING_DELETED"
EVENT_TYPES = (PAYMENT_STATUS_CHANGED, DEPOSIT_CALLBACK, BILLING_DELETED)

# Toss retries 7 times, 1, 4, 16, 64, 256, 1024 and 4096 minutes apart (3 days 19 hours in
# total); the sender takes offsets from the first attempt, so these are the running sums.
RETRY_INTERVALS_MINUTES = (1, 4, 16, 64, 256, 1024, 4096)
RETRY_OFFSETS_SECONDS = tuple(60.0 * m for m in itertools.accumulate(RETRY_INTERVALS_MINUTES))

TRANSMISSION_ID = "tosspayments-webhook-transmission-id"
TRANSMISSION_TIME = "tosspayments-webhook-transmission-time"
RETRIED_COUNT = "tosspayments-webhook-transmission-retried-count"
USER_AGENT = "TossPayments-Webhook/1.0 (fake_toss)"


def _only_200(status: int) -> bool:
    return status == 200


class TossEvents:
    """Builds Toss's webhook bodies and hands them to the sender with Toss's retry schedule."""

    def __init__(self, sender: WebhookSender, clock: Clock, config: dict) -> None:
        self._sender = sender
        self._clock = clock
        self._config = config

    def _url(self) -> str | None:
        return self._config.get("WEBHOOK_URL") or None

    def _wants(self, event: str) -> bool:
        return event in self._config.get("WEBHOOK_EVENTS", EVENT_TYPES)

    def _send(self, url: str, body: dict) -> str:
        transmission_id = "whtrans_" + random_text(24)

        def headers(retry_count: int) -> dict:
            # One transmission id for every attempt; the time and count are the attempt's own.
            return {
                TRANSMISSION_ID: transmission_id,
                TRANSMISSION_TIME: iso(self._clock.now()),
                RETRIED_COUNT: str(retry_count),
            }

        return self._sender.send(
            url, body, headers, retry_delays=RETRY_OFFSETS_SECONDS, success=_only_200
        )

    def payment_status_changed(self, payment: dict) -> str | None:
        """Send PAYMENT_STATUS_CHANGED with the full Payment object."""
        url = self._url()
        if not url or not self._wants(PAYMENT_STATUS_CHANGED):
            return None
        body = {
            "eventType": PAYMENT_STATUS_CHANGED,
            "createdAt": webhook_time(self._clock.now()),
            "data": payment,
        }
        return self._send(url, body)

    def deposit_callback(
        self, *, secret: str, status: str, transaction_key: str, order_id: str, url: str | None
    ) -> str | None:
        """Send the flat DEPOSIT_CALLBACK (to the payment's own callback URL if it named one)."""
        target = url or self._url()
        if not target or not (url or self._wants(DEPOSIT_CALLBACK)):
            return None
        body = {
            "createdAt": webhook_time(self._clock.now()),
            "secret": secret,
            "status": status,
            "transactionKey": transaction_key,
            "orderId": order_id,
        }
        return self._send(target, body)

    def billing_deleted(self, billing_key: str) -> str | None:
        """Send BILLING_DELETED for a deleted billing key."""
        url = self._url()
        if not url or not self._wants(BILLING_DELETED):
            return None
        body = {
            "eventType": BILLING_DELETED,
            "createdAt": webhook_time(self._clock.now()),
            "data": {"billingKey": billing_key, "reason": "삭제 API 요청"},
        }
        return self._send(url, body)
