"""Billing keys (the seed's reservations): read from the gateway, sealed at rest, read with a password."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy.exc import IntegrityError

from payment_backend.clock import now
from payment_backend.crypto import hash_password, sealer
from payment_backend.errors import ApiError
from payment_backend.extensions import db
from payment_backend.models import Reservation
from payment_backend.services import ledger, record_access
from payment_backend.services.ledger import SeedSource, SeedVendor
from payment_backend.vendors import SEED_CODES, VENDOR_BY_SEED_CODE, gateway
from payment_backend.vendors.base import (
    BillingKey,
    BillingKeyNotFound,
    GatewayError,
    GatewayUnavailable,
    PaymentNotFound,
)

ACTOR = "service-api"


def uid_digest(vendor: str, uid: str) -> str:
    """A keyed hash of a billing key: unique per vendor without storing the key in the clear."""
    key = current_app.config["PAYMENT_SEAL_KEY"].encode()
    return hmac.new(key, f"reservation:{vendor}:{uid}".encode(), hashlib.sha256).hexdigest()


def record(
    vendor: str,
    *,
    uid: str,
    customer_key: str,
    data: dict[str, Any],
    card: dict[str, Any] | None,
    source: dict[str, str],
    title: str,
    password: str | None = None,
    store_id: str = "",
) -> Reservation:
    """Add a billing key to the session: the key and the gateway's object sealed."""
    reservation = Reservation(
        vendor=vendor,
        store_id=store_id,
        uid_digest=uid_digest(vendor, uid),
        sealed_uid=sealer().seal(uid),
        customer_key=customer_key,
        source_schema=source["schema"],
        source_table=source["table"],
        source_id=source["id"],
        title=title[:200],
        card=card,
        sealed_data=sealer().seal(data),
        password_hash=hash_password(password) if password else None,
        created_at=now(),
    )
    db.session.add(reservation)
    return reservation


def billing_key(reservation: Reservation) -> str:
    """The billing key (iamport customer_uid, Toss billingKey), unsealed."""
    return sealer().unseal(reservation.sealed_uid)


def forget(reservation: Reservation | None, reason: str) -> None:
    """Delete a billing key at its gateway (best effort) and mark it deleted."""
    if reservation is None or reservation.deleted_at is not None:
        return
    key = billing_key(reservation)
    try:
        gateway(reservation.vendor).forget_key(key, reason)
    except (GatewayError, GatewayUnavailable) as exc:
        # The key stays at the gateway but nothing of ours charges it any more.
        current_app.logger.warning("billing key %s not deleted: %s", reservation.id, exc)
        ledger.audit("reservation.delete_failed", actor="subscriptions", reservation=reservation.id)
        return
    reservation.deleted_at = now()


@dataclass(frozen=True)
class ReservationRecord:
    """The seed's IPaymentReservation; schemas.service dumps it."""

    id: str
    vendor: SeedVendor
    source: SeedSource
    title: str
    card: dict[str, Any] | None
    data: dict[str, Any]
    created_at: datetime


def view(reservation: Reservation) -> ReservationRecord:
    """The seed's IPaymentReservation."""
    return ReservationRecord(
        id=reservation.id,
        vendor=SeedVendor(
            SEED_CODES[reservation.vendor], reservation.store_id, billing_key(reservation)
        ),
        source=SeedSource(
            reservation.source_schema, reservation.source_table, reservation.source_id
        ),
        title=reservation.title,
        card=reservation.card,
        data=sealer().unseal(reservation.sealed_data),
        created_at=reservation.created_at,
    )


# -- the seed's service API ------------------------------------------------------------------------


def not_found() -> ApiError:
    """The one answer for an unknown record and a wrong password."""
    return ApiError(
        404, "RESERVATION_NOT_FOUND", "No reservation matches this reference and password."
    )


def register(data: dict[str, Any]) -> tuple[Reservation, bool]:
    """Read a billing key from its gateway and record it (the seed's POST /payments/reservations).

    iamport: the key is the customer_uid (GET /subscribe/customers/{uid}). Toss: uid is a
    billing key (or an authKey to exchange) of the customerKey source.id. Repeating the same
    registration returns the stored record; another one for the same source or key is a 409.
    """
    vendor = VENDOR_BY_SEED_CODE[data["vendor"]["code"]]
    uid = data["vendor"]["uid"]
    source = data["source"]
    existing = _registered(vendor, uid, source)
    if existing:
        return _repeat(existing, vendor, data), False
    found = _read(vendor, uid, source)
    if found.key != uid:
        existing = _registered(vendor, found.key, source)
        if existing:
            return _repeat(existing, vendor, data), False
    reservation = record(
        vendor,
        uid=found.key,
        customer_key=found.customer_key,
        data=found.raw,
        card=found.card,
        source=source,
        title=data["title"],
        password=data["password"],
        store_id=data["vendor"]["store_id"],
    )
    try:
        db.session.flush()
        ledger.audit(
            "reservation.registered",
            actor=ACTOR,
            reservation=reservation.id,
            vendor=vendor,
            source=source,
        )
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # registered at the same moment by another request
        existing = _registered(vendor, found.key, source)
        if not existing:
            raise
        return _repeat(existing, vendor, data), False
    return reservation, True


def _read(vendor: str, uid: str, source: dict[str, str]) -> BillingKey:
    """The billing key as its gateway has it (the source's id is the customer key)."""
    try:
        return gateway(vendor).read_key(uid, source["id"])
    except GatewayError as exc:  # GatewayUnavailable rises to the app's handler (502)
        if isinstance(exc, (PaymentNotFound, BillingKeyNotFound)) or exc.status == 404:
            raise ApiError(
                404, "VENDOR_RESERVATION_NOT_FOUND", f"The gateway has no billing key {uid}."
            ) from exc
        raise


def _registered(vendor: str, uid: str, source: dict[str, str]) -> list[Reservation]:
    """Records holding this billing key or this source."""
    holds_key = Reservation.uid_digest == uid_digest(vendor, uid)
    return record_access.registered(Reservation, vendor, holds_key, source)


def _repeat(existing: list[Reservation], vendor: str, data: dict[str, Any]) -> Reservation:
    """The stored record if this is the same registration again, else 409."""
    same = existing[0].title == data["title"][:200]
    return record_access.repeated(existing, vendor, data, same, "billing key")


def find_by_source(source: dict[str, str], password: str) -> Reservation:
    """The record of a source, if the password is right (404 otherwise, whichever is wrong)."""
    return record_access.by_source(Reservation, source, password, not_found)


def find_by_id(reservation_id: str, password: str) -> Reservation:
    """The record with this id, if the password is right (404 otherwise, whichever is wrong)."""
    return record_access.by_id(Reservation, reservation_id, password, not_found)
