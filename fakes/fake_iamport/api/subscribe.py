"""Billing keys, key-in and billing-key charges, schedules."""

from __future__ import annotations

from flask import request

from fake_iamport import errors as msg
from fake_iamport.api import envelope_error, gateway, locked, ok, params, protected_blueprint

bp = protected_blueprint("iamport_subscribe", __name__)


@bp.post("/subscribe/customers/<customer_uid>")
@locked
def create_customer(customer_uid: str):
    """Issue a billing key from card data (replacing an existing one)."""
    return ok(gateway().create_customer(customer_uid, params()).to_api())


@bp.get("/subscribe/customers/<customer_uid>")
@locked
def get_customer(customer_uid: str):
    """One billing key."""
    return ok(gateway().get_customer(customer_uid).to_api())


@bp.delete("/subscribe/customers/<customer_uid>")
@locked
def delete_customer(customer_uid: str):
    """Delete a billing key; the answer is the deleted customer."""
    return ok(gateway().delete_customer(customer_uid).to_api())


@bp.get("/subscribe/customers")
@locked
def list_customers():
    """Several billing keys by customer_uid[]."""
    uids = request.args.getlist("customer_uid[]") + request.args.getlist("customer_uid")
    gw = gateway()
    found = [gw.customers[uid].to_api() for uid in uids if uid in gw.customers]
    if not found:
        return envelope_error(-1, msg.CUSTOMER_NOT_FOUND.format(uid=",".join(uids)), 404)
    response = ok(found)
    if len(found) < len(uids):
        response.status_code = 207
    return response


@bp.post("/subscribe/payments/onetime")
@bp.post("/subscribe/payments/foreign")
@locked
def onetime():
    """Charge card data once (foreign is the legacy alias the Python client still calls)."""
    payment = gateway().onetime(params())
    return _payment_answer(payment)


@bp.post("/subscribe/payments/again")
@locked
def again():
    """Charge a billing key; a decline is code 0 with status failed."""
    return _payment_answer(gateway().again(params()))


def _payment_answer(payment):
    # code 0 only says the card company was reached; a decline's text rides in message.
    return ok(payment.to_api(), payment.fail_reason if payment.status == "failed" else None)


@bp.post("/subscribe/payments/schedule")
@locked
def schedule():
    """Schedule billing-key charges."""
    return ok([s.to_api() for s in gateway().schedule(params())])


@bp.post("/subscribe/payments/unschedule")
@locked
def unschedule():
    """Revoke schedules."""
    return ok([s.to_api() for s in gateway().unschedule(params())])


@bp.get("/subscribe/payments/schedule/<merchant_uid>")
@locked
def get_schedule(merchant_uid: str):
    """One schedule."""
    return ok(gateway().get_schedule(merchant_uid).to_api())


@bp.get("/subscribe/payments/schedule")
@locked
def list_schedules():
    """Schedules between schedule_from and schedule_to (a list, sliced by page/limit)."""
    return ok([s.to_api() for s in gateway().list_schedules(request.args.to_dict())])
