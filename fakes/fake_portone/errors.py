"""PortOne V2's error object {type, message}: the types, their HTTP statuses, Korean messages."""

from __future__ import annotations

from flask import Flask, Response, jsonify

from fake_common import cards

# type -> (HTTP status, message). The statuses are the spec's x-portone-status-code; the real
# messages are not documented, so these texts are the fake's own (portone-v2.md §3.1).
ERRORS: dict[str, tuple[int, str]] = {
    "INVALID_REQUEST": (400, "잘못된 요청입니다."),
    "MAX_WEBHOOK_RETRY_COUNT_REACHED": (400, "웹훅 재발송 횟수를 초과했습니다."),
    "UNAUTHORIZED": (401, "인증 정보가 올바르지 않습니다."),
    "FORBIDDEN": (403, "요청이 거절되었습니다."),
    "PAYMENT_NOT_FOUND": (404, "결제 건이 존재하지 않습니다."),
    "BILLING_KEY_NOT_FOUND": (404, "빌링키가 존재하지 않습니다."),
    "BILLING_KEY_NOT_ISSUED": (404, "발급되지 않은 빌링키입니다."),
    "CHANNEL_NOT_FOUND": (404, "채널이 존재하지 않습니다."),
    "PAYMENT_SCHEDULE_NOT_FOUND": (404, "결제 예약 건이 존재하지 않습니다."),
    "WEBHOOK_NOT_FOUND": (404, "웹훅 내역이 존재하지 않습니다."),
    "ALREADY_PAID": (409, "이미 결제가 완료되었습니다."),
    "ALREADY_PAID_OR_WAITING": (409, "이미 결제되었거나 결제 대기 중입니다."),
    "PAYMENT_NOT_PAID": (409, "결제가 완료되지 않았습니다."),
    "PAYMENT_ALREADY_CANCELLED": (409, "이미 취소된 결제입니다."),
    "CANCELLABLE_AMOUNT_CONSISTENCY_BROKEN": (409, "취소 가능 금액이 일치하지 않습니다."),
    "CANCEL_AMOUNT_EXCEEDS_CANCELLABLE_AMOUNT": (409, "취소 금액이 취소 가능 금액을 초과합니다."),
    "CANCEL_TAX_FREE_AMOUNT_EXCEEDS_CANCELLABLE_TAX_FREE_AMOUNT": (
        409,
        "면세 취소 금액이 취소 가능한 면세 금액을 초과합니다.",
    ),
    "SUM_OF_PARTS_EXCEEDS_CANCEL_AMOUNT": (409, "면세 금액 등이 취소 금액을 초과합니다."),
    "SUM_OF_PARTS_EXCEEDS_TOTAL_AMOUNT": (409, "면세 금액 등이 결제 금액을 초과합니다."),
    "PAYMENT_NOT_WAITING_FOR_DEPOSIT": (409, "입금 대기 중인 결제가 아닙니다."),
    "BILLING_KEY_ALREADY_DELETED": (409, "이미 삭제된 빌링키입니다."),
    "PAYMENT_SCHEDULE_ALREADY_EXISTS": (409, "결제 예약 건이 이미 존재합니다."),
    "PAYMENT_SCHEDULE_ALREADY_PROCESSED": (409, "이미 처리된 결제 예약 건입니다."),
    "PAYMENT_SCHEDULE_ALREADY_REVOKED": (409, "이미 취소된 결제 예약 건입니다."),
    "IDEMPOTENCY_OUTSTANDING_REQUEST": (409, "같은 멱등 키의 요청이 처리 중입니다."),
    "PG_PROVIDER": (502, "PG사에서 오류가 발생했습니다."),
}

# What a test card's outcome becomes: the PG's (pgCode, pgMessage). FAKE: the codes are the
# fake's own (PG codes differ per PG); the messages are the shared Korean decline texts.
PG_DECLINES: dict[str, tuple[str, str]] = {
    cards.DECLINED: ("CD0001", "카드사에서 거절된 거래입니다."),
    cards.INSUFFICIENT_FUNDS: ("CD0002", "한도초과 혹은 잔액부족으로 결제에 실패했습니다."),
    cards.EXPIRED: ("CD0003", "유효기간이 만료된 카드입니다."),
    cards.INVALID_NUMBER: ("CD0004", "카드번호를 다시 확인해주세요."),
}

# The browser SDK's failure codes (portone-v2.md §10.6).
FAILURE_TYPE_PG = "FAILURE_TYPE_PG"
PORTONE_ERROR = "PORTONE_ERROR"
USER_CANCELLED = "사용자가 결제를 취소하였습니다"


class PortOneError(Exception):
    """An API failure answered as {type, message[, pgCode, pgMessage]} with the type's status."""

    def __init__(self, type_: str, message: str | None = None, **extra: str) -> None:
        known = ERRORS.get(type_, (400, f"{type_} 오류가 발생했습니다."))
        self.type = type_
        self.status = known[0]
        self.message = message or known[1]
        self.extra = extra
        super().__init__(f"{type_}: {self.message}")

    def to_dict(self) -> dict:
        """The error body PortOne sends."""
        return {"type": self.type, "message": self.message, **self.extra}


def invalid(message: str) -> PortOneError:
    """INVALID_REQUEST with a message naming what is wrong."""
    return PortOneError("INVALID_REQUEST", message)


def pg_decline(outcome: str) -> PortOneError:
    """502 PG_PROVIDER for a refused test card, with the PG's code and message."""
    code, text = PG_DECLINES.get(outcome, PG_DECLINES[cards.DECLINED])
    return PortOneError("PG_PROVIDER", f"[{code}] {text}", pgCode=code, pgMessage=text)


def error_response(error: PortOneError) -> Response:
    """Render a PortOneError as the HTTP response PortOne sends."""
    response = jsonify(error.to_dict())
    response.status_code = error.status
    return response


def register_error_handlers(app: Flask) -> None:
    """Answer PortOneError, unknown routes and bad methods as {type, message}."""
    app.register_error_handler(PortOneError, error_response)

    @app.errorhandler(404)
    def _not_found(_exc):
        response = error_response(invalid("존재하지 않는 API입니다."))
        response.status_code = 404
        return response

    @app.errorhandler(405)
    def _method_not_allowed(_exc):
        response = error_response(invalid("허용되지 않은 메서드입니다."))
        response.status_code = 405
        return response
