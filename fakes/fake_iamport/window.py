"""The browser side: /sdk/iamport.js and the payment window it opens (popup or redirect)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request

from fake_common import window_ui
from fake_common.cards import TABLE
from fake_common.money import display
from fake_iamport import callback
from fake_iamport import errors as msg
from fake_iamport.api import gateway
from fake_iamport.errors import GatewayError
from fake_iamport.gateway import (
    EASY_PAY_PROVIDERS,
    PRECHECK_FAILED_CODE,
    USER_CANCEL_CODE,
)
from fake_iamport.models import Payment

bp = Blueprint("iamport_window", __name__, template_folder="templates")
SDK_SOURCE = Path(__file__).with_name("static").joinpath("iamport.js")
METHOD_LABELS = {
    "card": "신용·체크카드 (Card)",
    "vbank": "가상계좌 (Virtual account)",
    "trans": "실시간 계좌이체 (Bank transfer)",
}


@bp.after_request
def allow_any_origin(response: Response) -> Response:
    """The SDK runs on the merchant's origin and calls back into the window routes."""
    response.headers["Access-Control-Allow-Origin"] = request.headers.get("Origin", "*")
    response.headers["Vary"] = "Origin"
    return response


@bp.get("/sdk/iamport.js")
def sdk():
    """The IMP SDK."""
    source = (
        SDK_SOURCE.read_text(encoding="utf-8")
        .replace("__DEFAULT_ORIGIN__", request.host_url.rstrip("/"))
        .replace("__USER_CANCEL_CODE__", USER_CANCEL_CODE)
        .replace("__USER_CANCEL_MSG__", msg.USER_CANCELLED)
        .replace('"__RICH_CALLBACK__"', "true" if _style() == callback.RICH else "false")
    )
    return Response(source, content_type="application/javascript; charset=utf-8")


@bp.get("/window")
def open_window():
    """The payment (or billing-key) window for request_pay's params."""
    mode = request.args.get("mode", "popup")
    origin = request.args.get("origin")
    return_url = request.args.get("return_url")
    try:
        params = json.loads(request.args.get("params") or "{}")
    except ValueError:
        params = {}
    if not isinstance(params, dict):
        params = {}
    try:
        payment = gateway().open_window(
            params, code=request.args.get("code"), mode=mode, origin=origin, return_url=return_url
        )
    except GatewayError as error:
        rsp = {
            "success": False,
            "imp_success": False,
            "imp_uid": None,
            "merchant_uid": params.get("merchant_uid"),
            "pay_method": params.get("pay_method") or "card",
            "status": None,
            "error_code": PRECHECK_FAILED_CODE,
            "error_msg": error.message,
        }
        return _finish(rsp, mode, origin, return_url or params.get("m_redirect_url"))
    return _render_window(payment)


def _render_window(
    payment: Payment, error: str | None = None, status: int = 200, *, agreed: bool = False
):
    """The window for a ready payment; error: why its last submit was refused."""
    page = render_template(
        "window.html",
        payment=payment,
        billing=bool(payment.customer_uid),
        amount=display(payment.amount, payment.currency),
        method_label=METHOD_LABELS.get(payment.pay_method, payment.pay_method),
        banks=window_ui.bank_choices("iamport"),
        test_cards=TABLE,
        companies=window_ui.card_companies(),
        installments=payment.currency == "KRW",
        # Easy pay: offered beside cards in a KRW card window, alone when asked for by pay_method.
        easy_pay=_easy_pay_choices(payment),
        easy_pay_only=payment.pay_method in EASY_PAY_PROVIDERS,
        error=error,
        terms_agreed=agreed,
    )
    return Response(page, status=status)


def _easy_pay_choices(payment) -> dict[str, str]:
    if payment.customer_uid or payment.currency != "KRW":
        return {}
    if payment.pay_method in EASY_PAY_PROVIDERS:
        return {payment.pay_method: EASY_PAY_PROVIDERS[payment.pay_method]}
    return dict(EASY_PAY_PROVIDERS) if payment.pay_method == "card" else {}


@bp.post("/window/<imp_uid>/pay")
def pay(imp_uid: str):
    """Submit the window: refused (the window again) until the buyer agrees to the terms."""
    form = request.form.to_dict()
    payment = gateway().window_payment(imp_uid)
    if not payment.window["done"]:
        try:
            if payment.pay_method in ("vbank", "trans"):  # the windows with a cash-receipt option
                form["cash_receipt"] = window_ui.cash_receipt_request(form)
        except window_ui.CashReceiptInvalid as error:
            return _render_window(payment, str(error), 400, agreed=window_ui.agreed(form))
        if not window_ui.agreed(form):
            return _render_window(payment, window_ui.TERMS_REFUSED, 400)
    rsp = gateway().pay_window(imp_uid, form)
    return _finish_payment(imp_uid, rsp)


@bp.post("/window/<imp_uid>/cancel")
def cancel(imp_uid: str):
    """The window's Cancel button: a user cancel."""
    rsp = gateway().cancel_window(imp_uid)
    return _finish_payment(imp_uid, rsp)


@bp.post("/window/<imp_uid>/close")
def close(imp_uid: str):
    """The SDK saw the popup closed: a user cancel unless it had finished; returns the rsp."""
    return jsonify(callback.callback(gateway().cancel_window(imp_uid, closed=True), _style()))


@bp.get("/window/receipts/<imp_uid>")
def receipt(imp_uid: str):
    """A receipt page for receipt_url."""
    payment = gateway().payments.get(imp_uid)
    if payment is None:
        abort(404)
    return render_template(
        "receipt.html",
        payment=payment,
        amount=display(payment.amount, payment.currency),
        cancelled=display(payment.cancel_amount, payment.currency),
    )


def _finish_payment(imp_uid: str, rsp: dict):
    payment: Payment = gateway().window_payment(imp_uid)
    window = payment.window
    return _finish(rsp, window["mode"], window["origin"], window["return_url"])


def _style() -> str:
    return gateway().config["CALLBACK"]


def _finish(rsp: dict, mode: str, origin: str | None, return_url: str | None):
    """Popup: a page that posts rsp to the opener and closes; redirect: back to return_url."""
    if mode == "redirect" and return_url:
        query = callback.redirect_query(rsp, _style())
        return redirect(_with_query(return_url, query), code=302)
    return render_template(
        "result.html", rsp=callback.callback(rsp, _style()), shown=rsp, origin=origin
    )


def _with_query(url: str, extra: dict) -> str:
    parts = urlsplit(url)
    query = parts.query + ("&" if parts.query else "") + urlencode(extra)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
