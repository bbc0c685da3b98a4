"""Checkout API for the browser (plain JSON)."""

from __future__ import annotations

from flask import current_app
from flask_smorest import Blueprint
from sqlalchemy import select

from payment_backend.extensions import db
from payment_backend.models import Product
from payment_backend.money import CURRENCIES
from payment_backend.schemas.checkout import CheckoutConfigSchema

blp = Blueprint("checkout", __name__, url_prefix="/api/checkout", description="Browser checkout")


@blp.route("/config")
@blp.response(200, CheckoutConfigSchema)
def config():
    """Vendors, their SDK scripts and keys, and the catalog."""
    settings = current_app.config
    products = db.session.scalars(select(Product).where(Product.active).order_by(Product.id)).all()
    return {
        "mode": settings["PAYMENT_MODE"],
        "vendors": {
            "iamport": {
                "sdk_url": settings["IAMPORT_SDK_URL"],
                "merchant_code": settings["IAMPORT_MERCHANT_CODE"],
                "pg": settings["IAMPORT_PG"],
                "prepare": settings["IAMPORT_PREPARE"],
            },
            "toss": {
                "sdk_url": settings["TOSS_SDK_URL"],
                "client_key": settings["TOSS_CLIENT_KEY"],
            },
        },
        "products": products,
        "currencies": {code: {"exponent": c.exponent} for code, c in CURRENCIES.items()},
        "simulate_deposit": settings["PAYMENT_MODE"] != "real",
    }
