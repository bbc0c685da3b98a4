"""PaymentClient: the service API from Python, with the body encryption built in."""

from __future__ import annotations

import logging
import random
import time
import uuid
from typing import Any
from urllib.parse import quote

import requests

from payment_api.cipher import BodyCipher
from payment_api.errors import PaymentApiError, ProtocolError, TransportError, error_for
from payment_api.models import PaymentHistory, PaymentReservation, RefundAccount, Source, Vendor

log = logging.getLogger(__name__)

# Answers worth repeating the same request for: the service itself was briefly unavailable,
# or the first try with this Idempotency-Key is still running.
RETRY_STATUSES = (503,)
RETRY_CODES = ("IDEMPOTENT_REQUEST_PROCESSING",)


class PaymentClient:
    """One client per service; thread-safe when each thread makes its own, cheap to create.

    `key` and `iv` are the service's PAYMENT_CONNECTION_ENCRYPTION_KEY and _IV. Connection
    errors, timeouts and 503 answers are retried `retries` times with exponential backoff;
    mutating calls carry one Idempotency-Key through all their attempts, so a retry never
    registers or refunds twice. Errors raise the exceptions of payment_api.errors.
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
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
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
        body = {**source.to_dict(), "password": password}
        return PaymentHistory.from_dict(self._call("PATCH", "/payments/histories/get", body))

    def get_history_by_id(self, history_id: str, password: str) -> PaymentHistory:
        """Read a record by its id."""
        path = f"/payments/histories/{quote(history_id, safe='')}"
        return PaymentHistory.from_dict(self._call("PATCH", path, {"password": password}))

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
        body = {**source.to_dict(), "password": password}
        return PaymentReservation.from_dict(self._call("PATCH", "/payments/reservations/get", body))

    def get_reservation_by_id(self, reservation_id: str, password: str) -> PaymentReservation:
        """Read a billing key record by its id."""
        path = f"/payments/reservations/{quote(reservation_id, safe='')}"
        return PaymentReservation.from_dict(self._call("PATCH", path, {"password": password}))

    # -- transport -----------------------------------------------------------------------------

    def _call(
        self, method: str, path: str, body: dict[str, Any], idempotency_key: str | None = None
    ) -> dict[str, Any]:
        headers = {"Content-Type": "text/plain", "Accept": "text/plain, application/json"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        data = self.cipher.encrypt(body)
        attempt = 0
        while True:
            try:
                response = self.session.request(
                    method, self.base_url + path, data=data, headers=headers, timeout=self.timeout
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt >= self.retries:
                    raise TransportError(
                        f"{method} {path}: {exc.__class__.__name__} after {attempt + 1} tries"
                    ) from exc
                log.info("%s %s failed (%s); retrying", method, path, exc.__class__.__name__)
            else:
                if response.status_code < 400:
                    return self._decrypted(response)
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
