"""The browser side: /v2/browser-sdk.js (window.PortOne) and the payment window it opens."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, Response, jsonify, redirect, render_template, request

from fake_common import window_ui
from fake_common.cards import TABLE
from fake_common.money import display
from fake_portone.api import gateway
from fake_portone.checkout import ISSUE, PAYMENT, TRANSACTION_TYPES, BrowserError
from fake_portone.errors import PortOneError
from fake_portone.methods import EASY_PAY_PROVIDERS, bank_code

bp = Blueprint("portone_window", __name__, template_folder="templates")
SDK_SOURCE = Path(__file__).with_name("static").joinpath("browser-sdk.js")
SOURCE = "fake-portone"
METHOD_LABELS = {
    "CARD": "신용·체크카드 (Card)",
    "VIRTUAL_ACCOUNT": "가상계좌 (Virtual account)",
    "EASY_PAY": "간편결제 (Easy pay)",
}
MOBILE_AGENTS = ("Android", "iPhone", "iPad", "iPod", "Mobile")


@bp.after_request
def allow_any_origin(response: Response) -> Response:
    """The SDK runs on the merchant's origin and calls back into the window routes."""
    response.headers["Access-Control-Allow-Origin"] = request.headers.get("Origin", "*")
    response.headers["Vary"] = "Origin"
    return response


@bp.get("/v2/browser-sdk.js")
def sdk() -> Response:
    """The browser SDK: window.PortOne.requestPayment / requestIssueBillingKey / ...AndPay."""
    source = SDK_SOURCE.read_text(encoding="utf-8").replace(
        "__DEFAULT_ORIGIN__", request.host_url.rstrip("/")
    )
    response = Response(source, content_type="application/javascript; charset=utf-8")
    response.headers["Cache-Control"] = "no-store"
    return response


def _client() -> dict:
    agent = request.headers.get("User-Agent", "")
    mobile = any(word in agent for word in MOBILE_AGENTS)
    return {
        "mode": "redirect" if request.args.get("mode") == "redirect" else "popup",
        "origin": request.args.get("origin") or None,
        "platform_type": "MOBILE" if mobile else "PC",
        "user_agent": agent or None,
        "ip_address": request.remote_addr or "127.0.0.1",
        "url": request.referrer or None,
    }


@bp.get("/v2/window")
def open_window():
    """The window for one SDK call: ?kind=payment|issue|issue_and_pay&request=<json>&mode&origin."""
    kind = request.args.get("kind", PAYMENT)
    try:
        params = json.loads(request.args.get("request") or "{}")
    except ValueError:
        params = {}
    params = params if isinstance(params, dict) else {}
    client = _client()
    try:
        session = gateway().open_window(kind, params, client)
    except BrowserError as error:
        response = {"transactionType": TRANSACTION_TYPES.get(kind, "PAYMENT")}
        if params.get("paymentId"):
            response["paymentId"] = str(params["paymentId"])
        response.update(code=error.code, message=error.message)
        return _finish(response, {**client, "request": params})
    return _render_window(session)


def _render_window(session: dict, error: str | None = None, form: dict | None = None):
    """The window of an open session; error: why its last submit was refused (400)."""
    kind = session["kind"]
    form = form or {}
    page = render_template(
        "portone_window.html",
        session=session,
        request=session["request"],
        kind=kind,
        billing=kind != PAYMENT,
        amount=_amount(session),
        method=session.get("pay_method", "CARD") if kind != ISSUE else "CARD",
        method_label=METHOD_LABELS.get(session.get("pay_method", "CARD"), "CARD"),
        banks=window_ui.bank_choices("portone"),
        bank=_preselected_bank(session, form),
        providers=EASY_PAY_PROVIDERS,
        test_cards=TABLE,
        companies=window_ui.card_companies(),
        error=error,
        card_number=form.get("card_number", ""),
        expiry=form.get("expiry", ""),
        terms_agreed=window_ui.agreed(form),
    )
    return Response(page, status=400 if error else 200)


def _preselected_bank(session: dict, form: dict) -> str:
    spec = session["request"].get("virtualAccount")
    asked = spec.get("bankCode") if isinstance(spec, dict) else None
    return form.get("bank") or bank_code(asked) or ""


def _amount(session: dict) -> str | None:
    req = session["request"]
    if session["kind"] == ISSUE:
        shown = req.get("displayAmount")
        return (
            display(shown, str(req.get("currency", "KRW")).removeprefix("CURRENCY_"))
            if isinstance(shown, int)
            else None
        )
    return display(req["totalAmount"], str(req["currency"]).upper().removeprefix("CURRENCY_"))


@bp.post("/v2/window/<session_id>/pay")
def pay(session_id: str):
    """The window's Pay (or Register card) button: refused (the window again) until the buyer
    agrees to the terms."""
    form = request.form.to_dict()
    try:
        session = gateway().session(session_id)
        if session["result"] is None:
            refused = _refusal(session, form)
            if refused:
                return _render_window(session, refused, form)
        response = gateway().pay_window(session_id, form)
    except PortOneError as error:
        return Response(error.message, status=404)
    return _finish(response, gateway().session(session_id))


def _refusal(session: dict, form: dict) -> str | None:
    """Why the window refuses this submit (a bad cash-receipt number, terms not agreed)."""
    if session.get("pay_method") == "VIRTUAL_ACCOUNT":
        try:
            form["cash_receipt"] = window_ui.cash_receipt_request(form)
        except window_ui.CashReceiptInvalid as error:
            return str(error)
    if not window_ui.agreed(form):
        return window_ui.TERMS_REFUSED
    return None


@bp.post("/v2/window/<session_id>/cancel")
def cancel(session_id: str):
    """The window's Cancel button: the buyer gave up."""
    try:
        response = gateway().cancel_window(session_id)
    except PortOneError as error:
        return Response(error.message, status=404)
    return _finish(response, gateway().session(session_id))


@bp.post("/v2/window/<session_id>/close")
def close(session_id: str):
    """The SDK saw the popup closed: its response (a user cancel unless it had finished)."""
    try:
        return jsonify(gateway().cancel_window(session_id))
    except PortOneError as error:
        return jsonify(error.to_dict()), 404


def _finish(response: dict, session: dict):
    """Popup: a page that posts the response to the opener; redirect: back to redirectUrl."""
    redirect_url = session.get("request", {}).get("redirectUrl")
    if session.get("mode") == "redirect" and _is_web_url(redirect_url):
        return redirect(_with_query(redirect_url, response), code=302)
    failed = "code" in response
    return render_template(
        "portone_result.html",
        response=response,
        origin=session.get("origin"),
        failed=failed,
        source=SOURCE,
    )


def _is_web_url(url: object) -> bool:
    parts = urlsplit(url if isinstance(url, str) else "")
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _with_query(url: str, extra: dict) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + [(k, str(v)) for k, v in extra.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))
