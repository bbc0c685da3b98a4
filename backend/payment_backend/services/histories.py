"""Payment histories of the seed's service API: verify with the gateway, record, read, refund."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.exc import IntegrityError

from payment_backend.clock import now
from payment_backend.crypto import hash_password
from payment_backend.errors import ApiError, gateway_refused
from payment_backend.extensions import db
from payment_backend.models import Payment
from payment_backend.services import ledger, record_access, refunds
from payment_backend.services.urls import check_webhook_url
from payment_backend.services.verification import cancel_forgery, verify
from payment_backend.vendors import VENDOR_BY_SEED_CODE, base, gateway, valid_payment_id
from payment_backend.vendors.base import (
    GatewayError,
    GatewayPayment,
    PaymentNotFound,
    RefundAccount,
)

log = logging.getLogger(__name__)

ACTOR = "service-api"
FORGERY_REASON = "Registered price did not match the payment; cancelled automatically"


def not_found() -> ApiError:
    """The one answer for an unknown record and a wrong password."""
    return ApiError(
        404, "PAYMENT_HISTORY_NOT_FOUND", "No payment history matches this reference and password."
    )


def register(data: dict[str, Any]) -> tuple[Payment, bool]:
    """Verify a gateway payment against the caller's source and price, then record it.

    Returns (payment, created). Repeating the same registration returns the stored record;
    another registration of the same source or gateway payment is a 409.
    """
    vendor = VENDOR_BY_SEED_CODE[data["vendor"]["code"]]
    uid = data["vendor"]["uid"]
    source = data["source"]
    check_webhook_url(data["webhook_url"])
    existing = _registered(vendor, uid, source)
    if existing:
        return _repeat(existing, vendor, data), False
    gp = _verified(vendor, uid, source, data["price"], data["currency"])
    payment = ledger.new_payment(
        gp,
        source=source,
        store_id=data["vendor"]["store_id"],
        password_hash=hash_password(data["password"]),
        webhook_url=data["webhook_url"],
        created_at=now(),
    )
    try:
        db.session.flush()
        ledger.audit(
            "payment.registered",
            actor=ACTOR,
            payment_id=payment.id,
            vendor=vendor,
            source=source,
            price=data["price"],
            status=payment.status,
        )
        db.session.commit()
    except IntegrityError:
        # The same source or gateway payment registered at the same moment by another request.
        db.session.rollback()
        existing = _registered(vendor, uid, source)
        if not existing:
            raise
        return _repeat(existing, vendor, data), False
    return payment, True


def _registered(vendor: str, uid: str, source: dict[str, str]) -> list[Payment]:
    """Records holding this gateway payment or this source."""
    return record_access.registered(Payment, vendor, Payment.vendor_payment_id == uid, source)


def _repeat(existing: list[Payment], vendor: str, data: dict[str, Any]) -> Payment:
    """The stored record if this is the same registration again, else 409."""
    payment = existing[0]
    same = (
        payment.vendor_payment_id == data["vendor"]["uid"]
        and payment.amount == data["price"]
        and payment.currency == data["currency"]
        and payment.webhook_url == data["webhook_url"]
    )
    return record_access.repeated(existing, vendor, data, same, "gateway payment")


def _verified(
    vendor: str, uid: str, source: dict[str, str], price: int, currency: str
) -> GatewayPayment:
    """The gateway's payment, checked against source id, price, currency and status."""
    if not valid_payment_id(vendor, uid):
        raise ApiError(422, "INVALID_PAYMENT_ID", f"That is not a {vendor} payment id.")
    client = gateway(vendor)
    refused: GatewayError | None = None
    try:
        if client.confirms:
            try:
                # Approved only now, and only with the price the caller registers.
                gp = client.confirm(uid, source["id"], price, currency)
            except PaymentNotFound:
                raise
            except GatewayError as exc:
                refused = exc
                gp = client.get_payment(uid)
        else:
            gp = client.get_payment(uid)
    except PaymentNotFound as exc:  # other refusals and outages rise to the app's handlers
        raise ApiError(
            404, "VENDOR_PAYMENT_NOT_FOUND", f"The gateway has no payment {uid}."
        ) from exc

    verdict = verify(gp, order_id=source["id"], amount=price, currency=currency)
    if verdict.ok:
        return gp
    if gp.order_id == source["id"] and gp.currency == currency and gp.amount != price:
        # The seed's answer to a wrong amount, with the money actually taken given back.
        cancelled = _cancel_forgery(gp, price) if verdict.forged else None
        raise ApiError(
            422,
            "AMOUNT_MISMATCH",
            f"wrong paid amount. It must be not {price} but {gp.amount}",
            expected=price,
            paid=gp.amount,
            cancelled=cancelled is not None and cancelled.remaining == 0,
        )
    if verdict.forged:
        _cancel_forgery(gp, price)
    if refused is not None and gp.status == base.READY:
        raise gateway_refused(refused, detail=verdict.code)
    raise ApiError(422, verdict.code, verdict.message, **(verdict.detail or {}))


def _cancel_forgery(gp: GatewayPayment, price: int) -> GatewayPayment | None:
    """Give back what a forged payment charged; audited whatever happens."""
    cancelled = cancel_forgery(gp, FORGERY_REASON)
    ledger.audit(
        "payment.forgery_cancelled" if cancelled else "payment.forgery_cancel_failed",
        actor=ACTOR,
        vendor=gp.vendor,
        vendor_payment_id=gp.payment_id,
        source_id=gp.order_id,
        registered_price=price,
        paid=gp.amount,
        currency=gp.currency,
    )
    db.session.commit()
    if cancelled is None:
        log.error("forged payment %s could not be cancelled; needs attention", gp.payment_id)
    return cancelled


def find_by_source(source: dict[str, str], password: str) -> Payment:
    """The record of a source, if the password is right (404 otherwise, whichever is wrong)."""
    return record_access.by_source(Payment, source, password, not_found)


def find_by_id(payment_id: str, password: str) -> Payment:
    """The record with this id, if the password is right (404 otherwise, whichever is wrong)."""
    return record_access.by_id(Payment, payment_id, password, not_found)


def cancel(data: dict[str, Any]) -> Payment:
    """Refund part (or, with price null, all that is left) of a record's payment."""
    payment = find_by_source(data["source"], data["password"])
    account = data.get("account")
    refund_account = (
        RefundAccount(
            bank=account["bank"],
            account=account["account"],
            holder=account["holder"],
            tel=account.get("mobile"),
        )
        if account
        else None
    )
    return refunds.refund(
        payment, data["price"], data["reason"], actor=ACTOR, refund_account=refund_account
    )
