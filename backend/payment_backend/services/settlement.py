"""Daily settlement: every payment and refund of a day as each gateway lists it, beside our ledger.

A day is a calendar day in Korea (SETTLEMENT_TIMEZONE, Asia/Seoul), as the gateways settle.
Each line pairs one gateway transaction with our record of it (payments by payment id, refunds
by the gateway's cancel id) and names the difference: missing in the ledger, missing at the
gateway, amount differs, status differs. Payments the worker already refunds as surplus (paid
twice, or after the order closed) are known, not differences.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from sqlalchemy import select

from payment_backend.extensions import db
from payment_backend.models import Payment, PaymentCancel, SurplusPayment
from payment_backend.vendors import VENDORS, gateway
from payment_backend.vendors.base import GatewayError, GatewayTransaction, GatewayUnavailable

# Our payment statuses that agree with a gateway's approval listed that day.
APPROVED = ("paid", "partially_refunded", "refunded")
DIFFERENCES = ("missing_in_ledger", "missing_at_gateway", "amount_differs", "status_differs")


@dataclass
class SettlementLine:
    """One payment or refund: the gateway's side, ours, and what differs (None: they agree)."""

    vendor: str
    kind: str  # payment | refund
    transaction_id: str
    payment_id: str
    order_id: str
    method: str
    currency: str
    at: datetime
    gateway_amount: int | None
    ledger_amount: int | None
    gateway_status: str | None
    ledger_status: str | None
    difference: str | None = None
    note: str = ""


@dataclass
class SettlementTotal:
    """Per vendor, method and currency: what the gateway and our ledger count for the day."""

    vendor: str
    method: str
    currency: str
    payments: int = 0
    payment_count: int = 0
    refunds: int = 0
    refund_count: int = 0
    net: int = 0
    ledger_net: int = 0


@dataclass
class Settlement:
    """A day's settlement."""

    day: date
    timezone: str
    start: datetime
    end: datetime
    lines: list[SettlementLine] = field(default_factory=list)
    totals: list[SettlementTotal] = field(default_factory=list)
    unavailable: dict[str, str] = field(default_factory=dict)  # vendor -> why it was not listed

    @property
    def differences(self) -> int:
        """How many lines differ."""
        return sum(1 for line in self.lines if line.difference)


def zone_of(name: str) -> tzinfo:
    """A time zone by name; Korea's fixed +09:00 where the system has no zone database."""
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:
        if name == "Asia/Seoul":
            return timezone(timedelta(hours=9), "KST")
        raise


def day_bounds(day: date) -> tuple[datetime, datetime, str]:
    """[start, end) of a calendar day in the settlement time zone, and the zone's name."""
    zone = current_app.config.get("SETTLEMENT_TIMEZONE") or "Asia/Seoul"
    start = datetime.combine(day, time(0), tzinfo=zone_of(zone))
    return start, start + timedelta(days=1), zone


def settle(day: date) -> Settlement:
    """The settlement of one day, for every gateway."""
    start, end, zone = day_bounds(day)
    result = Settlement(day=day, timezone=zone, start=start, end=end)
    for vendor in VENDORS:
        ledger = _ledger(vendor, start, end)
        also = tuple(sorted({line.payment_id for line in ledger.values()}))
        try:
            listed = gateway(vendor).list_transactions(start, end, also=also)
        except (GatewayError, GatewayUnavailable) as exc:
            result.unavailable[vendor] = str(exc)[:300]
            listed = []
        result.lines += _pair(vendor, listed, ledger, unavailable=vendor in result.unavailable)
    db.session.rollback()  # read only
    result.lines.sort(key=lambda line: (line.at, line.vendor, line.kind, line.transaction_id))
    result.totals = _totals(result.lines)
    return result


def _ledger(vendor: str, start: datetime, end: datetime) -> dict[tuple[str, str], SettlementLine]:
    """Our payments paid and refunds made in [start, end), keyed by (kind, transaction id)."""
    found: dict[tuple[str, str], SettlementLine] = {}
    paid = db.session.scalars(
        select(Payment).where(
            Payment.vendor == vendor, Payment.paid_at >= start, Payment.paid_at < end
        )
    )
    for payment in paid:
        found[("payment", payment.vendor_payment_id)] = _ledger_line(
            payment, "payment", payment.vendor_payment_id, payment.amount, payment.paid_at
        )
    refunds = db.session.execute(
        select(PaymentCancel, Payment)
        .join(Payment, PaymentCancel.payment_id == Payment.id)
        .where(
            Payment.vendor == vendor,
            PaymentCancel.cancelled_at >= start,
            PaymentCancel.cancelled_at < end,
        )
    )
    for cancel, payment in refunds:
        found[("refund", cancel.vendor_cancel_id)] = _ledger_line(
            payment, "refund", cancel.vendor_cancel_id, cancel.amount, cancel.cancelled_at
        )
    return found


def _ledger_line(
    payment: Payment, kind: str, transaction_id: str, amount: int, at: datetime | None
) -> SettlementLine:
    return SettlementLine(
        vendor=payment.vendor,
        kind=kind,
        transaction_id=transaction_id,
        payment_id=payment.vendor_payment_id,
        order_id=payment.source_id,
        method=payment.method,
        currency=payment.currency,
        at=at or payment.created_at,
        gateway_amount=None,
        ledger_amount=amount,
        gateway_status=None,
        ledger_status=payment.status,
    )


def _pair(
    vendor: str,
    listed: list[GatewayTransaction],
    ledger: dict[tuple[str, str], SettlementLine],
    *,
    unavailable: bool,
) -> list[SettlementLine]:
    """Match the gateway's transactions with the ledger's lines and name each difference."""
    surplus = _surplus_ids(vendor, {t.payment_id for t in listed})
    lines: list[SettlementLine] = []
    for tx in listed:
        ours = ledger.pop((tx.kind, tx.transaction_id), None)
        line = SettlementLine(
            vendor=vendor,
            kind=tx.kind,
            transaction_id=tx.transaction_id,
            payment_id=tx.payment_id,
            order_id=tx.order_id,
            method=tx.method,
            currency=tx.currency,
            at=tx.at,
            gateway_amount=tx.amount,
            ledger_amount=ours.ledger_amount if ours else None,
            gateway_status=tx.status,
            ledger_status=ours.ledger_status if ours else None,
        )
        if ours is None and tx.payment_id in surplus:
            line.note = "surplus: refunded by the worker"
        elif ours is None:
            line.difference = "missing_in_ledger"
        elif ours.ledger_amount != tx.amount:
            line.difference = "amount_differs"
        elif tx.kind == "payment" and ours.ledger_status not in APPROVED:
            line.difference = "status_differs"
        lines.append(line)
    for ours in ledger.values():
        if unavailable:
            ours.note = "the gateway could not be listed"
        else:
            ours.difference = "missing_at_gateway"
        lines.append(ours)
    return lines


def _surplus_ids(vendor: str, payment_ids: set[str]) -> set[str]:
    if not payment_ids:
        return set()
    rows = db.session.scalars(
        select(SurplusPayment.vendor_payment_id).where(
            SurplusPayment.vendor == vendor,
            SurplusPayment.vendor_payment_id.in_(sorted(payment_ids)),
        )
    )
    return set(rows)


def _totals(lines: list[SettlementLine]) -> list[SettlementTotal]:
    """Sums per vendor, method and currency: the gateway's listing, and our ledger's net."""
    totals: dict[tuple[str, str, str], SettlementTotal] = {}
    counted: defaultdict[tuple[str, str, str], int] = defaultdict(int)
    for line in lines:
        key = (line.vendor, line.method, line.currency)
        total = totals.setdefault(key, SettlementTotal(*key))
        sign = 1 if line.kind == "payment" else -1
        if line.gateway_amount is not None:
            if line.kind == "payment":
                total.payments += line.gateway_amount
                total.payment_count += 1
            else:
                total.refunds += line.gateway_amount
                total.refund_count += 1
            total.net += sign * line.gateway_amount
        counted[key] += sign * (line.ledger_amount or 0)
    for key, total in totals.items():
        total.ledger_net = counted[key]
    return [totals[key] for key in sorted(totals)]


CSV_COLUMNS = (
    "date",
    "vendor",
    "kind",
    "transaction_id",
    "payment_id",
    "order_id",
    "method",
    "currency",
    "at",
    "gateway_amount",
    "ledger_amount",
    "gateway_status",
    "ledger_status",
    "difference",
    "note",
)


def to_csv(settlement: Settlement) -> str:
    """The day's lines as CSV (UTF-8, a header row; amounts in minor units, times in the day's zone)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    zone = zone_of(settlement.timezone)
    for line in settlement.lines:
        row = {**vars(line), "date": settlement.day.isoformat()}
        row["at"] = line.at.astimezone(zone).isoformat(timespec="seconds")
        writer.writerow([_cell(row[column]) for column in CSV_COLUMNS])
    return out.getvalue()


def _cell(value: object) -> object:
    """A CSV cell; text a spreadsheet would run as a formula is quoted with a leading '."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
