"""The service API's records (payment histories, billing keys): found by their source, read or
registered again only with their password."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, or_, select

from payment_backend.crypto import verify_password
from payment_backend.errors import ApiError
from payment_backend.extensions import db
from payment_backend.models import Payment, Reservation

R = TypeVar("R", Payment, Reservation)


def of_source(model: type[R], source: dict[str, str]) -> ColumnElement[bool]:
    """The SQL condition for the record of a source (schema, table, id)."""
    return and_(
        model.source_schema == source["schema"],
        model.source_table == source["table"],
        model.source_id == source["id"],
    )


def registered(
    model: type[R], vendor: str, holds_key: ColumnElement[bool], source: dict[str, str]
) -> list[R]:
    """The records of this vendor that hold the gateway key (holds_key), and the source's record."""
    return list(
        db.session.scalars(
            select(model).where(or_((model.vendor == vendor) & holds_key, of_source(model, source)))
        )
    )


def by_source(
    model: type[R], source: dict[str, str], password: str, not_found: Callable[[], ApiError]
) -> R:
    """The record of a source, if the password is right (else not_found(), whichever is wrong)."""
    record = db.session.scalars(select(model).where(of_source(model, source))).first()
    return _authorized(record, password, not_found)


def by_id(model: type[R], record_id: str, password: str, not_found: Callable[[], ApiError]) -> R:
    """The record with this id, if the password is right (else not_found(), whichever is wrong)."""
    return _authorized(db.session.get(model, record_id), password, not_found)


def _authorized(record: R | None, password: str, not_found: Callable[[], ApiError]) -> R:
    # verify_password spends the same time when there is no record or no hash, so an unknown
    # record and a wrong password answer alike, in the same time.
    if not verify_password(password, record.password_hash if record else None):
        raise not_found()
    assert record is not None
    return record


def repeated(existing: list[R], vendor: str, data: dict[str, Any], same: bool, what: str) -> R:
    """The stored record when a registration repeats it, else 409.

    A repeat finds one record, of the same vendor and source, whose own fields the caller
    compared (same), and gives its password.
    """
    record = existing[0]
    source = data["source"]
    same = (
        same
        and len(existing) == 1
        and record.vendor == vendor
        and (record.source_schema, record.source_table, record.source_id)
        == (source["schema"], source["table"], source["id"])
    )
    # The password is checked last and always, so a repeat is only recognised with it.
    if verify_password(data["password"], record.password_hash) and same:
        return record
    raise ApiError(
        409,
        "ALREADY_REGISTERED",
        f"This source or {what} is already registered by another request.",
    )
