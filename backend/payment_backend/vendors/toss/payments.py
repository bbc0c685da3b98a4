"""Toss Payments V1: the REST client and the payments capability."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, ClassVar
from urllib.parse import quote

from payment_backend.money import to_major, to_minor
from payment_backend.vendors import base
from payment_backend.vendors.base import (
    GatewayCancel,
    GatewayError,
    GatewayPayment,
    GatewayTransaction,
    GatewayUnavailable,
    PaymentNotFound,
    RefundAccount,
    WebhookNotice,
    delivery_key,
)
from payment_backend.vendors.http import GatewayHttp

STATES = {
    "READY": base.READY,
    "IN_PROGRESS": base.READY,
    "WAITING_FOR_DEPOSIT": base.AWAITING_DEPOSIT,
    "DONE": base.PAID,
    "PARTIAL_CANCELED": base.PAID,
    "CANCELED": base.CANCELLED,
    "ABORTED": base.FAILED,
    "EXPIRED": base.FAILED,
}
WEBHOOK_PATH = "/payments/webhooks/toss"  # our route for its webhooks (api/webhooks.py)
KST = timezone(timedelta(hours=9), "KST")  # Toss's dates without an offset are Korean time
TRANSACTIONS_PAGE = 10000  # GET /v1/transactions' largest page
METHODS = {
    "카드": "card",
    "CARD": "card",
    "가상계좌": "vbank",
    "VIRTUAL_ACCOUNT": "vbank",
    "간편결제": "easypay",
    "EASY_PAY": "easypay",
}
# easyPay.provider as Toss names it -> ours (toss-v1.md §4; the English names are a guess).
EASY_PAY_PROVIDERS = {
    "토스페이": "tosspay",
    "TOSSPAY": "tosspay",
    "네이버페이": "naverpay",
    "NAVERPAY": "naverpay",
    "카카오페이": "kakaopay",
    "KAKAOPAY": "kakaopay",
    "삼성페이": "samsungpay",
    "SAMSUNGPAY": "samsungpay",
    "페이코": "payco",
    "PAYCO": "payco",
    "엘페이": "lpay",
    "SSG페이": "ssgpay",
    "애플페이": "applepay",
}
# A cancel's cancelStatus: IN_PROGRESS and ABORTED are documented for asynchronous cancels; a
# virtual account's refund transfer is read the same way (guess; see fakes/README.md).
REFUND_STATES = {"IN_PROGRESS": base.REFUND_PENDING, "ABORTED": base.REFUND_FAILED}


def _throttled(response: Any) -> bool:
    """429, or 403 FORBIDDEN_CONSECUTIVE_REQUEST (Toss refusing a repeat that came too fast)."""
    if response.status_code == 429:
        return True
    if response.status_code != 403:
        return False
    try:
        return response.json().get("code") == "FORBIDDEN_CONSECUTIVE_REQUEST"
    except (ValueError, AttributeError):
        return False


def _segment(value: str) -> str:
    """An id as one URL path segment: a slash or dot in it never reaches another route."""
    return quote(str(value), safe="")


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def normalize(raw: dict[str, Any]) -> GatewayPayment:
    """A Toss Payment object in minor units."""
    currency = raw.get("currency") or "KRW"
    total = to_minor(raw.get("totalAmount") or 0, currency)
    balance = to_minor(raw.get("balanceAmount", raw.get("totalAmount")) or 0, currency)
    status = raw.get("status") or "READY"
    state = STATES.get(status, base.READY)
    method = METHODS.get(raw.get("method") or "", raw.get("method") or "card")
    account = raw.get("virtualAccount")
    cancels = _cancels(raw.get("cancels") or [], currency, (account or {}).get("refundStatus"))
    vbank = None
    if account:
        vbank = {
            "bank": account.get("bankCode") or account.get("bank"),
            "account": account.get("accountNumber"),
            "holder": account.get("customerName"),
            "due": _time(account.get("dueDate")),
        }
    card = raw.get("card") if isinstance(raw.get("card"), dict) else None
    approved = status in ("DONE", "PARTIAL_CANCELED", "CANCELED")
    return GatewayPayment(
        vendor="toss",
        payment_id=raw["paymentKey"],
        order_id=raw.get("orderId") or "",
        status=state,
        method=method,
        currency=currency,
        amount=total,
        cancelled=total - balance if approved else 0,
        paid_at=_time(raw.get("approvedAt")) if approved else None,
        cancels=cancels,
        vbank=vbank,
        card={"company": card.get("issuerCode"), "number": card.get("number")} if card else None,
        receipt_url=(raw.get("receipt") or {}).get("url"),
        failure=(raw.get("failure") or {}).get("message"),
        secret=raw.get("secret"),
        easy_pay=_easy_pay(raw.get("easyPay"), currency),
        # DONE back to WAITING_FOR_DEPOSIT (toss-v1.md §6): the reversed approval keeps its time.
        deposit_reversed=status == "WAITING_FOR_DEPOSIT" and bool(raw.get("approvedAt")),
        raw=raw,
    )


API_INDIVIDUAL, WIDGET = "api", "widget"  # Toss's two key families (toss-sdk-v2.md §2)


def _basic(secret_key: str) -> str:
    """Authorization: Basic base64(secretKey + ":")."""
    return "Basic " + base64.b64encode(f"{secret_key}:".encode()).decode()


def _cancels(entries: list[dict[str, Any]], currency: str, refund_status: str | None):
    """The cancels, each with its refund state; a virtual account's PENDING refund with no
    cancel marked IN_PROGRESS is its latest cancel (guess)."""
    found = [
        GatewayCancel(
            vendor_cancel_id=str(entry.get("transactionKey")),
            amount=to_minor(entry.get("cancelAmount") or 0, currency),
            reason=entry.get("cancelReason") or "",
            cancelled_at=_time(entry.get("canceledAt")) or datetime.now(UTC),
            raw=entry,
            status=REFUND_STATES.get(entry.get("cancelStatus") or "", base.REFUND_DONE),
        )
        for entry in entries
        if isinstance(entry, dict)
    ]
    if refund_status == "PENDING" and found and all(c.status == base.REFUND_DONE for c in found):
        found[-1] = replace(found[-1], status=base.REFUND_PENDING)
    return found


def _easy_pay(value: Any, currency: str) -> dict[str, Any] | None:
    """easyPay {provider, amount, discountAmount} in our terms."""
    if not isinstance(value, dict):
        return None
    provider = str(value.get("provider") or "")
    return {
        "provider": EASY_PAY_PROVIDERS.get(provider, provider.lower() or "unknown"),
        "amount": to_minor(value.get("amount") or 0, currency),
        "discount": to_minor(value.get("discountAmount") or 0, currency),
    }


class TossPayments:
    """Basic auth with a secret key of the right family; an Idempotency-Key on every POST.

    A payment opened with the payment-widget keys answers only to the widget's secret key, one
    opened with the API-individual keys (payment window, billing) only to theirs; Toss refuses the
    other with 400 INVALID_API_KEY, changing nothing. Our orders do not record which integration
    the browser used, so a call refused that way is sent again with the other family's key.
    """

    name = "toss"
    confirms: ClassVar[bool] = True  # paid only once we confirm with the server's amount
    idempotent_cancel: ClassVar[bool] = True  # an Idempotency-Key replays the first answer
    prepares: ClassVar[bool] = False  # the amount is tied to the payment at the window

    def __init__(
        self,
        base_url: str,
        secret_key: str,
        settings: Mapping[str, Any] | None = None,
        widget_secret_key: str | None = None,
    ) -> None:
        self.http = GatewayHttp(base_url, vendor=self.name, throttled=_throttled)
        # The app's settings, read when used (TOSS_CLIENT_KEY).
        self.settings: Mapping[str, Any] = settings if settings is not None else {}
        self.authorization = {API_INDIVIDUAL: _basic(secret_key)}
        if widget_secret_key:
            self.authorization[WIDGET] = _basic(widget_secret_key)

    def _call(self, method: str, path: str, *, idempotency_key: str | None = None, **kwargs: Any):
        try:
            return self._send(API_INDIVIDUAL, method, path, idempotency_key, **kwargs)
        except GatewayError as exc:
            if exc.code != "INVALID_API_KEY" or WIDGET not in self.authorization:
                raise
        # Its own Idempotency-Key: the refusal must not be replayed to the other key.
        widget_key = f"{idempotency_key}-{WIDGET}" if idempotency_key else None
        return self._send(WIDGET, method, path, widget_key, **kwargs)

    def _send(
        self, family: str, method: str, path: str, idempotency_key: str | None, **kwargs: Any
    ):
        headers = {"Authorization": self.authorization[family]}
        if method == "POST":
            headers["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
        # With an Idempotency-Key a repeat returns the first answer, so every call may be repeated.
        response = self.http.send(method, path, safe_to_repeat=True, headers=headers, **kwargs)
        if response.status_code == 200 and not response.content.strip():
            return {}  # DELETE /v1/billing/{billingKey} answers an empty body
        try:
            body = response.json()
        except ValueError as exc:
            raise GatewayUnavailable(f"{path}: not JSON ({response.status_code})") from exc
        if response.status_code == 404 and body.get("code") in ("NOT_FOUND_PAYMENT", "NOT_FOUND"):
            raise PaymentNotFound(body.get("message", ""), code=body["code"], status=404)
        if response.status_code == 409 and body.get("code") == "IDEMPOTENT_REQUEST_PROCESSING":
            raise GatewayUnavailable("the first request with this Idempotency-Key is still running")
        if response.status_code != 200:
            raise GatewayError(
                body.get("message", ""), code=body.get("code", ""), status=response.status_code
            )
        return body

    def parse_webhook(
        self, body: Mapping[str, Any], headers: Mapping[str, str], raw: bytes | None = None
    ) -> WebhookNotice:
        """PAYMENT_STATUS_CHANGED {data}, DEPOSIT_CALLBACK {secret, ...}, BILLING_DELETED."""
        data = body.get("data") if isinstance(body.get("data"), dict) else body
        secret = body.get("secret")
        return WebhookNotice(
            dedupe_key=delivery_key(self.name, body),
            payment_id=data.get("paymentKey"),
            order_id=data.get("orderId"),
            secret=None if secret is None else str(secret),
            noted="billing key deleted" if body.get("eventType") == "BILLING_DELETED" else None,
        )

    def awaits_confirm(self, gp: GatewayPayment) -> bool:
        """IN_PROGRESS: the buyer authenticated; nothing is charged until we confirm."""
        return gp.raw.get("status") == "IN_PROGRESS"

    def window_hints(self, currency: str) -> dict[str, str]:
        """The SDK takes the order as it is."""
        return {}

    def get_payment(self, payment_id: str) -> GatewayPayment:
        """GET /v1/payments/{paymentKey}."""
        gp = normalize(self._call("GET", f"/v1/payments/{_segment(payment_id)}"))
        if gp.payment_id != payment_id:  # whatever the gateway's router made of the id
            raise PaymentNotFound("the gateway answered with another payment", status=404)
        return gp

    def find_by_order(self, order_id: str) -> GatewayPayment | None:
        """GET /v1/payments/orders/{orderId}."""
        try:
            return normalize(self._call("GET", f"/v1/payments/orders/{_segment(order_id)}"))
        except PaymentNotFound:
            return None
        except GatewayError as exc:
            if exc.status == 404:
                return None
            raise

    def find_all_by_order(self, order_id: str) -> list[GatewayPayment]:
        """Toss keeps one payment per orderId (a spent orderId refuses another)."""
        found = self.find_by_order(order_id)
        return [found] if found is not None else []

    def confirm(self, payment_id: str, order_id: str, amount: int, currency: str) -> GatewayPayment:
        """POST /v1/payments/confirm with the server's amount; already confirmed reads it."""
        try:
            return normalize(
                self._call(
                    "POST",
                    "/v1/payments/confirm",
                    # Keyed on what is confirmed too: a refused confirm (wrong amount) must not
                    # be replayed to a later confirm with the right amount.
                    idempotency_key=f"confirm-{payment_id}-{order_id}-{amount}-{currency}",
                    json={
                        "paymentKey": payment_id,
                        "orderId": order_id,
                        "amount": to_major(amount, currency),
                    },
                )
            )
        except GatewayError as exc:
            if exc.code == "ALREADY_PROCESSED_PAYMENT":
                return self.get_payment(payment_id)
            raise

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
        """POST /v1/payments/{paymentKey}/cancel, refused unless the balance is as expected."""
        body: dict[str, Any] = {
            "cancelReason": reason[:200],
            "refundableAmount": to_major(expected_remaining, currency),
        }
        if amount is not None:
            body["cancelAmount"] = to_major(amount, currency)
        if refund_account:
            body["refundReceiveAccount"] = {
                "bank": refund_account.bank,
                "accountNumber": refund_account.account,
                "holderName": refund_account.holder,
            }
        return normalize(
            self._call(
                "POST",
                f"/v1/payments/{_segment(payment_id)}/cancel",
                idempotency_key=idempotency_key,
                json=body,
            )
        )

    def revoke(self, payment_id: str, *, amount: int, currency: str, reason: str) -> GatewayPayment:
        """A waiting virtual account is cancelled in full, like any payment."""
        return self.cancel(
            payment_id,
            amount=None,
            expected_remaining=amount,
            currency=currency,
            reason=reason,
            idempotency_key=f"revoke-{payment_id}",
        )

    def prepare(self, order_id: str, amount: int, currency: str) -> None:
        """Toss ties the amount to the payment at the window; nothing to pre-register."""

    # -- settlement ----------------------------------------------------------------------------

    def list_transactions(
        self, start: datetime, end: datetime, *, also: tuple[str, ...] = ()
    ) -> list[GatewayTransaction]:
        """GET /v1/transactions (startDate/endDate in KST, inclusive), every page: each approval
        and each cancel is listed on its own, so `also` is not needed here."""
        params: dict[str, Any] = {
            "startDate": start.astimezone(KST).strftime("%Y-%m-%dT%H:%M:%S"),
            "endDate": (end - timedelta(seconds=1)).astimezone(KST).strftime("%Y-%m-%dT%H:%M:%S"),
            "limit": TRANSACTIONS_PAGE,
        }
        found: list[GatewayTransaction] = []
        while True:
            page = self._call("GET", "/v1/transactions", params=params)
            if not isinstance(page, list):
                raise GatewayUnavailable("/v1/transactions: not a list")
            found += [t for raw in page if start <= (t := _transaction(raw)).at < end]
            if len(page) < TRANSACTIONS_PAGE:
                return found
            params["startingAfter"] = page[-1]["transactionKey"]


def _transaction(raw: dict[str, Any]) -> GatewayTransaction:
    """One entry of GET /v1/transactions."""
    currency = raw.get("currency") or "KRW"
    status = raw.get("status") or ""
    refund = status in ("CANCELED", "PARTIAL_CANCELED")
    return GatewayTransaction(
        vendor="toss",
        kind="refund" if refund else "payment",
        transaction_id=str(raw["transactionKey"]) if refund else raw["paymentKey"],
        payment_id=raw["paymentKey"],
        order_id=raw.get("orderId") or "",
        method=METHODS.get(raw.get("method") or "", raw.get("method") or "card"),
        currency=currency,
        amount=to_minor(raw.get("amount") or 0, currency),
        status=STATES.get(status, base.READY),
        at=_time(raw.get("transactionAt")) or datetime.now(UTC),
    )
