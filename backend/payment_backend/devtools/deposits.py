"""Local and test mode: a deposit into a virtual account, made by the fake gateway on request."""

from __future__ import annotations

import requests
from flask import current_app

from payment_backend.devtools.clock import FAKE_URL_SETTINGS
from payment_backend.errors import ApiError
from payment_backend.extensions import db
from payment_backend.models import Order
from payment_backend.services.order_sweep import settle_from_gateway
from payment_backend.vendors.base import GatewayError, GatewayUnavailable


def simulate_deposit(order: Order) -> Order:
    """Ask the fake gateway to deposit into the order's virtual account, then settle the order."""
    if order.payment is None or order.status != "awaiting_deposit":
        raise ApiError(409, "NOT_AWAITING_DEPOSIT", f"Order {order.id} is {order.status}.")
    base_url = current_app.config[FAKE_URL_SETTINGS[order.vendor]]
    try:
        response = requests.post(
            f"{base_url.rstrip('/')}/__control/deposit/{order.payment.vendor_payment_id}",
            timeout=10,
        )
    except requests.RequestException as exc:
        raise GatewayUnavailable(f"deposit: {exc}") from exc
    if response.status_code >= 500:
        raise GatewayUnavailable(f"deposit: HTTP {response.status_code}")
    if response.status_code != 200:
        raise GatewayError(
            f"The fake gateway refused the deposit: {response.text[:200]}",
            code=f"HTTP_{response.status_code}",
            status=response.status_code,
        )
    settle_from_gateway(order.id, actor="simulate-deposit")
    return db.session.get(Order, order.id)
