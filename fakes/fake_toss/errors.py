"""Toss's error object {code, message}: the codes, their HTTP statuses and messages."""

from __future__ import annotations

from flask import Flask, Response, jsonify, request

from fake_common import cards

# code -> (HTTP status, Korean message, English message), as toss-v1.md §3 lists them.
ERRORS: dict[str, tuple[int, str, str]] = {
    "INVALID_REQUEST": (400, "잘못된 요청입니다.", "Invalid request."),
    "ALREADY_PROCESSED_PAYMENT": (
        400,
        "이미 처리된 결제 입니다.",
        "This payment has already been processed.",
    ),
    "PROVIDER_ERROR": (
        400,
        "일시적인 오류가 발생했습니다. 잠시 후 다시 시도해주세요.",
        "A temporary error occurred. Please try again later.",
    ),
    "INVALID_CARD_NUMBER": (
        400,
        "카드번호를 다시 확인해주세요.",
        "Please check the card number again.",
    ),
    "INVALID_CARD_EXPIRATION": (
        400,
        "카드 정보를 다시 확인해주세요 (유효기간).",
        "Please check the card information again (expiration date).",
    ),
    # The reference lists the code for confirm without a message (toss-v1.md §3.2): FAKE wording.
    "EXCEED_MAX_DAILY_PAYMENT_COUNT": (
        400,
        "하루 결제 가능 횟수를 초과했습니다.",
        "The daily payment count has been exceeded.",
    ),
    "INVALID_STOPPED_CARD": (400, "정지된 카드 입니다.", "This card has been suspended."),
    "INVALID_REJECT_CARD": (
        400,
        "카드 사용이 거절되었습니다. 카드사 문의가 필요합니다.",
        "The card was refused. Please contact the card company.",
    ),
    "INVALID_CARD_LOST_OR_STOLEN": (
        400,
        "분실 혹은 도난 카드입니다.",
        "This card has been reported lost or stolen.",
    ),
    "BELOW_MINIMUM_AMOUNT": (
        400,
        "신용카드는 결제금액이 100원 이상, 계좌는 200원이상부터 결제가 가능합니다.",
        "Card payments start at 100 KRW and account payments at 200 KRW.",
    ),
    "ALREADY_CANCELED_PAYMENT": (
        400,
        "이미 취소된 결제 입니다.",
        "This payment has already been canceled.",
    ),
    "NOT_MATCHES_REFUNDABLE_AMOUNT": (
        400,
        "잔액 결과가 일치하지 않습니다.",
        "The refundable amount does not match the balance.",
    ),
    "INVALID_REFUND_ACCOUNT_INFO": (
        400,
        "환불 계좌번호와 예금주명이 일치하지 않습니다.",
        "The refund account number and holder name do not match.",
    ),
    "INVALID_REFUND_ACCOUNT_NUMBER": (
        400,
        "잘못된 환불 계좌번호입니다.",
        "The refund account number is invalid.",
    ),
    "INVALID_BANK": (400, "유효하지 않은 은행입니다.", "The bank is not valid."),
    "NOT_MATCHES_CUSTOMER_KEY": (
        400,
        "빌링 인증 고객키와 결제 요청 고객키가 일치하지 않습니다.",
        "The customer key does not match the billing key's customer key.",
    ),
    "DUPLICATED_ORDER_ID": (
        400,
        "이미 승인 및 취소가 진행된 중복된 주문번호 입니다. 다른 주문번호로 진행해주세요.",
        "This order ID has already been approved or canceled. Please use another order ID.",
    ),
    "INVALID_IDEMPOTENCY_KEY": (
        400,
        "멱등키는 300자 이하여야 합니다.",
        "The idempotency key must be 300 characters or fewer.",
    ),
    "INVALID_API_KEY": (
        400,
        "잘못된 시크릿키 연동 정보 입니다.",
        "The secret key information is wrong.",
    ),
    "UNAUTHORIZED_KEY": (
        401,
        "인증되지 않은 시크릿 키 혹은 클라이언트 키 입니다.",
        "Unauthorized secret key or client key.",
    ),
    "REJECT_CARD_PAYMENT": (
        403,
        "한도초과 혹은 잔액부족으로 결제에 실패했습니다.",
        "The payment failed: limit exceeded or insufficient balance.",
    ),
    "REJECT_CARD_COMPANY": (
        403,
        "결제 승인이 거절되었습니다.",
        "The card company declined the payment.",
    ),
    "FORBIDDEN_REQUEST": (403, "허용되지 않은 요청입니다.", "This request is not allowed."),
    "INCORRECT_BASIC_AUTH_FORMAT": (
        403,
        "잘못된 요청입니다. ':' 를 포함해 인코딩해주세요.",
        "Invalid request. Encode the key with a trailing ':'.",
    ),
    "FORBIDDEN_CONSECUTIVE_REQUEST": (
        403,
        "반복적인 요청은 허용되지 않습니다. 잠시 후 다시 시도해주세요.",
        "Repeated requests are not allowed. Please try again later.",
    ),
    "NOT_CANCELABLE_AMOUNT": (
        403,
        "취소 할 수 없는 금액 입니다.",
        "This amount cannot be canceled.",
    ),
    "NOT_CANCELABLE_PAYMENT": (
        403,
        "취소 할 수 없는 결제 입니다.",
        "This payment cannot be canceled.",
    ),
    "NOT_ALLOWED_PARTIAL_REFUND_WAITING_DEPOSIT": (
        403,
        "입금 대기중인 결제는 부분 환불이 불가합니다.",
        "A payment waiting for deposit cannot be partially refunded.",
    ),
    "NOT_ALLOWED_PARTIAL_REFUND": (
        403,
        "에스크로 주문, 현금 카드 결제일 때는 부분 환불이 불가합니다. 이외 다른 결제 수단에서 부분 취소가 되지 않을 때는 토스페이먼츠에 문의해 주세요.",
        "Partial refunds are not allowed for this payment.",
    ),
    "NOT_FOUND_PAYMENT": (
        404,
        "존재하지 않는 결제 정보 입니다.",
        "The payment does not exist.",
    ),
    "NOT_FOUND_PAYMENT_SESSION": (
        404,
        "결제 시간이 만료되어 결제 진행 데이터가 존재하지 않습니다.",
        "The payment session has expired; no payment data exists.",
    ),
    "NOT_FOUND_BILLING": (
        404,
        "존재하지 않는 빌링 정보 입니다.",
        "The billing information does not exist.",
    ),
    "NOT_FOUND": (404, "존재하지 않는 정보 입니다.", "The information does not exist."),
    "IDEMPOTENT_REQUEST_PROCESSING": (
        409,
        "이전 멱등 요청이 처리중입니다.",
        "A previous request with this idempotency key is still being processed.",
    ),
    "FAILED_INTERNAL_SYSTEM_PROCESSING": (
        500,
        "내부 시스템 처리 작업이 실패했습니다. 잠시 후 다시 시도해주세요.",
        "An internal system error occurred. Please try again later.",
    ),
    "FAILED_PAYMENT_INTERNAL_SYSTEM_PROCESSING": (
        500,
        "결제가 완료되지 않았어요. 다시 시도해주세요.",
        "The payment was not completed. Please try again.",
    ),
    "UNKNOWN_PAYMENT_ERROR": (
        500,
        "결제에 실패했어요. 같은 문제가 반복된다면 은행이나 카드사로 문의해주세요.",
        "The payment failed. If it keeps happening, contact your bank or card company.",
    ),
}

# The browser-side codes (failUrl and SDK promise rejections), not API responses.
BROWSER_MESSAGES: dict[str, str] = {
    "PAY_PROCESS_CANCELED": "사용자에 의해 결제가 취소되었습니다.",
    "PAY_PROCESS_ABORTED": "결제 진행 중 승인에 실패하여 결제가 중단되었습니다.",
    "USER_CANCEL": "사용자가 결제를 취소하였습니다.",
    "INVALID_PARAMETER": "잘못된 파라미터입니다.",
}


# What a test card's outcome turns into at Toss.
DECLINE_CODES = {
    cards.INSUFFICIENT_FUNDS: "REJECT_CARD_PAYMENT",
    cards.DECLINED: "REJECT_CARD_COMPANY",
    cards.EXPIRED: "INVALID_CARD_EXPIRATION",
    cards.INVALID_NUMBER: "INVALID_CARD_NUMBER",
}


class TossError(Exception):
    """An API failure answered as Toss's {code, message} with its HTTP status."""

    def __init__(self, code: str, message: str | None = None, status: int | None = None) -> None:
        known = ERRORS.get(code)
        self.code = code
        self.status = status or (known[0] if known else 400)
        self.message_ko = message or (known[1] if known else f"{code} 오류가 발생했습니다.")
        self.message_en = message or (known[2] if known else f"{code} error.")
        super().__init__(f"{code}: {self.message_ko}")

    def message(self, english: bool = False) -> str:
        """The message in the language the caller asked for."""
        return self.message_en if english else self.message_ko

    def to_dict(self, english: bool = False) -> dict:
        """The error object Toss returns."""
        return {"code": self.code, "message": self.message(english)}


def wants_english() -> bool:
    """True when the request asked for English (Accept-Language: en-US)."""
    return request.headers.get("Accept-Language", "").lower().startswith("en")


def error_response(error: TossError) -> Response:
    """Render a TossError as the HTTP response Toss sends."""
    response = jsonify(error.to_dict(wants_english()))
    response.status_code = error.status
    return response


def register_error_handlers(app: Flask) -> None:
    """Answer TossError, unknown routes and bad methods in Toss's error format."""
    app.register_error_handler(TossError, error_response)

    @app.errorhandler(404)
    def _not_found(_exc):
        return error_response(TossError("NOT_FOUND"))

    @app.errorhandler(405)
    def _method_not_allowed(_exc):
        return error_response(TossError("INVALID_REQUEST", status=405))
