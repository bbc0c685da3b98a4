"""PortOne (iamport) V1: the billing capability (비인증결제), on top of the payments client."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from payment_backend.money import to_major
from payment_backend.vendors import base
from payment_backend.vendors.base import (
    BillingKey,
    BillingKeyNotFound,
    Booking,
    GatewayError,
    GatewayPayment,
    KeyCharge,
    KeyProof,
    KeyWindow,
    PaymentNotFound,
)
from payment_backend.vendors.iamport.payments import IamportPayments, _segment, normalize

BOOKING_STATES = {"scheduled": base.BOOKED, "executed": base.RAN}


class IamportClient(IamportPayments):
    """PortOne V1: the billing key is a customer_uid, issued by a window that pays; schedules."""

    window_pays: ClassVar[bool] = True
    books_ahead: ClassVar[bool] = True
    proof_fields: ClassVar[tuple[str, ...]] = ("imp_uid",)

    def key_setup(self, window: KeyWindow) -> dict[str, Any]:
        """IMP.request_pay with customer_uid: the window registers the card and pays amount."""
        return {
            "customer_uid": window.customer_key,
            "merchant_uid": window.order_id,
            "amount": window.amount,
            "currency": window.currency,
            "name": window.name,
            "pg": self.settings.get("IAMPORT_PG"),
            "notice_url": self.notice_url(),
        }

    def key_proof(self, proof: Mapping[str, Any]) -> KeyProof:
        """The window's imp_uid: the payment that issued the key."""
        imp_uid = proof.get("imp_uid")
        return KeyProof(payment_id=str(imp_uid) if imp_uid else None)

    def issue_key(self, proof: KeyProof, customer_key: str) -> BillingKey:
        """The window issued the key under our customer_uid: read it."""
        return self.read_key(customer_key, customer_key)

    def read_key(self, uid: str, customer_key: str) -> BillingKey:
        """GET /subscribe/customers/{customer_uid} (BillingKeyNotFound)."""
        try:
            customer = self.get_customer(uid)
        except PaymentNotFound as exc:
            raise BillingKeyNotFound(exc.message, code=exc.code, status=404) from exc
        return BillingKey(key=uid, customer_key=uid, card=customer_card(customer), raw=customer)

    def charge_key(self, charge: KeyCharge) -> GatewayPayment:
        """/subscribe/payments/again; "already paid" for the merchant_uid returns that payment."""
        try:
            return self.again(
                charge.key,
                merchant_uid=charge.order_id,
                amount=charge.amount,
                currency=charge.currency,
                name=charge.name,
                buyer=charge.buyer,
                notice_url=self.notice_url(),
            )
        except GatewayError:
            paid = self.find_by_order(charge.order_id)
            if paid is not None and paid.status == base.PAID:
                return paid  # an earlier try whose answer was lost went through
            raise

    def book(self, charge: KeyCharge, due_at: datetime) -> None:
        """/subscribe/payments/schedule for one charge."""
        self.schedule(
            charge.key,
            merchant_uid=charge.order_id,
            schedule_at=due_at,
            amount=charge.amount,
            currency=charge.currency,
            name=charge.name,
            buyer=charge.buyer,
            notice_url=self.notice_url(),
        )

    def booking(self, order_id: str) -> Booking | None:
        """GET /subscribe/payments/schedule/{merchant_uid}."""
        found = self.get_schedule(order_id)
        if found is None:
            return None
        return Booking(
            status=BOOKING_STATES.get(found.get("schedule_status") or "", base.UNBOOKED),
            customer_key=found.get("customer_uid"),
            payment_id=found.get("imp_uid") or None,
        )

    def unbook(self, customer_key: str, order_id: str) -> None:
        """/subscribe/payments/unschedule."""
        self.unschedule(customer_key, [order_id])

    def forget_key(self, key: str, reason: str) -> None:
        """DELETE /subscribe/customers/{customer_uid}."""
        self.delete_customer(key, reason)

    # -- the REST calls ----------------------------------------------------------------------------

    def get_customer(self, customer_uid: str) -> dict[str, Any]:
        """GET /subscribe/customers/{customer_uid}: the billing key's customer (PaymentNotFound)."""
        return self._call(
            "GET", f"/subscribe/customers/{_segment(customer_uid)}", safe_to_repeat=True
        )

    def delete_customer(self, customer_uid: str, reason: str) -> None:
        """DELETE /subscribe/customers/{customer_uid}; an unknown customer is already gone."""
        try:
            self._call(
                "DELETE",
                f"/subscribe/customers/{_segment(customer_uid)}",
                safe_to_repeat=True,
                params={"reason": reason},
            )
        except PaymentNotFound:
            return

    def again(
        self,
        customer_uid: str,
        *,
        merchant_uid: str,
        amount: int,
        currency: str,
        name: str,
        buyer: dict[str, Any] | None = None,
        notice_url: str | None = None,
    ) -> GatewayPayment:
        """POST /subscribe/payments/again: a decline is a payment with status failed, not an error.

        Never repeated blindly: PortOne refuses a second payment for a merchant_uid already paid,
        which is what makes a retry after an unknown outcome safe.
        """
        body: dict[str, Any] = {
            "customer_uid": customer_uid,
            "merchant_uid": merchant_uid,
            "amount": to_major(amount, currency),
            "currency": currency,
            "name": name,
            **_buyer(buyer),
        }
        if notice_url:
            body["notice_url"] = notice_url
        return normalize(
            self._call("POST", "/subscribe/payments/again", safe_to_repeat=False, json=body)
        )

    def schedule(
        self,
        customer_uid: str,
        *,
        merchant_uid: str,
        schedule_at: datetime,
        amount: int,
        currency: str,
        name: str,
        buyer: dict[str, Any] | None = None,
        notice_url: str | None = None,
    ) -> dict[str, Any]:
        """POST /subscribe/payments/schedule for one charge; returns the schedule result."""
        entry: dict[str, Any] = {
            "merchant_uid": merchant_uid,
            "schedule_at": int(schedule_at.timestamp()),
            "amount": to_major(amount, currency),
            "currency": currency,
            "name": name,
            **_buyer(buyer),
        }
        if notice_url:
            entry["notice_url"] = notice_url
        result = self._call(
            "POST",
            "/subscribe/payments/schedule",
            safe_to_repeat=False,  # a repeat is refused as a duplicate merchant_uid anyway
            json={"customer_uid": customer_uid, "schedules": [entry]},
        )
        return result[0] if isinstance(result, list) and result else {}

    def unschedule(self, customer_uid: str, merchant_uids: list[str]) -> list[dict[str, Any]]:
        """POST /subscribe/payments/unschedule; nothing left to revoke is not an error."""
        try:
            result = self._call(
                "POST",
                "/subscribe/payments/unschedule",
                safe_to_repeat=True,
                json={"customer_uid": customer_uid, "merchant_uid": merchant_uids},
            )
        except PaymentNotFound:
            return []
        except GatewayError as exc:
            if exc.status == 200:  # code 1: no schedule matched (already run or revoked)
                return []
            raise
        return result if isinstance(result, list) else []

    def get_schedule(self, merchant_uid: str) -> dict[str, Any] | None:
        """GET /subscribe/payments/schedule/{merchant_uid}; None when there is none."""
        try:
            return self._call(
                "GET", f"/subscribe/payments/schedule/{_segment(merchant_uid)}", safe_to_repeat=True
            )
        except PaymentNotFound:
            return None


def _buyer(buyer: dict[str, Any] | None) -> dict[str, Any]:
    """buyer_name / buyer_email from our buyer object."""
    return {f"buyer_{k}": v for k, v in (buyer or {}).items() if k in ("name", "email") and v}


def customer_card(customer: dict[str, Any]) -> dict[str, Any]:
    """The card behind an iamport billing key, as we show it."""
    return {"company": customer.get("card_name"), "number": customer.get("card_number")}
