"""Gateway clients behind one interface, built from the app's settings."""

from __future__ import annotations

import re

from flask import current_app

from payment_backend.vendors import iamport, toss
from payment_backend.vendors.base import Gateway, GatewayPayment
from payment_backend.vendors.iamport import IamportClient
from payment_backend.vendors.toss import TossClient

VENDORS = ("iamport", "toss")

# What each gateway's payment ids look like (reference sheets): anything else never reaches it.
PAYMENT_ID_FORMATS = {
    "iamport": re.compile(r"imp_[0-9A-Za-z]{1,28}"),  # imp_448280090638, at most 32 characters
    "toss": re.compile(r"[0-9A-Za-z_-]{1,200}"),  # 48 random characters, or tviva2023...vM4Q2
}


NORMALIZERS = {"iamport": iamport.normalize, "toss": toss.normalize}


def normalize(vendor: str, raw: dict) -> GatewayPayment:
    """A vendor's payment object (as the gateway sent it) in the normalized form."""
    return NORMALIZERS[vendor](raw)


def valid_payment_id(vendor: str, payment_id: str) -> bool:
    """Whether payment_id has the form of vendor's payment ids."""
    pattern = PAYMENT_ID_FORMATS.get(vendor)
    return bool(pattern and pattern.fullmatch(payment_id))


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
