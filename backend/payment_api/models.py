"""Typed results and inputs of the service API (amounts are integers in the currency's minor unit)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

IAMPORT = "iamport"
TOSS = "toss.payments"


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass(frozen=True)
class Source:
    """The caller's own order reference; `id` is the gateway's merchant_uid / orderId."""

    schema: str
    table: str
    id: str

    def to_dict(self) -> dict[str, str]:
        """The JSON members."""
        return {"schema": self.schema, "table": self.table, "id": self.id}


@dataclass(frozen=True)
class Vendor:
    """Which gateway payment: code `iamport` (uid = imp_uid) or `toss.payments` (uid = paymentKey)."""

    code: str
    uid: str
    store_id: str = ""

    def to_dict(self) -> dict[str, str]:
        """The JSON members."""
        return {"code": self.code, "store_id": self.store_id, "uid": self.uid}


@dataclass(frozen=True)
class RefundAccount:
    """Where a refunded virtual-account deposit goes."""

    bank: str
    account: str
    holder: str
    mobile: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        """The JSON members."""
        return {
            "bank": self.bank,
            "account": self.account,
            "holder": self.holder,
            "mobile": self.mobile,
        }


@dataclass(frozen=True)
class PaymentCancel:
    """One refund, as the gateway recorded it."""

    id: str
    price: int
    reason: str
    created_at: datetime | None
    data: dict[str, Any]

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> PaymentCancel:
        """From the service's JSON."""
        return cls(
            id=body.get("id", ""),
            price=int(body["price"]),
            reason=body.get("reason") or "",
            created_at=_time(body.get("created_at")),
            data=body.get("data") or {},
        )


@dataclass(frozen=True)
class PaymentHistory:
    """A recorded payment (the seed's IPaymentHistory)."""

    id: str
    vendor: Vendor
    source: Source
    currency: str
    price: int
    refund: int | None
    status: str
    webhook_url: str | None
    created_at: datetime | None
    paid_at: datetime | None
    cancelled_at: datetime | None
    cancels: list[PaymentCancel] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def refunded(self) -> int:
        """What was refunded so far (0 rather than the seed's null)."""
        return self.refund or 0

    @property
    def remaining(self) -> int:
        """What can still be refunded."""
        return self.price - self.refunded

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> PaymentHistory:
        """From the service's JSON."""
        vendor = body["vendor"]
        return cls(
            id=body["id"],
            vendor=Vendor(
                code=vendor["code"], uid=vendor["uid"], store_id=vendor.get("store_id") or ""
            ),
            source=Source(**{k: body["source"][k] for k in ("schema", "table", "id")}),
            currency=body.get("currency") or "KRW",
            price=int(body["price"]),
            refund=None if body.get("refund") is None else int(body["refund"]),
            status=body.get("status") or "",
            webhook_url=body.get("webhook_url"),
            created_at=_time(body.get("created_at")),
            paid_at=_time(body.get("paid_at")),
            cancelled_at=_time(body.get("cancelled_at")),
            cancels=[PaymentCancel.from_dict(c) for c in body.get("cancels") or []],
            data=body.get("data") or {},
        )


@dataclass(frozen=True)
class PaymentReservation:
    """A recorded billing key (the seed's IPaymentReservation); vendor.uid is the key itself."""

    id: str
    vendor: Vendor
    source: Source
    title: str
    card: dict[str, Any] | None
    created_at: datetime | None
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> PaymentReservation:
        """From the service's JSON."""
        vendor = body["vendor"]
        return cls(
            id=body["id"],
            vendor=Vendor(
                code=vendor["code"], uid=vendor["uid"], store_id=vendor.get("store_id") or ""
            ),
            source=Source(**{k: body["source"][k] for k in ("schema", "table", "id")}),
            title=body.get("title") or "",
            card=body.get("card"),
            created_at=_time(body.get("created_at")),
            data=body.get("data") or {},
        )
