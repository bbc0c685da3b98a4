"""One interface for every gateway, and the normalized view of a gateway's payment."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

# Normalized gateway states (our own payment status is derived from these and the amounts).
READY = "ready"  # created or authenticating; nothing charged yet
AWAITING_DEPOSIT = "awaiting_deposit"  # a virtual account was issued
PAID = "paid"  # charged (possibly partly cancelled since)
CANCELLED = "cancelled"  # nothing left: fully cancelled, or revoked before any deposit
FAILED = "failed"  # declined, aborted or expired


class GatewayError(Exception):
    """The gateway refused the request (a business failure: declined, over-cancel, not found...)."""

    def __init__(self, message: str, *, code: str = "", status: int = 200) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


class PaymentNotFound(GatewayError):
    """The gateway has no such payment."""


class GatewayUnavailable(Exception):
    """The gateway could not be reached or answered 5xx: the outcome of a mutating call is unknown."""


@dataclass(frozen=True)
class GatewayCancel:
    """One cancel as the gateway lists it."""

    vendor_cancel_id: str
    amount: int
    reason: str
    cancelled_at: datetime
    raw: dict[str, Any]


@dataclass(frozen=True)
class GatewayPayment:
    """A gateway's payment in minor units, whatever the vendor's field names."""

    vendor: str
    payment_id: str
    order_id: str
    status: str
    method: str  # card | vbank | other
    currency: str
    amount: int
    cancelled: int
    paid_at: datetime | None
    cancels: list[GatewayCancel] = field(default_factory=list)
    vbank: dict[str, Any] | None = None
    card: dict[str, Any] | None = None
    receipt_url: str | None = None
    failure: str | None = None
    secret: str | None = None  # Toss virtual accounts: authenticates DEPOSIT_CALLBACK
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def remaining(self) -> int:
        """What the gateway can still cancel."""
        return self.amount - self.cancelled


@dataclass(frozen=True)
class RefundAccount:
    """Where a refunded virtual-account deposit goes."""

    bank: str
    account: str
    holder: str
    tel: str | None = None


class Gateway(Protocol):
    """What the service needs from a gateway."""

    name: str

    def get_payment(self, payment_id: str) -> GatewayPayment:
        """Read one payment (PaymentNotFound when unknown)."""

    def find_by_order(self, order_id: str) -> GatewayPayment | None:
        """The payment made for an order id, if any."""

    def find_all_by_order(self, order_id: str) -> list[GatewayPayment]:
        """Every payment made for an order id (a second payment included)."""

    def confirm(self, payment_id: str, order_id: str, amount: int, currency: str) -> GatewayPayment:
        """Approve an authenticated payment (Toss) or read it (iamport has no confirm step)."""

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
        """Cancel amount (None: all that is left) if the gateway's balance is expected_remaining."""

    def revoke(self, payment_id: str, *, amount: int, currency: str, reason: str) -> GatewayPayment:
        """Revoke a virtual account before any deposit (nothing was paid into it)."""

    def prepare(self, order_id: str, amount: int, currency: str) -> None:
        """Pre-register an order's amount so the payment window refuses another (iamport only)."""

    def list_transactions(
        self, start: datetime, end: datetime, *, also: tuple[str, ...] = ()
    ) -> list[GatewayTransaction]:
        """Every approval and refund between start and end as the gateway lists them (settlement);
        `also`: payment ids to re-read besides, where the gateway's listing cannot show them."""


@dataclass(frozen=True)
class GatewayTransaction:
    """One money movement as a gateway lists it for a day: a payment approved, or a refund."""

    vendor: str
    kind: str  # payment | refund
    transaction_id: str  # payment: the payment id; refund: the gateway's cancel id
    payment_id: str
    order_id: str
    method: str  # card | vbank | other
    currency: str
    amount: int  # minor units, positive for both kinds
    status: str  # the payment's normalized status as listed
    at: datetime


def transactions_of(gp: GatewayPayment, start: datetime, end: datetime) -> list[GatewayTransaction]:
    """A payment's approval and refunds that fall in [start, end), as transactions."""
    common = {
        "vendor": gp.vendor,
        "payment_id": gp.payment_id,
        "order_id": gp.order_id,
        "method": gp.method,
        "currency": gp.currency,
        "status": gp.status,
    }
    found = []
    if gp.paid_at is not None and start <= gp.paid_at < end:
        found.append(
            GatewayTransaction(
                kind="payment",
                transaction_id=gp.payment_id,
                amount=gp.amount,
                at=gp.paid_at,
                **common,
            )
        )
    for cancel in gp.cancels:
        if cancel.amount > 0 and start <= cancel.cancelled_at < end:
            found.append(
                GatewayTransaction(
                    kind="refund",
                    transaction_id=cancel.vendor_cancel_id,
                    amount=cancel.amount,
                    at=cancel.cancelled_at,
                    **common,
                )
            )
    return found
