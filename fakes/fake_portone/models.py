"""The fake's records (payments, cancellations, billing keys, schedules) and their V2 JSON.

Optional fields with no value are left out, never null: the official SDK refuses a null."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from fake_common.window_ui import CashReceiptRequest

READY = "READY"
PAY_PENDING = "PAY_PENDING"
VIRTUAL_ACCOUNT_ISSUED = "VIRTUAL_ACCOUNT_ISSUED"
PAID = "PAID"
FAILED = "FAILED"
PARTIAL_CANCELLED = "PARTIAL_CANCELLED"
CANCELLED = "CANCELLED"
STATUSES = (READY, PAY_PENDING, VIRTUAL_ACCOUNT_ISSUED, PAID, FAILED, PARTIAL_CANCELLED, CANCELLED)
# The list filter spells PAY_PENDING as PENDING (portone-v2.md §6.2).
FILTER_STATUSES = {"PENDING": PAY_PENDING, **{s: s for s in STATUSES}}
CANCELLABLE = (PAID, PARTIAL_CANCELLED)

# Schedule statuses.
SCHEDULED = "SCHEDULED"
SUCCEEDED = "SUCCEEDED"
REVOKED = "REVOKED"


def iso(moment: float) -> str:
    """RFC 3339 in UTC with milliseconds, as PortOne writes times: 2024-04-25T10:00:00.000Z."""
    stamp = datetime.fromtimestamp(moment, UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def parse_time(value: object) -> float | None:
    """An RFC 3339 string as unix seconds; None when it is not one."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def new_id(prefix: str = "") -> str:
    """A fresh UUID, with a prefix when PortOne's ids have one (billing-key-, merchant-)."""
    return prefix + str(uuid.uuid4())


def compact(data: dict) -> dict:
    """data without its None values (PortOne omits what it does not know)."""
    return {k: v for k, v in data.items() if v is not None}


def vat_of(total: int, tax_free: int) -> int:
    """VAT when the caller gave none: 1/11 of the taxable part, rounded half up (a guess)."""
    return (max(total - tax_free, 0) * 10 + 55) // 110


@dataclass
class Cancellation:
    """One cancel of a payment (always SUCCEEDED in the fake)."""

    id: str
    total: int
    tax_free: int
    vat: int
    reason: str
    requested_at: float
    cancelled_at: float
    status: str = SUCCEEDED
    pg_cancellation_id: str = ""

    def to_json(self) -> dict:
        """The PaymentCancellation object."""
        return {
            "status": self.status,
            "id": self.id,
            "pgCancellationId": self.pg_cancellation_id,
            "totalAmount": self.total,
            "taxFreeAmount": self.tax_free,
            "vatAmount": self.vat,
            "reason": self.reason,
            "cancelledAt": iso(self.cancelled_at),
            "requestedAt": iso(self.requested_at),
            "trigger": "API",
        }


@dataclass
class WebhookRecord:
    """A webhook PortOne sent for a payment: its PortOne id, what triggered it, the sends."""

    id: str
    url: str
    body: dict
    payment_status: str
    triggered_at: float
    trigger: str | None
    sender_ids: list[str] = field(default_factory=list)
    manual_sends: int = 0


@dataclass
class Payment:
    """A payment id's current attempt and everything that happened to it."""

    id: str
    transaction_id: str
    store_id: str
    merchant_id: str
    channel: dict
    order_name: str
    total: int
    currency: str
    requested_at: float
    tax_free: int = 0
    vat: int | None = None
    status: str = READY
    status_changed_at: float = 0.0
    updated_at: float = 0.0
    method: dict | None = None
    customer: dict = field(default_factory=dict)
    custom_data: str | None = None
    platform_type: str = "API"
    ip_address: str = "127.0.0.1"
    user_agent: str | None = None
    url: str | None = None
    products: list | None = None
    billing_key: str | None = None
    schedule_id: str | None = None
    pg_tx_id: str | None = None
    paid_at: float | None = None
    failed_at: float | None = None
    failure: dict | None = None
    cancelled_at: float | None = None
    cancellations: list[Cancellation] = field(default_factory=list)
    notice_urls: list[str] | None = None
    webhooks: list[WebhookRecord] = field(default_factory=list)
    approval_number: str | None = None
    cash_receipt_request: CashReceiptRequest | None = None  # asked for in the window
    cash_receipt: dict | None = None  # the IssuedPaymentCashReceipt, once the money is in

    @property
    def paid(self) -> int:
        """What the buyer paid: the total once approved, 0 before (no discounts in the fake)."""
        return self.total if self.paid_at is not None else 0

    @property
    def cancelled(self) -> int:
        """The sum of every cancel."""
        return sum(c.total for c in self.cancellations)

    @property
    def cancelled_tax_free(self) -> int:
        """The tax-free part of every cancel."""
        return sum(c.tax_free for c in self.cancellations)

    @property
    def cancellable(self) -> int:
        """The balance a cancel may take: paid - cancelled."""
        return self.paid - self.cancelled

    def set_status(self, status: str, now: float) -> None:
        """Move to status at now."""
        self.status = status
        self.status_changed_at = now
        self.updated_at = now

    def issue_cash_receipt(self, now: float) -> None:
        """Issue the cash receipt the buyer asked for, as the paid payment then shows it."""
        asked = self.cash_receipt_request
        if asked is None or self.cash_receipt is not None:
            return
        self.cash_receipt = {
            "status": "ISSUED",
            "type": "CORPORATE" if asked.corporate else "PERSONAL",
            "pgReceiptId": "cr-" + uuid.uuid4().hex[:16],
            "issueNumber": f"{uuid.uuid4().int % 10**9:09d}",
            "totalAmount": self.total,
            "taxFreeAmount": self.tax_free,
            "currency": self.currency,
            "issuedAt": iso(now),
        }

    def amount_json(self) -> dict:
        """The PaymentAmount object."""
        vat = self.vat if self.vat is not None else vat_of(self.total, self.tax_free)
        return {
            "total": self.total,
            "taxFree": self.tax_free,
            "vat": vat,
            "supply": self.total - self.tax_free - vat,
            "discount": 0,
            "paid": self.paid,
            "cancelled": self.cancelled,
            "cancelledTaxFree": self.cancelled_tax_free,
        }

    def to_json(self, webhooks: list[dict] | None = None) -> dict:
        """The Payment object of its status: the common fields, then the status's own."""
        data = {
            "status": self.status,
            "id": self.id,
            "transactionId": self.transaction_id,
            "merchantId": self.merchant_id,
            "storeId": self.store_id,
            "method": self.method,
            "channel": self.channel,
            "version": "V2",
            "scheduleId": self.schedule_id,
            "billingKey": self.billing_key,
            "webhooks": webhooks or None,
            "requestedAt": iso(self.requested_at),
            "updatedAt": iso(self.updated_at),
            "statusChangedAt": iso(self.status_changed_at),
            "orderName": self.order_name,
            "amount": self.amount_json(),
            "currency": self.currency,
            "customer": self.customer,
            "origin": compact(
                {
                    "platformType": self.platform_type,
                    "userAgent": self.user_agent,
                    "url": self.url,
                    "ipAddress": self.ip_address,
                }
            ),
            "isCulturalExpense": False,
            "products": self.products,
            "productCount": len(self.products) if self.products else None,
            "customData": self.custom_data,
        }
        data.update(self._status_fields())
        return compact(data)

    def _status_fields(self) -> dict:
        if self.status == READY:
            return {}
        if self.status in (PAY_PENDING, VIRTUAL_ACCOUNT_ISSUED):
            return {"pgTxId": self.pg_tx_id}
        if self.status == FAILED:
            return {
                "failedAt": iso(self.failed_at or self.status_changed_at),
                "failure": self.failure,
            }
        fields = {
            "pgTxId": self.pg_tx_id,
            "paidAt": iso(self.paid_at) if self.paid_at is not None else None,
            "receiptUrl": None,
        }
        if self.cash_receipt is not None:
            fields["cashReceipt"] = dict(self.cash_receipt)
        if self.status == PAID:
            issued = "ISSUED" if self.cash_receipt is not None else "NOT_ISSUED"
            return {**fields, "disputes": [], "cashReceiptIssuanceStatus": issued}
        if self.cash_receipt is not None:
            fields["cashReceiptIssuanceStatus"] = "ISSUED"
        return {
            **fields,
            "cancellations": [c.to_json() for c in self.cancellations],
            "cancelledAt": iso(self.cancelled_at or self.status_changed_at),
        }


@dataclass
class BillingKey:
    """A billing key: the card behind it and whether it was deleted."""

    billing_key: str
    store_id: str
    merchant_id: str
    channel: dict
    card_number: str
    expiry: tuple[int, int] | None
    method: dict
    customer: dict
    issued_at: float
    requested_at: float
    custom_data: str | None = None
    issue_id: str | None = None
    issue_name: str | None = None
    deleted_at: float | None = None
    pg_tx_id: str = ""

    def to_json(self) -> dict:
        """The BillingKeyInfo object (ISSUED or DELETED)."""
        data = {
            "status": "DELETED" if self.deleted_at is not None else "ISSUED",
            "billingKey": self.billing_key,
            "merchantId": self.merchant_id,
            "storeId": self.store_id,
            "methods": [self.method],
            "channels": [self.channel],
            "customer": self.customer,
            "customData": self.custom_data,
            "issueId": self.issue_id,
            "issueName": self.issue_name,
            "requestedAt": iso(self.requested_at),
            "issuedAt": iso(self.issued_at),
            "pgBillingKeyIssueResponses": [
                {"type": "ISSUED", "channel": self.channel, "pgTxId": self.pg_tx_id}
            ],
            "deletedAt": iso(self.deleted_at) if self.deleted_at is not None else None,
        }
        return compact(data)


@dataclass
class Schedule:
    """A payment booked on a billing key for timeToPay."""

    id: str
    store_id: str
    merchant_id: str
    payment_id: str
    billing_key: str
    payment: dict  # the BillingKeyPaymentInput, as sent
    time_to_pay: float
    created_at: float
    status: str = SCHEDULED
    started_at: float | None = None
    completed_at: float | None = None
    revoked_at: float | None = None

    def to_json(self, customer: dict) -> dict:
        """The PaymentSchedule object of its status."""
        amount = self.payment.get("amount") or {}
        data = {
            "status": self.status,
            "id": self.id,
            "merchantId": self.merchant_id,
            "storeId": self.store_id,
            "paymentId": self.payment_id,
            "billingKey": self.billing_key,
            "orderName": self.payment.get("orderName", ""),
            "isCulturalExpense": bool(self.payment.get("isCulturalExpense", False)),
            "isEscrow": False,
            "customer": customer,
            "customData": self.payment.get("customData") or "",
            "totalAmount": amount.get("total", 0),
            "taxFreeAmount": amount.get("taxFree"),
            "vatAmount": amount.get("vat"),
            "currency": self.payment.get("currency", "KRW"),
            "installmentMonth": self.payment.get("installmentMonth"),
            "noticeUrls": self.payment.get("noticeUrls") or None,
            "createdAt": iso(self.created_at),
            "timeToPay": iso(self.time_to_pay),
            "startedAt": iso(self.started_at) if self.started_at is not None else None,
            "completedAt": iso(self.completed_at) if self.completed_at is not None else None,
            "revokedAt": iso(self.revoked_at) if self.revoked_at is not None else None,
        }
        return compact(data)
