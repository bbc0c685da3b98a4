"""The API's failures: GatewayError, and its messages in one place (real ones from portone-v1.md;
the fake's own marked FAKE)."""

from __future__ import annotations

PAYMENT_NOT_FOUND = "존재하지 않는 결제정보입니다."
UNAUTHORIZED = "Unauthorized"
UNSUPPORTED_STATUS = "지원되지 않는 상태값입니다."
PREPARE_NOT_FOUND = "사전등록된 결제정보가 존재하지 않습니다."
CANCEL_NOT_FOUND = "취소할 결제건이 존재하지 않습니다."
ALREADY_CANCELLED = "이미 전액취소된 주문입니다."
CUSTOMER_NOT_FOUND = "요청하신 customer_uid({uid})로 등록된 정보를 찾을 수 없습니다."
CUSTOMER_ISSUE_FAILED = "카드정보 인증 및 빌키 발급에 실패하였습니다. {reason}"
ONETIME_AUTH_FAILED = "카드정보 인증에 실패하였습니다. {reason}"
AGAIN_UNKNOWN_CUSTOMER = "등록되지 않은 구매자입니다."
SCHEDULE_UNKNOWN_CUSTOMER = "등록된 고객정보가 없습니다."
UNSCHEDULE_NOTHING = "취소할 예약결제 기록이 존재하지 않습니다."
USER_CANCELLED = "사용자가 결제를 취소하셨습니다"
# The seed's wording for a virtual-account refund without an account.
VBANK_REFUND_ACCOUNT_REQUIRED = "가상계좌 취소는 계좌번호, 예금주, 은행명을 입력해야 합니다."

# FAKE: no public source gives these texts; clients must branch on code != 0 only.
CANCEL_OVER_BALANCE = "취소요청금액({requested})이 취소가능금액({balance})을 초과합니다."
CHECKSUM_MISMATCH = (
    "[취소실패] 요청하신 checksum({checksum})이 취소가능금액({balance})과 일치하지 않습니다."
)
CANCEL_NOT_PAID = "결제완료 상태가 아닌 결제건은 취소할 수 없습니다. (status: {status})"
CANCEL_BAD_AMOUNT = "취소금액은 0보다 커야 합니다."
ALREADY_PAID = "이미 결제가 완료된 merchant_uid({merchant_uid})입니다."
PREPARED_AMOUNT_MISMATCH = (
    "사전등록된 결제금액({prepared})과 요청금액({requested})이 일치하지 않습니다."
)
PREPARE_EXISTS = (
    "이미 사전등록된 merchant_uid({merchant_uid})입니다. PUT /payments/prepare로 변경하세요."
)
SCHEDULE_EXISTS = "이미 예약된 merchant_uid({merchant_uid})입니다."
SCHEDULE_NOT_FOUND = "예약결제 정보가 존재하지 않습니다."
MISSING_PARAMETER = "{name} 파라미터가 누락되었습니다."
INVALID_PARAMETER = "{name} 파라미터가 올바르지 않습니다. {detail}"
# FAKE: the control route's refusal (no real API approves a payment late on request).
NOT_LATE_APPROVABLE = (
    "결제대기 또는 결제실패 상태의 결제창 카드 결제만 승인할 수 있습니다. ({status})"
)
NOT_A_READY_VBANK = "입금대기 상태의 가상계좌 결제건이 아닙니다."
VBANK_EXPIRED = "입금기한이 지난 가상계좌입니다."
WRONG_MERCHANT_CODE = "가맹점 식별코드({code})가 올바르지 않습니다."

# PG decline codes and texts for the test cards (FAKE codes; F113 text is the real one).
DECLINES = {
    "invalid_number": ("F113", "거래거절 카드번호틀림"),
    "expired": ("F112", "유효기간 경과 카드"),
    "declined": ("F111", "거래거절 카드사 승인거절"),
    "insufficient_funds": ("F0004", "한도초과 혹은 잔액부족"),
}


class GatewayError(Exception):
    """A failure the API answers in its envelope: HTTP status, code and message."""

    def __init__(self, message: str, code: int = 1, http_status: int = 200) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.http_status = http_status


def missing(name: str) -> GatewayError:
    """A required parameter was not sent."""
    return GatewayError(MISSING_PARAMETER.format(name=name), code=-1, http_status=400)


def invalid(name: str, detail: str = "") -> GatewayError:
    """A parameter could not be understood."""
    return GatewayError(INVALID_PARAMETER.format(name=name, detail=detail), -1, 400)
