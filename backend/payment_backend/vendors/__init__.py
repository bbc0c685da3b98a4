"""The registry of gateways: each behind one interface (vendors/base.py), built from the app's settings."""

from __future__ import annotations

from flask import current_app

from payment_backend.vendors import iamport, portone, toss
from payment_backend.vendors.base import Gateway, GatewayPayment, Vendor

# One entry per gateway; nothing outside vendors/ names one.
REGISTRY: dict[str, Vendor] = {
    vendor.name: vendor for vendor in (iamport.VENDOR, toss.VENDOR, portone.VENDOR)
}
VENDORS = tuple(REGISTRY)
# The seed's service API names gateways by its own codes (vendor.code).
SEED_CODES: dict[str, str] = {vendor.name: vendor.seed_code for vendor in REGISTRY.values()}
VENDOR_BY_SEED_CODE: dict[str, str] = {code: name for name, code in SEED_CODES.items()}


def normalize(vendor: str, raw: dict) -> GatewayPayment:
    """A vendor's payment object (as the gateway sent it) in the normalized form."""
    return REGISTRY[vendor].normalize(raw)


def valid_payment_id(vendor: str, payment_id: str) -> bool:
    """Whether payment_id has the form of vendor's payment ids."""
    entry = REGISTRY.get(vendor)
    return bool(entry and entry.payment_id.fullmatch(payment_id))


def gateway(vendor: str) -> Gateway:
    """The app's client for vendor, created once per app (it caches tokens)."""
    clients = current_app.extensions.setdefault("gateways", {})
    if vendor not in clients:
        clients[vendor] = REGISTRY[vendor].connect(current_app.config)
    return clients[vendor]
