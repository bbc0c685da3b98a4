"""Amounts: integers in the currency's minor unit inside the fakes, decimal numbers on the wire."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

# Digits after the decimal point per currency; unknown currencies are treated like USD.
EXPONENTS = {"KRW": 0, "JPY": 0, "USD": 2, "EUR": 2}


class AmountError(ValueError):
    """An amount that is not a valid number for its currency."""


class TooManyDecimals(AmountError):
    """A number with more decimals than its currency has (10.5 KRW, 1.005 USD)."""


def exponent(currency: str) -> int:
    """Minor-unit digits of currency."""
    return EXPONENTS.get(currency.upper(), 2)


def to_minor(value: object, currency: str) -> int:
    """Convert a wire amount (12.5 USD, 15000 KRW, "15000") to minor units."""
    if isinstance(value, bool) or value is None or value == "":
        raise AmountError("amount is required")
    try:
        # str() first: a JSON 12.5 arrives as a float, whose shortest repr is the decimal sent.
        number = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise AmountError(f"amount {value!r} is not a number") from exc
    if not number.is_finite():
        raise AmountError(f"amount {value!r} is not a number")
    minor = number.scaleb(exponent(currency))
    if minor != minor.to_integral_value():
        raise TooManyDecimals(f"amount {value!r} has too many decimals for {currency}")
    return int(minor)


def to_major(minor: int, currency: str) -> Decimal:
    """Minor units as the exact amount in the currency's major unit: 1250 USD -> 12.50."""
    return Decimal(minor).scaleb(-exponent(currency))


def display(minor: int, currency: str) -> str:
    """Format for people: "15,000 KRW", "$12.50"."""
    currency = currency.upper()
    major = to_major(minor, currency)
    if currency == "USD":
        return f"${major:,.2f}"
    return f"{major:,.{exponent(currency)}f} {currency}"
