"""The fake gateway's state and every operation on it, thread-safe, on the fake clock."""

from __future__ import annotations

import itertools
import json
import re
import secrets
import threading
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

from fake_common import cards
from fake_common.app import FakeParts
from fake_common.cards import Card
from fake_common.money import AmountError, display, to_minor
from fake_common.window_ui import bank_choices
from fake_iamport import errors as msg
from fake_iamport.errors import GatewayError, invalid, missing
from fake_iamport.models import Buyer, Customer, Payment, Schedule
from fake_iamport.money import to_wire

KST = timezone(timedelta(hours=9))
PAYMENT_STATUSES = ("ready", "paid", "cancelled", "failed")
TOKEN_TTL = 30 * 60
TOKEN_LAST_MINUTE = 60
TOKEN_EXTENSION = 5 * 60
BANKS = bank_choices("iamport")  # the window's banks (the shared table): code -> name
SORT_KEYS = {"started": "started_at", "paid": "paid_at", "updated": "updated_at"}
USER_CANCEL_CODE = "F400"  # FAKE: no public source names the code for a closed window
PRECHECK_FAILED_CODE = "F1001"  # FAKE: the window refused the request before it opened

DEFAULT_CONFIG = {
    "IMP_KEY": "test_imp_key",
    "IMP_SECRET": "test_imp_secret",
    "MERCHANT_CODE": "imp00000000",
    "WEBHOOK_URL": None,
    "WEBHOOK_RETRIES": 0,
    "WEBHOOK_RETRY_INTERVAL": 60,
    "PUBLIC_URL": None,
    "VBANK_HOLDER": "페이먼트데모",
    "DEFAULT_PG": "html5_inicis",
    "FOREIGN_PG": "eximbay",
    "SCHEDULE_POLL_SECONDS": 1.0,
    # "minimal" (current PG modules: imp_uid, merchant_uid, error_code, error_msg) or "rich".
    "CALLBACK": "minimal",
    # What closing the popup leaves: "ready" (as many PGs do) or "failed" (as Cancel does).
    "CLOSED_WINDOW": "ready",
    # True: GET /payments/{imp_uid} hides test-channel payments unless include_sandbox=true, as
    # PortOne does since 2026-01-26. Off by default (the team's choice in portone-v1.md §11).
    "HIDE_SANDBOX": False,
}


def flag(value: object) -> bool:
    """Read a boolean sent as JSON or as a form string."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def text(value: object) -> str | None:
    """A string parameter, None when absent or empty."""
    return None if value is None or value == "" else str(value)


def whole(value: object, name: str, default: int = 0) -> int:
    """An integer parameter (JSON number or form string)."""
    if value is None or value == "":
        return default
    try:
        return int(float(value))
    except (TypeError, ValueError) as exc:
        raise invalid(name) from exc


def json_text(value: object) -> str | None:
    """custom_data is stored as JSON text."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def retried(status: int | None) -> bool:
    """PortOne re-sends a webhook (when retries are enabled) on network errors and 5xx only."""
    return status is None or status >= 500


# GET /payments/status/{status}: which time from/to filter on, per status asked for.
STATUS_TIMES = {"paid": "paid_at", "failed": "failed_at", "cancelled": "cancelled_at"}


# The easy-pay apps the window offers (pay_method values, portone-v1.md §4), with their names.
EASY_PAY_PROVIDERS = {"kakaopay": "카카오페이", "naverpay": "네이버페이", "tosspay": "토스페이"}


class IamportGateway:
    """Everything the fake iamport knows, behind one lock."""

    def __init__(self, config: dict, parts: FakeParts | None = None) -> None:
        parts = parts or FakeParts.new()
        self.config = {**DEFAULT_CONFIG, **config}
        self.lock = threading.RLock()
        self.clock = parts.clock
        self.faults = parts.faults
        self.webhooks = parts.webhooks
        self.public_url: str | None = self.config["PUBLIC_URL"]
        self._runner: threading.Thread | None = None
        self._stopped = threading.Event()
        self.reset()
        self.clock.subscribe(self.run_due_schedules)

    # -- state -------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every payment, customer, schedule, prepared amount and token."""
        with self.lock:
            self.payments: dict[str, Payment] = {}
            self.by_merchant: dict[str, list[str]] = {}
            self.prepared: dict[str, dict] = {}
            self.customers: dict[str, Customer] = {}
            self.schedules: dict[str, Schedule] = {}
            self.tokens: dict[str, int] = {}
            self.current_token: str | None = None
            self._seq = itertools.count(1)

    def now(self) -> int:
        """Fake-clock time in whole UNIX seconds."""
        return int(self.clock.now())

    def close(self) -> None:
        """Stop background threads."""
        self._stopped.set()
        self.webhooks.close()

    # -- tokens ------------------------------------------------------------------------------

    def issue_token(self, imp_key: object, imp_secret: object) -> dict:
        """POST /users/getToken: the same token until expiry, extended in its last minute."""
        if imp_key != self.config["IMP_KEY"] or imp_secret != self.config["IMP_SECRET"]:
            raise GatewayError(msg.UNAUTHORIZED, code=-1, http_status=401)
        with self.lock:
            now = self.now()
            token = self.current_token
            if token is not None and self.tokens[token] > now:
                if self.tokens[token] - now <= TOKEN_LAST_MINUTE:
                    self.tokens[token] += TOKEN_EXTENSION
            else:
                token = secrets.token_hex(20)
                self.tokens[token] = now + TOKEN_TTL
                self.current_token = token
            return {"access_token": token, "now": now, "expired_at": self.tokens[token]}

    def token_valid(self, token: str | None) -> bool:
        """True for a token issued here and not yet expired on the fake clock."""
        if not token:
            return False
        with self.lock:
            expires = self.tokens.get(token)
            return expires is not None and self.now() < expires

    # -- look-ups ----------------------------------------------------------------------------

    def get_payment(self, imp_uid: str) -> Payment:
        """GET /payments/{imp_uid}."""
        with self.lock:
            payment = self.payments.get(imp_uid)
            if payment is None:
                raise GatewayError(msg.PAYMENT_NOT_FOUND, code=-1, http_status=404)
            return payment

    def find_all(
        self, merchant_uid: str, status: str | None = None, sorting: str | None = None
    ) -> list[Payment]:
        """Payments of one merchant_uid, optionally of one status, in sort order."""
        if status is not None and status not in PAYMENT_STATUSES:
            raise GatewayError(msg.UNSUPPORTED_STATUS, code=-1, http_status=400)
        with self.lock:
            found = [self.payments[i] for i in self.by_merchant.get(merchant_uid, [])]
            if status is not None:
                found = [p for p in found if p.status == status]
            return self._sorted(found, sorting)

    def find(
        self, merchant_uid: str, status: str | None = None, sorting: str | None = None
    ) -> Payment:
        """GET /payments/find/{merchant_uid}[/{status}]: the first match in sort order."""
        found = self.find_all(merchant_uid, status, sorting)
        if not found:
            raise GatewayError(msg.PAYMENT_NOT_FOUND, code=-1, http_status=404)
        return found[0]

    def by_status(
        self,
        status: str,
        page: int = 1,
        limit: int = 20,
        since: int | None = None,
        until: int | None = None,
        sorting: str | None = None,
    ) -> dict:
        """GET /payments/status/{status}: {total, previous, next, list}."""
        if status != "all" and status not in PAYMENT_STATUSES:
            raise GatewayError(msg.UNSUPPORTED_STATUS, code=-1, http_status=400)
        page = max(1, page)
        limit = min(max(1, limit), 1000)
        with self.lock:
            found = [p for p in self.payments.values() if status == "all" or p.status == status]
            # from/to apply to the time of the status asked for (PortOne: paid -> paid_at, ...).
            field = STATUS_TIMES.get(status, "started_at")
            if since is not None:
                found = [p for p in found if getattr(p, field) >= since]
            if until is not None:
                found = [p for p in found if getattr(p, field) <= until]
            found = self._sorted(found, sorting)
            chunk = found[(page - 1) * limit : page * limit]
            last_page = (len(found) + limit - 1) // limit
            return {
                "total": len(found),
                "previous": page - 1 if page > 1 else 0,
                "next": page + 1 if page < last_page else 0,
                "list": [p.to_api() for p in chunk],
            }

    @staticmethod
    def _sorted(payments: Iterable[Payment], sorting: str | None) -> list[Payment]:
        sorting = sorting or "-started"
        descending = sorting.startswith("-")
        key = SORT_KEYS.get(sorting.lstrip("-"), "started_at")
        return sorted(payments, key=lambda p: (getattr(p, key), p.seq), reverse=descending)

    # -- prepare -----------------------------------------------------------------------------

    def prepare(self, params: dict, *, replace: bool = False) -> dict:
        """POST (or PUT with replace) /payments/prepare."""
        merchant_uid = text(params.get("merchant_uid"))
        if merchant_uid is None:
            raise missing("merchant_uid")
        currency = (text(params.get("currency")) or "KRW").upper()
        amount = self._amount(params.get("amount"), currency)
        with self.lock:
            existing = self.prepared.get(merchant_uid)
            if (
                existing
                and not replace
                and (existing["amount"], existing["currency"]) != (amount, currency)
            ):
                raise GatewayError(msg.PREPARE_EXISTS.format(merchant_uid=merchant_uid))
            if replace and not existing:
                raise GatewayError(msg.PREPARE_NOT_FOUND)
            self.prepared[merchant_uid] = {"amount": amount, "currency": currency}
            return self._prepared_api(merchant_uid)

    def get_prepared(self, merchant_uid: str) -> dict:
        """GET /payments/prepare/{merchant_uid}."""
        with self.lock:
            if merchant_uid not in self.prepared:
                # Kept in one place: switch to 404 if the real service turns out to use it.
                raise GatewayError(msg.PREPARE_NOT_FOUND, code=1, http_status=200)
            return self._prepared_api(merchant_uid)

    def _prepared_api(self, merchant_uid: str) -> dict:
        entry = self.prepared[merchant_uid]
        return {
            "merchant_uid": merchant_uid,
            "amount": to_wire(entry["amount"], entry["currency"]),
            "currency": entry["currency"],
        }

    # -- payments ----------------------------------------------------------------------------

    def _amount(self, value: object, currency: str, name: str = "amount") -> int:
        if value is None or value == "":
            raise missing(name)
        try:
            amount = to_minor(value, currency)
        except AmountError as exc:
            raise invalid(name, str(exc)) from exc
        if amount < 0:
            raise invalid(name, "must not be negative")
        return amount

    def _pg(self, params: dict, currency: str) -> tuple[str, str]:
        pg = text(params.get("pg"))
        if pg is None:
            pg = self.config["DEFAULT_PG"] if currency == "KRW" else self.config["FOREIGN_PG"]
        provider, _, mid = pg.partition(".")
        if not mid:
            mid = "1849705C64" if provider == "eximbay" else "INIpayTest"
        return provider, mid

    def _ensure_not_paid(self, merchant_uid: str) -> None:
        for imp_uid in self.by_merchant.get(merchant_uid, []):
            if self.payments[imp_uid].status in ("paid", "cancelled"):
                raise GatewayError(msg.ALREADY_PAID.format(merchant_uid=merchant_uid))

    def _new_imp_uid(self) -> str:
        while True:
            imp_uid = "imp_" + "".join(secrets.choice("0123456789") for _ in range(12))
            if imp_uid not in self.payments:
                return imp_uid

    def _new_payment(
        self, params: dict, *, pay_method: str, channel: str, amount_required: bool = True
    ) -> Payment:
        merchant_uid = text(params.get("merchant_uid"))
        if merchant_uid is None:
            raise missing("merchant_uid")
        currency = (text(params.get("currency")) or "KRW").upper()
        if amount_required or params.get("amount") not in (None, ""):
            amount = self._amount(params.get("amount"), currency)
        else:
            amount = 0
        provider, mid = self._pg(params, currency)
        now = self.now()
        payment = Payment(
            imp_uid=self._new_imp_uid(),
            merchant_uid=merchant_uid,
            pay_method=pay_method,
            currency=currency,
            amount=amount,
            name=text(params.get("name")),
            pg_provider=provider,
            pg_id=mid,
            started_at=now,
            updated_at=now,
            channel=channel,
            tax_free=self._amount(params.get("tax_free") or 0, currency, "tax_free"),
            buyer=Buyer.from_params(params),
            custom_data=json_text(params.get("custom_data")),
            notice_url=text(params.get("notice_url")),
            card_quota=whole(params.get("card_quota"), "card_quota"),
            seq=next(self._seq),
        )
        payment.receipt_url = f"{self.public_url or ''}/window/receipts/{payment.imp_uid}"
        return payment

    def _store(self, payment: Payment) -> Payment:
        self.payments[payment.imp_uid] = payment
        self.by_merchant.setdefault(payment.merchant_uid, []).append(payment.imp_uid)
        return payment

    def _card_problem(
        self, card: Card, expiry: object, *, later: bool = False
    ) -> tuple[str, str] | None:
        """(code, text) why this card is declined now (or for later billing charges), else None."""
        outcome = cards.decline(card, cards.parse_expiry(expiry), self.now(), later=later)
        return None if outcome is None else msg.DECLINES[outcome]

    def _approve(self, payment: Payment, card: Card | None = None) -> None:
        now = self.now()
        payment.status = "paid"
        payment.paid_at = now
        payment.updated_at = now
        payment.pg_tid = "fake_tid_" + secrets.token_hex(10)
        # A receipt asked for in the window is issued once the money is in (portone-v1.md §3).
        payment.cash_receipt_issued = payment.cash_receipt is not None
        if card is not None:
            payment.card = card
            payment.apply_num = "".join(secrets.choice("0123456789") for _ in range(8))

    def _fail(self, payment: Payment, reason: str, card: Card | None = None) -> None:
        now = self.now()
        payment.status = "failed"
        payment.failed_at = now
        payment.updated_at = now
        payment.fail_reason = reason
        if card is not None:
            payment.card = card

    def notify(self, payment: Payment, status: str | None = None, **extra: object) -> str | None:
        """Send the webhook {imp_uid, merchant_uid, status} to notice_url or the configured URL."""
        url = payment.notice_url or self.config["WEBHOOK_URL"]
        if not url:
            return None
        body = {
            "imp_uid": payment.imp_uid,
            "merchant_uid": payment.merchant_uid,
            "status": status or payment.status,
        }
        body.update(extra)
        retries = int(self.config["WEBHOOK_RETRIES"])
        interval = float(self.config["WEBHOOK_RETRY_INTERVAL"])
        return self.webhooks.send(
            url,
            body,
            retry_delays=[interval * (i + 1) for i in range(retries)],
            retry_on=retried,
        )

    # -- cancel ------------------------------------------------------------------------------

    def cancel(self, params: dict) -> Payment:
        """POST /payments/cancel: partial or full, checksum-guarded; business failures are code 1."""
        imp_uid = text(params.get("imp_uid"))
        merchant_uid = text(params.get("merchant_uid"))
        with self.lock:
            payment = self._cancel_target(imp_uid, merchant_uid)
            if payment.status == "cancelled" or (payment.status == "paid" and payment.balance == 0):
                raise GatewayError(msg.ALREADY_CANCELLED)
            if payment.status != "paid":
                raise GatewayError(msg.CANCEL_NOT_PAID.format(status=payment.status))
            currency = payment.currency
            balance = payment.balance
            raw_amount = params.get("amount")
            try:
                amount = to_minor(raw_amount, currency) if raw_amount not in (None, "") else 0
            except AmountError as exc:
                raise invalid("amount", str(exc)) from exc
            if amount < 0:
                raise GatewayError(msg.CANCEL_BAD_AMOUNT)
            if amount == 0:
                amount = balance
            checksum = params.get("checksum")
            if checksum not in (None, ""):
                try:
                    expected = to_minor(checksum, currency)
                except AmountError as exc:
                    raise invalid("checksum", str(exc)) from exc
                if expected != balance:
                    raise GatewayError(
                        msg.CHECKSUM_MISMATCH.format(
                            checksum=checksum, balance=to_wire(balance, currency)
                        )
                    )
            if amount > balance:
                raise GatewayError(
                    msg.CANCEL_OVER_BALANCE.format(
                        requested=to_wire(amount, currency), balance=to_wire(balance, currency)
                    )
                )
            if payment.pay_method == "vbank" and not all(
                text(params.get(k)) for k in ("refund_holder", "refund_bank", "refund_account")
            ):
                raise GatewayError(msg.VBANK_REFUND_ACCOUNT_REQUIRED)
            now = self.now()
            reason = text(params.get("reason"))
            cancellation_id = "fake_cncl_" + secrets.token_hex(8)
            payment.cancel_history.append(
                {
                    "pg_tid": "fake_cancel_tid_" + secrets.token_hex(10),
                    "amount": amount,
                    "cancelled_at": now,
                    "reason": reason,
                    "cancellation_id": cancellation_id,
                    "receipt_url": f"{payment.receipt_url}?cancellation_id={cancellation_id}",
                }
            )
            payment.cancel_amount += amount
            payment.cancel_reason = reason
            payment.cancelled_at = now
            payment.updated_at = now
            if payment.balance == 0:
                payment.status = "cancelled"
            if flag(params.get("enable_webhook")):
                self.notify(payment, "cancelled", cancellation_id=cancellation_id)
            return payment

    def _cancel_target(self, imp_uid: str | None, merchant_uid: str | None) -> Payment:
        if imp_uid is not None:
            payment = self.payments.get(imp_uid)
        elif merchant_uid is not None:
            found = self.find_all(merchant_uid)
            settled = [p for p in found if p.status in ("paid", "cancelled")]
            payment = (settled or found or [None])[0]
        else:
            payment = None
        if payment is None:
            raise GatewayError(msg.CANCEL_NOT_FOUND)
        return payment

    # -- billing keys ------------------------------------------------------------------------

    def create_customer(self, customer_uid: str, params: dict) -> Customer:
        """POST /subscribe/customers/{customer_uid}: issue (or replace) a billing key."""
        card_number = text(params.get("card_number"))
        if card_number is None:
            raise missing("card_number")
        if text(params.get("expiry")) is None:
            raise missing("expiry")
        card = cards.lookup(card_number)
        problem = self._card_problem(card, params.get("expiry"))
        if problem:
            raise GatewayError(
                msg.CUSTOMER_ISSUE_FAILED.format(reason=f"[{problem[0]}]{problem[1]}"), code=-1
            )
        with self.lock:
            return self._store_customer(customer_uid, card, params)

    def _store_customer(self, customer_uid: str, card: Card, params: dict) -> Customer:
        now = self.now()
        provider, mid = self._pg(params, "KRW")
        previous = self.customers.get(customer_uid)
        customer = Customer(
            customer_uid=customer_uid,
            card=card,
            pg_provider=provider,
            pg_id=mid,
            inserted=previous.inserted if previous else now,
            updated=now,
            customer_id=text(params.get("customer_id")),
            customer=Buyer.from_params(params, "customer_"),
        )
        self.customers[customer_uid] = customer
        return customer

    def get_customer(self, customer_uid: str) -> Customer:
        """GET /subscribe/customers/{customer_uid}; 404 when unknown (the current spec)."""
        with self.lock:
            customer = self.customers.get(customer_uid)
            if customer is None:
                raise GatewayError(
                    msg.CUSTOMER_NOT_FOUND.format(uid=customer_uid), code=-1, http_status=404
                )
            return customer

    def delete_customer(self, customer_uid: str) -> Customer:
        """DELETE /subscribe/customers/{customer_uid}."""
        with self.lock:
            customer = self.get_customer(customer_uid)
            del self.customers[customer_uid]
            return customer

    def onetime(self, params: dict) -> Payment:
        """POST /subscribe/payments/onetime: a key-in charge; card problems are code -1, declines failed."""
        for name in ("card_number", "expiry"):
            if text(params.get(name)) is None:
                raise missing(name)
        card = cards.lookup(params["card_number"])
        with self.lock:
            payment = self._new_payment(params, pay_method="card", channel="api")
            self._ensure_not_paid(payment.merchant_uid)
            expiry = cards.parse_expiry(params.get("expiry"))
            outcome = cards.decline(card, expiry, self.now())
            if outcome in (cards.INVALID_NUMBER, cards.EXPIRED):
                code, reason = msg.DECLINES[outcome]
                raise GatewayError(
                    msg.ONETIME_AUTH_FAILED.format(reason=f"[{code}]{reason}"), code=-1
                )
            customer_uid = text(params.get("customer_uid"))
            if customer_uid:
                payment.customer_uid = customer_uid
                payment.customer_uid_usage = "issue"
            self._charge(payment, card, params.get("expiry"), later=False)
            if customer_uid and payment.status == "paid":
                self._store_customer(customer_uid, card, params)
            return self._store(payment)

    def again(self, params: dict) -> Payment:
        """POST /subscribe/payments/again: charge a billing key; a decline is code 0, status failed."""
        customer_uid = text(params.get("customer_uid"))
        if customer_uid is None:
            raise missing("customer_uid")
        with self.lock:
            customer = self.customers.get(customer_uid)
            if customer is None:
                raise GatewayError(msg.AGAIN_UNKNOWN_CUSTOMER)
            payment = self._new_payment(params, pay_method="card", channel="api")
            self._ensure_not_paid(payment.merchant_uid)
            payment.customer_uid = customer_uid
            payment.customer_uid_usage = "payment"
            if not any(vars(payment.buyer).values()):
                payment.buyer = customer.customer
            self._charge(payment, customer.card, None, later=True)
            return self._store(payment)

    def _charge(self, payment: Payment, card: Card, expiry: object, *, later: bool) -> None:
        problem = self._card_problem(card, expiry, later=later)
        if problem:
            self._fail(payment, f"[{problem[0]}]{problem[1]}", card)
            payment.pg_tid = "fake_tid_" + secrets.token_hex(10)
        else:
            self._approve(payment, card)
            self.notify(payment)

    # -- schedules ---------------------------------------------------------------------------

    def schedule(self, params: dict) -> list[Schedule]:
        """POST /subscribe/payments/schedule."""
        customer_uid = text(params.get("customer_uid"))
        if customer_uid is None:
            raise missing("customer_uid")
        entries = params.get("schedules")
        if isinstance(entries, dict):
            entries = [entries]
        if not entries:
            raise missing("schedules")
        with self.lock:
            if customer_uid not in self.customers:
                if text(params.get("card_number")) is None:
                    raise GatewayError(msg.SCHEDULE_UNKNOWN_CUSTOMER)
                self.create_customer(customer_uid, params)
            customer = self.customers[customer_uid]
            created = []
            for entry in entries:
                created.append(self._new_schedule(customer, params, entry))
            for schedule in created:
                self.schedules[schedule.merchant_uid] = schedule
            self._start_runner()
            return created

    def _new_schedule(self, customer: Customer, params: dict, entry: dict) -> Schedule:
        merchant_uid = text(entry.get("merchant_uid"))
        if merchant_uid is None:
            raise missing("merchant_uid")
        if entry.get("schedule_at") in (None, ""):
            raise missing("schedule_at")
        try:
            schedule_at = int(float(entry["schedule_at"]))
        except (TypeError, ValueError) as exc:
            raise invalid("schedule_at") from exc
        existing = self.schedules.get(merchant_uid)
        if existing and existing.schedule_status != "revoked":
            raise GatewayError(msg.SCHEDULE_EXISTS.format(merchant_uid=merchant_uid))
        self._ensure_not_paid(merchant_uid)
        currency = (text(entry.get("currency")) or "KRW").upper()
        return Schedule(
            customer_uid=customer.customer_uid,
            merchant_uid=merchant_uid,
            schedule_at=schedule_at,
            amount=self._amount(entry.get("amount"), currency),
            currency=currency,
            name=text(entry.get("name")),
            pg_provider=customer.pg_provider,
            pg_id=customer.pg_id,
            created_at=self.now(),
            customer_id=text(params.get("customer_id")) or customer.customer_id,
            buyer=Buyer.from_params(entry),
            custom_data=json_text(entry.get("custom_data")),
            notice_url=text(entry.get("notice_url")),
            card_quota=whole(entry.get("card_quota"), "card_quota"),
        )

    def unschedule(self, params: dict) -> list[Schedule]:
        """POST /subscribe/payments/unschedule: revoke one, several or all of a customer's schedules."""
        customer_uid = text(params.get("customer_uid"))
        merchant_uids = params.get("merchant_uid")
        if merchant_uids in (None, "", []):
            merchant_uids = params.get("merchant_uid[]")
        if isinstance(merchant_uids, str):
            merchant_uids = [merchant_uids]
        if customer_uid is None and not merchant_uids:
            raise missing("customer_uid")
        with self.lock:
            revoked = []
            for schedule in self.schedules.values():
                if schedule.schedule_status != "scheduled":
                    continue
                if customer_uid is not None and schedule.customer_uid != customer_uid:
                    continue
                if merchant_uids and schedule.merchant_uid not in merchant_uids:
                    continue
                schedule.schedule_status = "revoked"
                schedule.revoked_at = self.now()
                revoked.append(schedule)
            if not revoked:
                raise GatewayError(msg.UNSCHEDULE_NOTHING)
            return revoked

    def get_schedule(self, merchant_uid: str) -> Schedule:
        """GET /subscribe/payments/schedule/{merchant_uid}."""
        with self.lock:
            schedule = self.schedules.get(merchant_uid)
            if schedule is None:
                raise GatewayError(msg.SCHEDULE_NOT_FOUND, code=-1, http_status=404)
            return schedule

    def list_schedules(self, params: dict) -> list[Schedule]:
        """GET /subscribe/payments/schedule?schedule_from&schedule_to[&schedule_status&page&limit]."""
        bounds = []
        for name in ("schedule_from", "schedule_to"):
            if params.get(name) in (None, ""):
                raise missing(name)
            try:
                bounds.append(int(float(params[name])))
            except ValueError as exc:
                raise invalid(name) from exc
        status = text(params.get("schedule_status"))
        page = max(1, whole(params.get("page"), "page", 1))
        limit = min(max(1, whole(params.get("limit"), "limit", 20)), 1000)
        with self.lock:
            found = [
                s
                for s in self.schedules.values()
                if bounds[0] <= s.schedule_at <= bounds[1]
                and (status is None or s.schedule_status == status)
            ]
        descending = (params.get("sorting") or "schedule_at").startswith("-")
        found.sort(key=lambda s: (s.schedule_at, s.merchant_uid), reverse=descending)
        return found[(page - 1) * limit : page * limit]

    def run_due_schedules(self) -> int:
        """Charge every schedule whose schedule_at has passed; return how many ran."""
        ran = 0
        with self.lock:
            now = self.now()
            due = sorted(
                (
                    s
                    for s in self.schedules.values()
                    if s.schedule_status == "scheduled" and s.schedule_at <= now
                ),
                key=lambda s: (s.schedule_at, s.merchant_uid),
            )
            for schedule in due:
                self._execute(schedule)
                ran += 1
        return ran

    def _execute(self, schedule: Schedule) -> None:
        params = {
            "merchant_uid": schedule.merchant_uid,
            "amount": to_wire(schedule.amount, schedule.currency),
            "currency": schedule.currency,
            "name": schedule.name,
            "notice_url": schedule.notice_url,
            "pg": f"{schedule.pg_provider}.{schedule.pg_id}",
            "card_quota": schedule.card_quota,
            **schedule.buyer.to_api(),
        }
        payment = self._new_payment(params, pay_method="card", channel="api")
        payment.custom_data = schedule.custom_data
        payment.customer_uid = schedule.customer_uid
        payment.customer_uid_usage = "payment.scheduled"
        customer = self.customers.get(schedule.customer_uid)
        already_paid = any(
            self.payments[i].status in ("paid", "cancelled")
            for i in self.by_merchant.get(schedule.merchant_uid, [])
        )
        if customer is None:
            self._fail(payment, msg.AGAIN_UNKNOWN_CUSTOMER)
        elif already_paid:
            self._fail(payment, msg.ALREADY_PAID.format(merchant_uid=schedule.merchant_uid))
        else:
            problem = self._card_problem(customer.card, None, later=True)
            if problem:
                self._fail(payment, f"[{problem[0]}]{problem[1]}", customer.card)
            else:
                self._approve(payment, customer.card)
        self._store(payment)
        schedule.imp_uid = payment.imp_uid
        schedule.executed_at = self.now()
        schedule.schedule_status = "executed"
        schedule.payment_status = payment.status
        schedule.fail_reason = payment.fail_reason
        self.notify(payment)

    def _start_runner(self) -> None:
        """Run due schedules as real time passes too, not only when the clock is moved."""
        if self._runner is not None and self._runner.is_alive():
            return
        self._runner = threading.Thread(
            target=self._run_schedules, name="iamport-schedules", daemon=True
        )
        self._runner.start()

    def _run_schedules(self) -> None:
        while not self._stopped.wait(float(self.config["SCHEDULE_POLL_SECONDS"])):
            self.run_due_schedules()

    # -- virtual accounts --------------------------------------------------------------------

    def issue_vbank(self, params: dict, payment: Payment | None = None) -> Payment:
        """POST /vbanks (or the window's vbank choice): a ready payment with an account number."""
        vbank_code = text(params.get("vbank_code"))
        if vbank_code is None:
            raise missing("vbank_code")
        with self.lock:
            server_side = payment is None
            if server_side:
                if params.get("vbank_due") in (None, ""):
                    raise missing("vbank_due")
                payment = self._new_payment(params, pay_method="vbank", channel="api")
            self._ensure_not_paid(payment.merchant_uid)
            now = self.now()
            payment.vbank_code = vbank_code
            payment.vbank_name = BANKS.get(vbank_code, f"은행({vbank_code})")
            payment.vbank_num = "".join(secrets.choice("0123456789") for _ in range(14))
            payment.vbank_holder = text(params.get("vbank_holder")) or self.config["VBANK_HOLDER"]
            payment.vbank_date = self._vbank_due(params.get("vbank_due"))
            payment.vbank_issued_at = now
            payment.pg_tid = "fake_tid_" + secrets.token_hex(10)
            payment.status = "ready"
            payment.updated_at = now
            if server_side:
                self._store(payment)
            self.notify(payment, "ready")
            return payment

    def _vbank_due(self, value: object) -> int:
        """UNIX seconds, or YYYYMMDD[HHmm[ss]] in KST; default three days ahead, end of day."""
        raw = str(value or "").strip()
        if re.fullmatch(r"\d{8}(\d{4}(\d{2})?)?", raw):
            fmt = {8: "%Y%m%d", 12: "%Y%m%d%H%M", 14: "%Y%m%d%H%M%S"}[len(raw)]
            parsed = datetime.strptime(raw, fmt).replace(tzinfo=KST)
            if len(raw) == 8:
                parsed = parsed.replace(hour=23, minute=59, second=59)
            return int(parsed.timestamp())
        if raw:
            try:
                return int(float(raw))
            except ValueError as exc:
                raise invalid("vbank_due") from exc
        day = datetime.fromtimestamp(self.now(), KST) + timedelta(days=3)
        return int(day.replace(hour=23, minute=59, second=59, microsecond=0).timestamp())

    def revoke_vbank(self, imp_uid: str) -> Payment:
        """DELETE /vbanks/{imp_uid}: 404 unknown, 400 unless a ready virtual account."""
        with self.lock:
            payment = self.get_payment(imp_uid)
            if payment.pay_method != "vbank" or payment.status != "ready" or not payment.vbank_num:
                raise GatewayError(msg.NOT_A_READY_VBANK, code=-1, http_status=400)
            now = self.now()
            payment.status = "cancelled"
            payment.cancelled_at = now
            payment.cancel_reason = "가상계좌 발급취소"
            payment.updated_at = now
            return payment

    def update_vbank(self, imp_uid: str, params: dict) -> Payment:
        """PUT /vbanks/{imp_uid}: change amount and deadline of a ready account."""
        with self.lock:
            payment = self.get_payment(imp_uid)
            if payment.pay_method != "vbank" or payment.status != "ready":
                raise GatewayError(msg.NOT_A_READY_VBANK, code=-1, http_status=400)
            if params.get("amount") not in (None, ""):
                payment.amount = self._amount(params["amount"], payment.currency)
            if params.get("vbank_due") not in (None, ""):
                payment.vbank_date = self._vbank_due(params["vbank_due"])
            payment.updated_at = self.now()
            return payment

    def deposit(self, imp_uid: str, *, force: bool = False) -> Payment:
        """The buyer pays into a virtual account: ready -> paid, webhook paid."""
        with self.lock:
            payment = self.get_payment(imp_uid)
            if payment.pay_method != "vbank" or payment.status != "ready" or not payment.vbank_num:
                raise GatewayError(msg.NOT_A_READY_VBANK, code=-1, http_status=422)
            if not force and payment.vbank_date and self.now() > payment.vbank_date:
                raise GatewayError(msg.VBANK_EXPIRED, code=-1, http_status=422)
            self._approve(payment)
            self.notify(payment, "paid")
            return payment

    # -- the payment window ------------------------------------------------------------------

    def open_window(
        self,
        params: dict,
        *,
        code: str | None,
        mode: str,
        origin: str | None,
        return_url: str | None,
    ) -> Payment:
        """Create the ready payment a window pays, after the SDK's up-front checks."""
        if code != self.config["MERCHANT_CODE"]:
            raise GatewayError(msg.WRONG_MERCHANT_CODE.format(code=code))
        customer_uid = text(params.get("customer_uid"))
        pay_method = text(params.get("pay_method")) or "card"
        with self.lock:
            payment = self._new_payment(
                params, pay_method=pay_method, channel="pc", amount_required=not customer_uid
            )
            self._ensure_not_paid(payment.merchant_uid)
            prepared = self.prepared.get(payment.merchant_uid)
            if prepared and (prepared["amount"], prepared["currency"]) != (
                payment.amount,
                payment.currency,
            ):
                raise GatewayError(
                    msg.PREPARED_AMOUNT_MISMATCH.format(
                        prepared=display(prepared["amount"], prepared["currency"]),
                        requested=display(payment.amount, payment.currency),
                    )
                )
            if customer_uid:
                payment.customer_uid = customer_uid
                payment.customer_uid_usage = "issue"
            payment.window = {
                "mode": mode,
                "origin": origin,
                "return_url": return_url or text(params.get("m_redirect_url")),
                "vbank_due": params.get("vbank_due"),
                "vbank_holder": params.get("vbank_holder"),
                "done": False,
            }
            return self._store(payment)

    def window_payment(self, imp_uid: str) -> Payment:
        """The payment behind a window (404 for anything else)."""
        with self.lock:
            payment = self.get_payment(imp_uid)
            if payment.window is None:
                raise GatewayError(msg.PAYMENT_NOT_FOUND, code=-1, http_status=404)
            return payment

    def pay_window(self, imp_uid: str, form: dict) -> dict:
        """Submit the window: card payment, virtual account or billing key; return the rsp."""
        with self.lock:
            payment = self.window_payment(imp_uid)
            if payment.window["done"]:
                return self.window_result(payment)
            payment.window["done"] = True
            if payment.customer_uid:
                self._window_billing_key(payment, form)
            elif payment.pay_method in ("vbank", "trans"):
                self._window_account(payment, form)
            elif (
                form.get("easy_pay") in EASY_PAY_PROVIDERS
                or payment.pay_method in EASY_PAY_PROVIDERS
            ):
                # Easy pay (portone-v1.md §4): pay_method is the app, emb_pg_provider names it.
                provider = form.get("easy_pay") or payment.pay_method
                payment.pay_method = payment.emb_pg_provider = provider
                self._approve(payment)
                self.notify(payment)
            else:
                card = cards.lookup(form.get("card_number"))
                payment.card_quota = cards.installment_months(form.get("card_quota"))
                self._charge(payment, card, form.get("expiry"), later=False)
            return self.window_result(payment)

    def _window_account(self, payment: Payment, form: dict) -> None:
        """A virtual account issued (vbank) or a transfer paid (trans), with the cash receipt
        the buyer asked for (form["cash_receipt"], a CashReceiptRequest or None)."""
        payment.cash_receipt = form.get("cash_receipt")
        if payment.pay_method == "trans":
            self._approve(payment)
            self.notify(payment)
            return
        self.issue_vbank(
            {
                "vbank_code": text(form.get("vbank_code")) or "004",
                "vbank_due": payment.window["vbank_due"],
                "vbank_holder": payment.window["vbank_holder"],
            },
            payment,
        )

    def _window_billing_key(self, payment: Payment, form: dict) -> None:
        card = cards.lookup(form.get("card_number"))
        problem = self._card_problem(card, form.get("expiry"))
        if problem:
            self._fail(payment, f"[{problem[0]}]{problem[1]}", card)
            return
        self._store_customer(
            payment.customer_uid, card, {"pg": f"{payment.pg_provider}.{payment.pg_id}"}
        )
        if payment.amount:
            self._charge(payment, card, form.get("expiry"), later=False)
        else:
            self._approve(payment, card)
            self.notify(payment)

    def cancel_window(self, imp_uid: str, *, closed: bool = False) -> dict:
        """The buyer pressed Cancel (the payment fails) or closed the popup (it fails, or stays
        ready with CLOSED_WINDOW "ready"); the callback reports a user cancel either way."""
        with self.lock:
            payment = self.window_payment(imp_uid)
            if not payment.window["done"]:
                payment.window["done"] = True
                payment.window["user_cancelled"] = True
                if not closed or self.config["CLOSED_WINDOW"] != "ready":
                    self._fail(payment, msg.USER_CANCELLED)
            return self.window_result(payment)

    def approve_late(self, imp_uid: str) -> Payment:
        """The PG approves a window's card payment after all (it was ready or failed): it becomes
        paid and the paid webhook goes out."""
        with self.lock:
            payment = self.window_payment(imp_uid)
            if payment.status not in ("ready", "failed") or payment.pay_method == "vbank":
                raise GatewayError(
                    msg.NOT_LATE_APPROVABLE.format(status=payment.status), code=-1, http_status=400
                )
            payment.window["done"] = True
            self._approve(payment, cards.lookup("4242424242424242"))
            self.notify(payment)
            return payment

    def window_result(self, payment: Payment) -> dict:
        """The rsp the SDK hands to the merchant's callback."""
        rsp = payment.to_callback()
        user_cancelled = bool(payment.window and payment.window.get("user_cancelled"))
        if payment.status == "failed" or (payment.status == "ready" and user_cancelled):
            if user_cancelled:
                code, error = USER_CANCEL_CODE, msg.USER_CANCELLED
            else:
                match = re.match(r"^\[(\w+)\](.*)$", payment.fail_reason or "")
                code, error = (
                    (match.group(1), payment.fail_reason)
                    if match
                    else ("F500", payment.fail_reason)
                )
            rsp.update(success=False, error_code=code, error_msg=error)
        return rsp
