"""PortOne (iamport) V1: the REST client and the payments capability."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, ClassVar
from urllib.parse import quote

from flask import has_app_context

from payment_backend.clock import now
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
    transactions_of,
)
from payment_backend.vendors.http import GatewayHttp

TOKEN_MARGIN = 60  # refresh this many seconds before the token expires
WEBHOOK_PATH = "/payments/webhooks/iamport"  # our route for its webhooks (api/webhooks.py)
KST = timezone(timedelta(hours=9), "KST")
# pay_method values that are easy pay (portone-v1.md §4); emb_pg_provider names one inside a PG.
EASY_PAY_METHODS = frozenset({"kakaopay", "naverpay", "tosspay", "payco", "samsung", "point"})
# A virtual account's refund is paid out on the next business day (portone-v1.md §5.1); V1 shows
# no payout state, so it counts as pending until then (the hour is a guess; holidays are not known).
PAYOUT_HOUR = 9


def payout_at(cancelled_at: datetime) -> datetime:
    """When a virtual account's refund made at cancelled_at is paid out: the next business day."""
    day = cancelled_at.astimezone(KST).date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, PAYOUT_HOUR, tzinfo=KST).astimezone(UTC)


def _segment(value: str) -> str:
    """An id as one URL path segment: a slash or dot in it never reaches another route."""
    return quote(str(value), safe="")


def _time(unix: int | float | None) -> datetime | None:
    return datetime.fromtimestamp(unix, UTC) if unix else None


def normalize(raw: dict[str, Any]) -> GatewayPayment:
    """An iamport payment object in minor units."""
    currency = raw.get("currency") or "KRW"
    status = raw.get("status")
    method = raw.get("pay_method") or "card"
    if status == "paid":
        state = base.PAID
    elif status == "cancelled":
        state = base.CANCELLED
    elif status == "failed":
        state = base.FAILED
    elif method == "vbank" and raw.get("vbank_num"):
        state = base.AWAITING_DEPOSIT
    else:
        state = base.READY
    paid_vbank = method == "vbank" and bool(raw.get("paid_at"))
    cancels = _cancels(raw.get("cancel_history") or [], currency, vbank=paid_vbank)
    vbank = None
    if method == "vbank":
        vbank = {
            "bank": raw.get("vbank_name"),
            "account": raw.get("vbank_num"),
            "holder": raw.get("vbank_holder"),
            "due": _time(raw.get("vbank_date")),
        }
    provider = raw.get("emb_pg_provider") or (method if method in EASY_PAY_METHODS else None)
    card = None
    if method == "card" and raw.get("card_number") and not provider:
        card = {"company": raw.get("card_name"), "number": raw.get("card_number")}
    easy_pay = None
    if provider:
        easy_pay = {"provider": provider, "amount": to_minor(raw.get("amount") or 0, currency)}
        easy_pay["discount"] = 0
    return GatewayPayment(
        vendor="iamport",
        payment_id=raw["imp_uid"],
        order_id=raw.get("merchant_uid") or "",
        status=state,
        method="easypay" if provider else method,
        currency=currency,
        amount=to_minor(raw.get("amount") or 0, currency),
        cancelled=to_minor(raw.get("cancel_amount") or 0, currency),
        paid_at=_time(raw.get("paid_at")),
        cancels=cancels,
        vbank=vbank,
        card=card,
        receipt_url=raw.get("receipt_url"),
        failure=raw.get("fail_reason"),
        billing_customer=raw.get("customer_uid"),
        key_usage=raw.get("customer_uid_usage"),
        easy_pay=easy_pay,
        raw=raw,
    )


def _now() -> datetime:
    """The app's clock (the test clock too), or real time outside an app."""
    return now() if has_app_context() else datetime.now(UTC)


def _cancels(entries: list[dict[str, Any]], currency: str, *, vbank: bool) -> list[GatewayCancel]:
    """cancel_history; a virtual account's refund is pending until its payout day."""
    found = []
    for entry in entries:
        at = _time(entry.get("cancelled_at")) or datetime.now(UTC)
        settles_at = payout_at(at) if vbank else None
        pending = settles_at is not None and _now() < settles_at
        found.append(
            GatewayCancel(
                vendor_cancel_id=str(entry.get("cancellation_id") or entry.get("pg_tid")),
                amount=to_minor(entry.get("amount") or 0, currency),
                reason=entry.get("reason") or "",
                cancelled_at=at,
                raw=entry,
                status=base.REFUND_PENDING if pending else base.REFUND_DONE,
                settles_at=settles_at,
            )
        )
    return found


class IamportPayments:
    """Token cached until shortly before expiry, refreshed under a lock, one retry on 401."""

    name = "iamport"
    confirms: ClassVar[bool] = False  # the window pays; confirm reads
    idempotent_cancel: ClassVar[bool] = False  # no idempotency: checksum guards a repeat

    def __init__(
        self, base_url: str, key: str, secret: str, settings: Mapping[str, Any] | None = None
    ) -> None:
        self.http = GatewayHttp(base_url, vendor=self.name)
        # The app's settings, read when used (IAMPORT_PREPARE, IAMPORT_PG, PUBLIC_URL).
        self.settings: Mapping[str, Any] = settings if settings is not None else {}
        self._key = key
        self._secret = secret
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()

    @property
    def prepares(self) -> bool:
        """Amounts are pre-registered unless IAMPORT_PREPARE is off."""
        return bool(self.settings.get("IAMPORT_PREPARE", True))

    def parse_webhook(
        self, body: Mapping[str, Any], headers: Mapping[str, str], raw: bytes | None = None
    ) -> WebhookNotice:
        """A notification {imp_uid, merchant_uid, status}; nothing in it authenticates it."""
        return WebhookNotice(
            dedupe_key=delivery_key(self.name, body),
            payment_id=body.get("imp_uid"),
            order_id=body.get("merchant_uid"),
        )

    def awaits_confirm(self, gp: GatewayPayment) -> bool:
        """Nothing waits for us: the window pays."""
        return False

    def window_hints(self, currency: str) -> dict[str, str]:
        """The PG (domestic or overseas) and where PortOne sends its notification."""
        pg = "IAMPORT_PG" if currency == "KRW" else "IAMPORT_OVERSEAS_PG"
        return {"pg": self.settings[pg], "notice_url": self.notice_url()}

    def _access_token(self, stale: str | None = None) -> str:
        with self._lock:
            fresh = self._token and self._token != stale and time.time() < self._expires_at
            if not fresh:
                response = self.http.send(
                    "POST",
                    "/users/getToken",
                    safe_to_repeat=True,
                    json={"imp_key": self._key, "imp_secret": self._secret},
                )
                if response.status_code != 200:
                    raise GatewayError(
                        "iamport refused the API key", code="UNAUTHORIZED", status=401
                    )
                body = response.json()["response"]
                self._token = body["access_token"]
                # Expiry on the gateway's clock, converted to ours.
                lifetime = body["expired_at"] - body["now"]
                self._expires_at = time.time() + lifetime - TOKEN_MARGIN
            return self._token  # type: ignore[return-value]

    def _call(self, method: str, path: str, *, safe_to_repeat: bool, **kwargs: Any) -> Any:
        token = self._access_token()
        response = self.http.send(
            method, path, safe_to_repeat=safe_to_repeat, headers={"Authorization": token}, **kwargs
        )
        if response.status_code == 401:
            token = self._access_token(stale=token)
            response = self.http.send(
                method,
                path,
                safe_to_repeat=safe_to_repeat,
                headers={"Authorization": token},
                **kwargs,
            )
        try:
            body = response.json()
        except ValueError as exc:
            raise GatewayUnavailable(f"{path}: not JSON ({response.status_code})") from exc
        message = (body or {}).get("message") or ""
        if response.status_code == 404:
            raise PaymentNotFound(message or "not found", code="NOT_FOUND", status=404)
        if response.status_code != 200 or body.get("code") != 0:
            raise GatewayError(
                message or f"HTTP {response.status_code}",
                code=str(body.get("code")),
                status=response.status_code,
            )
        return body["response"]

    @property
    def includes_sandbox(self) -> bool:
        """Whether look-ups ask for test-channel payments too: PortOne hides them from
        GET /payments/{imp_uid} since 2026-01-26 unless asked. In local and test mode, unless
        IAMPORT_INCLUDE_SANDBOX says otherwise."""
        default = self.settings.get("PAYMENT_MODE") in ("local", "test")
        return bool(self.settings.get("IAMPORT_INCLUDE_SANDBOX", default))

    def get_payment(self, payment_id: str) -> GatewayPayment:
        """GET /payments/{imp_uid} (with include_sandbox=true in test and local mode)."""
        query = {"include_sandbox": "true"} if self.includes_sandbox else {}
        gp = normalize(
            self._call(
                "GET", f"/payments/{_segment(payment_id)}", safe_to_repeat=True, params=query
            )
        )
        if gp.payment_id != payment_id:  # whatever the gateway's router made of the id
            raise PaymentNotFound("the gateway answered with another payment", status=404)
        return gp

    def find_by_order(self, order_id: str) -> GatewayPayment | None:
        """GET /payments/find/{merchant_uid} (the latest attempt)."""
        try:
            return normalize(
                self._call("GET", f"/payments/find/{_segment(order_id)}", safe_to_repeat=True)
            )
        except PaymentNotFound:
            return None

    def find_all_by_order(self, order_id: str) -> list[GatewayPayment]:
        """GET /payments/findAll/{merchant_uid}: every payment made for an order id."""
        try:
            found = self._call(
                "GET", f"/payments/findAll/{_segment(order_id)}", safe_to_repeat=True
            )
        except PaymentNotFound:
            return []
        return [normalize(raw) for raw in found or []]

    def confirm(self, payment_id: str, order_id: str, amount: int, currency: str) -> GatewayPayment:
        """iamport approves in the window; confirming is reading."""
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
        """POST /payments/cancel with checksum = the balance we expect before this cancel."""
        body: dict[str, Any] = {
            "imp_uid": payment_id,
            "checksum": to_major(expected_remaining, currency),
            "reason": reason,
        }
        if amount is not None:
            body["amount"] = to_major(amount, currency)
        if refund_account:
            body.update(
                refund_bank=refund_account.bank,
                refund_account=refund_account.account,
                refund_holder=refund_account.holder,
                refund_tel=refund_account.tel,
            )
        # No idempotency at iamport: never repeat a cancel blindly (checksum guards a replay).
        return normalize(self._call("POST", "/payments/cancel", safe_to_repeat=False, json=body))

    def revoke(self, payment_id: str, *, amount: int, currency: str, reason: str) -> GatewayPayment:
        """DELETE /vbanks/{imp_uid}: PortOne cancels a waiting virtual account only this way."""
        return normalize(
            self._call("DELETE", f"/vbanks/{_segment(payment_id)}", safe_to_repeat=False)
        )

    def notice_url(self) -> str:
        """Where PortOne sends its webhooks: the notice_url of every window and charge."""
        return str(self.settings.get("PUBLIC_URL", "")).rstrip("/") + WEBHOOK_PATH

    def prepare(self, order_id: str, amount: int, currency: str) -> None:
        """POST /payments/prepare, unless IAMPORT_PREPARE is off."""
        if not self.prepares:
            return
        self._call(
            "POST",
            "/payments/prepare",
            safe_to_repeat=True,
            json={
                "merchant_uid": order_id,
                "amount": to_major(amount, currency),
                "currency": currency,
            },
        )

    # -- settlement ----------------------------------------------------------------------------

    def list_transactions(
        self, start: datetime, end: datetime, *, also: tuple[str, ...] = ()
    ) -> list[GatewayTransaction]:
        """GET /payments/status/{paid,cancelled} with from/to, then the payments in `also`.

        PortOne V1 lists a payment by the time of its current status only: one paid earlier and
        partly refunded in the window shows under neither, so the ledger names those (`also`).
        """
        seen: dict[str, GatewayPayment] = {}
        for status in ("paid", "cancelled"):
            for raw in self._listed(status, start, end):
                gp = normalize(raw)
                seen[gp.payment_id] = gp
        for payment_id in also:
            if payment_id not in seen:
                try:
                    seen[payment_id] = self.get_payment(payment_id)
                except PaymentNotFound:
                    continue
        return [t for gp in seen.values() for t in transactions_of(gp, start, end)]

    def _listed(self, status: str, start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
        """Every page of GET /payments/status/{status} (1,000 a page; `to` is inclusive)."""
        page = 1
        while page:
            answer = self._call(
                "GET",
                f"/payments/status/{status}",
                safe_to_repeat=True,
                params={
                    "from": int(start.timestamp()),
                    "to": int(end.timestamp()) - 1,
                    "page": page,
                    "limit": 1000,
                },
            )
            yield from answer.get("list") or []
            page = answer.get("next") or 0
