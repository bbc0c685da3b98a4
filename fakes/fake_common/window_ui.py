"""What the three fakes' payment windows share: the terms step, the cash-receipt choice and the
banks a buyer picks from, so the windows read the same whichever gateway opened them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Flask

from fake_common import cards

# The terms checkbox every window posts; a submit without it is refused (the button stays
# disabled in a browser until it is ticked).
TERMS_FIELD = "agree_terms"
TERMS_AGREED = "yes"
TERMS_LABEL = "I agree to the required terms"  # the checkbox's label (after its Korean text)
TERMS_REFUSED = "필수 약관에 동의해야 결제할 수 있습니다. (Agree to the required terms to pay.)"

CASH_RECEIPT_TYPE_FIELD = "cash_receipt_type"
CASH_RECEIPT_NUMBER_FIELD = "cash_receipt_number"
INCOME_DEDUCTION = "소득공제"  # a person: a phone number
EXPENSE_PROOF = "지출증빙"  # a business: a business registration number
NO_RECEIPT = "미발행"
CASH_RECEIPT_FIELDS = (CASH_RECEIPT_TYPE_FIELD, CASH_RECEIPT_NUMBER_FIELD)
CASH_RECEIPT_TYPES = (NO_RECEIPT, INCOME_DEDUCTION, EXPENSE_PROOF)


@dataclass(frozen=True)
class WindowBank:
    """A bank as every window names it, with its code at each gateway."""

    name: str
    iamport: str
    toss: str
    portone: str


# One list for the three windows (same names, same order); codes: PortOne V1 (3 digits),
# Toss (2 digits), PortOne V2 (Bank enum).
BANKS: tuple[WindowBank, ...] = (
    WindowBank("KB국민은행", "004", "06", "KOOKMIN"),
    WindowBank("신한은행", "088", "88", "SHINHAN"),
    WindowBank("우리은행", "020", "20", "WOORI"),
    WindowBank("하나은행", "081", "81", "HANA"),
    WindowBank("NH농협은행", "011", "11", "NONGHYUP"),
    WindowBank("IBK기업은행", "003", "03", "IBK"),
    WindowBank("카카오뱅크", "090", "90", "KAKAO"),
    WindowBank("케이뱅크", "089", "89", "K_BANK"),
    WindowBank("토스뱅크", "092", "92", "TOSS"),
)


def bank_choices(gateway: str) -> dict[str, str]:
    """The window's bank picker for one gateway ("iamport", "toss", "portone"): code -> name."""
    return {getattr(bank, gateway): bank.name for bank in BANKS}


def card_companies() -> dict[str, str]:
    """The card-company picker: each test card's company -> its first approved test card."""
    picked: dict[str, cards.Card] = {}
    for card in cards.TABLE:
        held = picked.get(card.issuer_name)
        if held is None or (held.outcome != cards.APPROVED and card.outcome == cards.APPROVED):
            picked[card.issuer_name] = card
    return {name: card.number for name, card in picked.items()}


def agreed(form) -> bool:
    """True when the buyer ticked the window's terms box."""
    return form.get(TERMS_FIELD) == TERMS_AGREED


@dataclass(frozen=True)
class CashReceiptRequest:
    """The buyer's cash-receipt choice: 소득공제 with a phone, or 지출증빙 with a business number."""

    type: str
    number: str

    @property
    def corporate(self) -> bool:
        """True for 지출증빙 (a business's receipt)."""
        return self.type == EXPENSE_PROOF


class CashReceiptInvalid(ValueError):
    """The buyer's cash-receipt number does not fit the chosen type; the message is shown."""


def cash_receipt_request(form) -> CashReceiptRequest | None:
    """The cash receipt the buyer asked for in the window; None for 미발행 or no choice."""
    kind = (form.get(CASH_RECEIPT_TYPE_FIELD) or NO_RECEIPT).strip()
    if kind == NO_RECEIPT:
        return None
    if kind not in CASH_RECEIPT_TYPES:
        raise CashReceiptInvalid("현금영수증 종류를 선택해주세요. (Choose a cash-receipt type.)")
    digits = re.sub(r"[\s-]", "", form.get(CASH_RECEIPT_NUMBER_FIELD) or "")
    if kind == INCOME_DEDUCTION and not re.fullmatch(r"01[016789]\d{7,8}", digits):
        raise CashReceiptInvalid(
            "소득공제용 휴대폰 번호를 확인해주세요. (Enter a mobile phone number, 010…)"
        )
    if kind == EXPENSE_PROOF and not re.fullmatch(r"\d{10}", digits):
        raise CashReceiptInvalid(
            "지출증빙용 사업자등록번호 10자리를 확인해주세요. (Enter a 10-digit business number.)"
        )
    return CashReceiptRequest(kind, digits)


def mask_number(number: str) -> str:
    """A cash-receipt number as receipts print it: the middle digits starred."""
    if len(number) <= 4:
        return number
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def register_window_templates(app: Flask) -> None:
    """Make the shared window partials (common/*.html) includable from every fake's templates."""
    folder = Path(__file__).with_name("templates")
    app.register_blueprint(Blueprint("fake_common_ui", __name__, template_folder=str(folder)))
