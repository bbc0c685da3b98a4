"""The fake gateway: every payment, billing key and idempotency record, changed under one lock."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import datetime

from fake_common import cards
from fake_common.clock import Clock
from fake_common.idempotency import IdempotencyRecord, IdempotencyStore
from fake_common.window_ui import CashReceiptRequest
from fake_toss import payouts
from fake_toss.banks import find_bank
from fake_toss.errors import DECLINE_CODES, TossError
from fake_toss.events import TossEvents
from fake_toss.keys import API_INDIVIDUAL, family_of
from fake_toss.models import (
    CARD,
    EASY_PAY,
    EASY_PAY_PROVIDERS,
    KST,
    VIRTUAL_ACCOUNT,
    AuthKey,
    BillingKey,
    Cancel,
    Payment,
    card_fields,
    new_auth_key,
    new_billing_key,
    new_payment_key,
    new_secret,
    new_transaction_key,
    random_text,
    transactions_of,
)
from fake_toss.money import amount_json, check_currency, parse_amount

CONFIRM_WINDOW_SECONDS = 600
IDEMPOTENCY_TTL_SECONDS = 15 * 24 * 3600
DEFAULT_VALID_HOURS = 168
MAX_VALID_HOURS = 2160
ORDER_ID = re.compile(r"^[A-Za-z0-9_-]{6,64}$")
CUSTOMER_KEY = re.compile(r"^[A-Za-z0-9\-_=.@]{2,300}$")

# Statuses after which an orderId is spent and a payment can no longer be confirmed.
SETTLED = frozenset({"DONE", "CANCELED", "PARTIAL_CANCELED", "WAITING_FOR_DEPOSIT"})
CANCELABLE = frozenset({"DONE", "PARTIAL_CANCELED", "WAITING_FOR_DEPOSIT"})

METHODS = {
    "카드": CARD,
    "CARD": CARD,
    "가상계좌": VIRTUAL_ACCOUNT,
    "VIRTUAL_ACCOUNT": VIRTUAL_ACCOUNT,
}


@dataclass
class PaymentRequest:
    """A payment the window was asked for (requestPayment's parameters), already validated."""

    method: str
    amount: int
    currency: str
    order_id: str
    order_name: str
    customer_name: str | None = None
    customer_email: str | None = None
    tax_free: int = 0
    valid_hours: int | None = None
    due_at: float | None = None
    callback_url: str | None = None
    key_family: str = API_INDIVIDUAL  # of the client key the window was opened with


def text(body: dict, name: str, *, required: bool = True, max_length: int | None = None) -> str:
    """A string field of a request body; INVALID_REQUEST when missing or too long."""
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise TossError("INVALID_REQUEST", f"{name} 값이 필요합니다.")
        return ""
    value = str(value)
    if max_length is not None and len(value) > max_length:
        raise TossError("INVALID_REQUEST", f"{name} 값은 {max_length}자 이하여야 합니다.")
    return value


def matching(pattern: re.Pattern, value: object, message: str) -> str:
    """value as a string when it matches pattern; INVALID_REQUEST with message otherwise."""
    text_value = str(value or "")
    if not pattern.match(text_value):
        raise TossError("INVALID_REQUEST", message)
    return text_value


def order_id_of(value: object) -> str:
    """A valid orderId: 6-64 characters of letters, digits, - and _."""
    return matching(
        ORDER_ID,
        value,
        "orderId는 영문 대소문자, 숫자, 특수문자 -, _ 만 허용하며 6자 이상 64자 이하여야 합니다.",
    )


def customer_key_of(value: object) -> str:
    """A valid customerKey: 2-300 characters of letters, digits and -_=.@."""
    return matching(
        CUSTOMER_KEY,
        value,
        "customerKey는 영문 대소문자, 숫자, 특수문자 -, _, =, ., @ 로 2자 이상 300자 이하여야 합니다.",
    )


def expiry_of(year: object, month: object) -> tuple[int, int]:
    """(year, month) from "YY"/"YYYY" and "MM"; INVALID_CARD_EXPIRATION when malformed."""
    expiry = cards.expiry_from_fields(year, month)
    if expiry is None:
        raise TossError("INVALID_CARD_EXPIRATION")
    return expiry


def expiry_from_text(value: str) -> tuple[int, int]:
    """(year, month) from the window's "MM/YY" (or MMYY) field; INVALID_CARD_EXPIRATION if not."""
    expiry = cards.parse_expiry(value)
    if expiry is None or not 1 <= expiry[1] <= 12:
        raise TossError("INVALID_CARD_EXPIRATION")
    return expiry


def checked_card(
    number: object, expiry: tuple[int, int] | None, now: float, *, later: bool = False
) -> tuple[cards.Card, str]:
    """Look a card up and refuse it now if it cannot pay: (card, digits) or a TossError."""
    card = cards.lookup(str(number or ""))
    outcome = cards.decline(card, expiry, now, later=later)
    if outcome is not None:
        raise TossError(DECLINE_CODES.get(outcome, "REJECT_CARD_COMPANY"))
    return card, cards.normalize(str(number))


class TossGateway:
    """The fake Toss gateway's state; every public method is atomic and returns JSON-ready data."""

    def __init__(self, config: dict, clock: Clock, events: TossEvents) -> None:
        self.config = config
        self.clock = clock
        self.events = events
        self._lock = threading.RLock()
        self.idempotency = IdempotencyStore(clock, IDEMPOTENCY_TTL_SECONDS)
        self.reset()
        clock.subscribe(self.expire_due)
        clock.subscribe(lambda *_: self.pay_out())

    def close(self) -> None:
        """Nothing to stop: the fake's only thread is the webhook sender, closed with the app."""

    def reset(self) -> None:
        """Forget every payment, billing key, authKey and idempotency record."""
        with self._lock:
            self._payments: dict[str, Payment] = {}
            self._by_order: dict[str, list[str]] = {}
            self._awaiting_confirm: set[str] = set()
            self._payouts: set[str] = set()  # payments with a refund waiting for its payout
            self._billing_keys: dict[str, BillingKey] = {}
            self._auth_keys: dict[str, AuthKey] = {}
            self.idempotency.reset()

    # -- reads ---------------------------------------------------------------------------------

    def payment(self, payment_key: str) -> dict:
        """GET /v1/payments/{paymentKey}."""
        with self._lock:
            self.expire_due()
            return self._json(self._get(payment_key))

    def transactions(
        self, start: float, end: float, starting_after: str | None = None, limit: int = 100
    ) -> list[dict]:
        """GET /v1/transactions: approvals and cancels between start and end, oldest first."""
        with self._lock:
            self.expire_due()
            entries = [t for p in self._payments.values() for t in transactions_of(p)]
        entries = sorted(
            (t for t in entries if start <= t["_at"] <= end),
            key=lambda t: (t["_at"], t["transactionKey"]),
        )
        if starting_after:
            keys = [t["transactionKey"] for t in entries]
            entries = entries[keys.index(starting_after) + 1 :] if starting_after in keys else []
        return [{k: v for k, v in t.items() if k != "_at"} for t in entries[:limit]]

    def payment_by_order(self, order_id: str) -> dict:
        """GET /v1/payments/orders/{orderId}: the latest payment for the order."""
        with self._lock:
            self.expire_due()
            keys = self._by_order.get(order_id)
            if not keys:
                raise TossError("NOT_FOUND_PAYMENT")
            return self._json(self._payments[keys[-1]])

    def payment_count(self) -> int:
        """How many payments the fake holds."""
        with self._lock:
            return len(self._payments)

    # -- payment window and confirm ------------------------------------------------------------

    def authenticate(
        self,
        request: PaymentRequest,
        *,
        card_number: str = "",
        bank: str = "",
        origin: str,
        installment_months: int = 0,
        easy_pay: str = "",
        cash_receipt: CashReceiptRequest | None = None,
    ) -> dict:
        """The buyer paid in the window: an IN_PROGRESS payment waiting 10 minutes for confirm.
        easy_pay: the app the buyer paid a card window with (method 간편결제, card null)."""
        now = self.clock.now()
        with self._lock:
            self._refuse_spent_order(request.order_id)
            payment = self._new_payment(request, origin, now, payment_type="NORMAL")
            if easy_pay:
                if easy_pay not in EASY_PAY_PROVIDERS:
                    raise TossError("INVALID_REQUEST", "지원하지 않는 간편결제입니다.")
                payment.method = EASY_PAY
                payment.easy_pay = {
                    "provider": easy_pay,
                    "amount": amount_json(request.amount, request.currency),
                    "discountAmount": 0,
                }
            elif request.method == CARD:
                card, digits = checked_card(card_number, None, now)
                self._attach_card(payment, card, digits)
                payment.installment_months = installment_months
            else:
                payment.bank_code = find_bank(bank).code
                payment.cash_receipt_request = cash_receipt
            payment.authenticated_at = now
            self._store(payment)
            self._await_confirm(payment)
            return self._json(payment)

    def confirm(
        self, payment_key: object, order_id: object, amount: object, secret_key: str | None = None
    ) -> dict:
        """POST /v1/payments/confirm (and the legacy POST /v1/payments/{paymentKey}); a payment
        opened with one key family is confirmed only with that family's secret key."""
        if not payment_key or not order_id or amount in (None, ""):
            raise TossError("INVALID_REQUEST", "paymentKey, orderId, amount 값이 필요합니다.")
        with self._lock:
            self.expire_due()
            payment = self._get(str(payment_key))
            if secret_key is not None and family_of(secret_key) != payment.key_family:
                raise TossError("INVALID_API_KEY")
            if payment.status in SETTLED or payment.status == "ABORTED":
                raise TossError("ALREADY_PROCESSED_PAYMENT")
            if payment.status != "IN_PROGRESS":
                raise TossError("NOT_FOUND_PAYMENT_SESSION")
            if str(order_id) != payment.order_id:
                raise TossError(self.config["CONFIRM_ORDER_MISMATCH_CODE"])
            if parse_amount(amount, payment.currency) != payment.total:
                raise TossError(self.config["CONFIRM_AMOUNT_MISMATCH_CODE"])
            self._refuse_spent_order(payment.order_id, besides=payment.payment_key)
            self._awaiting_confirm.discard(payment.payment_key)
            now = self.clock.now()
            if payment.is_virtual_account:
                self._issue_account(payment, now)
                return self._json(payment)
            declined = cards.lookup(payment.card_digits).at_confirm if payment.card_digits else ""
            if declined:
                self._abort(payment, TossError(declined))
            self._approve(payment, now)
            self._announce(payment)
            return self._json(payment)

    def _abort(self, payment: Payment, error: TossError) -> None:
        """The approval failed at confirm: ABORTED with failure{code, message}, announced, and
        the error raised (toss-v1.md §6: confirm fails -> ABORTED)."""
        payment.status = "ABORTED"
        payment.failure = {"code": error.code, "message": error.message_ko}
        self._announce(payment)
        raise error

    def expire_due(self) -> None:
        """Expire payments not confirmed within 10 minutes of authentication (clock subscriber)."""
        now = self.clock.now()
        with self._lock:
            for key in list(self._awaiting_confirm):
                payment = self._payments.get(key)
                if payment is None or payment.status != "IN_PROGRESS":
                    self._awaiting_confirm.discard(key)
                    continue
                if now - (payment.authenticated_at or now) > CONFIRM_WINDOW_SECONDS:
                    payment.status = "EXPIRED"
                    self._awaiting_confirm.discard(key)
                    self._announce(payment)

    # -- direct payments -----------------------------------------------------------------------

    def key_in(self, body: dict, origin: str) -> dict:
        """POST /v1/payments/key-in: approved at once, or IN_PROGRESS with the seed's __approved: false."""
        now = self.clock.now()
        request = self._card_request(body)
        if not body.get("cardNumber"):
            raise TossError("INVALID_REQUEST", "cardNumber 값이 필요합니다.")
        expiry = expiry_of(body.get("cardExpirationYear"), body.get("cardExpirationMonth"))
        self._check_minimum(request)
        with self._lock:
            self._refuse_spent_order(request.order_id)
            card, digits = checked_card(body.get("cardNumber"), expiry, now)
            payment = self._new_payment(request, origin, now, payment_type="NORMAL")
            self._attach_card(payment, card, digits)
            payment.installment_months = int(body.get("cardInstallmentPlan") or 0)
            payment.authenticated_at = now
            self._store(payment)
            if body.get("__approved") is False:
                self._await_confirm(payment)
                return self._json(payment)
            self._approve(payment, now)
            self._announce(payment)
            return self._json(payment)

    def virtual_account(self, body: dict, origin: str) -> dict:
        """POST /v1/virtual-accounts: WAITING_FOR_DEPOSIT with an X... account and a secret."""
        now = self.clock.now()
        currency = check_currency(body.get("currency"))
        if currency != "KRW":
            raise TossError("INVALID_REQUEST", "가상계좌는 KRW만 지원합니다.")
        request = PaymentRequest(
            method=VIRTUAL_ACCOUNT,
            amount=parse_amount(body.get("amount"), currency),
            currency=currency,
            order_id=order_id_of(body.get("orderId")),
            order_name=text(body, "orderName", required=False, max_length=100),
            customer_name=text(body, "customerName", max_length=100),
            customer_email=body.get("customerEmail"),
            tax_free=self._tax_free(body, currency),
            callback_url=body.get("virtualAccountCallbackUrl") or None,
        )
        request.valid_hours, request.due_at = self.due_of(body, now)
        if not body.get("bank"):
            raise TossError("INVALID_REQUEST", "bank 값이 필요합니다.")
        bank = find_bank(body.get("bank"))
        with self._lock:
            self._refuse_spent_order(request.order_id)
            payment = self._new_payment(request, origin, now, payment_type="NORMAL")
            payment.bank_code = bank.code
            payment.authenticated_at = now
            self._store(payment)
            if body.get("__approved") is False:
                self._await_confirm(payment)
                return self._json(payment)
            self._issue_account(payment, now)
            return self._json(payment)

    def deposit(self, ident: str) -> dict:
        """The buyer deposits into a virtual account (by paymentKey or orderId): DONE."""
        with self._lock:
            payment = self._payments.get(ident)
            if payment is None and self._by_order.get(ident):
                payment = self._payments[self._by_order[ident][-1]]
            if payment is None:
                raise TossError("NOT_FOUND_PAYMENT")
            if not payment.is_virtual_account or payment.status != "WAITING_FOR_DEPOSIT":
                raise TossError(
                    "FORBIDDEN_REQUEST",
                    f"입금 대기 중인 가상계좌 결제가 아닙니다 (status {payment.status}).",
                )
            now = self.clock.now()
            if payment.due_at is not None and now > payment.due_at:
                raise TossError("FORBIDDEN_REQUEST", "입금 기한이 지난 가상계좌입니다.")
            self._approve(payment, now)
            self._announce(payment)
            return self._json(payment)

    # -- cancel ----------------------------------------------------------------------------------

    def cancel(self, payment_key: str, body: dict) -> dict:
        """POST /v1/payments/{paymentKey}/cancel: whole or partial, with Toss's refusals."""
        reason = text(body, "cancelReason", max_length=200)
        with self._lock:
            self.expire_due()
            payment = self._get(payment_key)
            cur = payment.currency
            if payment.status == "CANCELED":
                raise TossError("ALREADY_CANCELED_PAYMENT")
            if payment.status not in CANCELABLE:
                raise TossError("NOT_CANCELABLE_PAYMENT")
            if body.get("currency") and check_currency(body["currency"]) != cur:
                raise TossError("INVALID_REQUEST", "결제 통화와 취소 통화가 다릅니다.")
            if body.get("cancelAmount") is None:
                amount = payment.balance
            else:
                amount = parse_amount(body["cancelAmount"], cur, "cancelAmount")
                if amount <= 0:
                    raise TossError("INVALID_REQUEST", "cancelAmount는 0보다 커야 합니다.")
            if body.get("refundableAmount") is not None:
                expected = parse_amount(body["refundableAmount"], cur, "refundableAmount")
                if expected != payment.balance:
                    raise TossError("NOT_MATCHES_REFUNDABLE_AMOUNT")
            if amount > payment.balance:
                raise TossError("NOT_CANCELABLE_AMOUNT")
            tax_free = 0
            if body.get("taxFreeAmount") is not None:
                tax_free = parse_amount(body["taxFreeAmount"], cur, "taxFreeAmount")
                if tax_free > min(amount, payment.balance_tax_free):
                    raise TossError("INVALID_REQUEST", "taxFreeAmount가 올바르지 않습니다.")
            refund_account = None
            if payment.is_virtual_account:
                if payment.status == "WAITING_FOR_DEPOSIT":
                    if amount != payment.balance:
                        raise TossError("NOT_ALLOWED_PARTIAL_REFUND_WAITING_DEPOSIT")
                else:
                    refund_account = self._refund_account(body.get("refundReceiveAccount"))
            now = self.clock.now()
            transaction_key = new_transaction_key()
            payment.balance -= amount
            payment.balance_tax_free -= tax_free
            payment.cancels.append(
                Cancel(
                    amount=amount,
                    reason=reason,
                    tax_free=tax_free,
                    refundable_after=payment.balance,
                    canceled_at=now,
                    transaction_key=transaction_key,
                    receipt_key="rcpt_" + random_text(20),
                )
            )
            payment.last_transaction_key = transaction_key
            payment.status = "CANCELED" if payment.balance == 0 else "PARTIAL_CANCELED"
            if refund_account is not None:
                payouts.start(payment, payment.cancels[-1], refund_account, now)
                self._payouts.add(payment.payment_key)
            self._announce(payment)
            return self._json(payment)

    def pay_out(self, ident: str | None = None, outcome: str | None = None) -> list[dict]:
        """Pay out virtual-account refunds: those due on the fake clock (clock subscriber), or
        all of one payment now (control API, outcome COMPLETED or FAILED); the payments changed."""
        with self._lock:
            keys = [self.find_payment(ident).payment_key] if ident else sorted(self._payouts)
            now = None if ident else self.clock.now()
            changed = []
            for key in keys:
                payment = self._payments[key]
                if payouts.pay_out(payment, now, outcome):
                    self._announce(payment)
                    changed.append(self._json(payment))
                if payment.refund_status != "PENDING":
                    self._payouts.discard(key)
            return changed

    def reverse_deposit(self, ident: str) -> dict:
        """The bank reversed a deposit: DONE back to WAITING_FOR_DEPOSIT, announced."""
        with self._lock:
            payment = self.find_payment(ident)
            if not payment.is_virtual_account or payment.status != "DONE" or payment.cancels:
                raise TossError(
                    "FORBIDDEN_REQUEST",
                    f"입금 완료된 가상계좌 결제가 아닙니다 (status {payment.status}).",
                )
            payouts.reverse_deposit(payment, new_transaction_key())
            self._announce(payment)
            return self._json(payment)

    def find_payment(self, ident: str) -> Payment:
        """A payment by paymentKey or orderId (its latest)."""
        payment = self._payments.get(ident)
        if payment is None and self._by_order.get(ident):
            payment = self._payments[self._by_order[ident][-1]]
        if payment is None:
            raise TossError("NOT_FOUND_PAYMENT")
        return payment

    # -- billing ---------------------------------------------------------------------------------

    def authorize_billing(self, customer_key: str, card_number: str, expiry: str) -> str:
        """The billing window registered a card: return an authKey for issue."""
        now = self.clock.now()
        customer = customer_key_of(customer_key)
        month = expiry_from_text(expiry)
        card, digits = checked_card(card_number, month, now)
        with self._lock:
            auth = AuthKey(
                auth_key=new_auth_key(),
                customer_key=customer,
                card=card_fields(card, digits),
                card_digits=digits,
                card_outcome=card.outcome,
                expiry=month,
                created_at=now,
            )
            self._auth_keys[auth.auth_key] = auth
            return auth.auth_key

    def issue_billing(self, body: dict) -> dict:
        """POST /v1/billing/authorizations/issue: exchange authKey + customerKey for a billing key."""
        auth_key = text(body, "authKey", max_length=300)
        customer_key = text(body, "customerKey", max_length=300)
        with self._lock:
            auth = self._auth_keys.get(auth_key)
            if auth is None:
                raise TossError("NOT_FOUND", "존재하지 않는 authKey 입니다.", status=404)
            if auth.customer_key != customer_key:
                raise TossError("NOT_MATCHES_CUSTOMER_KEY")
            if auth.used:
                raise TossError("INVALID_REQUEST", "이미 사용된 authKey 입니다.")
            auth.used = True
            billing = BillingKey(
                billing_key=self._unique(self._billing_keys, new_billing_key),
                customer_key=customer_key,
                card=auth.card,
                card_digits=auth.card_digits,
                card_outcome=auth.card_outcome,
                expiry=auth.expiry,
                authenticated_at=self.clock.now(),
            )
            self._billing_keys[billing.billing_key] = billing
            return billing.to_json()

    def legacy_authorization(self, key: str, body: dict) -> dict:
        """POST /v1/billing/authorizations/{authKey}: the older issue URL (the seed reads billing keys with it)."""
        customer_key = text(body, "customerKey", max_length=300)
        with self._lock:
            if key in self._auth_keys:
                return self.issue_billing({"authKey": key, "customerKey": customer_key})
            return self._billing(key, customer_key).to_json()

    def billing_from_card(self, body: dict) -> dict:
        """POST /v1/billing/authorizations/card: a billing key straight from card data."""
        now = self.clock.now()
        customer_key = customer_key_of(body.get("customerKey"))
        if not body.get("cardNumber"):
            raise TossError("INVALID_REQUEST", "cardNumber 값이 필요합니다.")
        expiry = expiry_of(body.get("cardExpirationYear"), body.get("cardExpirationMonth"))
        card, digits = checked_card(body.get("cardNumber"), expiry, now)
        with self._lock:
            billing = BillingKey(
                billing_key=self._unique(self._billing_keys, new_billing_key),
                customer_key=customer_key,
                card=card_fields(card, digits),
                card_digits=digits,
                card_outcome=card.outcome,
                expiry=expiry,
                authenticated_at=now,
            )
            self._billing_keys[billing.billing_key] = billing
            return billing.to_json()

    def charge_billing(self, billing_key: str, body: dict, origin: str) -> dict:
        """POST /v1/billing/{billingKey}: a BILLING payment, DONE, or a decline as an error."""
        now = self.clock.now()
        customer_key = text(body, "customerKey", max_length=300)
        request = self._card_request(body)
        self._check_minimum(request)
        with self._lock:
            billing = self._billing(billing_key, customer_key)
            self._refuse_spent_order(request.order_id)
            declined = cards.lookup(billing.card_digits).at_confirm
            if declined:
                raise TossError(declined)  # a billing charge is its own approval
            checked_card(billing.card_digits, billing.expiry, now, later=True)
            payment = self._new_payment(request, origin, now, payment_type="BILLING")
            payment.card = dict(billing.card)
            payment.card_digits = billing.card_digits
            payment.card_outcome = billing.card_outcome
            payment.installment_months = int(body.get("cardInstallmentPlan") or 0)
            payment.customer_key = customer_key
            payment.authenticated_at = now
            self._approve(payment, now)
            self._store(payment)
            # Toss sends no webhook for a billing approval.
            return self._json(payment)

    def delete_billing(self, billing_key: str) -> None:
        """DELETE /v1/billing/{billingKey}: gone for good; BILLING_DELETED goes out."""
        with self._lock:
            self._billing(billing_key).deleted = True
            self.events.billing_deleted(billing_key)

    # -- idempotency -------------------------------------------------------------------------------

    def idempotency_begin(self, scope: tuple) -> IdempotencyRecord | str:
        """Claim an Idempotency-Key: "new" (run it), "processing" (409) or the stored first answer."""
        return self.idempotency.begin(scope)

    # -- helpers -----------------------------------------------------------------------------------

    def due_of(self, body: dict, now: float) -> tuple[int | None, float]:
        """A virtual account's validHours (default 168, at most 2160) or dueDate, as a deadline."""
        if body.get("dueDate"):
            try:
                due = datetime.fromisoformat(str(body["dueDate"]))
            except ValueError as exc:
                raise TossError("INVALID_REQUEST", "dueDate 형식이 올바르지 않습니다.") from exc
            if due.tzinfo is None:
                due = due.replace(tzinfo=KST)
            return None, due.timestamp()
        hours = body.get("validHours")
        try:
            hours = DEFAULT_VALID_HOURS if hours in (None, "") else int(hours)
        except (TypeError, ValueError) as exc:
            raise TossError("INVALID_REQUEST", "validHours 값이 올바르지 않습니다.") from exc
        if not 1 <= hours <= MAX_VALID_HOURS:
            raise TossError("INVALID_REQUEST", "validHours는 1 이상 2160 이하여야 합니다.")
        return hours, now + hours * 3600

    def _card_request(self, body: dict) -> PaymentRequest:
        """The card payment a key-in or billing charge body asks for (amount not yet checked)."""
        currency = check_currency(body.get("currency"))
        return PaymentRequest(
            method=CARD,
            amount=parse_amount(body.get("amount"), currency),
            currency=currency,
            order_id=order_id_of(body.get("orderId")),
            order_name=text(body, "orderName", required=False, max_length=100),
            customer_name=body.get("customerName"),
            customer_email=body.get("customerEmail"),
            tax_free=self._tax_free(body, currency),
        )

    def _tax_free(self, body: dict, currency: str) -> int:
        if body.get("taxFreeAmount") in (None, ""):
            return 0
        return parse_amount(body["taxFreeAmount"], currency, "taxFreeAmount")

    @staticmethod
    def _check_minimum(request: PaymentRequest) -> None:
        if request.amount <= 0:
            raise TossError("INVALID_REQUEST", "amount는 0보다 커야 합니다.")
        if request.currency == "KRW" and request.method == CARD and request.amount < 100:
            raise TossError("BELOW_MINIMUM_AMOUNT")
        if request.tax_free > request.amount:
            raise TossError("INVALID_REQUEST", "taxFreeAmount는 amount보다 클 수 없습니다.")

    def check_request(self, request: PaymentRequest) -> None:
        """Refuse a window request Toss would refuse (amount, orderId already spent)."""
        self._check_minimum(request)
        with self._lock:
            self._refuse_spent_order(request.order_id)

    def _billing(self, billing_key: str, customer_key: str | None = None) -> BillingKey:
        """A live billing key (of customer_key, when given)."""
        billing = self._billing_keys.get(billing_key)
        if billing is None or billing.deleted:
            raise TossError("NOT_FOUND_BILLING")
        if customer_key is not None and billing.customer_key != customer_key:
            raise TossError("NOT_MATCHES_CUSTOMER_KEY")
        return billing

    def _get(self, payment_key: str) -> Payment:
        payment = self._payments.get(payment_key)
        if payment is None:
            raise TossError("NOT_FOUND_PAYMENT")
        return payment

    def _json(self, payment: Payment) -> dict:
        return payment.to_json(self.clock.now())

    def _refuse_spent_order(self, order_id: str, besides: str | None = None) -> None:
        for key in self._by_order.get(order_id, ()):
            if key != besides and self._payments[key].status in SETTLED:
                raise TossError("DUPLICATED_ORDER_ID")

    def _new_payment(
        self, request: PaymentRequest, origin: str, now: float, *, payment_type: str
    ) -> Payment:
        self._check_minimum(request)
        return Payment(
            payment_key=self._unique(self._payments, lambda: new_payment_key(now)),
            order_id=request.order_id,
            order_name=request.order_name,
            method=request.method,
            type=payment_type,
            currency=request.currency,
            total=request.amount,
            tax_free=request.tax_free,
            status="READY",
            requested_at=now,
            origin=origin,
            customer_name=request.customer_name,
            customer_email=request.customer_email,
            valid_hours=request.valid_hours,
            due_at=request.due_at,
            deposit_callback_url=request.callback_url,
            key_family=request.key_family,
        )

    @staticmethod
    def _unique(existing: dict, make) -> str:
        while True:
            key = make()
            if key not in existing:
                return key

    @staticmethod
    def _attach_card(payment: Payment, card: cards.Card, digits: str) -> None:
        payment.card = card_fields(card, digits)
        payment.card_digits = digits
        payment.card_outcome = card.outcome

    def _store(self, payment: Payment) -> None:
        self._payments[payment.payment_key] = payment
        self._by_order.setdefault(payment.order_id, []).append(payment.payment_key)

    def _await_confirm(self, payment: Payment) -> None:
        """IN_PROGRESS: authenticated, waiting (10 minutes) for the merchant's confirm."""
        payment.status = "IN_PROGRESS"
        self._awaiting_confirm.add(payment.payment_key)

    @staticmethod
    def _approve(payment: Payment, now: float) -> None:
        """DONE: approved now with a new transaction (and an approval number for a card)."""
        payment.status = "DONE"
        payment.approved_at = now
        payment.last_transaction_key = new_transaction_key()
        payment.approval_transaction_key = payment.last_transaction_key
        if payment.card is not None:
            payment.card["approveNo"] = random_text(8, "0123456789")
        if payment.cash_receipt_request is not None and payment.cash_receipt is None:
            # Issued when the money is in, as the Payment object then shows it (toss-v1.md).
            payment.cash_receipt = {
                "type": payment.cash_receipt_request.type,
                "receiptKey": "rcpt_" + random_text(20),
                "issueNumber": random_text(9, "0123456789"),
                "receiptUrl": f"{payment.origin}/receipt/{payment.payment_key}",
                "amount": amount_json(payment.total, payment.currency),
                "taxFreeAmount": amount_json(payment.tax_free, payment.currency),
            }

    def _issue_account(self, payment: Payment, now: float) -> None:
        if payment.due_at is None:
            payment.valid_hours = DEFAULT_VALID_HOURS
            payment.due_at = now + DEFAULT_VALID_HOURS * 3600
        payment.account_number = "X" + random_text(13, "0123456789")
        payment.secret = new_secret()
        payment.status = "WAITING_FOR_DEPOSIT"
        payment.last_transaction_key = new_transaction_key()
        self._announce(payment)

    @staticmethod
    def _refund_account(value: object) -> dict:
        if not isinstance(value, dict):
            raise TossError("INVALID_REFUND_ACCOUNT_INFO")
        holder = str(value.get("holderName") or "").strip()
        number = str(value.get("accountNumber") or "").strip()
        if not holder or not number or not value.get("bank"):
            raise TossError("INVALID_REFUND_ACCOUNT_INFO")
        bank = find_bank(value.get("bank"))
        digits = number.replace("-", "")
        if not digits.isdigit() or len(digits) > 20:
            raise TossError("INVALID_REFUND_ACCOUNT_NUMBER")
        return {"bankCode": bank.code, "accountNumber": digits, "holderName": holder}

    def _announce(self, payment: Payment) -> None:
        """Send the webhooks a status change causes (called with the lock held, in order)."""
        self.events.payment_status_changed(self._json(payment))
        if payment.is_virtual_account and payment.secret:
            self.events.deposit_callback(
                secret=payment.secret,
                status=payment.status,
                transaction_key=payment.last_transaction_key or "",
                order_id=payment.order_id,
                url=payment.deposit_callback_url,
            )
