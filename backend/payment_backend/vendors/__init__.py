"""Gateway clients behind one interface, built from the app's settings."""

from __future__ import annotations

from flask import current_app

from payment_backend.vendors.base import Gateway
from payment_backend.vendors.iamport import IamportClient
from payment_backend.vendors.toss import TossClient

VENDORS = ("iamport", "toss")


def gateway(vendor: str) -> Gateway:
    """The app's client for vendor, created once per app (it caches tokens)."""
    clients = current_app.extensions.setdefault("gateways", {})
    if vendor not in clients:
        config = current_app.config
        if vendor == "iamport":
            clients[vendor] = IamportClient(
                config["IAMPORT_API_URL"], config["IAMPORT_API_KEY"], config["IAMPORT_API_SECRET"]
            )
        elif vendor == "toss":
            clients[vendor] = TossClient(config["TOSS_API_URL"], config["TOSS_SECRET_KEY"])
        else:
            raise KeyError(vendor)
    return clients[vendor]
