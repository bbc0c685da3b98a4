"""The browser side: /sdk/toss.js, the payment window, the billing window and receipts."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request

from fake_common import cards, window_ui
from fake_common.money import display
from fake_toss.api import gateway, origin
from fake_toss.errors import BROWSER_MESSAGES, ERRORS, TossError
from fake_toss.gateway import METHODS, PaymentRequest, expiry_from_text, order_id_of
from fake_toss.keys import family_of
from fake_toss.models import CARD, EASY_PAY_PROVIDERS, VIRTUAL_ACCOUNT
from fake_toss.money import amount_json, amount_text, check_currency, parse_amount

bp = Blueprint("toss_window", __name__)
METHOD_LABELS = {CARD: "신용·체크카드 (Card)", VIRTUAL_ACCOUNT: "가상계좌 (Virtual account)"}

PAYMENT_FIELDS = (
    "clientKey",
    "method",
    "amount",
    "currency",
    "orderId",
    "orderName",
    "customerName",
    "customerEmail",
    "taxFreeAmount",
    "validHours",
    "dueDate",
    "virtualAccountCallbackUrl",
    "successUrl",
    "failUrl",
    "mode",
    "opener",
)
BILLING_FIELDS = (
    "clientKey",
    "customerKey",
    "customerName",
    "customerEmail",
    "successUrl",
    "failUrl",
    "mode",
    "opener",
)


@dataclass
class Flow:
    """Where the window reports back: a redirect to successUrl/failUrl, or the opener (popup)."""

    popup: bool
    success_url: str
    fail_url: str
    opener: str

    @classmethod
    def from_args(cls, args) -> Flow:
        """Read and check the return addresses from the window's parameters."""
        popup = args.get("mode") == "popup"
        flow = cls(popup, args.get("successUrl", ""), args.get("failUrl", ""), "")
        opener = args.get("opener", "")
        if _is_web_url(opener):
            flow.opener = opener
        if not popup and not (_is_web_url(flow.success_url) and _is_web_url(flow.fail_url)):
            raise TossError("INVALID_PARAMETER", "successUrl과 failUrl은 http(s) URL이어야 합니다.")
        return flow

    def succeed(self, query: dict, result: dict) -> Response:
        """Send the buyer to successUrl with query, or resolve the opener's promise with result."""
        if self.popup:
            return _post_to_opener({"result": result}, self.opener)
        return redirect(_with_query(self.success_url, query), code=303)

    def cancel(self, order_id: str | None = None) -> Response:
        """The buyer pressed Cancel: USER_CANCEL for a popup, PAY_PROCESS_CANCELED otherwise."""
        code = "USER_CANCEL" if self.popup else "PAY_PROCESS_CANCELED"
        return self.fail(code, BROWSER_MESSAGES[code], order_id)

    def fail(self, code: str, message: str, order_id: str | None = None) -> Response:
        """Send the buyer to failUrl?code&message[&orderId], or reject the opener's promise."""
        error = {"code": code, "message": message}
        if order_id:
            error["orderId"] = order_id
        if self.popup:
            return _post_to_opener({"error": error}, self.opener)
        return redirect(_with_query(self.fail_url, error), code=303)


def _is_web_url(url: str) -> bool:
    parts = urlsplit(url or "")
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _with_query(url: str, extra: dict) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(extra.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def _post_to_opener(payload: dict, opener: str) -> Response:
    return Response(
        render_template(
            "toss_popup_result.html", payload={"source": "fake_toss", **payload}, opener=opener
        )
    )


def _error_page(error: TossError, status: int = 400) -> Response:
    page = render_template("toss_error.html", code=error.code, message=error.message())
    return Response(page, status=status)


def _open(args) -> Flow:
    """The window's Flow once its return URLs and clientKey check out; else an error page (abort)."""
    try:
        flow = Flow.from_args(args)
        if args.get("clientKey") not in gateway().config["CLIENT_KEYS"]:
            raise TossError("UNAUTHORIZED_KEY")
    except TossError as error:
        abort(_error_page(error))
    return flow


def _window_parts() -> dict:
    """What the payment and billing windows show alike: test cards and the company picker."""
    return {
        "test_cards": cards.TABLE,
        "companies": window_ui.card_companies(),
        "error": None,
        "card_number": "",
    }


def _refusal(form, *, with_receipt: bool) -> str | None:
    """Why the window refuses this submit (terms not agreed, a bad cash-receipt number)."""
    if with_receipt:
        try:
            window_ui.cash_receipt_request(form)
        except window_ui.CashReceiptInvalid as error:
            return str(error)
    if not window_ui.agreed(form):
        return window_ui.TERMS_REFUSED
    return None


def _payment_request(args) -> PaymentRequest:
    method = METHODS.get(args.get("method", ""))
    if method is None:
        raise TossError("NOT_SUPPORTED_METHOD", "지원하지 않는 결제수단입니다.")
    currency = check_currency(args.get("currency"))
    if method == VIRTUAL_ACCOUNT and currency != "KRW":
        raise TossError("INVALID_PARAMETER", "가상계좌는 KRW만 지원합니다.")
    order_name = args.get("orderName", "")
    if not order_name:
        raise TossError("INVALID_PARAMETER", "orderName 값이 필요합니다.")
    request_ = PaymentRequest(
        method=method,
        amount=parse_amount(args.get("amount"), currency),
        currency=currency,
        order_id=order_id_of(args.get("orderId")),
        order_name=order_name[:100],
        customer_name=args.get("customerName") or None,
        customer_email=args.get("customerEmail") or None,
        tax_free=parse_amount(args.get("taxFreeAmount") or 0, currency, "taxFreeAmount"),
        callback_url=args.get("virtualAccountCallbackUrl") or None,
        key_family=family_of(args.get("clientKey")),
    )
    if method == VIRTUAL_ACCOUNT:
        request_.valid_hours, request_.due_at = gateway().due_of(
            {"validHours": args.get("validHours"), "dueDate": args.get("dueDate")},
            gateway().clock.now(),
        )
    gateway().check_request(request_)
    return request_


@bp.get("/sdk/toss.js")
def sdk() -> Response:
    """The browser SDK: window.TossPayments(clientKey)."""
    script = current_app.open_resource("static/toss.js").read().decode()
    script = script.replace("__FAKE_TOSS_ORIGIN__", origin())
    response = Response(script, content_type="application/javascript; charset=utf-8")
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/window", methods=["GET", "POST"])
def payment_window() -> Response:
    """The payment window: shows the order, takes a test card (or a bank), reports the outcome."""
    args = request.values
    flow = _open(args)
    order_id = args.get("orderId") or None
    try:
        payment_request = _payment_request(args)
    except TossError as error:
        return flow.fail(error.code, error.message(), order_id)
    is_card = payment_request.method == CARD
    context = {
        **_window_parts(),
        "fields": {name: args.get(name, "") for name in PAYMENT_FIELDS},
        "request": payment_request,
        "is_card": is_card,
        "method_label": METHOD_LABELS[payment_request.method],
        "amount": display(payment_request.amount, payment_request.currency),
        "easy_pay": EASY_PAY_PROVIDERS if payment_request.currency == "KRW" else (),
        "banks": window_ui.bank_choices("toss"),
        "bank": "",
    }
    if request.method == "GET":
        window = Response(render_template("toss_window.html", **context))
        # Back from the shop asks again, so a paid order's window is refused, never replayed.
        window.headers["Cache-Control"] = "no-store"
        return window
    easy_pay = request.form.get("easyPay", "") if context["is_card"] else ""
    if request.form.get("action") != "pay" and not easy_pay:
        return flow.cancel(order_id)
    card_number = request.form.get("cardNumber", "")
    bank = request.form.get("bank", "")
    context.update(card_number=card_number, bank=bank, terms_agreed=window_ui.agreed(request.form))
    refused = _refusal(request.form, with_receipt=not is_card)
    if refused:
        context.update(error=refused)
        return Response(render_template("toss_window.html", **context), status=400)
    if (
        context["is_card"]
        and not easy_pay
        and cards.lookup(card_number).outcome == cards.INVALID_NUMBER
    ):
        context.update(error=ERRORS["INVALID_CARD_NUMBER"][1], card_number=card_number)
        return Response(render_template("toss_window.html", **context), status=200)
    if not context["is_card"] and not bank:
        context.update(error="입금할 은행을 선택해주세요.")
        return Response(render_template("toss_window.html", **context), status=200)
    try:
        payment = gateway().authenticate(
            payment_request,
            card_number=card_number,
            bank=bank,
            origin=origin(),
            installment_months=cards.installment_months(request.form.get("installment")),
            easy_pay=easy_pay,
            cash_receipt=None if is_card else window_ui.cash_receipt_request(request.form),
        )
    except TossError as error:
        return flow.fail(error.code, error.message(), payment_request.order_id)
    currency = payment_request.currency
    # paymentType first, as real redirects have it (toss-sdk-v2.md §5.3).
    query = {
        "paymentType": "NORMAL",
        "orderId": payment["orderId"],
        "paymentKey": payment["paymentKey"],
        "amount": amount_text(payment_request.amount, currency),
    }
    result = {
        "paymentKey": payment["paymentKey"],
        "orderId": payment["orderId"],
        "amount": amount_json(payment_request.amount, currency),
        "paymentType": "NORMAL",
    }
    return flow.succeed(query, result)


@bp.route("/billing-window", methods=["GET", "POST"])
def billing_window() -> Response:
    """The billing-auth window: registers a card and returns customerKey and authKey."""
    args = request.values
    flow = _open(args)
    customer_key = args.get("customerKey", "")
    context = {
        **_window_parts(),
        "fields": {name: args.get(name, "") for name in BILLING_FIELDS},
        "customer": args.get("customerName") or customer_key,
        "expiry": "",
    }
    if request.method == "GET":
        return Response(render_template("toss_billing_window.html", **context))
    if request.form.get("action") != "register":
        return flow.cancel()
    card_number = request.form.get("cardNumber", "")
    expiry = request.form.get("expiry", "")
    context.update(
        card_number=card_number, expiry=expiry, terms_agreed=window_ui.agreed(request.form)
    )
    refused = _refusal(request.form, with_receipt=False)
    if refused:
        context.update(error=refused)
        return Response(render_template("toss_billing_window.html", **context), status=400)
    if cards.lookup(card_number).outcome == cards.INVALID_NUMBER:
        context["error"] = ERRORS["INVALID_CARD_NUMBER"][1]
        return Response(render_template("toss_billing_window.html", **context))
    try:
        expiry_from_text(expiry)
    except TossError:
        context["error"] = "유효기간을 MM/YY 형식으로 입력해주세요."
        return Response(render_template("toss_billing_window.html", **context))
    try:
        auth_key = gateway().authorize_billing(customer_key, card_number, expiry)
    except TossError as error:
        return flow.fail(error.code, error.message())
    query = {"customerKey": customer_key, "authKey": auth_key}
    return flow.succeed(query, query)


@bp.get("/receipt/<payment_key>")
def receipt(payment_key: str) -> Response:
    """A payment's receipt page (the receipt.url of the Payment object)."""
    payment = gateway().payment(payment_key)
    return Response(render_template("toss_receipt.html", payment=payment))
