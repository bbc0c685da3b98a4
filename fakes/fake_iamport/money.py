"""Amounts: integers in the currency's minor unit inside the fake, JSON numbers on the wire."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

# Digits after the decimal point per currency; unknown currencies are treated like USD.
EXPONENTS = {"KRW": 0, "JPY": 0, "USD": 2, "EUR": 2}


class AmountError(ValueError):
    """An amount that is not a valid number for its currency."""


def exponent(currency: str) -> int:
    """Minor-unit digits of currency."""
    return EXPONENTS.get(currency.upper(), 2)


def to_minor(value: object, currency: str) -> int:
    """Convert a wire amount (12.5 USD, 15000 KRW, "15000") to minor units."""
    if isinstance(value, bool) or value is None or value == "":
        raise AmountError("amount is required")
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise AmountError(f"amount {value!r} is not a number") from exc
    scaled = number * (10 ** exponent(currency))
    if scaled != scaled.to_integral_value():
        raise AmountError(f"amount {value!r} has too many decimals for {currency}")
    return int(scaled)


def to_wire(minor: int, currency: str) -> int | float:
    """Convert minor units back to what the API returns: 15000, 12.5, 10."""
    digits = exponent(currency)
    if digits == 0:
        return minor
    whole, rest = divmod(minor, 10**digits)
    return whole if rest == 0 else float(Decimal(minor) / (10**digits))


def display(minor: int, currency: str) -> str:
    """Format for people: "15,000 KRW", "$12.50"."""
    currency = currency.upper()
    if currency == "USD":
        return f"${Decimal(minor) / 100:,.2f}"
    digits = exponent(currency)
    if digits == 0:
        return f"{minor:,} {currency}"
    return f"{Decimal(minor) / (10**digits):,.{digits}f} {currency}"
