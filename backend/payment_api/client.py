"""PaymentClient: the service API from Python, with the body encryption built in.

Two kinds of routes behind one class: the seed's service API (histories, reservations), whose
bodies are encrypted with the connection key and IV, and the subscription routes, which are
plain JSON (the browser's contract, plus the owner's list and dashboard behind the admin token).
"""

from __future__ import annotations

import json
import logging
import random
import time
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import requests
from urllib3.exceptions import NewConnectionError

from payment_api.cipher import BodyCipher
from payment_api.errors import PaymentApiError, ProtocolError, TransportError, error_for
from payment_api.models import (
    TOSS,
    PaymentHistory,
    PaymentReservation,
    Plan,
    RefundAccount,
    Source,
    Subscription,
    SubscriptionDashboard,
    Vendor,
)
from payment_api.webhooks import TOLERANCE_SECONDS, Notification, verify_webhook

log = logging.getLogger(__name__)

# Answers worth repeating the same request for: the service itself was briefly unavailable,
# or the first try with this Idempotency-Key is still running.
RETRY_STATUSES = (503,)
RETRY_CODES = ("IDEMPOTENT_REQUEST_PROCESSING",)


class PaymentClient:
    """One client per service; thread-safe when each thread makes its own, cheap to create.

    `key` and `iv` are the service's PAYMENT_CONNECTION_ENCRYPTION_KEY and _IV;
    `admin_token` (PAYMENT_ADMIN_TOKEN) is sent as `Authorization: Bearer` on the owner's
    subscription calls (not needed in local mode). Connection errors, timeouts and 503 answers
    are retried `retries` times with exponential backoff; mutating calls carry one
    Idempotency-Key through all their attempts, so a retry never registers or refunds twice.
    Errors raise the exceptions of payment_api.errors.

    The service keeps the Idempotency-Key on the histories and reservations calls and on the
    owner's refund of a subscription charge. The other subscription calls get one too, but are
    safe to repeat by what they do (a repeated activation, cancellation or card confirmation
    answers the same subscription), except create_subscription, which is therefore retried only
    when the request cannot have reached the service.
    """

    def __init__(
        self,
        base_url: str,
        key: str,
        iv: str,
        *,
        timeout: float = 20.0,
        retries: int = 3,
        backoff: float = 0.2,
        admin_token: str | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.admin_token = admin_token
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.cipher = BodyCipher(key, iv)
        self.session = session or requests.Session()

    def close(self) -> None:
        """Close the HTTP connections."""
        self.session.close()

    def __enter__(self) -> PaymentClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- histories ---------------------------------------------------------------------------

    def create_history(
        self,
        vendor: Vendor,
        source: Source,
        price: int,
        password: str,
        webhook_url: str,
        *,
        currency: str = "KRW",
        idempotency_key: str | None = None,
    ) -> PaymentHistory:
        """Register a gateway payment: the service verifies it (Toss: confirms it) and records it."""
        body = {
            "vendor": vendor.to_dict(),
            "source": source.to_dict(),
            "price": price,
            "currency": currency,
            "password": password,
            "webhook_url": webhook_url,
        }
        answer = self._call("POST", "/payments/histories", body, idempotency_key or _new_key())
        return PaymentHistory.from_dict(answer)

    def get_history(self, source: Source, password: str) -> PaymentHistory:
        """Read a record by the caller's source reference."""
        return PaymentHistory.from_dict(self._read("histories", source, password))

    def get_history_by_id(self, history_id: str, password: str) -> PaymentHistory:
        """Read a record by its id."""
        return PaymentHistory.from_dict(self._read_by_id("histories", history_id, password))

    def cancel_history(
        self,
        source: Source,
        password: str,
        price: int | None,
        reason: str,
        *,
        account: RefundAccount | None = None,
        idempotency_key: str | None = None,
    ) -> PaymentHistory:
        """Refund price (None: all that is left); a virtual account needs the buyer's account."""
        body = {
            "source": source.to_dict(),
            "password": password,
            "price": price,
            "reason": reason,
            "account": account.to_dict() if account else None,
        }
        answer = self._call(
            "PUT", "/payments/histories/cancel", body, idempotency_key or _new_key()
        )
        return PaymentHistory.from_dict(answer)

    # -- reservations (billing keys) -----------------------------------------------------------

    def create_reservation(
        self,
        vendor: Vendor,
        source: Source,
        title: str,
        password: str,
        *,
        idempotency_key: str | None = None,
    ) -> PaymentReservation:
        """Record a billing key: iamport vendor.uid = customer_uid; Toss vendor.uid = billingKey
        (or the billing window's authKey) with source.id = the customerKey."""
        body = {
            "vendor": vendor.to_dict(),
            "source": source.to_dict(),
            "title": title,
            "password": password,
        }
        answer = self._call("POST", "/payments/reservations", body, idempotency_key or _new_key())
        return PaymentReservation.from_dict(answer)

    def get_reservation(self, source: Source, password: str) -> PaymentReservation:
        """Read a billing key record by the caller's source reference."""
        return PaymentReservation.from_dict(self._read("reservations", source, password))

    def get_reservation_by_id(self, reservation_id: str, password: str) -> PaymentReservation:
        """Read a billing key record by its id."""
        return PaymentReservation.from_dict(
            self._read_by_id("reservations", reservation_id, password)
        )

    # -- subscriptions (plain JSON) ---------------------------------------------------------------
    #
    # The card itself is never handled here: the subscriber types it into the gateway's window in
    # their own browser. A server-side caller starts the subscription, hands `setup` to its
    # frontend (IMP.request_pay with customer_uid, or TossPayments.requestBillingAuth), and relays
    # the window's answer to activate_subscription; notes/SUBSCRIPTIONS_API.md has the shapes.

    def list_plans(self) -> list[Plan]:
        """The plans on offer (GET /api/subscriptions/plans, plain JSON)."""
        answer = self._call_json("GET", "/api/subscriptions/plans")
        return [Plan.from_dict(p) for p in answer["plans"]]

    def create_subscription(
        self,
        plan_id: int,
        vendor: str,
        *,
        buyer_name: str | None = None,
        buyer_email: str | None = None,
        idempotency_key: str | None = None,
    ) -> Subscription:
        """Start a subscription (status incomplete) whose `setup` the browser's card window needs.

        Plain JSON. vendor is "iamport" or "toss" (TOSS, "toss.payments", is taken too). The
        service does not deduplicate creations, so this call is retried only when the request
        cannot have reached it (connection refused, connect timeout); an incomplete
        subscription that is never activated charges nothing.
        """
        body: dict[str, Any] = {
            "plan_id": plan_id,
            "vendor": "toss" if vendor == TOSS else vendor,
        }
        if buyer_name or buyer_email:
            body["buyer"] = {"name": buyer_name, "email": buyer_email}
        answer = self._call_json(
            "POST",
            "/api/subscriptions",
            body,
            idempotency_key or _new_key(),
            repeatable=False,
        )
        return Subscription.from_dict(answer)

    def activate_subscription(
        self,
        subscription_id: str,
        *,
        imp_uid: str | None = None,
        auth_key: str | None = None,
        customer_key: str | None = None,
        idempotency_key: str | None = None,
    ) -> Subscription:
        """Relay the card window's answer: verify the card and pay the first period (plain JSON).

        PortOne: imp_uid from IMP.request_pay's callback; Toss: authKey and customerKey from the
        successUrl. A declined card raises ChargeDeclined (the subscription stays incomplete and
        the same setup can be tried with another card). Repeating the activation that succeeded
        answers the same subscription, so retries are safe.
        """
        body = _proof(imp_uid, auth_key, customer_key)
        answer = self._call_json(
            "POST",
            f"/api/subscriptions/{_segment(subscription_id)}/activate",
            body,
            idempotency_key or _new_key(),
        )
        return Subscription.from_dict(answer)

    def get_subscription(self, subscription_id: str) -> Subscription:
        """A subscription with its charges (GET /api/subscriptions/{id}, plain JSON)."""
        answer = self._call_json("GET", f"/api/subscriptions/{_segment(subscription_id)}")
        return Subscription.from_dict(answer)

    def cancel_subscription(
        self,
        subscription_id: str,
        reason: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> Subscription:
        """Stop future charges; access lasts to the end of the paid period; nothing is refunded.

        Plain JSON. Cancelling a canceled subscription answers it unchanged, so retries are safe.
        """
        answer = self._call_json(
            "POST",
            f"/api/subscriptions/{_segment(subscription_id)}/cancel",
            {"reason": reason},
            idempotency_key or _new_key(),
        )
        return Subscription.from_dict(answer)

    def change_subscription_card(
        self, subscription_id: str, *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """The `setup` for a new card, for the browser's card window (plain JSON).

        Each call replaces the previous setup; only the latest one can be confirmed.
        """
        answer = self._call_json(
            "POST",
            f"/api/subscriptions/{_segment(subscription_id)}/card",
            {},
            idempotency_key or _new_key(),
        )
        return answer["setup"]

    def confirm_subscription_card(
        self,
        subscription_id: str,
        *,
        imp_uid: str | None = None,
        auth_key: str | None = None,
        customer_key: str | None = None,
        idempotency_key: str | None = None,
    ) -> Subscription:
        """Relay the new card's window answer; a past-due period is charged with it at once."""
        answer = self._call_json(
            "POST",
            f"/api/subscriptions/{_segment(subscription_id)}/card/confirm",
            _proof(imp_uid, auth_key, customer_key),
            idempotency_key or _new_key(),
        )
        return Subscription.from_dict(answer)

    def list_subscriptions(self) -> list[Subscription]:
        """Owner: every subscription, newest first (plain JSON; sends the admin token)."""
        answer = self._call_json("GET", "/api/admin/subscriptions", owner=True)
        return [Subscription.from_dict(s) for s in answer["subscriptions"]]

    def subscription_dashboard(self, months: int = 6) -> SubscriptionDashboard:
        """Owner: active, past due, MRR, and per calendar month (Asia/Seoul) of the last `months`
        (1 to 24) the members joined, canceled, churned by dunning, active at its end, revenue and
        refunds (plain JSON)."""
        path = f"/api/admin/subscriptions/dashboard?months={int(months)}"
        answer = self._call_json("GET", path, owner=True)
        return SubscriptionDashboard.from_dict(answer)

    def refund_subscription_charge(
        self,
        subscription_id: str,
        period: int,
        reason: str,
        amount: int | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> Subscription:
        """Owner: refund a paid period, all that is left (amount None) or a part (plain JSON).

        The service keeps the Idempotency-Key, so a retry never refunds twice.
        """
        answer = self._call_json(
            "POST",
            f"/api/admin/subscriptions/{_segment(subscription_id)}/charges/{int(period)}/refund",
            {"amount": amount, "reason": reason},
            idempotency_key or _new_key(),
            owner=True,
        )
        return Subscription.from_dict(answer)

    # -- notifications -------------------------------------------------------------------------

    def verify_webhook(
        self,
        secret: str,
        headers: Mapping[str, str],
        body: bytes | str,
        *,
        tolerance: float | None = TOLERANCE_SECONDS,
        now: float | None = None,
    ) -> Notification:
        """Check and read a notification the service sent (payment_api.webhooks.verify_webhook,
        able to read the seed-compatible encrypted bodies with this client's key); `now` is the
        receiver's UNIX time (default: time.time(); a test clock's time in local mode)."""
        return verify_webhook(
            secret, headers, body, tolerance=tolerance, now=now, cipher=self.cipher
        )

    # -- transport -----------------------------------------------------------------------------

    def _read(self, records: str, source: Source, password: str) -> dict[str, Any]:
        """PATCH /payments/{records}/get: a record by its source, the password in the body."""
        body = {**source.to_dict(), "password": password}
        return self._call("PATCH", f"/payments/{records}/get", body)

    def _read_by_id(self, records: str, record_id: str, password: str) -> dict[str, Any]:
        """PATCH /payments/{records}/{id}: a record by its id, the password in the body."""
        return self._call(
            "PATCH", f"/payments/{records}/{_segment(record_id)}", {"password": password}
        )

    def _call(
        self, method: str, path: str, body: dict[str, Any], idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """An encrypted service API call: the body and the answer are ciphertext (text/plain)."""
        headers = {"Content-Type": "text/plain", "Accept": "text/plain, application/json"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        response = self._send(method, path, self.cipher.encrypt(body), headers)
        return self._decrypted(response)

    def _call_json(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
        *,
        owner: bool = False,
        repeatable: bool = True,
    ) -> dict[str, Any]:
        """A plain JSON call (the subscription routes); owner calls carry the admin token."""
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        if owner and self.admin_token:
            headers["Authorization"] = f"Bearer {self.admin_token}"
        response = self._send(method, path, data, headers, repeatable=repeatable)
        try:
            value = response.json()
        except ValueError as exc:
            raise ProtocolError("The answer is not JSON.", status=response.status_code) from exc
        if not isinstance(value, dict):
            raise ProtocolError("The answer is not a JSON object.", status=response.status_code)
        return value

    def _send(
        self,
        method: str,
        path: str,
        data: str | bytes | None,
        headers: dict[str, str],
        *,
        repeatable: bool = True,
    ) -> requests.Response:
        """The request, retried with backoff; a successful response, or the mapped error.

        Not repeatable: only failures before the request left are retried.
        """
        attempt = 0
        while True:
            try:
                response = self.session.request(
                    method, self.base_url + path, data=data, headers=headers, timeout=self.timeout
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt >= self.retries or not (repeatable or _never_sent(exc)):
                    raise TransportError(
                        f"{method} {path}: {exc.__class__.__name__} after {attempt + 1} tries"
                    ) from exc
                log.info("%s %s failed (%s); retrying", method, path, exc.__class__.__name__)
            else:
                if response.status_code < 400:
                    return response
                error = self._error(response)
                retryable = response.status_code in RETRY_STATUSES or error.code in RETRY_CODES
                if not retryable or attempt >= self.retries:
                    raise error
            time.sleep(self.backoff * (2**attempt) * (0.5 + random.random()))
            attempt += 1

    def _decrypted(self, response: requests.Response) -> dict[str, Any]:
        text = response.text.strip()
        if not text:
            return {}
        value = self.cipher.decrypt(text)
        if not isinstance(value, dict):
            raise ProtocolError("The answer is not a JSON object.", status=response.status_code)
        return value

    @staticmethod
    def _error(response: requests.Response) -> PaymentApiError:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            body = {"message": response.text[:500] or response.reason}
        return error_for(response.status_code, body)


def _new_key() -> str:
    return str(uuid.uuid4())


def _segment(value: str) -> str:
    return quote(str(value), safe="")


def _proof(imp_uid: str | None, auth_key: str | None, customer_key: str | None) -> dict[str, str]:
    """What the card window returned: PortOne imp_uid, or Toss authKey and customerKey."""
    proof = {"imp_uid": imp_uid, "auth_key": auth_key, "customer_key": customer_key}
    given = {k: v for k, v in proof.items() if v}
    if not given:
        raise ValueError("pass imp_uid (PortOne) or auth_key and customer_key (Toss)")
    return given


def _never_sent(exc: requests.RequestException) -> bool:
    """Whether a failure happened before the request could reach the service."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError)
