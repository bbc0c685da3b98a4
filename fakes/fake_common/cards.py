"""The test-card table both fakes share: a card number decides the outcome of a payment."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone

APPROVED = "approved"
DECLINED = "declined"
INSUFFICIENT_FUNDS = "insufficient_funds"
EXPIRED = "expired"
BILLING_DECLINES_LATER = "billing_declines_later"
DECLINES_AT_CONFIRM = "declines_at_confirm"
INVALID_NUMBER = "invalid_number"

KST = timezone(timedelta(hours=9))

# What each outcome does, for people (the README's test-card table).
OUTCOMES: dict[str, str] = {
    APPROVED: "payments and billing keys succeed",
    DECLINED: "the card company refuses the payment; billing key issue fails",
    INSUFFICIENT_FUNDS: "declined for insufficient funds / limit; billing key issue fails",
    EXPIRED: "declined as an expired card; billing key issue fails",
    BILLING_DECLINES_LATER: (
        "payments and billing key issue succeed; every later charge with the billing key"
        " (iamport `again` and schedules, Toss `POST /v1/billing/{billingKey}`) declines"
        " for insufficient funds"
    ),
    DECLINES_AT_CONFIRM: (
        "the window authenticates it; Toss's confirm (and a Toss billing charge) declines it with"
        " `{code}` and the payment becomes `ABORTED` with `failure`; iamport approves it"
        " (no confirm step)"
    ),
    INVALID_NUMBER: "refused as a wrong card number",
}


@dataclass(frozen=True)
class Card:
    """A test card: its number, what it does, and the card details a gateway reports."""

    number: str
    outcome: str
    reason: str
    reason_ko: str
    brand: str = "VISA"
    issuer_name: str = "신한카드"
    issuer_code: str = "366"
    card_type: int = 0  # 0 credit, 1 check (iamport's encoding)
    at_confirm: str = ""  # DECLINES_AT_CONFIRM: the code Toss's confirm declines it with

    @property
    def digits(self) -> str:
        """The number without spaces or dashes."""
        return re.sub(r"\D", "", self.number)

    @property
    def masked(self) -> str:
        """The number as gateways show it: first 6, last 4, the rest masked (e.g. 424242******4242)."""
        d = self.digits
        return d[:6] + "*" * max(0, len(d) - 10) + d[-4:]

    @property
    def approves_now(self) -> bool:
        """True when a payment (or billing key issue) with this card succeeds."""
        return self.outcome in (APPROVED, BILLING_DECLINES_LATER)

    @property
    def approves_later(self) -> bool:
        """True when later charges with a billing key of this card succeed."""
        return self.outcome == APPROVED

    def to_dict(self) -> dict:
        """The card as a JSON-ready dict."""
        return asdict(self) | {"digits": self.digits, "masked": self.masked}


TABLE: list[Card] = [
    Card("4242 4242 4242 4242", APPROVED, "Approved", "승인", "VISA", "신한카드", "366"),
    Card("4111 1111 1111 1111", APPROVED, "Approved", "승인", "VISA", "KB국민카드", "381"),
    Card("5555 5555 5555 4444", APPROVED, "Approved", "승인", "MASTER", "현대카드", "367"),
    Card(
        "4000 0000 0000 0002",
        DECLINED,
        "Card declined",
        "카드사에서 거절된 거래입니다.",
        "VISA",
        "삼성카드",
        "365",
    ),
    Card(
        "4000 0000 0000 9995",
        INSUFFICIENT_FUNDS,
        "Insufficient funds or limit exceeded",
        "한도초과 혹은 잔액부족으로 결제에 실패했습니다.",
        "VISA",
        "하나카드",
        "374",
    ),
    Card(
        "4000 0000 0000 0069",
        EXPIRED,
        "Expired card",
        "유효기간이 만료된 카드입니다.",
        "VISA",
        "롯데카드",
        "368",
    ),
    Card(
        "4000 0000 0000 0341",
        BILLING_DECLINES_LATER,
        "Billing key issues; later charges decline (insufficient funds)",
        "한도초과 혹은 잔액부족으로 결제에 실패했습니다.",
        "VISA",
        "BC카드",
        "361",
    ),
    *(
        Card(
            number,
            DECLINES_AT_CONFIRM,
            f"Authenticates; declined at confirm ({code})",
            reason_ko,
            "VISA",
            issuer,
            issuer_code,
            at_confirm=code,
        )
        for number, code, reason_ko, issuer, issuer_code in (
            (
                "4000 0000 0000 0119",
                "REJECT_CARD_PAYMENT",
                "승인 단계에서 거절: 한도초과/잔액부족",
                "하나카드",
                "374",
            ),
            (
                "4000 0000 0000 0127",
                "REJECT_CARD_COMPANY",
                "승인 단계에서 거절: 카드사 거절",
                "삼성카드",
                "365",
            ),
            (
                "4000 0000 0000 0135",
                "EXCEED_MAX_DAILY_PAYMENT_COUNT",
                "승인 단계에서 거절: 하루 결제 횟수 초과",
                "현대카드",
                "367",
            ),
            (
                "4000 0000 0000 0143",
                "INVALID_CARD_EXPIRATION",
                "승인 단계에서 거절: 유효기간 오류",
                "롯데카드",
                "368",
            ),
        )
    ),
]

_BY_DIGITS = {card.digits: card for card in TABLE}
_WELL_FORMED = re.compile(r"^\d{13,19}$")


def normalize(number: str | None) -> str:
    """Strip spaces and dashes from a card number."""
    return re.sub(r"[\s-]", "", number or "")


def lookup(number: str | None) -> Card:
    """Return the test card for number; unknown well-formed numbers approve, others are invalid."""
    digits = normalize(number)
    if digits in _BY_DIGITS:
        return _BY_DIGITS[digits]
    if _WELL_FORMED.match(digits):
        return Card(digits, APPROVED, "Approved", "승인", "VISA", "신한카드", "366")
    return Card(
        digits or "-",
        INVALID_NUMBER,
        "Invalid card number",
        "카드번호를 다시 확인해주세요.",
    )


def installment_months(value: object) -> int:
    """The window's 할부 choice: 0 (일시불) or 2 to 12 months; anything else is 일시불."""
    try:
        months = int(str(value or 0))
    except ValueError:
        return 0
    return months if 2 <= months <= 12 else 0


def parse_expiry(value: object) -> tuple[int, int] | None:
    """(year, month) of an expiry written YYYY-MM, YYYYMM, MM/YYYY, MM/YY or MMYY; else None."""
    digits = re.sub(r"\D", "", str(value or ""))
    if len(digits) == 6:
        year, month = int(digits[:4]), int(digits[4:])
        if not 1 <= month <= 12:  # MMYYYY
            month, year = int(digits[:2]), int(digits[2:])
    elif len(digits) == 4:
        month, year = int(digits[:2]), 2000 + int(digits[2:])
    else:
        return None
    return year, month


def expiry_from_fields(year: object, month: object) -> tuple[int, int] | None:
    """(year, month) from separate "YY"/"YYYY" and "MM" fields; None when malformed."""
    try:
        y, m = int(str(year).strip()), int(str(month).strip())
    except (TypeError, ValueError):
        return None
    if y < 100:
        y += 2000
    if not 1 <= m <= 12:
        return None
    return y, m


def is_expired(expiry: tuple[int, int] | None, now: float) -> bool:
    """True when the expiry month lies before the month of now (KST); an unknown expiry is not."""
    if expiry is None:
        return False
    today = datetime.fromtimestamp(now, KST)
    return expiry < (today.year, today.month)


def decline(
    card: Card, expiry: tuple[int, int] | None, now: float, *, later: bool = False
) -> str | None:
    """The outcome that refuses this card now (or, with later, a billing-key charge), else None.

    One order for both fakes: a wrong or expired card number, then a past expiry date, then the
    card company's refusal, then insufficient funds (which later charges of a
    billing_declines_later card also get).
    """
    if card.outcome in (INVALID_NUMBER, EXPIRED):
        return card.outcome
    if is_expired(expiry, now):
        return EXPIRED
    if card.outcome == DECLINED:
        return DECLINED
    if card.outcome == INSUFFICIENT_FUNDS or (later and not card.approves_later):
        return INSUFFICIENT_FUNDS
    return None


def markdown_table() -> str:
    """The test-card table in Markdown, exactly as fakes/README.md shows it."""
    other = lookup("1" * 16)
    rows = [
        "| card number | outcome | brand, issuer | what happens |",
        "|---|---|---|---|",
        *(
            f"| {card.number} | {card.outcome} | {card.brand}, {card.issuer_name} "
            f"| {OUTCOMES[card.outcome].replace('{code}', card.at_confirm)} |"
            for card in TABLE
        ),
        f"| any other 13–19 digits | {other.outcome} | {other.brand}, {other.issuer_name} "
        f"| {OUTCOMES[other.outcome]} |",
        f"| anything else | {INVALID_NUMBER} | — | {OUTCOMES[INVALID_NUMBER]} |",
    ]
    return "\n".join(rows)
