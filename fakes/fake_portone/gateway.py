"""The fake gateway's state (payments, billing keys, schedules, tokens) and the payment
operations, each atomic under one lock on the fake clock; billing.py and checkout.py add theirs."""

from __future__ import annotations

import secrets
import threading

from fake_common import cards
from fake_common.clock import Clock
from fake_common.idempotency import IdempotencyStore
from fake_portone import inputs, methods
from fake_portone.billing import BillingMixin
from fake_portone.checkout import CheckoutMixin
from fake_portone.errors import PortOneError, invalid, pg_decline
from fake_portone.events import PortOneEvents
from fake_portone.models import (
    CANCELLABLE,
    CANCELLED,
    FAILED,
    FILTER_STATUSES,
    PAID,
    PARTIAL_CANCELLED,
    VIRTUAL_ACCOUNT_ISSUED,
    Cancellation,
    Payment,
    iso,
    new_id,
    parse_time,
    vat_of,
)
from fake_portone.tokens import TokenMixin

IDEMPOTENCY_TTL_SECONDS = 3 * 3600
DEFAULT_PAGE_SIZE = 10
LIST_DEFAULT_SPAN = 90 * 24 * 3600
# Statuses in which a paymentId is spent: another attempt is ALREADY_PAID.
SPENT = (PAID, PARTIAL_CANCELLED, CANCELLED, VIRTUAL_ACCOUNT_ISSUED)
METHOD_TYPES = {
    "CARD": "PaymentMethodCard",
    "VIRTUAL_ACCOUNT": "PaymentMethodVirtualAccount",
    "EASY_PAY": "PaymentMethodEasyPay",
    "TRANSFER": "PaymentMethodTransfer",
    "MOBILE": "PaymentMethodMobile",
}


class PortOneGateway(TokenMixin, BillingMixin, CheckoutMixin):
    """Everything the fake PortOne V2 knows; public methods return JSON-ready data."""

    def __init__(self, config: dict, clock: Clock, events: PortOneEvents) -> None:
        self.config = config
        self.clock = clock
        self.events = events
        self.lock = threading.RLock()
        self.idempotency = IdempotencyStore(clock, IDEMPOTENCY_TTL_SECONDS)
        self._stopped = threading.Event()
        self._runner: threading.Thread | None = None
        self.reset()
        clock.subscribe(self.run_due_schedules)

    def reset(self) -> None:
        """Forget every payment, billing key, schedule, window, token and idempotency record."""
        with self.lock:
            self.payments: dict[str, Payment] = {}
            self.prepared: dict[str, dict] = {}
            self.reset_billing()
            self.sessions: dict[str, dict] = {}
            self.access_tokens: dict[str, float] = {}
            self.refresh_token: tuple[str, float] | None = None
            self.idempotency.reset()

    def close(self) -> None:
        """Stop the schedule runner."""
        self._stopped.set()

    # -- store, channels, payments ---------------------------------------------------------------

    def store(self, store_id: object) -> str:
        """The store a request acts on: its storeId (must be ours: FORBIDDEN) or ours."""
        if store_id in (None, ""):
            return self.config["STORE_ID"]
        if store_id != self.config["STORE_ID"]:
            raise PortOneError("FORBIDDEN", "접근할 수 없는 상점입니다.")
        return store_id

    def channel(self, key: object) -> dict:
        """The SelectedChannel of a channelKey (none given: the first); CHANNEL_NOT_FOUND."""
        channels = self.config["CHANNELS"]
        if key in (None, ""):
            key = next(iter(channels))
        if key not in channels:
            raise PortOneError("CHANNEL_NOT_FOUND")
        return {"type": "TEST", "key": key, **channels[key]}

    def payment(self, payment_id: str) -> Payment:
        """The payment of an id; PAYMENT_NOT_FOUND."""
        payment = self.payments.get(payment_id)
        if payment is None:
            raise PortOneError("PAYMENT_NOT_FOUND")
        return payment

    def payment_json(self, payment: Payment) -> dict:
        """The Payment object, with its webhook log."""
        webhooks = [self.events.record_json(r) for r in payment.webhooks]
        return payment.to_json(webhooks)

    def get_payment(self, payment_id: str, store_id: object = None) -> dict:
        """GET /payments/{paymentId}."""
        with self.lock:
            self.store(store_id)
            return self.payment_json(self.payment(payment_id))

    def new_attempt(self, payment_id: str, **fields) -> Payment:
        """A new transaction on payment_id (READY); ALREADY_PAID when the id is spent."""
        existing = self.payments.get(payment_id)
        if existing is not None and existing.status in SPENT:
            raise PortOneError("ALREADY_PAID")
        now = self.clock.now()
        payment = Payment(
            id=payment_id,
            transaction_id=new_id(),
            merchant_id=self.config["MERCHANT_ID"],
            requested_at=now,
            status_changed_at=now,
            updated_at=now,
            **fields,
        )
        self.payments[payment_id] = payment
        return payment

    def approve(self, payment: Payment, method: dict, *, skip_webhook: bool = False) -> dict:
        """The attempt is paid with method; Transaction.Paid; the {pgTxId, paidAt} summary."""
        now = self.clock.now()
        payment.method = method
        payment.pg_tx_id = "pg-" + secrets.token_hex(10)
        payment.paid_at = now
        payment.set_status(PAID, now)
        if not skip_webhook:
            self.events.transaction(payment)
        return {"pgTxId": payment.pg_tx_id, "paidAt": iso(now)}

    def fail(self, payment: Payment, outcome: str | None, *, skip_webhook: bool = False) -> None:
        """The attempt failed (a decline, or the buyer's cancel with outcome None)."""
        now = self.clock.now()
        if outcome is None:
            payment.failure = {"reason": "사용자가 결제를 취소하였습니다"}
        else:
            error = pg_decline(outcome)
            payment.failure = {
                "reason": error.extra["pgMessage"],
                "pgCode": error.extra["pgCode"],
                "pgMessage": error.extra["pgMessage"],
            }
        payment.failed_at = now
        payment.set_status(FAILED, now)
        if not skip_webhook:
            self.events.transaction(payment)

    def issue_account(self, payment: Payment, bank: str, valid_seconds: float, **options) -> None:
        """A virtual account is issued for the attempt; Transaction.VirtualAccountIssued."""
        now = self.clock.now()
        holder = options.get("holder") or self.config["VA_HOLDER"]
        payment.method = methods.virtual_account_method(bank, holder, now, now + valid_seconds)
        payment.pg_tx_id = "pg-" + secrets.token_hex(10)
        payment.set_status(VIRTUAL_ACCOUNT_ISSUED, now)
        if not options.get("skip_webhook"):
            self.events.transaction(payment)

    # -- the payment API -----------------------------------------------------------------------

    def list_payments(self, body: dict) -> dict:
        """GET /payments: a page of payments matching the filter, newest first by default."""
        page = body.get("page") or {}
        number = inputs.integer(page, "number", required=False) or 0
        size = inputs.integer(page, "size", required=False, minimum=1) or DEFAULT_PAGE_SIZE
        found = self._filtered(body.get("filter") or {})
        items = found[number * size : (number + 1) * size]
        return {
            "items": [self.payment_json(p) for p in items],
            "page": {"number": number, "size": size, "totalCount": len(found)},
        }

    def _filtered(self, spec: dict) -> list[Payment]:
        if not isinstance(spec, dict):
            raise invalid("filter 값은 객체여야 합니다.")
        with self.lock:
            self.store(spec.get("storeId"))
            now = self.clock.now()
            until = parse_time(spec.get("until")) or now
            since = parse_time(spec.get("from")) or until - LIST_DEFAULT_SPAN
            by_change = spec.get("timestampType") == "STATUS_CHANGED_AT"
            statuses = {FILTER_STATUSES.get(s, s) for s in spec.get("status") or []}
            types = {METHOD_TYPES.get(m, m) for m in spec.get("methods") or []}
            found = []
            for p in self.payments.values():
                at = p.status_changed_at if by_change else p.requested_at
                if not since <= at <= until:
                    continue
                if statuses and p.status not in statuses:
                    continue
                if types and (p.method or {}).get("type") not in types:
                    continue
                if spec.get("isScheduled") is not None and spec["isScheduled"] != bool(
                    p.schedule_id
                ):
                    continue
                if spec.get("currency") and p.currency != spec["currency"]:
                    continue
                if spec.get("isTest") is False:
                    continue  # every payment of the fake is a test payment
                found.append(p)
        sort_by_change = spec.get("sortBy") == "STATUS_CHANGED_AT"
        found.sort(
            key=lambda p: (p.status_changed_at if sort_by_change else p.requested_at, p.id),
            reverse=spec.get("sortOrder", "DESC") != "ASC",
        )
        return found

    def pre_register(self, payment_id: str, body: dict) -> dict:
        """POST /payments/{id}/pre-register: the amount the browser's payment must have."""
        with self.lock:
            self.store(body.get("storeId"))
            existing = self.payments.get(payment_id)
            if existing is not None and existing.status in SPENT:
                raise PortOneError("ALREADY_PAID")
            self.prepared[payment_id] = {
                "totalAmount": inputs.integer(body, "totalAmount", required=False),
                "taxFreeAmount": inputs.integer(body, "taxFreeAmount", required=False),
                "currency": inputs.currency(body["currency"]) if body.get("currency") else None,
            }
            return {}

    def cancel(self, payment_id: str, body: dict) -> dict:
        """POST /payments/{id}/cancel: all that is left, or `amount`, checked against the balance."""
        with self.lock:
            self.store(body.get("storeId"))
            payment = self.payment(payment_id)
            if payment.status == CANCELLED:
                raise PortOneError("PAYMENT_ALREADY_CANCELLED")
            if payment.status not in CANCELLABLE:
                raise PortOneError("PAYMENT_NOT_PAID")
            reason = inputs.text(body, "reason")
            balance = payment.cancellable
            expected = inputs.integer(body, "currentCancellableAmount", required=False)
            if expected is not None and expected != balance:
                raise PortOneError("CANCELLABLE_AMOUNT_CONSISTENCY_BROKEN")
            amount = inputs.integer(body, "amount", required=False, minimum=1)
            amount = balance if amount is None else amount
            if amount > balance:
                raise PortOneError("CANCEL_AMOUNT_EXCEEDS_CANCELLABLE_AMOUNT")
            tax_free_left = payment.tax_free - payment.cancelled_tax_free
            tax_free = inputs.integer(body, "taxFreeAmount", required=False)
            if tax_free is None:
                tax_free = tax_free_left if amount == balance else 0
            if tax_free > amount:
                raise PortOneError("SUM_OF_PARTS_EXCEEDS_CANCEL_AMOUNT")
            if tax_free > tax_free_left:
                raise PortOneError("CANCEL_TAX_FREE_AMOUNT_EXCEEDS_CANCELLABLE_TAX_FREE_AMOUNT")
            if (payment.method or {}).get("type") == "PaymentMethodVirtualAccount":
                self._check_refund_account(body.get("refundAccount"))
            vat = inputs.integer(body, "vatAmount", required=False)
            now = self.clock.now()
            cancellation = Cancellation(
                id=new_id(),
                total=amount,
                tax_free=tax_free,
                vat=vat if vat is not None else vat_of(amount, tax_free),
                reason=reason,
                requested_at=now,
                cancelled_at=now,
                pg_cancellation_id="pgc-" + secrets.token_hex(8),
            )
            payment.cancellations.append(cancellation)
            payment.cancelled_at = now
            payment.set_status(CANCELLED if payment.cancellable == 0 else PARTIAL_CANCELLED, now)
            if body.get("skipWebhook") is not True:
                self.events.transaction(payment, cancellation_id=cancellation.id)
            return {"cancellation": cancellation.to_json()}

    @staticmethod
    def _check_refund_account(account: object) -> None:
        """A deposited virtual account is refunded to an account the buyer names (a guess)."""
        if not isinstance(account, dict) or not all(
            isinstance(account.get(k), str) and account[k] for k in ("bank", "number", "holderName")
        ):
            raise invalid(
                "가상계좌 환불에는 refundAccount (bank, number, holderName)가 필요합니다."
            )

    def close_virtual_account(self, payment_id: str, store_id: object = None) -> dict:
        """POST /payments/{id}/virtual-account/close: an unpaid account ends (CANCELLED)."""
        with self.lock:
            self.store(store_id)
            payment = self.payment(payment_id)
            if payment.status != VIRTUAL_ACCOUNT_ISSUED:
                raise PortOneError("PAYMENT_NOT_WAITING_FOR_DEPOSIT")
            now = self.clock.now()
            payment.cancelled_at = now
            payment.set_status(CANCELLED, now)
            self.events.transaction(payment)
            return {"closedAt": iso(now)}

    def deposit(self, payment_id: str, *, force: bool = False) -> dict:
        """Control API: the buyer pays into the account (before its expiry unless force)."""
        with self.lock:
            payment = self.payment(payment_id)
            if payment.status != VIRTUAL_ACCOUNT_ISSUED:
                raise PortOneError("PAYMENT_NOT_WAITING_FOR_DEPOSIT")
            expires = parse_time((payment.method or {}).get("expiredAt"))
            if not force and expires is not None and expires < self.clock.now():
                raise PortOneError("PAYMENT_NOT_WAITING_FOR_DEPOSIT", "입금 기한이 지났습니다.")
            now = self.clock.now()
            payment.paid_at = now
            payment.set_status(PAID, now)
            payment.issue_cash_receipt(now)
            self.events.transaction(payment, trigger="VIRTUAL_ACCOUNT_DEPOSIT")
            return self.payment_json(payment)

    def resend_webhook(self, payment_id: str, body: dict) -> dict:
        """POST /payments/{id}/resend-webhook: the named (else latest) webhook, sent again."""
        with self.lock:
            self.store(body.get("storeId"))
            payment = self.payment(payment_id)
            wanted = body.get("webhookId")
            records = [r for r in payment.webhooks if wanted in (None, r.id)]
            if not records:
                raise PortOneError("WEBHOOK_NOT_FOUND")
            record = records[-1]
            if record.manual_sends >= self.config["MAX_MANUAL_RESENDS"]:
                raise PortOneError("MAX_WEBHOOK_RETRY_COUNT_REACHED")
            self.events.resend(record)
            return {"webhook": self.events.record_json(record)}

    def pay_instant(self, payment_id: str, body: dict, origin: dict) -> dict:
        """POST /payments/{id}/instant: key-in card (PAID, or 502 on a decline) or a virtual account."""
        with self.lock:
            method = body.get("method")
            if not isinstance(method, dict) or not (
                method.get("card") or method.get("virtualAccount")
            ):
                raise invalid("method.card 또는 method.virtualAccount 값이 필요합니다.")
            payment = self.new_attempt(payment_id, **self.api_payment_fields(body, origin))
            skip = body.get("skipWebhook") is True
            if method.get("virtualAccount"):
                return self._instant_account(payment, method["virtualAccount"], skip)
            card_input = method["card"]
            digits, expiry = inputs.card_credential(card_input.get("credential"))
            card = cards.lookup(digits)
            outcome = cards.decline(card, expiry, self.clock.now())
            if outcome is not None:
                self.fail(payment, outcome, skip_webhook=skip)
                raise pg_decline(outcome)
            months = inputs.integer(card_input, "installmentMonth", required=False) or 0
            return {
                "payment": self.approve(
                    payment, methods.card_method(card, months), skip_webhook=skip
                )
            }

    def _instant_account(self, payment: Payment, spec: dict, skip: bool) -> dict:
        bank = methods.bank_code(spec.get("bank"))
        if bank is None:
            raise invalid("virtualAccount.bank 값이 올바르지 않습니다.")
        expiry = spec.get("expiry") or {}
        hours = inputs.integer(expiry, "validHours", required=False)
        due = parse_time(expiry.get("dueDate"))
        now = self.clock.now()
        valid = (
            hours * 3600 if hours else (due - now if due else self.config["VA_VALID_HOURS"] * 3600)
        )
        self.issue_account(payment, bank, valid, holder=spec.get("remitteeName"), skip_webhook=skip)
        return {"payment": {"pgTxId": payment.pg_tx_id, "paidAt": iso(now)}}

    def api_payment_fields(self, body: dict, origin: dict) -> dict:
        """What a REST payment (instant, billing key, schedule) takes from its body."""
        total, tax_free, vat = inputs.amount_input(body)
        return {
            "store_id": self.store(body.get("storeId")),
            "channel": self.channel(body.get("channelKey")),
            "order_name": inputs.text(body, "orderName"),
            "total": total,
            "tax_free": tax_free,
            "vat": vat,
            "currency": inputs.currency(body.get("currency")),
            "customer": inputs.customer_from_rest(body.get("customer")),
            "custom_data": inputs.custom_data(body.get("customData")),
            "notice_urls": inputs.notice_urls(body),
            "products": body.get("products") if isinstance(body.get("products"), list) else None,
            **origin,
        }
