"""Toss Payments V1: the billing capability (자동결제), on top of the payments client."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from payment_backend.money import to_major
from payment_backend.vendors import base
from payment_backend.vendors.base import (
    BillingKey,
    ChargesOnDemand,
    GatewayError,
    GatewayPayment,
    KeyCharge,
    KeyProof,
    KeyWindow,
)
from payment_backend.vendors.toss.payments import TossPayments, _segment, normalize

# A billing charge may take up to 60 s at Toss (reference §7.1).
BILLING_TIMEOUT = (3.05, 65.0)
# Our browser routes the billing window returns to (frontend/src/pages).
SUCCESS_PATH = "/subscriptions/toss/success"
FAIL_PATH = "/subscriptions/toss/fail"


class TossClient(ChargesOnDemand, TossPayments):
    """Toss: the window hands back an authKey for the billingKey; we charge when due."""

    window_pays: ClassVar[bool] = False
    proof_fields: ClassVar[tuple[str, ...]] = ("auth_key", "customer_key")

    def key_setup(self, window: KeyWindow) -> dict[str, Any]:
        """requestBillingAuth: the window registers a card for the customerKey, charging nothing."""
        return {
            "customer_key": window.customer_key,
            "client_key": self.settings.get("TOSS_CLIENT_KEY"),
            "success_url_path": SUCCESS_PATH,
            "fail_url_path": FAIL_PATH,
        }

    def key_proof(self, proof: Mapping[str, Any]) -> KeyProof:
        """The success redirect's authKey and customerKey."""
        auth, customer = proof.get("auth_key"), proof.get("customer_key")
        return KeyProof(
            customer_key=str(customer) if customer else None, auth=str(auth) if auth else None
        )

    def issue_key(self, proof: KeyProof, customer_key: str) -> BillingKey:
        """Exchange the authKey for the billingKey."""
        billing = self.issue_billing_key(proof.auth or "", customer_key)
        return BillingKey(
            key=billing["billingKey"],
            customer_key=customer_key,
            card=billing_card(billing),
            raw=billing,
        )

    def read_key(self, uid: str, customer_key: str) -> BillingKey:
        """The seed's POST /v1/billing/authorizations/{key} for the customerKey."""
        billing = self.billing_authorization(uid, customer_key)
        return BillingKey(
            key=billing["billingKey"],
            customer_key=billing["customerKey"],
            card=billing_card(billing),
            raw=billing,
        )

    def charge_key(self, charge: KeyCharge) -> GatewayPayment:
        """POST /v1/billing/{billingKey}, one Idempotency-Key per attempt; DUPLICATED_ORDER_ID
        returns the payment an earlier try made."""
        try:
            return self.charge_billing(
                charge.key,
                customer_key=charge.customer_key,
                order_id=charge.order_id,
                order_name=charge.name,
                amount=charge.amount,
                currency=charge.currency,
                idempotency_key=f"{charge.order_id}-attempt-{charge.attempt}",
                buyer=charge.buyer,
            )
        except GatewayError as exc:
            if exc.code == "DUPLICATED_ORDER_ID":
                paid = self.find_by_order(charge.order_id)
                if paid is not None and paid.status == base.PAID:
                    return paid
            raise

    def forget_key(self, key: str, reason: str) -> None:
        """DELETE /v1/billing/{billingKey}."""
        self.delete_billing_key(key)

    # -- the REST calls ----------------------------------------------------------------------------

    def issue_billing_key(self, auth_key: str, customer_key: str) -> dict[str, Any]:
        """POST /v1/billing/authorizations/issue: the billing window's authKey for a billing key."""
        return self._call(
            "POST",
            "/v1/billing/authorizations/issue",
            idempotency_key=f"issue-{auth_key}",
            json={"authKey": auth_key, "customerKey": customer_key},
        )

    def billing_authorization(self, key: str, customer_key: str) -> dict[str, Any]:
        """POST /v1/billing/authorizations/{key}: the seed's read (or issue) of a billing key."""
        return self._call(
            "POST",
            f"/v1/billing/authorizations/{_segment(key)}",
            idempotency_key=f"authorization-{key}-{customer_key}",
            json={"customerKey": customer_key},
        )

    def charge_billing(
        self,
        billing_key: str,
        *,
        customer_key: str,
        order_id: str,
        order_name: str,
        amount: int,
        currency: str,
        idempotency_key: str,
        buyer: dict[str, Any] | None = None,
    ) -> GatewayPayment:
        """POST /v1/billing/{billingKey}; a decline is a GatewayError (4xx), nothing charged."""
        body: dict[str, Any] = {
            "customerKey": customer_key,
            "amount": to_major(amount, currency),
            "orderId": order_id,
            "orderName": order_name[:100],
        }
        if currency != "KRW":
            body["currency"] = currency
        if buyer and buyer.get("email"):
            body["customerEmail"] = buyer["email"]
        if buyer and buyer.get("name"):
            body["customerName"] = buyer["name"]
        return normalize(
            self._call(
                "POST",
                f"/v1/billing/{_segment(billing_key)}",
                idempotency_key=idempotency_key,
                json=body,
                timeout=BILLING_TIMEOUT,
            )
        )

    def delete_billing_key(self, billing_key: str) -> None:
        """DELETE /v1/billing/{billingKey}; a key already gone is fine."""
        try:
            self._call("DELETE", f"/v1/billing/{_segment(billing_key)}")
        except GatewayError as exc:
            if exc.status not in (400, 404):
                raise


def billing_card(billing: dict[str, Any]) -> dict[str, Any]:
    """The card behind a Toss billing key, as we show it."""
    card = billing.get("card") or {}
    return {
        "company": billing.get("cardCompany") or card.get("issuerCode"),
        "number": card.get("number") or billing.get("cardNumber"),
    }
