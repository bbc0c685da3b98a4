"""PortOne V2: the payments capability, through the official server SDK (`portone-server-sdk`).

Payment ids (objects.py) are the merchant's own in V2: a checkout payment's is its order id (`ord_...`;
PortOne lets an id be tried again after a failure but paid only once, so no order can hold two
payments there). A billing charge is tried once per id: its first try is the period's order id
(`sub_..._pN`), a later try after a decline `sub_..._pN-<try>`, with the order in customData.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

import httpx
import portone_server_sdk as portone
from portone_server_sdk import webhook as portone_webhook
from portone_server_sdk._generated.payment.payment import _serialize_payment

from payment_backend.logs import REQUEST_ID_HEADER, request_id
from payment_backend.metrics import observe_gateway_call
from payment_backend.transient import note_outside_effect
from payment_backend.vendors import base
from payment_backend.vendors.base import (
    GatewayError,
    GatewayPayment,
    GatewayTransaction,
    GatewayUnavailable,
    PaymentNotFound,
    RefundAccount,
    WebhookNotice,
    WebhookRefused,
    transactions_of,
)
from payment_backend.vendors.portone.objects import normalize, v2_bank

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/payments/webhooks/portone"  # our route for its webhooks (api/webhooks.py)
# (connect, read) seconds: PortOne asks for a read timeout of 60 s or more (a charge may take it).
TIMEOUT = httpx.Timeout(60.0, connect=3.05)
LIST_PAGE = 100
# Webhook types that need no payment read.
NOTED = {"Transaction.Ready": "payment window opened"}
NOT_CONFIGURED = "PortOne V2 is not configured (PORTONE_API_SECRET and the rest)"

T = TypeVar("T")


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _code(exc: Exception) -> str:
    """The V2 error type of an SDK error, from its class (PaymentNotFoundError: PAYMENT_NOT_FOUND)."""
    name = type(exc).__name__.removesuffix("Error")
    return "".join(f"_{c}" if c.isupper() and i else c for i, c in enumerate(name)).upper()


def _http_client(vendor: str) -> httpx.Client:
    """The SDK's transport: our timeouts, no environment scan per call, metrics, request ids."""
    started: dict[int, float] = {}

    def on_request(request: httpx.Request) -> None:
        rid = request_id.get()
        if rid:
            request.headers[REQUEST_ID_HEADER] = rid
        if request.method != "GET":
            note_outside_effect()  # a write at the gateway: the request is not run again
        started[id(request)] = time.perf_counter()

    def on_response(response: httpx.Response) -> None:
        began = started.pop(id(response.request), time.perf_counter())
        observe_gateway_call(vendor, response.request.method, began, response.status_code)

    return httpx.Client(
        timeout=TIMEOUT,
        trust_env=False,
        event_hooks={"request": [on_request], "response": [on_response]},
    )


class PortOnePayments:
    """The official SDK's PaymentClient, its errors mapped to ours."""

    name = "portone"
    confirms: ClassVar[bool] = False  # the window pays; confirm reads
    # No idempotency key through the SDK: currentCancellableAmount refuses a replayed cancel.
    idempotent_cancel: ClassVar[bool] = False

    def __init__(self, settings: Mapping[str, Any]) -> None:
        # The app's settings, read when used (PORTONE_PREPARE, PORTONE_CHANNEL_KEY, PUBLIC_URL).
        self.settings = settings
        self.secret = str(settings.get("PORTONE_API_SECRET") or "")
        self.webhook_secret = str(settings.get("PORTONE_WEBHOOK_SECRET") or "")
        self.store_id = settings.get("PORTONE_STORE_ID") or None
        self.sdk = portone.PaymentClient(
            secret=self.secret or "-",
            base_url=str(settings["PORTONE_API_URL"]).rstrip("/"),
            store_id=self.store_id,
        )
        transport = _http_client(self.name)
        for client in (self.sdk, self.sdk.billing_key):
            client._sync_client = transport  # the SDK's own has no timeouts of ours nor metrics

    @property
    def prepares(self) -> bool:
        """Amounts are pre-registered unless PORTONE_PREPARE is off."""
        return bool(self.settings.get("PORTONE_PREPARE", True))

    def _call(self, operation: Callable[[], T]) -> T:
        """Run an SDK call: its refusals as GatewayError, no answer as GatewayUnavailable."""
        if not self.secret:
            raise GatewayError(NOT_CONFIGURED, code="NOT_CONFIGURED", status=503)
        try:
            return operation()
        except portone.errors.UnknownError as exc:
            # Not a type of this endpoint: a 5xx, IDEMPOTENCY_OUTSTANDING_REQUEST, ...
            raise GatewayUnavailable(f"PortOne answered {str(exc.error)[:200]}") from exc
        except portone.errors.PortOneError as exc:
            code = _code(exc)
            message = getattr(exc, "pg_message", None) or exc.message or code
            if code.endswith("NOT_FOUND") and "PAYMENT" in code and "SCHEDULE" not in code:
                raise PaymentNotFound(message, code=code, status=404) from exc
            status = 404 if code.endswith("NOT_FOUND") else 502 if code == "PG_PROVIDER" else 409
            raise GatewayError(message, code=code, status=status) from exc
        except (httpx.HTTPError, ValueError) as exc:
            # No answer, or one the SDK cannot read (a 5xx page): the outcome is unknown.
            raise GatewayUnavailable(f"PortOne: {exc}") from exc

    def parse_webhook(
        self, body: Mapping[str, Any], headers: Mapping[str, str], raw: bytes | None = None
    ) -> WebhookNotice:
        """A Standard Webhooks delivery {type, timestamp, data{paymentId, ...}}, verified first."""
        lower = {k.lower(): v for k, v in headers.items()}
        if raw is not None:
            self._verify(raw, lower)
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        kind = str(body.get("type") or "")
        noted = NOTED.get(kind)
        if kind.startswith("BillingKey."):
            noted = f"billing key {kind.removeprefix('BillingKey.').lower()}"
        elif not kind.startswith("Transaction."):
            noted = f"unknown type {kind[:40]!r}"
        # Standard Webhooks: every attempt of one message carries the same webhook-id.
        msg = str(lower.get("webhook-id") or json.dumps(body, sort_keys=True))
        return WebhookNotice(
            dedupe_key=base.delivery_key(self.name, {"webhook-id": msg}),
            payment_id=str(data["paymentId"]) if data.get("paymentId") else None,
            noted=noted,
        )

    def _verify(self, raw: bytes, headers: Mapping[str, str]) -> None:
        """portone_server_sdk.webhook.verify: signature with our secret, timestamp within 5 min."""
        if not self.webhook_secret:
            raise WebhookRefused("no PORTONE_WEBHOOK_SECRET to verify with", code="NOT_CONFIGURED")
        try:
            portone_webhook.verify(self.webhook_secret, raw.decode("utf-8"), headers)
        except portone_webhook.WebhookVerificationError as exc:
            raise WebhookRefused(exc.message or exc.reason, code=exc.reason, status=401) from exc
        except (portone_webhook.InvalidInputError, UnicodeDecodeError, ValueError) as exc:
            raise WebhookRefused(str(exc), code="INVALID_WEBHOOK", status=401) from exc

    def awaits_confirm(self, gp: GatewayPayment) -> bool:
        """Nothing waits for us: the window pays (no manual-confirm channel here)."""
        return False

    def window_hints(self, currency: str) -> dict[str, str]:
        """Where PortOne sends this payment's webhooks (the request's noticeUrls)."""
        return {"notice_url": self.notice_url()}

    def notice_url(self) -> str:
        """Our webhook route, for noticeUrls."""
        return str(self.settings.get("PUBLIC_URL", "")).rstrip("/") + WEBHOOK_PATH

    def get_payment(self, payment_id: str) -> GatewayPayment:
        """GET /payments/{paymentId}."""
        payment = self._call(lambda: self.sdk.get_payment(payment_id=payment_id))
        gp = normalize(_serialize_payment(payment))
        if gp.payment_id != payment_id:  # whatever the gateway's router made of the id
            raise PaymentNotFound("the gateway answered with another payment", status=404)
        return gp

    def find_by_order(self, order_id: str) -> GatewayPayment | None:
        """Our order id is the payment id."""
        try:
            return self.get_payment(order_id)
        except PaymentNotFound:
            return None

    def find_all_by_order(self, order_id: str) -> list[GatewayPayment]:
        """One payment id per order, paid at most once."""
        found = self.find_by_order(order_id)
        return [found] if found is not None else []

    def confirm(self, payment_id: str, order_id: str, amount: int, currency: str) -> GatewayPayment:
        """The window approves; confirming is reading."""
        return self.get_payment(payment_id)

    def cancel(
        self,
        payment_id: str,
        *,
        amount: int | None,
        expected_remaining: int,
        currency: str,
        reason: str,
        idempotency_key: str,
        refund_account: RefundAccount | None = None,
    ) -> GatewayPayment:
        """POST /payments/{id}/cancel with currentCancellableAmount = the balance we expect."""
        account = None
        if refund_account:
            account = portone.payment.CancelPaymentBodyRefundAccount(
                bank=v2_bank(refund_account.bank),  # type: ignore[arg-type]
                number=refund_account.account,
                holder_name=refund_account.holder,
                holder_phone_number=refund_account.tel,
            )
        self._call(
            lambda: self.sdk.cancel_payment(
                payment_id=payment_id,
                amount=amount,
                reason=reason[:200],
                current_cancellable_amount=expected_remaining,
                refund_account=account,
            )
        )
        return self.get_payment(payment_id)

    def revoke(self, payment_id: str, *, amount: int, currency: str, reason: str) -> GatewayPayment:
        """POST /payments/{id}/virtual-account/close: an undeposited account is closed, not
        cancelled."""
        self._call(lambda: self.sdk.close_virtual_account(payment_id=payment_id))
        return self.get_payment(payment_id)

    def prepare(self, order_id: str, amount: int, currency: str) -> None:
        """POST /payments/{id}/pre-register with the server's amount, unless PORTONE_PREPARE is off."""
        if not self.prepares:
            return
        self._call(
            lambda: self.sdk.pre_register_payment(
                payment_id=order_id,
                total_amount=amount,
                currency=currency,  # type: ignore[arg-type]
            )
        )

    # -- settlement ----------------------------------------------------------------------------

    def list_transactions(
        self, start: datetime, end: datetime, *, also: tuple[str, ...] = ()
    ) -> list[GatewayTransaction]:
        """GET /payments by status-change time, every page, then the payments in `also` (one
        paid earlier and refunded again within the window may not show as changed)."""
        seen: dict[str, GatewayPayment] = {}
        for raw in self._listed(start, end):
            gp = normalize(raw)
            seen[gp.payment_id] = gp
        for payment_id in also:
            if payment_id not in seen:
                try:
                    seen[payment_id] = self.get_payment(payment_id)
                except PaymentNotFound:
                    continue
        return [t for gp in seen.values() for t in transactions_of(gp, start, end)]

    def _listed(self, start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
        """Every page of GET /payments whose status changed in [start, end)."""
        criteria = portone.payment.PaymentFilterInput(
            timestamp_type="STATUS_CHANGED_AT", from_=_rfc3339(start), until=_rfc3339(end)
        )
        number = 0
        while True:
            page = self._call(
                lambda n=number: self.sdk.get_payments(
                    page=portone.common.PageInput(number=n, size=LIST_PAGE), filter=criteria
                )
            )
            for item in page.items:
                yield _serialize_payment(item)
            number += 1
            if number * LIST_PAGE >= page.page.total_count or not page.items:
                return
