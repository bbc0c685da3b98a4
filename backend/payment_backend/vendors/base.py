"""One interface for every gateway, and the normalized view of a gateway's payment."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

# Normalized gateway states (our own payment status is derived from these and the amounts).
READY = "ready"  # created or authenticating; nothing charged yet
AWAITING_DEPOSIT = "awaiting_deposit"  # a virtual account was issued
PAID = "paid"  # charged (possibly partly cancelled since)
CANCELLED = "cancelled"  # nothing left: fully cancelled, or revoked before any deposit
FAILED = "failed"  # declined, aborted or expired

# Normalized states of one refund (a cancel) at the gateway.
REFUND_DONE = "done"  # the money went back
REFUND_PENDING = "pending"  # taken off the balance, not paid out yet (a virtual account's transfer)
REFUND_FAILED = "failed"  # the payout failed: the amount is back in the payment's balance

# Normalized states of a charge booked ahead at the gateway.
BOOKED = "booked"  # waiting for its time
RAN = "ran"  # the gateway ran it (the payment says how it went)
UNBOOKED = "unbooked"  # revoked, or gone


class GatewayError(Exception):
    """The gateway refused the request (a business failure: declined, over-cancel, not found...)."""

    def __init__(self, message: str, *, code: str = "", status: int = 200) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


class PaymentNotFound(GatewayError):
    """The gateway has no such payment."""


class BillingKeyNotFound(GatewayError):
    """The gateway holds no such billing key."""


class WebhookRefused(GatewayError):
    """A webhook delivery failed its gateway's authentication (signature, timestamp): not stored."""


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
    status: str = REFUND_DONE  # REFUND_DONE, REFUND_PENDING or REFUND_FAILED
    settles_at: datetime | None = None  # a pending refund's expected payout, where one is known


@dataclass(frozen=True)
class GatewayPayment:
    """A gateway's payment in minor units, whatever the vendor's field names."""

    vendor: str
    payment_id: str
    order_id: str
    status: str
    method: str  # card | vbank | easypay | other
    currency: str
    amount: int
    cancelled: int  # taken off the balance: refunds done and pending (a failed one is back)
    paid_at: datetime | None
    cancels: list[GatewayCancel] = field(default_factory=list)
    vbank: dict[str, Any] | None = None
    card: dict[str, Any] | None = None
    receipt_url: str | None = None
    failure: str | None = None
    secret: str | None = None  # Toss virtual accounts: authenticates DEPOSIT_CALLBACK
    billing_customer: str | None = None  # the billing key's customer it was paid with, if any
    key_usage: str | None = None  # a payment by a key window: "issue" registered the key
    # Easy pay (간편결제): {provider (tosspay, naverpay, kakaopay, ...), amount, discount}
    easy_pay: dict[str, Any] | None = None
    # A virtual account's deposit the bank reversed: waiting for the deposit again.
    deposit_reversed: bool = False
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def remaining(self) -> int:
        """What the gateway can still cancel."""
        return self.amount - self.cancelled

    @property
    def refund_pending(self) -> int:
        """Refunds taken off the balance but not paid out yet: never money returned."""
        return sum(c.amount for c in self.cancels if c.status == REFUND_PENDING)

    @property
    def returned(self) -> int:
        """Money that went back to the buyer."""
        return self.cancelled - self.refund_pending

    @property
    def ever_cancelled(self) -> int:
        """Every cancel ever made, whatever became of it (a read that shows less is older)."""
        return self.cancelled + sum(c.amount for c in self.cancels if c.status == REFUND_FAILED)


@dataclass(frozen=True)
class RefundAccount:
    """Where a refunded virtual-account deposit goes."""

    bank: str
    account: str
    holder: str
    tel: str | None = None


@dataclass(frozen=True)
class WebhookNotice:
    """What a gateway's webhook delivery names, by meaning: only a hint, the payment is re-read."""

    dedupe_key: str  # the same for exact repeats of one delivery (see delivery_key)
    payment_id: str | None = None
    order_id: str | None = None
    secret: str | None = None  # must match the re-read payment's secret (Toss DEPOSIT_CALLBACK)
    noted: str | None = None  # an event that needs no payment read, and what it was


def delivery_key(vendor: str, body: Mapping[str, Any]) -> str:
    """A delivery's dedupe key from its canonical body: exact repeats share it."""
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(f"{vendor}:{canonical}".encode()).hexdigest()


class Payments(Protocol):
    """The payments capability: read, confirm, cancel with an expected balance, prepare."""

    name: str
    # A payment is paid only once we confirm it with the server's amount (Toss); else the window
    # pays it and confirm only reads it (iamport).
    confirms: ClassVar[bool]
    # A cancel repeated with its idempotency key answers the first call's answer, or runs now if
    # the first never arrived (Toss); else a repeat would be a new cancel (iamport).
    idempotent_cancel: ClassVar[bool]
    # prepare() pre-registers an order's amount now (iamport, unless its settings turn it off).
    prepares: bool

    def parse_webhook(
        self, body: Mapping[str, Any], headers: Mapping[str, str], raw: bytes | None = None
    ) -> WebhookNotice:
        """What a webhook delivery names (its payment, its order, its dedupe key), by meaning.

        raw: the delivery's exact bytes as it arrives, which a gateway that signs its webhooks
        authenticates (WebhookRefused); None for a stored delivery, authenticated when it arrived.
        """

    def awaits_confirm(self, gp: GatewayPayment) -> bool:
        """Whether the buyer authenticated gp and it waits for our confirm (Toss IN_PROGRESS)."""

    def window_hints(self, currency: str) -> dict[str, str]:
        """What the browser hands the gateway's SDK with an order, besides the order itself."""

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
        """Pre-register an order's amount so the payment window refuses another (a no-op if none)."""

    def list_transactions(
        self, start: datetime, end: datetime, *, also: tuple[str, ...] = ()
    ) -> list[GatewayTransaction]:
        """Every approval and refund between start and end as the gateway lists them (settlement);
        `also`: payment ids to re-read besides, where the gateway's listing cannot show them."""


# -- billing (billing keys, 정기결제) -----------------------------------------------------------


@dataclass(frozen=True)
class BillingKey:
    """A billing key as its gateway holds it."""

    key: str  # what charges it: iamport customer_uid, Toss billingKey
    customer_key: str  # whose it is: Toss customerKey (iamport: the customer_uid again)
    card: dict[str, Any]  # {company, number}, masked: the card summary we show
    raw: dict[str, Any]  # the gateway's object (stored sealed)


@dataclass(frozen=True)
class KeyWindow:
    """What the browser's billing-key window is opened for."""

    customer_key: str  # ours, random: the customer the key is issued to
    order_id: str  # what the window pays, where it pays (window_pays)
    amount: int  # the first period, or 0 for a replacement card
    currency: str
    name: str


@dataclass(frozen=True)
class KeyProof:
    """What the browser brought back from a billing-key window, by meaning (absent: None)."""

    payment_id: str | None = None  # the payment the window made (window_pays)
    customer_key: str | None = None  # the customer the window says it registered the card for
    auth: str | None = None  # a one-time authorization to exchange for the key


@dataclass(frozen=True)
class KeyCharge:
    """One charge with a billing key: at most one payment per order id."""

    key: str
    customer_key: str
    order_id: str
    name: str
    amount: int
    currency: str
    buyer: dict[str, Any] | None = None
    attempt: int = 1  # the nth try of this order id (keys a gateway's idempotency per try)


@dataclass(frozen=True)
class Booking:
    """A charge booked ahead at the gateway."""

    status: str  # BOOKED, RAN or UNBOOKED
    customer_key: str | None = None
    payment_id: str | None = None  # once it ran


class Billing(Protocol):
    """The billing capability: issue or verify a key, charge with it, book ahead or not, forget it."""

    # The key window makes a payment whose id the browser brings back (iamport: the first period,
    # or nothing for a new card); else it hands back an authorization for the key (Toss).
    window_pays: ClassVar[bool]
    # Each next period is booked at the gateway, which charges it when due (iamport schedules);
    # else we charge it when due (Toss).
    books_ahead: ClassVar[bool]
    # The fields of the browser's proof this gateway requires.
    proof_fields: ClassVar[tuple[str, ...]]

    def key_setup(self, window: KeyWindow) -> dict[str, Any]:
        """What the browser hands the gateway's SDK to open the billing-key window."""

    def key_proof(self, proof: Mapping[str, Any]) -> KeyProof:
        """The browser's answer from the window, by meaning."""

    def issue_key(self, proof: KeyProof, customer_key: str) -> BillingKey:
        """The key the window's proof stands for: exchanged now, or read (BillingKeyNotFound)."""

    def read_key(self, uid: str, customer_key: str) -> BillingKey:
        """A key registered elsewhere (the seed's reservations): read, or exchanged for uid."""

    def charge_key(self, charge: KeyCharge) -> GatewayPayment:
        """Charge now; a decline is a FAILED payment or a GatewayError, never two payments.

        A refusal because an earlier try of the order id went through returns that payment.
        """

    def book(self, charge: KeyCharge, due_at: datetime) -> None:
        """Book the charge for due_at at the gateway (books_ahead only)."""

    def booking(self, order_id: str) -> Booking | None:
        """The charge booked for an order id, if any."""

    def unbook(self, customer_key: str, order_id: str) -> None:
        """Revoke the charge booked for an order id; nothing left to revoke is fine."""

    def forget_key(self, key: str, reason: str) -> None:
        """Delete a billing key at the gateway; a key already gone is fine."""


class ChargesOnDemand:
    """Billing of a gateway that books nothing ahead: each period is charged when due."""

    books_ahead: ClassVar[bool] = False

    def book(self, charge: KeyCharge, due_at: datetime) -> None:
        """Never called: the worker charges when due."""
        raise NotImplementedError("this gateway books nothing ahead")

    def booking(self, order_id: str) -> Booking | None:
        """Nothing is ever booked."""
        return None

    def unbook(self, customer_key: str, order_id: str) -> None:
        """Nothing is ever booked."""


class Gateway(Payments, Billing, Protocol):
    """What the service needs from a gateway: both capabilities."""


@dataclass(frozen=True)
class Vendor:
    """A gateway's entry in the registry (vendors/__init__.py)."""

    name: str
    payment_id: re.Pattern[str]  # what its payment ids look like; anything else never reaches it
    normalize: Callable[[dict[str, Any]], GatewayPayment]  # its payment object, normalized
    connect: Callable[[Mapping[str, Any]], Gateway]  # its client, from the app's settings
    seed_code: str  # its vendor code in the seed's service API (vendor.code)
    webhook: str  # what its webhook route receives (POST /payments/webhooks/<name>, documented)


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
        if cancel.status == REFUND_FAILED:
            continue  # its money never left
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
