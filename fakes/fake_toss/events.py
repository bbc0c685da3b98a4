"""Toss's webhooks: PAYMENT_STATUS_CHANGED, the flat DEPOSIT_CALLBACK and BILLING_DELETED."""

from __future__ import annotations

import itertools
import threading

from fake_common.clock import Clock
from fake_common.faults import FaultRules
from fake_common.webhooks import WebhookSender
from fake_toss.model import iso, random_text, webhook_time

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


def _only_200(status: int) -> bool:
    return status == 200


class TossWebhookSender(WebhookSender):
    """The shared sender, stamping each attempt with its transmission time and retry count."""

    def __init__(self, clock: Clock, faults: FaultRules) -> None:
        super().__init__(clock, faults, user_agent="TossPayments-Webhook/1.0 (fake_toss)")
        self._attempts_lock = threading.Lock()
        self._attempts_by_transmission: dict[str, int] = {}

    def _attempt(self, url: str, body: dict, headers: dict) -> dict:
        # fake_common fixes a webhook's headers when it is queued; Toss's retried-count and
        # transmission-time change per attempt, so they are filled in here.
        transmission = headers.get(TRANSMISSION_ID, "")
        with self._attempts_lock:
            retried = self._attempts_by_transmission.get(transmission, 0)
            self._attempts_by_transmission[transmission] = retried + 1
        stamped = dict(headers)
        stamped[TRANSMISSION_TIME] = iso(self._clock.now())
        stamped[RETRIED_COUNT] = str(retried)
        return super()._attempt(url, body, stamped)

    def reset(self) -> None:
        """Forget every webhook and retry count."""
        super().reset()
        with self._attempts_lock:
            self._attempts_by_transmission.clear()


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
        headers = {TRANSMISSION_ID: "whtrans_" + random_text(24)}
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
