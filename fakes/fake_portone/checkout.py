"""The payment window's operations: open (a READY payment), pay, issue a billing key, cancel."""

from __future__ import annotations

import json
import secrets

from fake_common import cards
from fake_portone import inputs, methods
from fake_portone.errors import FAILURE_TYPE_PG, PORTONE_ERROR, USER_CANCELLED, PortOneError
from fake_portone.models import new_id

PAYMENT = "payment"
ISSUE = "issue"
ISSUE_AND_PAY = "issue_and_pay"
KINDS = (PAYMENT, ISSUE, ISSUE_AND_PAY)
TRANSACTION_TYPES = {
    PAYMENT: "PAYMENT",
    ISSUE: "ISSUE_BILLING_KEY",
    ISSUE_AND_PAY: "ISSUE_BILLING_KEY_AND_PAY",
}
PAY_METHODS = ("CARD", "VIRTUAL_ACCOUNT", "EASY_PAY")
DEFAULT_VA_HOURS = 72


class BrowserError(Exception):
    """A request the window refuses before anything is paid: the SDK's {code, message}."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _need(request: dict, name: str) -> object:
    value = request.get(name)
    if value in (None, ""):
        raise BrowserError(PORTONE_ERROR, f"{name} 파라미터가 필요합니다.")
    return value


class CheckoutMixin:
    """The window side of PortOneGateway: one session per opened window."""

    def open_window(self, kind: str, request: dict, client: dict) -> dict:
        """Check the SDK's request and open a session (a READY payment for payments)."""
        with self.lock:
            if kind not in KINDS:
                raise BrowserError(PORTONE_ERROR, "알 수 없는 요청입니다.")
            if _need(request, "storeId") != self.config["STORE_ID"]:
                raise BrowserError(PORTONE_ERROR, "상점 아이디(storeId)가 올바르지 않습니다.")
            try:
                channel = self.channel(request.get("channelKey"))
            except PortOneError as exc:
                raise BrowserError(PORTONE_ERROR, "채널(channelKey)을 찾을 수 없습니다.") from exc
            session = {
                "id": secrets.token_hex(12),
                "kind": kind,
                "request": request,
                "result": None,
            }
            session["channel"] = channel
            session["customer"] = inputs.customer_from_browser(request.get("customer"))
            session.update(client)
            if kind != ISSUE:
                self._open_payment(session, request, channel)
            self.sessions[session["id"]] = session
            return session

    def _open_payment(self, session: dict, request: dict, channel: dict) -> None:
        payment_id = str(_need(request, "paymentId"))
        total = _need(request, "totalAmount")
        if isinstance(total, bool) or not isinstance(total, int) or total < 1:
            raise BrowserError(PORTONE_ERROR, "totalAmount는 1 이상의 정수여야 합니다.")
        try:
            currency = inputs.currency(_need(request, "currency"))
        except PortOneError as exc:
            raise BrowserError(PORTONE_ERROR, exc.message) from exc
        method = PAYMENT_METHODS_OF[session["kind"]](request)
        if method not in PAY_METHODS:
            raise BrowserError(PORTONE_ERROR, f"지원하지 않는 결제수단입니다: {method}")
        prepared = self.prepared.get(payment_id)
        if prepared and (
            prepared["totalAmount"] not in (None, total)
            or prepared["currency"] not in (None, currency)
        ):
            raise BrowserError("AmountNotEqualToPredefined", "사전 등록된 결제 금액과 다릅니다.")
        data = request.get("customData")
        try:
            payment = self.new_attempt(
                payment_id,
                store_id=self.config["STORE_ID"],
                channel=channel,
                order_name=str(_need(request, "orderName")),
                total=total,
                tax_free=int(request.get("taxFreeAmount") or 0),
                vat=request.get("vatAmount") if isinstance(request.get("vatAmount"), int) else None,
                currency=currency,
                customer=session["customer"],
                custom_data=data if isinstance(data, str) or data is None else json.dumps(data),
                notice_urls=[u for u in request.get("noticeUrls") or [] if isinstance(u, str)]
                or None,
                platform_type=session["platform_type"],
                user_agent=session.get("user_agent"),
                ip_address=session["ip_address"],
                url=session.get("url"),
            )
        except PortOneError as exc:
            raise BrowserError(PORTONE_ERROR, "이미 결제가 완료된 paymentId입니다.") from exc
        session.update(payment_id=payment_id, tx_id=payment.transaction_id, pay_method=method)
        easy_pay = request.get("easyPay") if isinstance(request.get("easyPay"), dict) else {}
        session["easy_pay_provider"] = methods.easy_pay_provider(easy_pay.get("easyPayProvider"))
        if self.config["WEBHOOK_ON_READY"]:
            self.events.transaction(payment)

    def session(self, session_id: str) -> dict:
        """An open window's session; INVALID_REQUEST when unknown."""
        session = self.sessions.get(session_id)
        if session is None:
            raise PortOneError("INVALID_REQUEST", "결제창 세션이 없습니다.")
        return session

    def pay_window(self, session_id: str, form: dict) -> dict:
        """The buyer pressed Pay (or Register): the SDK's response, kept on the session."""
        with self.lock:
            session = self.session(session_id)
            if session["result"] is not None:
                return session["result"]
            kind = session["kind"]
            key = None
            if kind in (ISSUE, ISSUE_AND_PAY):
                key, failed = self._issue_in_window(session, form)
                if failed is not None:
                    return self._finish(session, failed)
            if kind == ISSUE:
                return self._finish(session, {"billingKey": key.billing_key})
            return self._finish(session, self._pay_in_window(session, form, key))

    def _issue_in_window(self, session: dict, form: dict):
        digits = cards.normalize(form.get("card_number"))
        expiry = cards.parse_expiry(form.get("expiry")) or (2099, 12)
        request = session["request"]
        urls = request.get("noticeUrls")
        data = request.get("customData")
        try:
            key = self.issue_key(
                digits,
                expiry,
                store_id=self.config["STORE_ID"],
                channel=session["channel"],
                customer=session["customer"],
                custom_data=data if isinstance(data, str) or data is None else json.dumps(data),
                issue_id=request.get("issueId"),
                issue_name=request.get("issueName"),
            )
        except PortOneError as error:
            self.events.billing_key("Failed", new_id("billing-key-"), self.config["STORE_ID"], urls)
            if session["kind"] == ISSUE_AND_PAY:
                outcome = cards.decline(cards.lookup(digits), expiry, self.clock.now())
                self.fail(self.payment(session["payment_id"]), outcome)
            return None, _pg_failure(error)
        self.events.billing_key("Issued", key.billing_key, key.store_id, urls)
        return key, None

    def _pay_in_window(self, session: dict, form: dict, key) -> dict:
        payment = self.payment(session["payment_id"])
        if key is not None:
            payment.billing_key = key.billing_key
            self.charged_keys.add(key.billing_key)
            self.approve(payment, methods.card_method(cards.lookup(key.card_number)))
            return {"billingKey": key.billing_key}
        if session["pay_method"] == "VIRTUAL_ACCOUNT":
            payment.cash_receipt_request = form.get("cash_receipt")
            spec = session["request"].get("virtualAccount") or {}
            bank = methods.bank_code(form.get("bank")) or methods.bank_code(spec.get("bankCode"))
            expiry = spec.get("accountExpiry") or {}
            hours = expiry.get("validHours") if isinstance(expiry.get("validHours"), int) else None
            self.issue_account(payment, bank or "KOOKMIN", (hours or DEFAULT_VA_HOURS) * 3600)
            return {}
        card = cards.lookup(form.get("card_number"))
        outcome = cards.decline(card, cards.parse_expiry(form.get("expiry")), self.clock.now())
        if outcome is not None:
            self.fail(payment, outcome)
            return _pg_failure_of(payment)
        months = cards.installment_months(form.get("installment"))
        if session["pay_method"] == "EASY_PAY":
            provider = (
                session.get("easy_pay_provider")
                or methods.easy_pay_provider(form.get("provider"))
                or "KAKAOPAY"
            )
            self.approve(payment, methods.easy_pay_method(provider, card))
        else:
            self.approve(payment, methods.card_method(card, months))
        return {}

    def cancel_window(self, session_id: str) -> dict:
        """The buyer cancelled or closed the window: FAILURE_TYPE_PG (the payment FAILED)."""
        with self.lock:
            session = self.session(session_id)
            if session["result"] is not None:
                return session["result"]
            if session.get("payment_id"):
                self.fail(self.payment(session["payment_id"]), None)
            return self._finish(session, {"code": FAILURE_TYPE_PG, "message": USER_CANCELLED})

    def _finish(self, session: dict, outcome: dict) -> dict:
        result = {"transactionType": TRANSACTION_TYPES[session["kind"]]}
        if session.get("payment_id"):
            result.update(paymentId=session["payment_id"], txId=session["tx_id"])
        result.update(outcome)
        session["result"] = result
        return result


def _pg_failure(error: PortOneError) -> dict:
    return {
        "code": FAILURE_TYPE_PG,
        "message": error.message,
        "pgCode": error.extra.get("pgCode", ""),
        "pgMessage": error.extra.get("pgMessage", ""),
    }


def _pg_failure_of(payment) -> dict:
    failure = payment.failure or {}
    return {
        "code": FAILURE_TYPE_PG,
        "message": failure.get("reason", ""),
        "pgCode": failure.get("pgCode", ""),
        "pgMessage": failure.get("pgMessage", ""),
    }


def _payment_method(request: dict) -> str:
    return str(request.get("payMethod") or "")


def _issue_and_pay_method(_request: dict) -> str:
    return "CARD"  # the real API has only MOBILE; the fake charges the card it registers


PAYMENT_METHODS_OF = {PAYMENT: _payment_method, ISSUE_AND_PAY: _issue_and_pay_method}
