"""Billing keys, charges with them, and payment schedules (run when the fake clock passes them)."""

from __future__ import annotations

import secrets
import threading

from fake_common import cards
from fake_portone import inputs, methods
from fake_portone.errors import PortOneError, invalid, pg_decline
from fake_portone.models import (
    FAILED,
    REVOKED,
    SCHEDULED,
    SUCCEEDED,
    BillingKey,
    Schedule,
    iso,
    new_id,
    parse_time,
)

SCHEDULE_LIST_SPAN = 90 * 24 * 3600
# A schedule's paymentId may not be paid or waiting for a deposit.
PAID_OR_WAITING = ("PAID", "PARTIAL_CANCELLED", "CANCELLED", "VIRTUAL_ACCOUNT_ISSUED")
API_ORIGIN = {"platform_type": "API"}


class BillingMixin:
    """The billing-key and schedule operations of PortOneGateway (its lock, clock and events)."""

    def reset_billing(self) -> None:
        """Forget every billing key and schedule."""
        self.billing_keys: dict[str, BillingKey] = {}
        self.schedules: dict[str, Schedule] = {}
        self.charged_keys: set[str] = set()

    # -- billing keys --------------------------------------------------------------------------

    def issue_key(
        self, digits: str, expiry, *, store_id: str, channel: dict, **fields
    ) -> BillingKey:
        """A billing key for a card, or 502 PG_PROVIDER when the card is refused now."""
        card = cards.lookup(digits)
        outcome = cards.decline(card, expiry, self.clock.now())
        if outcome is not None:
            raise pg_decline(outcome)
        now = self.clock.now()
        key = BillingKey(
            billing_key=new_id("billing-key-"),
            store_id=store_id,
            merchant_id=self.config["MERCHANT_ID"],
            channel=channel,
            card_number=card.digits,
            expiry=expiry,
            method=methods.billing_key_card_method(card),
            requested_at=now,
            issued_at=now,
            pg_tx_id="pg-" + secrets.token_hex(10),
            **fields,
        )
        self.billing_keys[key.billing_key] = key
        return key

    def issue_billing_key(self, body: dict) -> dict:
        """POST /billing-keys: a key from card data (key-in); BillingKey.Issued."""
        with self.lock:
            store_id = self.store(body.get("storeId"))
            method = body.get("method")
            if not isinstance(method, dict) or not isinstance(method.get("card"), dict):
                raise invalid("method.card 값이 필요합니다.")
            digits, expiry = inputs.card_credential(method["card"].get("credential"))
            key = self.issue_key(
                digits,
                expiry,
                store_id=store_id,
                channel=self.channel(body.get("channelKey")),
                customer=inputs.customer_from_rest(body.get("customer")),
                custom_data=inputs.custom_data(body.get("customData")),
            )
            if body.get("skipWebhook") is not True:
                self.events.billing_key(
                    "Issued", key.billing_key, store_id, inputs.notice_urls(body)
                )
            info = {
                "billingKey": key.billing_key,
                "channels": [key.channel],
                "issuedAt": iso(key.issued_at),
            }
            return {"billingKeyInfo": info}

    def billing_key(self, billing_key: str) -> BillingKey:
        """The key; BILLING_KEY_NOT_FOUND."""
        key = self.billing_keys.get(billing_key)
        if key is None:
            raise PortOneError("BILLING_KEY_NOT_FOUND")
        return key

    def get_billing_key(self, billing_key: str, store_id: object = None) -> dict:
        """GET /billing-keys/{billingKey}: ISSUED or DELETED."""
        with self.lock:
            self.store(store_id)
            return self.billing_key(billing_key).to_json()

    def delete_billing_key(self, billing_key: str, store_id: object, skip_webhook: bool) -> dict:
        """DELETE /billing-keys/{billingKey}; refused while schedules are booked on the key."""
        with self.lock:
            self.store(store_id)
            key = self.billing_key(billing_key)
            if key.deleted_at is not None:
                raise PortOneError("BILLING_KEY_ALREADY_DELETED")
            if any(
                s.billing_key == billing_key and s.status == SCHEDULED
                for s in self.schedules.values()
            ):
                raise PortOneError(
                    "PAYMENT_SCHEDULE_ALREADY_EXISTS", "예약된 결제가 있는 빌링키입니다."
                )
            key.deleted_at = self.clock.now()
            if not skip_webhook:
                self.events.billing_key("Deleted", key.billing_key, key.store_id)
            return {"deletedAt": iso(key.deleted_at)}

    def usable_key(self, billing_key: object) -> BillingKey:
        """A key that can be charged: BILLING_KEY_NOT_FOUND, BILLING_KEY_ALREADY_DELETED."""
        if not isinstance(billing_key, str) or not billing_key:
            raise invalid("billingKey 값이 필요합니다.")
        key = self.billing_key(billing_key)
        if key.deleted_at is not None:
            raise PortOneError("BILLING_KEY_ALREADY_DELETED")
        return key

    # -- charges -------------------------------------------------------------------------------

    def pay_with_billing_key(self, payment_id: str, body: dict) -> dict:
        """POST /payments/{id}/billing-key: PAID, or 502 PG_PROVIDER with a FAILED payment."""
        with self.lock:
            key = self.usable_key(body.get("billingKey"))
            if any(
                s.payment_id == payment_id and s.status == SCHEDULED
                for s in self.schedules.values()
            ):
                raise PortOneError("PAYMENT_SCHEDULE_ALREADY_EXISTS")
            return {"payment": self.charge(payment_id, key, body, API_ORIGIN)}

    def charge(
        self, payment_id: str, key: BillingKey, body: dict, origin: dict, schedule_id=None
    ) -> dict:
        """Charge key for payment_id as body asks; the {pgTxId, paidAt} summary or PG_PROVIDER.

        The first charge of a billing_declines_later card succeeds and every later one declines.
        """
        fields = self.api_payment_fields(body, origin)
        if not body.get("channelKey"):
            fields["channel"] = key.channel
        payment = self.new_attempt(payment_id, **fields)
        payment.billing_key = key.billing_key
        payment.schedule_id = schedule_id
        if not payment.customer:
            payment.customer = key.customer
        skip = body.get("skipWebhook") is True
        card = cards.lookup(key.card_number)
        later = key.billing_key in self.charged_keys
        outcome = cards.decline(card, key.expiry, self.clock.now(), later=later)
        if outcome is not None:
            self.fail(payment, outcome, skip_webhook=skip)
            raise pg_decline(outcome)
        self.charged_keys.add(key.billing_key)
        months = inputs.integer(body, "installmentMonth", required=False) or 0
        return self.approve(payment, methods.card_method(card, months), skip_webhook=skip)

    # -- schedules -----------------------------------------------------------------------------

    def create_schedule(self, payment_id: str, body: dict) -> dict:
        """POST /payments/{id}/schedule: book a billing-key payment for timeToPay."""
        with self.lock:
            payment = body.get("payment")
            if not isinstance(payment, dict):
                raise invalid("payment 값이 필요합니다.")
            time_to_pay = parse_time(body.get("timeToPay"))
            if time_to_pay is None:
                raise invalid("timeToPay 값이 필요합니다 (RFC 3339).")
            store_id = self.store(payment.get("storeId") or body.get("storeId"))
            key = self.usable_key(payment.get("billingKey"))
            existing = self.payments.get(payment_id)
            if existing is not None and existing.status in PAID_OR_WAITING:
                raise PortOneError("ALREADY_PAID_OR_WAITING")
            if any(
                s.payment_id == payment_id and s.status == SCHEDULED
                for s in self.schedules.values()
            ):
                raise PortOneError("PAYMENT_SCHEDULE_ALREADY_EXISTS")
            self.api_payment_fields(payment, API_ORIGIN)  # the charge's fields, checked now
            schedule = Schedule(
                id=new_id(),
                store_id=store_id,
                merchant_id=self.config["MERCHANT_ID"],
                payment_id=payment_id,
                billing_key=key.billing_key,
                payment=dict(payment),
                time_to_pay=time_to_pay,
                created_at=self.clock.now(),
            )
            self.schedules[schedule.id] = schedule
            self._start_runner()
            return {"schedule": {"id": schedule.id}}

    def schedule_json(self, schedule: Schedule) -> dict:
        """The PaymentSchedule object."""
        customer = inputs.customer_from_rest(schedule.payment.get("customer"))
        if not customer and schedule.billing_key in self.billing_keys:
            customer = self.billing_keys[schedule.billing_key].customer
        return schedule.to_json(customer)

    def get_schedule(self, schedule_id: str, store_id: object = None) -> dict:
        """GET /payment-schedules/{id}."""
        with self.lock:
            self.store(store_id)
            schedule = self.schedules.get(schedule_id)
            if schedule is None:
                raise PortOneError("PAYMENT_SCHEDULE_NOT_FOUND")
            return self.schedule_json(schedule)

    def list_schedules(self, body: dict) -> dict:
        """GET /payment-schedules: by timeToPay in [from, until] (default: the past 90 days)."""
        page = body.get("page") or {}
        number = inputs.integer(page, "number", required=False) or 0
        size = inputs.integer(page, "size", required=False, minimum=1) or 10
        spec = body.get("filter") or {}
        sort = body.get("sort") or {}
        with self.lock:
            self.store(spec.get("storeId"))
            until = parse_time(spec.get("until")) or self.clock.now()
            since = parse_time(spec.get("from")) or until - SCHEDULE_LIST_SPAN
            statuses = set(spec.get("status") or [])
            found = [
                s
                for s in self.schedules.values()
                if since <= s.time_to_pay <= until
                and (not statuses or s.status in statuses)
                and spec.get("billingKey") in (None, s.billing_key)
            ]
            by = {"CREATED_AT": "created_at", "COMPLETED_AT": "completed_at"}.get(
                sort.get("by"), "time_to_pay"
            )
            found.sort(
                key=lambda s: (getattr(s, by) or 0, s.id),
                reverse=sort.get("order", "DESC") != "ASC",
            )
            items = found[number * size : (number + 1) * size]
            return {
                "items": [self.schedule_json(s) for s in items],
                "page": {"number": number, "size": size, "totalCount": len(found)},
            }

    def revoke_schedules(self, body: dict) -> dict:
        """DELETE /payment-schedules: by billingKey, by scheduleIds, or those ids of that key."""
        with self.lock:
            self.store(body.get("storeId"))
            billing_key, ids = body.get("billingKey"), body.get("scheduleIds")
            if not billing_key and not ids:
                raise invalid("billingKey 또는 scheduleIds 값이 필요합니다.")
            if billing_key:
                key = self.billing_key(billing_key)
                if key.deleted_at is not None:
                    raise PortOneError("BILLING_KEY_ALREADY_DELETED")
            if ids:
                chosen = [self.schedules.get(i) for i in ids]
                if None in chosen or (
                    billing_key and any(s.billing_key != billing_key for s in chosen)
                ):
                    raise PortOneError("PAYMENT_SCHEDULE_NOT_FOUND")
                for schedule in chosen:
                    if schedule.status == REVOKED:
                        raise PortOneError("PAYMENT_SCHEDULE_ALREADY_REVOKED")
                    if schedule.status != SCHEDULED:
                        raise PortOneError("PAYMENT_SCHEDULE_ALREADY_PROCESSED")
            else:
                chosen = [
                    s
                    for s in self.schedules.values()
                    if s.billing_key == billing_key and s.status == SCHEDULED
                ]
            now = self.clock.now()
            for schedule in chosen:
                schedule.status, schedule.revoked_at = REVOKED, now
            return {"revokedScheduleIds": [s.id for s in chosen], "revokedAt": iso(now)}

    def run_due_schedules(self) -> int:
        """Charge every schedule whose timeToPay has passed (oldest first); how many ran."""
        ran = 0
        with self.lock:
            now = self.clock.now()
            due = sorted(
                (
                    s
                    for s in self.schedules.values()
                    if s.status == SCHEDULED and s.time_to_pay <= now
                ),
                key=lambda s: (s.time_to_pay, s.id),
            )
            for schedule in due:
                self._execute(schedule)
                ran += 1
        return ran

    def _execute(self, schedule: Schedule) -> None:
        schedule.started_at = self.clock.now()
        try:
            key = self.usable_key(schedule.billing_key)
            self.charge(schedule.payment_id, key, schedule.payment, API_ORIGIN, schedule.id)
            schedule.status = SUCCEEDED
        except PortOneError:
            schedule.status = FAILED
        schedule.completed_at = self.clock.now()

    def _start_runner(self) -> None:
        """Run due schedules as real time passes too, not only when the clock is moved."""
        if self._runner is not None and self._runner.is_alive():
            return
        self._runner = threading.Thread(
            target=self._run_schedules, name="portone-schedules", daemon=True
        )
        self._runner.start()

    def _run_schedules(self) -> None:
        while not self._stopped.wait(float(self.config["SCHEDULE_POLL_SECONDS"])):
            self.run_due_schedules()
