"""Amounts: integers in the currency's minor unit inside, Toss's JSON numbers outside."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from fake_toss.errors import TossError

# Minor-unit exponent per supported currency.
CURRENCIES: dict[str, int] = {"KRW": 0, "USD": 2}


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
        # str() first: a JSON 12.5 arrives as a float, whose shortest repr is the decimal sent.
        decimal = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise TossError("INVALID_REQUEST", f"{field} 값이 올바르지 않습니다.") from exc
    if not decimal.is_finite():
        raise TossError("INVALID_REQUEST", f"{field} 값이 올바르지 않습니다.")
    minor = decimal.scaleb(CURRENCIES[currency])
    if minor != minor.to_integral_value():
        raise TossError("INVALID_REQUEST", f"{field} 값의 소수 자릿수가 통화와 맞지 않습니다.")
    return int(minor)


def amount_json(minor: int, currency: str) -> int | float:
    """The JSON number Toss returns: an integer for KRW, a decimal number for USD (12.5)."""
    exponent = CURRENCIES[currency]
    if exponent == 0:
        return minor
    # The only float in the fake, made at the JSON boundary: cents / 100 prints exactly.
    return float(Decimal(minor).scaleb(-exponent))


def amount_text(minor: int, currency: str) -> str:
    """The amount as it appears in a redirect query: 15000, 12.5."""
    return format(Decimal(minor).scaleb(-CURRENCIES[currency]).normalize(), "f")


def amount_display(minor: int, currency: str) -> str:
    """The amount as a person reads it in the window: "15,000 KRW", "$12.50"."""
    if currency == "USD":
        return f"${Decimal(minor).scaleb(-2):,.2f}"
    return f"{minor:,} {currency}"


def vat_of(minor: int, tax_free: int) -> int:
    """Toss's vat = round((amount - taxFreeAmount) / 11), rounding halves up."""
    taxable = max(0, minor - tax_free)
    return (taxable * 2 + 11) // 22
