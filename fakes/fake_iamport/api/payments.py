"""Payment look-ups, prepare and cancel."""

from __future__ import annotations

from flask import request

from fake_iamport import errors as msg
from fake_iamport.api import envelope_error, gateway, locked, ok, params, protected_blueprint
from fake_iamport.errors import GatewayError, invalid
from fake_iamport.gateway import flag

bp = protected_blueprint("iamport_payments", __name__)


def _int_arg(name: str, default: int | None = None) -> int | None:
    value = request.args.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise invalid(name) from exc


@bp.get("/payments/<imp_uid>")
@locked
def get_payment(imp_uid: str):
    """One payment by imp_uid; with HIDE_SANDBOX, test-channel payments (every payment here)
    only with include_sandbox=true."""
    gw = gateway()
    payment = gw.get_payment(imp_uid)
    if gw.config["HIDE_SANDBOX"] and not flag(request.args.get("include_sandbox")):
        raise GatewayError(msg.PAYMENT_NOT_FOUND, code=-1, http_status=404)
    return ok(payment.to_api())


@bp.get("/payments")
@locked
def get_payments():
    """Several payments by imp_uid[] / merchant_uid[]; 207 when some are missing."""
    imp_uids = request.args.getlist("imp_uid[]") + request.args.getlist("imp_uid")
    merchant_uids = request.args.getlist("merchant_uid[]") + request.args.getlist("merchant_uid")
    found, missing = [], 0
    gw = gateway()
    for imp_uid in imp_uids[:100]:
        payment = gw.payments.get(imp_uid)
        missing += payment is None
        if payment is not None:
            found.append(payment.to_api())
    for merchant_uid in merchant_uids[:100]:
        payments = gw.find_all(merchant_uid)
        missing += not payments
        if payments:
            found.append(payments[0].to_api())
    if not found:
        return envelope_error(-1, msg.PAYMENT_NOT_FOUND, 404)
    response = ok(found)
    if missing:
        response.status_code = 207
    return response


@bp.get("/payments/find/<merchant_uid>")
@bp.get("/payments/find/<merchant_uid>/<status>")
@locked
def find_payment(merchant_uid: str, status: str | None = None):
    """The first payment of a merchant_uid in sort order, optionally of one status."""
    payment = gateway().find(merchant_uid, status, request.args.get("sorting"))
    return ok(payment.to_api())


@bp.get("/payments/findAll/<merchant_uid>")
@bp.get("/payments/findAll/<merchant_uid>/<status>")
@locked
def find_all_payments(merchant_uid: str, status: str | None = None):
    """Every payment of a merchant_uid; 404 when there is none."""
    payments = gateway().find_all(merchant_uid, status, request.args.get("sorting"))
    if not payments:
        return envelope_error(-1, msg.PAYMENT_NOT_FOUND, 404)
    return ok([p.to_api() for p in payments])


@bp.get("/payments/status/<status>")
@locked
def payments_by_status(status: str):
    """Payments of a status (or all), paged: {total, previous, next, list}."""
    return ok(
        gateway().by_status(
            status,
            page=_int_arg("page", 1),
            limit=_int_arg("limit", 20),
            since=_int_arg("from"),
            until=_int_arg("to"),
            sorting=request.args.get("sorting"),
        )
    )


@bp.post("/payments/prepare")
@locked
def prepare():
    """Register the amount a merchant_uid must be paid with in the window."""
    return ok(gateway().prepare(params()))


@bp.put("/payments/prepare")
@locked
def update_prepare():
    """Change a registered amount."""
    return ok(gateway().prepare(params(), replace=True))


@bp.get("/payments/prepare/<merchant_uid>")
@locked
def get_prepared(merchant_uid: str):
    """The registered amount of a merchant_uid."""
    return ok(gateway().get_prepared(merchant_uid))


@bp.post("/payments/cancel")
@locked
def cancel():
    """Cancel all or part of a payment."""
    return ok(gateway().cancel(params()).to_api())
