"""The fake's records (payments, cancels, billing keys) and the JSON objects Toss returns for them."""

from __future__ import annotations

import secrets
import string
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from fake_common.cards import Card
from fake_common.window_ui import CashReceiptRequest
from fake_toss.banks import card_company_code
from fake_toss.money import amount_json, vat_of

KST = timezone(timedelta(hours=9), "KST")
API_VERSION = "2022-11-16"
MID = "tvivarepublica"
_ALNUM = string.ascii_letters + string.digits

CARD = "카드"
VIRTUAL_ACCOUNT = "가상계좌"
EASY_PAY = "간편결제"
# The easy-pay apps the card window offers (toss-v1.md §10: Toss Pay and Naver Pay work with any
# test key; Kakao Pay only with a contracted MID's: offered anyway).
EASY_PAY_PROVIDERS = ("토스페이", "네이버페이", "카카오페이")


def iso(ts: float | None) -> str | None:
    """Toss's timestamp: ISO 8601 in KST with its offset, e.g. 2024-05-01T10:00:03+09:00."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, KST).isoformat(timespec="seconds")


def webhook_time(ts: float) -> str:
    """A webhook's createdAt: KST local time with microseconds and no offset."""
    return datetime.fromtimestamp(ts, KST).strftime("%Y-%m-%dT%H:%M:%S.%f")


def local_time(ts: float) -> str:
    """yyyy-MM-ddTHH:mm:ss in KST (a virtual account's dueDate)."""
    return datetime.fromtimestamp(ts, KST).strftime("%Y-%m-%dT%H:%M:%S")


def random_text(length: int, alphabet: str = _ALNUM) -> str:
    """A random string from alphabet."""
    return "".join(secrets.choice(alphabet) for _ in range(length))


def new_payment_key(now: float) -> str:
    """A paymentKey in the newer shape: mId prefix, KST yyyyMMddHHmmss, 5 random characters."""
    return "tviva" + datetime.fromtimestamp(now, KST).strftime("%Y%m%d%H%M%S") + random_text(5)


def new_transaction_key() -> str:
    """A transaction key: 32 upper-case hex digits."""
    return uuid.uuid4().hex.upper()


def new_secret() -> str:
    """A virtual-account payment's secret (ps_...)."""
    return "ps_" + random_text(24)


def new_billing_key() -> str:
    """A billing key (44 characters, like the real ones)."""
    return random_text(43, _ALNUM + "-_") + "="


def new_auth_key() -> str:
    """An authKey handed to the billing window's successUrl."""
    return "bln_" + random_text(20)


def mask_card(digits: str) -> str:
    """A card number as Toss masks it: 43301234****123* (first 8, four stars, last digit starred)."""
    if len(digits) < 13:
        return "*" * len(digits)
    return digits[:8] + "****" + digits[12:-1] + "*"


def card_fields(card: Card, digits: str) -> dict:
    """The card details kept with a payment or billing key."""
    code = card_company_code(card.issuer_name)
    return {
        "issuerCode": code,
        "acquirerCode": code,
        "number": mask_card(digits),
        "cardType": "신용" if card.card_type == 0 else "체크",
        "ownerType": "개인",
        "company": card.issuer_name.removesuffix("카드"),
    }


@dataclass
class Cancel:
    """One (partial) cancel of a payment, amounts in minor units."""

    amount: int
    reason: str
    tax_free: int
    refundable_after: int
    canceled_at: float
    transaction_key: str
    receipt_key: str
    status: str = "DONE"  # cancelStatus; a virtual account's refund: IN_PROGRESS until paid out
    payout_at: float | None = None  # a virtual account's refund: when it is paid out
    payout_fails: bool = False


@dataclass
class Payment:
    """A payment as the fake stores it; amounts in minor units of currency."""

    payment_key: str
    order_id: str
    order_name: str
    method: str
    type: str
    currency: str
    total: int
    tax_free: int
    status: str
    requested_at: float
    origin: str
    balance: int = 0
    balance_tax_free: int = 0
    approved_at: float | None = None
    authenticated_at: float | None = None
    last_transaction_key: str | None = None
    approval_transaction_key: str | None = None  # GET /v1/transactions lists the approval by it
    card: dict | None = None
    card_digits: str | None = None
    card_outcome: str | None = None
    installment_months: int = 0
    bank_code: str | None = None
    account_number: str | None = None
    due_at: float | None = None
    valid_hours: int | None = None
    refund_status: str = "NONE"
    refund_account: dict | None = None
    secret: str | None = None
    deposit_callback_url: str | None = None
    customer_name: str | None = None
    customer_email: str | None = None
    customer_key: str | None = None
    cancels: list[Cancel] = field(default_factory=list)
    failure: dict | None = None
    metadata: dict | None = None
    key_family: str = "api"  # fake_toss.keys: the family of the key that opened it (not shown)
    easy_pay: dict | None = None  # {provider, amount, discountAmount}
    cash_receipt_request: CashReceiptRequest | None = None  # asked for in the window
    cash_receipt: dict | None = None  # cashReceipt, once issued (at the deposit)

    def __post_init__(self) -> None:
        self.balance = self.total
        self.balance_tax_free = self.tax_free

    @property
    def is_virtual_account(self) -> bool:
        """True for 가상계좌 payments."""
        return self.method == VIRTUAL_ACCOUNT

    def to_json(self, now: float) -> dict:
        """The Payment object exactly as Toss returns it."""
        cur = self.currency
        vat = vat_of(self.balance, self.balance_tax_free)
        card = None
        if self.card is not None:
            card = {
                "issuerCode": self.card["issuerCode"],
                "acquirerCode": self.card["acquirerCode"],
                "number": self.card["number"],
                "installmentPlanMonths": self.installment_months,
                "isInterestFree": False,
                "interestPayer": None,
                "approveNo": self.card.get("approveNo", "00000000"),
                "useCardPoint": False,
                "cardType": self.card["cardType"],
                "ownerType": self.card["ownerType"],
                "acquireStatus": "CANCELED" if self.status == "CANCELED" else "READY",
                "amount": amount_json(self.total, cur),
            }
        virtual_account = None
        if self.is_virtual_account and self.account_number is not None:
            virtual_account = {
                "accountType": "일반",
                "accountNumber": self.account_number,
                "bankCode": self.bank_code,
                "customerName": self.customer_name,
                "depositorName": self.customer_name,
                "dueDate": local_time(self.due_at) if self.due_at is not None else None,
                "refundStatus": self.refund_status,
                "expired": bool(
                    self.status == "WAITING_FOR_DEPOSIT"
                    and self.due_at is not None
                    and now > self.due_at
                ),
                "settlementStatus": "INCOMPLETED",
                "refundReceiveAccount": dict(self.refund_account) if self.refund_account else None,
            }
        cancels = None
        if self.cancels:
            cancels = [
                {
                    "transactionKey": c.transaction_key,
                    "cancelReason": c.reason,
                    "taxExemptionAmount": 0,
                    "canceledAt": iso(c.canceled_at),
                    "transferDiscountAmount": 0,
                    "easyPayDiscountAmount": 0,
                    "receiptKey": c.receipt_key,
                    "cancelAmount": amount_json(c.amount, cur),
                    "taxFreeAmount": amount_json(c.tax_free, cur),
                    "refundableAmount": amount_json(c.refundable_after, cur),
                    "cardDiscountAmount": 0,
                    "cancelStatus": c.status,
                    "cancelRequestId": None,
                }
                for c in self.cancels
            ]
        return {
            "mId": MID,
            "lastTransactionKey": self.last_transaction_key,
            "paymentKey": self.payment_key,
            "orderId": self.order_id,
            "orderName": self.order_name,
            "taxExemptionAmount": 0,
            "status": self.status,
            "requestedAt": iso(self.requested_at),
            "approvedAt": iso(self.approved_at),
            "useEscrow": False,
            "cultureExpense": False,
            "card": card,
            "virtualAccount": virtual_account,
            "transfer": None,
            "mobilePhone": None,
            "giftCertificate": None,
            "cashReceipt": dict(self.cash_receipt) if self.cash_receipt else None,
            "cashReceipts": None,
            "discount": None,
            "cancels": cancels,
            "secret": self.secret,
            "type": self.type,
            "easyPay": dict(self.easy_pay) if self.easy_pay else None,
            "country": "KR",
            "failure": dict(self.failure) if self.failure else None,
            "isPartialCancelable": True,
            "receipt": {"url": f"{self.origin}/receipt/{self.payment_key}"},
            "checkout": {"url": f"{self.origin}/v1/payments/{self.payment_key}/checkout"},
            "currency": cur,
            "totalAmount": amount_json(self.total, cur),
            "balanceAmount": amount_json(self.balance, cur),
            "suppliedAmount": amount_json(self.balance - self.balance_tax_free - vat, cur),
            "vat": amount_json(vat, cur),
            "taxFreeAmount": amount_json(self.balance_tax_free, cur),
            "metadata": dict(self.metadata) if self.metadata else None,
            "method": self.method,
            "version": API_VERSION,
        }


@dataclass
class BillingKey:
    """A billing key and the card behind it."""

    billing_key: str
    customer_key: str
    card: dict
    card_digits: str
    card_outcome: str
    expiry: tuple[int, int]
    authenticated_at: float
    deleted: bool = False

    def to_json(self) -> dict:
        """The Billing object as Toss returns it (API version 2022-11-16 still has cardCompany/cardNumber)."""
        return {
            "mId": MID,
            "customerKey": self.customer_key,
            "authenticatedAt": iso(self.authenticated_at),
            "method": CARD,
            "billingKey": self.billing_key,
            "card": {
                "issuerCode": self.card["issuerCode"],
                "acquirerCode": self.card["acquirerCode"],
                "number": self.card["number"],
                "cardType": self.card["cardType"],
                "ownerType": self.card["ownerType"],
            },
            "cardCompany": self.card["company"],
            "cardNumber": self.card["number"],
        }


@dataclass
class AuthKey:
    """What the billing window authenticated, waiting to be exchanged for a billing key."""

    auth_key: str
    customer_key: str
    card: dict
    card_digits: str
    card_outcome: str
    expiry: tuple[int, int]
    created_at: float
    used: bool = False


def transactions_of(payment: Payment) -> list[dict]:
    """GET /v1/transactions entries of a payment: its approval (deposit), then each cancel."""
    if payment.approved_at is None:
        return []
    cur = payment.currency
    common = {
        "mId": MID,
        "paymentKey": payment.payment_key,
        "orderId": payment.order_id,
        "method": payment.method,
        "customerKey": None,
        "useEscrow": False,
        "receiptUrl": f"{payment.origin}/receipt/{payment.payment_key}",
        "currency": cur,
    }
    entries = [
        {
            **common,
            "transactionKey": payment.approval_transaction_key,
            "status": "DONE",
            "transactionAt": iso(payment.approved_at),
            "amount": amount_json(payment.total, cur),
            "_at": payment.approved_at,
        }
    ]
    for cancel in payment.cancels:
        if cancel.status == "ABORTED":
            continue  # a failed payout: no money moved
        entries.append(
            {
                **common,
                "transactionKey": cancel.transaction_key,
                "status": "CANCELED" if cancel.refundable_after == 0 else "PARTIAL_CANCELED",
                "transactionAt": iso(cancel.canceled_at),
                "amount": amount_json(cancel.amount, cur),
                "_at": cancel.canceled_at,
            }
        )
    return entries
