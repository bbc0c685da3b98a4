"""PortOne V2's objects in our terms: its Payment normalized, our ids in its ids, its bank codes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from payment_backend.vendors import base
from payment_backend.vendors.base import GatewayCancel, GatewayError, GatewayPayment

STATES = {
    "READY": base.READY,
    "PAY_PENDING": base.READY,
    "VIRTUAL_ACCOUNT_ISSUED": base.AWAITING_DEPOSIT,
    "PAID": base.PAID,
    "PARTIAL_CANCELLED": base.PAID,
    "CANCELLED": base.CANCELLED,
    "FAILED": base.FAILED,
}
METHODS = {"PaymentMethodCard": "card", "PaymentMethodVirtualAccount": "vbank"}
# Korean financial institution codes (what PortOne V1 and our refund accounts use) as V2's Bank.
BANKS = {
    "002": "KDB",
    "003": "IBK",
    "004": "KOOKMIN",
    "007": "SUHYUP",
    "011": "NONGHYUP",
    "012": "LOCAL_NONGHYUP",
    "020": "WOORI",
    "023": "STANDARD_CHARTERED",
    "027": "CITI",
    "031": "DAEGU",
    "032": "BUSAN",
    "034": "KWANGJU",
    "035": "JEJU",
    "037": "JEONBUK",
    "039": "KYONGNAM",
    "045": "KFCC",
    "048": "SHINHYUP",
    "071": "POST",
    "081": "HANA",
    "088": "SHINHAN",
    "089": "K_BANK",
    "090": "KAKAO",
    "092": "TOSS",
}


def v2_bank(code: str) -> str:
    """A bank code (088, 88) as V2's Bank (SHINHAN); a V2 name passes as it is."""
    if code.isdigit():
        found = BANKS.get(code.zfill(3))
        if found is None:
            raise GatewayError(f"Unknown bank code {code}.", code="INVALID_BANK", status=400)
        return found
    return code.upper()


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def payment_id_of(order_id: str, attempt: int = 1) -> str:
    """The payment id of an order's nth try (a billing charge's; checkout has one id per order)."""
    return order_id if attempt <= 1 else f"{order_id}-{attempt}"


def order_id_of(raw: dict[str, Any]) -> str:
    """Our order id of a payment: customData's orderId when the payment id is one of its tries,
    else the payment id itself (nothing else in customData, which a browser sets, is believed)."""
    payment_id = str(raw.get("id") or "")
    try:
        custom = json.loads(raw.get("customData") or "{}")
    except ValueError:
        custom = {}
    claimed = custom.get("orderId") if isinstance(custom, dict) else None
    if isinstance(claimed, str) and claimed and payment_id.startswith(claimed + "-"):
        return claimed
    return payment_id


def normalize(raw: dict[str, Any]) -> GatewayPayment:
    """A PortOne V2 Payment object (amounts already in minor units)."""
    amount = raw.get("amount") or {}
    method = raw.get("method") or {}
    kind = METHODS.get(method.get("type") or "", "other" if method else "card")
    cancels = [
        GatewayCancel(
            vendor_cancel_id=str(entry.get("id")),
            amount=int(entry.get("totalAmount") or 0),
            reason=entry.get("reason") or "",
            cancelled_at=_time(entry.get("cancelledAt") or entry.get("requestedAt"))
            or datetime.now(UTC),
            raw=entry,
        )
        for entry in raw.get("cancellations") or []
        if entry.get("status") == "SUCCEEDED"
    ]
    vbank = None
    if kind == "vbank":
        vbank = {
            "bank": method.get("bank"),
            "account": method.get("accountNumber"),
            "holder": method.get("remitteeName"),
            "due": _time(method.get("expiredAt")),
        }
    card_info = method.get("card") or (method.get("easyPayMethod") or {}).get("card")
    card = None
    if card_info:
        card = {
            "company": card_info.get("issuer") or card_info.get("publisher"),
            "number": card_info.get("number"),
        }
    failure = raw.get("failure") or {}
    return GatewayPayment(
        vendor="portone",
        payment_id=raw["id"],
        order_id=order_id_of(raw),
        status=STATES.get(raw.get("status") or "", base.READY),
        method=kind,
        currency=raw.get("currency") or "KRW",
        amount=int(amount.get("total") or 0),
        cancelled=int(amount.get("cancelled") or 0),
        paid_at=_time(raw.get("paidAt")),
        cancels=cancels,
        vbank=vbank,
        card=card,
        receipt_url=raw.get("receiptUrl"),
        failure=failure.get("pgMessage") or failure.get("reason") if failure else None,
        billing_customer=(raw.get("customer") or {}).get("id") if raw.get("billingKey") else None,
        raw=raw,
    )
