"""Currencies and conversion between minor units and the gateways' decimal amounts."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Currency:
    """An ISO 4217 currency with its number of decimal places."""

    code: str
    exponent: int


CURRENCIES = {"KRW": Currency("KRW", 0), "USD": Currency("USD", 2)}


def to_major(amount: int, currency: str) -> int | float:
    """Minor units -> the gateway's JSON number (KRW 15000 -> 15000; USD 1250 -> 12.5)."""
    exponent = CURRENCIES[currency].exponent
    if exponent == 0:
        return amount
    return float(Decimal(amount).scaleb(-exponent))


def to_minor(value: int | float | str | Decimal, currency: str) -> int:
    """A gateway's decimal amount -> minor units, exactly (12.5 USD -> 1250)."""
    exponent = CURRENCIES[currency].exponent
    scaled = Decimal(str(value)).scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} {currency} has more than {exponent} decimal places")
    return int(scaled)


def format_amount(amount: int, currency: str) -> str:
    """Minor units as people read them: 30,000 KRW; 12.50 USD."""
    exponent = CURRENCIES[currency].exponent if currency in CURRENCIES else 0
    major = Decimal(amount).scaleb(-exponent)
    return f"{major:,.{exponent}f} {currency}"
