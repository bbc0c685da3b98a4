"""PortOne V2: the billing capability (빌링키), on top of the payments client."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

import portone_server_sdk as portone
from portone_server_sdk._generated.payment.billing_key.billing_key_info import (
    _serialize_billing_key_info,
)

from payment_backend.vendors import base
from payment_backend.vendors.base import (
    BillingKey,
    BillingKeyNotFound,
    ChargesOnDemand,
    GatewayError,
    GatewayPayment,
    KeyCharge,
    KeyProof,
    KeyWindow,
)
from payment_backend.vendors.portone.objects import payment_id_of
from payment_backend.vendors.portone.payments import PortOnePayments

# Refusals of a key that mean it is gone (or never was).
KEY_GONE = ("BILLING_KEY_NOT_FOUND", "BILLING_KEY_ALREADY_DELETED", "BILLING_KEY_NOT_ISSUED")


class PortOneClient(ChargesOnDemand, PortOnePayments):
    """PortOne V2: requestIssueBillingKey hands back the key itself; we charge when due."""

    window_pays: ClassVar[bool] = False
    proof_fields: ClassVar[tuple[str, ...]] = ("billing_key",)

    def key_setup(self, window: KeyWindow) -> dict[str, Any]:
        """requestIssueBillingKey for our customer id: the window registers a card, charging
        nothing."""
        return {
            "store_id": self.store_id,
            "channel_key": self.settings.get("PORTONE_CHANNEL_KEY"),
            "customer_key": window.customer_key,
            "issue_id": window.order_id,
            "issue_name": window.name,
            "notice_url": self.notice_url(),
        }

    def key_proof(self, proof: Mapping[str, Any]) -> KeyProof:
        """The window's billingKey (checked against our customer when it is read)."""
        key = proof.get("billing_key")
        return KeyProof(auth=str(key) if key else None)

    def issue_key(self, proof: KeyProof, customer_key: str) -> BillingKey:
        """Read the key the browser brought: it must be issued to the customer we handed out."""
        key = self.read_key(proof.auth or "", customer_key)
        if key.customer_key != customer_key:
            # Someone else's key (another customer's card): never charge it for this one.
            raise BillingKeyNotFound(
                "The billing key was issued to another customer.",
                code="CUSTOMER_KEY_MISMATCH",
                status=409,
            )
        return key

    def read_key(self, uid: str, customer_key: str) -> BillingKey:
        """GET /billing-keys/{billingKey} (BillingKeyNotFound, also when deleted)."""
        if not uid:
            raise BillingKeyNotFound("no billing key", code="BILLING_KEY_NOT_FOUND", status=404)
        try:
            info = _serialize_billing_key_info(
                self._call(lambda: self.sdk.billing_key.get_billing_key_info(billing_key=uid))
            )
        except GatewayError as exc:
            if exc.code in KEY_GONE:
                raise BillingKeyNotFound(exc.message, code=exc.code, status=404) from exc
            raise
        if info.get("status") != "ISSUED":
            raise BillingKeyNotFound(
                "The billing key was deleted.", code="BILLING_KEY_ALREADY_DELETED", status=404
            )
        return BillingKey(
            key=info["billingKey"],
            customer_key=(info.get("customer") or {}).get("id") or "",
            card=key_card(info),
            raw=info,
        )

    def charge_key(self, charge: KeyCharge) -> GatewayPayment:
        """POST /payments/{id of this try}/billing-key; a decline is a GatewayError (502
        PG_PROVIDER); ALREADY_PAID (this try went through, its answer lost) returns that payment.

        Each try has its own payment id (each is recorded as its own attempt); a repeat of a try
        whose outcome is unknown uses the same id, which PortOne pays at most once.
        """
        payment_id = payment_id_of(charge.order_id, charge.attempt)
        try:
            self._call(lambda: self._pay(charge, payment_id))
        except GatewayError as exc:
            if exc.code == "ALREADY_PAID":
                paid = self.get_payment(payment_id)
                if paid.status == base.PAID:
                    return paid
            raise
        return self.get_payment(payment_id)

    def _pay(self, charge: KeyCharge, payment_id: str) -> Any:
        buyer = charge.buyer or {}
        name = portone.common.CustomerNameInput(full=buyer["name"]) if buyer.get("name") else None
        return self.sdk.pay_with_billing_key(
            payment_id=payment_id,
            billing_key=charge.key,
            channel_key=self.settings.get("PORTONE_CHANNEL_KEY") or None,
            order_name=charge.name[:100],
            customer=portone.common.CustomerInput(
                id=charge.customer_key, name=name, email=buyer.get("email") or None
            ),
            amount=portone.common.PaymentAmountInput(total=charge.amount),
            currency=charge.currency,  # type: ignore[arg-type]
            custom_data=json.dumps({"orderId": charge.order_id}),
            notice_urls=[self.notice_url()],
        )

    def forget_key(self, key: str, reason: str) -> None:
        """DELETE /billing-keys/{billingKey}; a key already gone is fine."""
        try:
            self._call(
                lambda: self.sdk.billing_key.delete_billing_key(billing_key=key, reason=reason)
            )
        except GatewayError as exc:
            if exc.code not in KEY_GONE:
                raise


def key_card(info: dict[str, Any]) -> dict[str, Any]:
    """The card behind a PortOne V2 billing key, as we show it."""
    for method in info.get("methods") or []:
        card = method.get("card")
        if card:
            return {
                "company": card.get("issuer") or card.get("publisher"),
                "number": card.get("number"),
            }
    return {"company": None, "number": None}
