"""PortOne's JSON numbers for amounts kept in minor units (parsing is in fake_common.money)."""

from __future__ import annotations

from fake_common.money import to_major


def to_wire(minor: int, currency: str) -> int | float:
    """Convert minor units to what the API returns: 15000, 12.5, 10 (whole amounts as integers)."""
    major = to_major(minor, currency)
    if major == major.to_integral_value():
        return int(major)
    return float(major)
