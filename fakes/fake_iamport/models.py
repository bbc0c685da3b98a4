"""The fake's records: payments, billing-key customers and schedules, rendered as the API shows them."""

from __future__ import annotations

from dataclasses import dataclass, field

from fake_common.cards import Card
from fake_common.window_ui import CashReceiptRequest
from fake_iamport.money import to_wire


@dataclass
class Buyer:
    """Buyer fields shared by payments and schedules."""

    name: str | None = None
    email: str | None = None
    tel: str | None = None
    addr: str | None = None
    postcode: str | None = None

    @classmethod
    def from_params(cls, params: dict, prefix: str = "buyer_") -> Buyer:
        """Read buyer_name, buyer_email, ... (or customer_*) from request parameters."""
        return cls(
            *(_text(params.get(prefix + k)) for k in ("name", "email", "tel", "addr", "postcode"))
        )

    def to_api(self, prefix: str = "buyer_") -> dict:
        """The buyer fields with their API names."""
        return {
            prefix + "name": self.name,
            prefix + "email": self.email,
            prefix + "tel": self.tel,
            prefix + "addr": self.addr,
            prefix + "postcode": self.postcode,
        }


@dataclass
class Payment:
    """One payment (PaymentAnnotation); amounts in minor units."""

    imp_uid: str
    merchant_uid: str
    pay_method: str
    currency: str
    amount: int
    name: str | None
    pg_provider: str
    pg_id: str
    started_at: int
    channel: str = "pc"
    status: str = "ready"
    cancel_amount: int = 0
    tax_free: int = 0
    buyer: Buyer = field(default_factory=Buyer)
    custom_data: str | None = None
    notice_url: str | None = None
    customer_uid: str | None = None
    customer_uid_usage: str | None = None
    emb_pg_provider: str | None = None  # easy pay inside the PG's window (kakaopay, ...)
    user_agent: str = "sorry_not_supported"
    card: Card | None = None
    card_quota: int = 0
    apply_num: str | None = None
    vbank_code: str | None = None
    vbank_name: str | None = None
    vbank_num: str | None = None
    vbank_holder: str | None = None
    vbank_date: int = 0
    vbank_issued_at: int = 0
    pg_tid: str | None = None
    receipt_url: str | None = None
    paid_at: int = 0
    failed_at: int = 0
    cancelled_at: int = 0
    fail_reason: str | None = None
    cancel_reason: str | None = None
    cancel_history: list[dict] = field(default_factory=list)
    updated_at: int = 0
    seq: int = 0
    cash_receipt: CashReceiptRequest | None = None  # asked for in the window
    cash_receipt_issued: bool = False
    # The browser window that created this payment (None for server-side payments).
    window: dict | None = None

    @property
    def balance(self) -> int:
        """What can still be cancelled, in minor units."""
        return self.amount - self.cancel_amount

    def to_api(self) -> dict:
        """The payment as GET /payments/{imp_uid} returns it."""
        card = self.card
        wire = lambda minor: to_wire(minor, self.currency)  # noqa: E731
        return {
            "imp_uid": self.imp_uid,
            "merchant_uid": self.merchant_uid,
            "pay_method": self.pay_method,
            "channel": self.channel,
            "pg_provider": self.pg_provider,
            "emb_pg_provider": self.emb_pg_provider,
            "pg_tid": self.pg_tid,
            "pg_id": self.pg_id,
            "escrow": False,
            "sandbox": True,
            "apply_num": self.apply_num,
            "bank_code": None,
            "bank_name": None,
            "card_code": card.issuer_code if card else None,
            "card_name": card.issuer_name if card else None,
            "card_issuer_code": card.issuer_code if card else None,
            "card_issuer_name": card.issuer_name if card else None,
            "card_publisher_code": card.issuer_code if card else None,
            "card_publisher_name": card.issuer_name if card else None,
            "card_quota": self.card_quota if card else 0,
            "card_number": card.masked if card else None,
            "card_type": card.card_type if card else None,
            "vbank_code": self.vbank_code,
            "vbank_name": self.vbank_name,
            "vbank_num": self.vbank_num,
            "vbank_holder": self.vbank_holder,
            "vbank_date": self.vbank_date,
            "vbank_issued_at": self.vbank_issued_at,
            "name": self.name,
            "amount": wire(self.amount),
            "cancel_amount": wire(self.cancel_amount),
            "currency": self.currency,
            **self.buyer.to_api(),
            "custom_data": self.custom_data,
            "user_agent": self.user_agent,
            "status": self.status,
            "started_at": self.started_at,
            "paid_at": self.paid_at,
            "failed_at": self.failed_at,
            "cancelled_at": self.cancelled_at,
            "fail_reason": self.fail_reason,
            "cancel_reason": self.cancel_reason,
            "receipt_url": self.receipt_url,
            "cancel_history": [
                {**entry, "amount": wire(entry["amount"])} for entry in self.cancel_history
            ],
            "cancel_receipt_urls": [entry["receipt_url"] for entry in self.cancel_history],
            "cash_receipt_issued": self.cash_receipt_issued,
            "customer_uid": self.customer_uid,
            "customer_uid_usage": self.customer_uid_usage,
            "promotion": None,
        }

    def to_callback(self) -> dict:
        """The browser callback (rsp) for this payment, without the error fields."""
        card = self.card
        return {
            "success": self.status == "paid" or (self.status == "ready" and bool(self.vbank_num)),
            "imp_uid": self.imp_uid,
            "merchant_uid": self.merchant_uid,
            "pay_method": self.pay_method,
            "paid_amount": to_wire(self.amount, self.currency),
            "status": self.status,
            "name": self.name,
            "pg_provider": self.pg_provider,
            "emb_pg_provider": self.emb_pg_provider,
            "pg_tid": self.pg_tid,
            "pg_type": "payment",
            **self.buyer.to_api(),
            "custom_data": self.custom_data,
            "paid_at": self.paid_at,
            "receipt_url": self.receipt_url,
            "apply_num": self.apply_num,
            "card_name": card.issuer_name if card else None,
            "card_number": card.masked if card else None,
            "card_quota": self.card_quota if card else 0,
            "currency": self.currency,
            "bank_name": None,
            "vbank_num": self.vbank_num,
            "vbank_name": self.vbank_name,
            "vbank_holder": self.vbank_holder,
            "vbank_date": self.vbank_date or None,
            "customer_uid": self.customer_uid,
            "error_code": None,
            "error_msg": None,
        }


@dataclass
class Customer:
    """A billing key (CustomerAnnotation)."""

    customer_uid: str
    card: Card
    pg_provider: str
    pg_id: str
    inserted: int
    updated: int
    customer_id: str | None = None
    customer: Buyer = field(default_factory=Buyer)

    def to_api(self) -> dict:
        """The customer as GET /subscribe/customers/{customer_uid} returns it."""
        card = self.card
        return {
            "customer_uid": self.customer_uid,
            "pg_provider": self.pg_provider,
            "pg_id": self.pg_id,
            "sandbox": True,
            "customer_id": self.customer_id,
            "card_name": card.issuer_name,
            "card_code": card.issuer_code,
            "card_issuer_code": card.issuer_code,
            "card_issuer_name": card.issuer_name,
            "card_publisher_code": card.issuer_code,
            "card_publisher_name": card.issuer_name,
            "card_number": card.masked,
            "card_type": card.card_type,
            **self.customer.to_api("customer_"),
            "inserted": self.inserted,
            "updated": self.updated,
        }


@dataclass
class Schedule:
    """A scheduled billing-key charge (ScheduleResultAnnotation)."""

    customer_uid: str
    merchant_uid: str
    schedule_at: int
    amount: int
    currency: str
    name: str | None
    pg_provider: str
    pg_id: str
    created_at: int
    customer_id: str | None = None
    buyer: Buyer = field(default_factory=Buyer)
    custom_data: str | None = None
    notice_url: str | None = None
    card_quota: int = 0
    imp_uid: str | None = None
    executed_at: int = 0
    revoked_at: int = 0
    schedule_status: str = "scheduled"
    payment_status: str | None = None
    fail_reason: str | None = None

    def to_api(self) -> dict:
        """The schedule as the schedule endpoints return it."""
        return {
            "customer_uid": self.customer_uid,
            "merchant_uid": self.merchant_uid,
            "imp_uid": self.imp_uid,
            "pg_provider": self.pg_provider,
            "pg_id": self.pg_id,
            "customer_id": self.customer_id,
            "schedule_at": self.schedule_at,
            "executed_at": self.executed_at,
            "revoked_at": self.revoked_at,
            "amount": to_wire(self.amount, self.currency),
            "currency": self.currency,
            "name": self.name,
            **self.buyer.to_api(),
            "custom_data": self.custom_data,
            "notice_url": self.notice_url,
            "schedule_status": self.schedule_status,
            "payment_status": self.payment_status,
            "fail_reason": self.fail_reason,
            "promotion_id": None,
        }


def _text(value: object) -> str | None:
    return None if value is None else str(value)
