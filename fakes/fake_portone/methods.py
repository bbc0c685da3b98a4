"""Payment methods as the Payment object shows them: cards, virtual accounts, easy pay; bank,
card-company and easy-pay provider codes."""

from __future__ import annotations

import secrets

from fake_common import cards
from fake_portone.models import iso

# REST Bank codes (a subset) and the Korean names the window shows.
BANKS: dict[str, str] = {
    "KOOKMIN": "KB국민은행",
    "SHINHAN": "신한은행",
    "WOORI": "우리은행",
    "HANA": "하나은행",
    "NONGHYUP": "NH농협은행",
    "IBK": "IBK기업은행",
    "K_BANK": "케이뱅크",
    "KAKAO": "카카오뱅크",
    "TOSS": "토스뱅크",
}
# The browser SDK's bank spellings (virtualAccount.bankCode) for those banks.
BROWSER_BANKS: dict[str, str] = {
    "KOOKMIN_BANK": "KOOKMIN",
    "SHINHAN_BANK": "SHINHAN",
    "WOORI_BANK": "WOORI",
    "HANA_BANK": "HANA",
    "NH_NONGHYUP_BANK": "NONGHYUP",
    "INDUSTRIAL_BANK_OF_KOREA": "IBK",
    "K_BANK": "K_BANK",
    "KAKAO_BANK": "KAKAO",
    "TOSS_BANK": "TOSS",
}
# The shared test cards' issuers as V2 card-company codes.
CARD_COMPANIES: dict[str, str] = {
    "신한카드": "SHINHAN_CARD",
    "KB국민카드": "KOOKMIN_CARD",
    "현대카드": "HYUNDAI_CARD",
    "삼성카드": "SAMSUNG_CARD",
    "하나카드": "HANA_CARD",
    "롯데카드": "LOTTE_CARD",
    "BC카드": "BC_CARD",
}
EASY_PAY_PROVIDERS: dict[str, str] = {
    "KAKAOPAY": "카카오페이",
    "NAVERPAY": "네이버페이",
    "TOSSPAY": "토스페이",
}


def bank_code(value: object) -> str | None:
    """A REST bank code from either spelling (KOOKMIN, KOOKMIN_BANK, BANK_KOOKMIN_BANK)."""
    if not isinstance(value, str):
        return None
    code = value.upper().removeprefix("BANK_")
    code = BROWSER_BANKS.get(code, code)
    return code if code in BANKS else None


def easy_pay_provider(value: object) -> str | None:
    """KAKAOPAY, NAVERPAY or TOSSPAY (EASY_PAY_PROVIDER_ prefix allowed); None otherwise."""
    if not isinstance(value, str):
        return None
    code = value.upper().removeprefix("EASY_PAY_PROVIDER_")
    return code if code in EASY_PAY_PROVIDERS else None


def card_json(card: cards.Card) -> dict:
    """The Card object of a test card (number masked)."""
    company = CARD_COMPANIES.get(card.issuer_name, "SHINHAN_CARD")
    return {
        "publisher": company,
        "issuer": company,
        "brand": card.brand if card.brand in ("VISA", "MASTER", "AMEX", "JCB") else "LOCAL",
        "type": "CREDIT",
        "ownerType": "PERSONAL",
        "bin": card.digits[:6],
        "name": card.issuer_name,
        "number": card.masked,
    }


def card_method(card: cards.Card, installment_month: int = 0) -> dict:
    """PaymentMethodCard for an approved card payment."""
    return {
        "type": "PaymentMethodCard",
        "card": card_json(card),
        "approvalNumber": f"{secrets.randbelow(10**8):08d}",
        "installment": {"month": installment_month, "isInterestFree": False},
        "pointUsed": False,
    }


def easy_pay_method(provider: str, card: cards.Card) -> dict:
    """PaymentMethodEasyPay paid with a card in the provider's wallet."""
    inner = card_method(card)
    return {"type": "PaymentMethodEasyPay", "provider": provider, "easyPayMethod": inner}


def virtual_account_method(bank: str, holder: str, issued_at: float, expires_at: float) -> dict:
    """PaymentMethodVirtualAccount for a newly issued account."""
    return {
        "type": "PaymentMethodVirtualAccount",
        "bank": bank,
        "accountNumber": "X" + "".join(str(secrets.randbelow(10)) for _ in range(13)),
        "accountType": "NORMAL",
        "remitteeName": holder,
        "expiredAt": iso(expires_at),
        "issuedAt": iso(issued_at),
    }


def billing_key_card_method(card: cards.Card) -> dict:
    """BillingKeyPaymentMethodCard for a billing key's card."""
    return {"type": "BillingKeyPaymentMethodCard", "card": card_json(card)}
