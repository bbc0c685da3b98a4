"""Typed results and inputs of the service API (amounts are integers in the currency's minor unit)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

IAMPORT = "iamport"
TOSS = "toss.payments"
PORTONE = "portone"  # PortOne V2: uid = the paymentId, which is your order id (source.id)


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


@dataclass(frozen=True)
class Source:
    """The caller's own order reference; `id` is the gateway's merchant_uid / orderId."""

    schema: str
    table: str
    id: str

    def to_dict(self) -> dict[str, str]:
        """The JSON members."""
        return {"schema": self.schema, "table": self.table, "id": self.id}

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> Source:
        """From the service's JSON."""
        return cls(schema=body["schema"], table=body["table"], id=body["id"])


@dataclass(frozen=True)
class Vendor:
    """Which gateway payment: code `iamport` (uid = imp_uid), `toss.payments` (uid = paymentKey)
    or `portone` (PortOne V2: uid = paymentId)."""

    code: str
    uid: str
    store_id: str = ""

    def to_dict(self) -> dict[str, str]:
        """The JSON members."""
        return {"code": self.code, "store_id": self.store_id, "uid": self.uid}

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> Vendor:
        """From the service's JSON."""
        return cls(code=body["code"], uid=body["uid"], store_id=body.get("store_id") or "")


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
        return cls(
            id=body["id"],
            vendor=Vendor.from_dict(body["vendor"]),
            source=Source.from_dict(body["source"]),
            currency=body.get("currency") or "KRW",
            price=int(body["price"]),
            refund=_int_or_none(body.get("refund")),
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
        return cls(
            id=body["id"],
            vendor=Vendor.from_dict(body["vendor"]),
            source=Source.from_dict(body["source"]),
            title=body.get("title") or "",
            card=body.get("card"),
            created_at=_time(body.get("created_at")),
            data=body.get("data") or {},
        )


# -- subscriptions (plain JSON routes; vendor is "iamport" or "toss" there) ---------------------


@dataclass(frozen=True)
class Plan:
    """A plan on offer (or as subscribed: the amount locked in when subscribing)."""

    id: int
    name: str
    amount: int
    currency: str
    interval: str

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> Plan:
        """From the service's JSON."""
        return cls(
            id=int(body["id"]),
            name=body["name"],
            amount=int(body["amount"]),
            currency=body["currency"],
            interval=body["interval"],
        )


@dataclass(frozen=True)
class SubscriptionCard:
    """The card behind a subscription's billing key, masked."""

    company: str | None
    number: str | None


@dataclass(frozen=True)
class SubscriptionRetry:
    """While past_due: how many attempts failed, and when the next one runs."""

    attempt: int
    next_retry_at: datetime | None


@dataclass(frozen=True)
class SubscriptionCharge:
    """One period's charge: scheduled, paid or failed."""

    id: int
    period: int
    amount: int
    currency: str
    status: str
    due_at: datetime | None
    paid_at: datetime | None
    attempted_at: datetime | None
    failure: str | None
    attempts: int
    key_issue: bool  # the PortOne payment that issued the billing key (paid the first period)
    payment_id: str | None  # imp_uid or paymentKey
    refunded: int = 0

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> SubscriptionCharge:
        """From the service's JSON."""
        return cls(
            id=int(body["id"]),
            period=int(body["period"]),
            amount=int(body["amount"]),
            currency=body.get("currency") or "KRW",
            status=body["status"],
            due_at=_time(body.get("due_at")),
            paid_at=_time(body.get("paid_at")),
            attempted_at=_time(body.get("attempted_at")),
            failure=body.get("failure"),
            attempts=int(body.get("attempts") or 0),
            key_issue=bool(body.get("key_issue")),
            payment_id=body.get("payment_id"),
            refunded=int(body.get("refunded") or 0),
        )


@dataclass(frozen=True)
class Subscription:
    """A subscription with its charges, oldest first (`id` is the JSON's subscription_id).

    `setup` is present while a card is to be registered in the subscriber's browser: the
    vendor-specific values to hand to the gateway's SDK (see create_subscription).
    """

    id: str
    vendor: str
    plan: Plan
    status: str  # incomplete | active | past_due | canceled
    card: SubscriptionCard | None
    current_period: int | None
    current_period_start: datetime | None
    current_period_end: datetime | None
    next_charge_at: datetime | None
    next_charge_amount: int | None
    access_until: datetime | None
    canceled_at: datetime | None
    cancel_reason: str | None
    retry: SubscriptionRetry | None
    created_at: datetime | None
    charges: list[SubscriptionCharge] = field(default_factory=list)
    buyer: dict[str, Any] | None = None
    setup: dict[str, Any] | None = None

    def charge(self, period: int) -> SubscriptionCharge | None:
        """The charge of one period, if there is one."""
        return next((c for c in self.charges if c.period == period), None)

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> Subscription:
        """From the service's JSON."""
        card = body.get("card")
        retry = body.get("retry")
        return cls(
            id=body["subscription_id"],
            vendor=body["vendor"],
            plan=Plan.from_dict(body["plan"]),
            status=body["status"],
            card=SubscriptionCard(card.get("company"), card.get("number")) if card else None,
            current_period=body.get("current_period"),
            current_period_start=_time(body.get("current_period_start")),
            current_period_end=_time(body.get("current_period_end")),
            next_charge_at=_time(body.get("next_charge_at")),
            next_charge_amount=_int_or_none(body.get("next_charge_amount")),
            access_until=_time(body.get("access_until")),
            canceled_at=_time(body.get("canceled_at")),
            cancel_reason=body.get("cancel_reason"),
            retry=SubscriptionRetry(int(retry["attempt"]), _time(retry.get("next_retry_at")))
            if retry
            else None,
            created_at=_time(body.get("created_at")),
            charges=[SubscriptionCharge.from_dict(c) for c in body.get("charges") or []],
            buyer=body.get("buyer"),
            setup=body.get("setup"),
        )


@dataclass(frozen=True)
class DashboardMonth:
    """One month of the owner's dashboard (amounts in minor units)."""

    month: str  # YYYY-MM, a calendar month in the service's settlement time zone (Asia/Seoul)
    mrr: int
    new: int  # the same as joined
    canceled: int  # by the subscriber
    revenue: int
    failed: int
    churned: int = 0  # canceled by dunning (the last retry of a renewal declined)
    active_at_end: int = 0
    refunds: int = 0


@dataclass(frozen=True)
class SubscriptionDashboard:
    """The owner's figures: this month, and the last 6 months oldest first."""

    active: int
    new_this_month: int
    canceled_this_month: int
    past_due: int
    mrr: int
    currency: str
    failed_charges_this_month: int
    months: list[DashboardMonth] = field(default_factory=list)

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> SubscriptionDashboard:
        """From the service's JSON."""
        return cls(
            active=int(body["active"]),
            new_this_month=int(body["new_this_month"]),
            canceled_this_month=int(body["canceled_this_month"]),
            past_due=int(body["past_due"]),
            mrr=int(body["mrr"]),
            currency=body["currency"],
            failed_charges_this_month=int(body["failed_charges_this_month"]),
            months=[
                DashboardMonth(
                    month=m["month"],
                    mrr=int(m["mrr"]),
                    new=int(m["new"]),
                    canceled=int(m["canceled"]),
                    revenue=int(m["revenue"]),
                    failed=int(m["failed"]),
                    churned=int(m.get("churned", 0)),
                    active_at_end=int(m.get("active_at_end", 0)),
                    refunds=int(m.get("refunds", 0)),
                )
                for m in body.get("months") or []
            ],
        )
