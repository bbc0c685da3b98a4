"""Toss's side of amounts: the currencies it takes, its errors for bad amounts, its JSON numbers."""

from __future__ import annotations

from fake_common.money import AmountError, TooManyDecimals, exponent, to_major, to_minor
from fake_toss.errors import TossError

CURRENCIES = ("KRW", "USD")


def check_currency(currency: object) -> str:
    """Return the upper-case currency code, or raise INVALID_REQUEST for one we do not support."""
    code = str(currency or "KRW").upper()
    if code not in CURRENCIES:
        raise TossError("INVALID_REQUEST", f"지원하지 않는 통화입니다: {currency}")
    return code


def parse_amount(value: object, currency: str, field: str = "amount") -> int:
    """Parse a JSON number (or numeric string) into minor units; refuse fractions the currency lacks."""
    if value is None or isinstance(value, bool) or value == "":
        raise TossError("INVALID_REQUEST", f"{field} 값이 필요합니다.")
    try:
        return to_minor(value, currency)
    except TooManyDecimals as exc:
        message = f"{field} 값의 소수 자릿수가 통화와 맞지 않습니다."
        raise TossError("INVALID_REQUEST", message) from exc
    except AmountError as exc:
        raise TossError("INVALID_REQUEST", f"{field} 값이 올바르지 않습니다.") from exc


def amount_json(minor: int, currency: str) -> int | float:
    """The JSON number Toss returns: an integer for KRW, a decimal number for USD (12.5)."""
    if exponent(currency) == 0:
        return minor
    # The only float in the fake, made at the JSON boundary: cents / 100 prints exactly.
    return float(to_major(minor, currency))


def amount_text(minor: int, currency: str) -> str:
    """The amount as it appears in a redirect query: 15000, 12.5."""
    return format(to_major(minor, currency).normalize(), "f")


def vat_of(minor: int, tax_free: int) -> int:
    """Toss's vat = round((amount - taxFreeAmount) / 11), rounding halves up."""
    taxable = max(0, minor - tax_free)
    return (taxable * 2 + 11) // 22
