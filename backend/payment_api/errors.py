"""The exceptions PaymentClient raises.

Every one derives from PaymentApiError; catch that to catch them all. An error the service
answered carries its HTTP `status`, its `code` and `message` and the whole JSON `body`; a
transport or protocol failure, and a webhook that fails verification, have `status` None.
The encrypted service API (histories, reservations) and the plain-JSON subscription routes
answer errors in the same envelope {code, message, ...}, so both map to the same classes.

    PaymentApiError                 base: status, code, message, body
    ├── TransportError              the service could not be reached, even after the retries
    ├── ProtocolError               an answer that cannot be decrypted or parsed (wrong key or IV?)
    ├── WebhookVerificationError    an incoming notification whose signature or timestamp is
    │                               wrong (raised by verify_webhook, not by a call)
    ├── BadRequest                  400: not valid, not decryptable by the service
    ├── Unauthorized                401 ADMIN_TOKEN_REQUIRED: an owner call without the right
    │                               admin token (PaymentClient(admin_token=...))
    ├── ChargeDeclined              402 CHARGE_DECLINED: the subscriber's card was declined
    │                               (activating a subscription, confirming a new card)
    ├── NotFound                    404: no record with this reference and password (the same
    │                               answer for both: wrong password and unknown record), or no
    │                               such subscription
    ├── Conflict                    409: the request contradicts the record's state
    │   ├── AlreadyRegistered       409 ALREADY_REGISTERED: source or gateway payment taken
    │   ├── OverRefund              409 OVER_REFUND: more than is left; `.remaining`
    │   ├── NotRefundable           409 NOT_REFUNDABLE: not paid, or refunded already
    │   └── GatewayRefused          409 GATEWAY_REFUSED: the gateway said no; `.gateway_code`
    ├── Unprocessable               422: the payment is not what was registered; for the
    │   │                           subscription routes, a body that is not valid
    │   ├── AmountMismatch          422 AMOUNT_MISMATCH: `.expected`, `.paid`, `.cancelled`
    │   ├── InvalidAmount           422 INVALID_AMOUNT: a refund of zero or less
    │   └── WebhookUrlNotAllowed    422 WEBHOOK_URL_NOT_ALLOWED: the service will not call this
    │                               webhook_url (private address; loopback outside local/test)
    ├── GatewayUnavailable          502 GATEWAY_UNAVAILABLE: the gateway did not answer; retry
    │                               later with the same call (it is idempotent)
    └── ServerError                 any other 5xx

Mutating calls send an Idempotency-Key that stays the same across the client's own retries, so
a retry after TransportError or GatewayUnavailable cannot register or refund twice, provided
the same `idempotency_key` is passed again.
"""

from __future__ import annotations

from typing import Any


class PaymentApiError(Exception):
    """Base of every error of the payment service client."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str = "",
        body: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.body = body or {}

    def __str__(self) -> str:
        prefix = f"{self.status} {self.code}: " if self.status else ""
        return prefix + self.message


class TransportError(PaymentApiError):
    """The service could not be reached (connection refused, timeout), after the retries."""


class ProtocolError(PaymentApiError):
    """The answer could not be decrypted or parsed."""


class WebhookVerificationError(PaymentApiError):
    """An incoming notification that is not signed by the service, or too old to trust."""


class BadRequest(PaymentApiError):
    """400: the request is not valid or the service could not decrypt it."""


class Unauthorized(PaymentApiError):
    """401 ADMIN_TOKEN_REQUIRED: an owner route without the admin token (outside local mode)."""


class ChargeDeclined(PaymentApiError):
    """402 CHARGE_DECLINED: the card was declined; the subscription stays as it was."""


class NotFound(PaymentApiError):
    """404: no record matches this reference and password, or no such subscription."""


class Conflict(PaymentApiError):
    """409: the request contradicts the record's state."""


class AlreadyRegistered(Conflict):
    """409 ALREADY_REGISTERED: the source or the gateway payment is registered already."""


class OverRefund(Conflict):
    """409 OVER_REFUND: the refund is more than what is left."""

    @property
    def remaining(self) -> int | None:
        """What is left to refund, in minor units."""
        return self.body.get("remaining")


class NotRefundable(Conflict):
    """409 NOT_REFUNDABLE: the payment is not paid, or fully refunded."""


class GatewayRefused(Conflict):
    """409 GATEWAY_REFUSED: the gateway refused; its own code is gateway_code."""

    @property
    def gateway_code(self) -> str | None:
        """The gateway's error code."""
        return self.body.get("gateway_code")


class Unprocessable(PaymentApiError):
    """422: the gateway's payment is not what was registered (order, currency, status...)."""


class AmountMismatch(Unprocessable):
    """422 AMOUNT_MISMATCH: paid another amount than registered; the gateway payment is cancelled."""

    @property
    def expected(self) -> int | None:
        """The registered price."""
        return self.body.get("expected")

    @property
    def paid(self) -> int | None:
        """What the gateway charged."""
        return self.body.get("paid")

    @property
    def cancelled(self) -> bool:
        """Whether the charge was given back at the gateway."""
        return bool(self.body.get("cancelled"))


class InvalidAmount(Unprocessable):
    """422 INVALID_AMOUNT: a refund amount of zero or less."""


class WebhookUrlNotAllowed(Unprocessable):
    """422 WEBHOOK_URL_NOT_ALLOWED: the service refuses to call this webhook_url."""


class GatewayUnavailable(PaymentApiError):
    """502: the payment gateway did not answer; the service reconciles, the call can be retried."""


class ServerError(PaymentApiError):
    """Another 5xx from the service."""


BY_CODE: dict[str, type[PaymentApiError]] = {
    "ALREADY_REGISTERED": AlreadyRegistered,
    "OVER_REFUND": OverRefund,
    "NOT_REFUNDABLE": NotRefundable,
    "GATEWAY_REFUSED": GatewayRefused,
    "AMOUNT_MISMATCH": AmountMismatch,
    "INVALID_AMOUNT": InvalidAmount,
    "WEBHOOK_URL_NOT_ALLOWED": WebhookUrlNotAllowed,
    "ADMIN_TOKEN_REQUIRED": Unauthorized,
    "CHARGE_DECLINED": ChargeDeclined,
    "GATEWAY_UNAVAILABLE": GatewayUnavailable,
}
BY_STATUS: dict[int, type[PaymentApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    402: ChargeDeclined,
    404: NotFound,
    409: Conflict,
    422: Unprocessable,
    502: GatewayUnavailable,
}


def error_for(status: int, body: dict[str, Any]) -> PaymentApiError:
    """The exception for an error answer of the service."""
    code = str(body.get("code") or "")
    cls = BY_CODE.get(code) or BY_STATUS.get(status)
    if cls is None:
        cls = ServerError if status >= 500 else PaymentApiError
    message = str(body.get("message") or f"HTTP {status}")
    return cls(message, status=status, code=code, body=body)
