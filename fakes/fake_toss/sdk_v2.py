"""The v2 browser SDK (the script `@tosspayments/tosspayments-sdk` loads, at /v2/standard) and the
payment widget's two iframes: the payment methods and the agreement."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, request

from fake_toss.api import gateway, origin
from fake_toss.keys import WIDGET, family_of

bp = Blueprint("toss_sdk_v2", __name__)

# What the widget offers (the fake's window takes these two); value -> (label, KRW only).
WIDGET_METHODS = (
    ("CARD", "카드", "Card", False),
    ("VIRTUAL_ACCOUNT", "가상계좌", "Virtual account", True),
)


@bp.get("/v2/standard")
def sdk() -> Response:
    """The browser SDK v2: window.TossPayments(clientKey) with payment(), widgets(), ANONYMOUS."""
    script = current_app.open_resource("static/toss_v2.js").read().decode()
    script = script.replace("__FAKE_TOSS_ORIGIN__", origin())
    response = Response(script, content_type="application/javascript; charset=utf-8")
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "no-store"
    return response


def _widget_args() -> dict:
    """The iframe's parameters; a page that is not the widget's (wrong key or family) is a 400."""
    args = request.args
    client_key = args.get("clientKey", "")
    if client_key not in gateway().config["CLIENT_KEYS"] or family_of(client_key) != WIDGET:
        abort(400, "결제위젯 연동 키의 클라이언트 키가 아닙니다.")
    return {"widget_id": args.get("widgetId", ""), "currency": args.get("currency", "KRW")}


@bp.get("/widget/payment-methods")
def payment_methods() -> Response:
    """The payment-methods widget: the buyer picks a method; nothing is preselected."""
    context = _widget_args()
    methods = [
        {
            "code": code,
            "label": label,
            "english": english,
            "disabled": krw_only and context["currency"] != "KRW",
        }
        for code, label, english, krw_only in WIDGET_METHODS
    ]
    return Response(render_template("toss_widget_methods.html", methods=methods, **context))


@bp.get("/widget/agreement")
def agreement() -> Response:
    """The agreement widget: one required term, agreed until the buyer unticks it."""
    return Response(render_template("toss_widget_agreement.html", **_widget_args()))
