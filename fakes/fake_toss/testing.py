"""Test support: run the fake Toss server in a thread and drive its API and windows over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import requests
from flask import Flask

from fake_common.server import RunningServer, serve_in_thread
from fake_toss import CLIENT_KEY, SECRET_KEY, create_app
from fake_toss.gateway import TossGateway

RETURN_BASE = "http://shop.test"


class FakeToss:
    """A fake Toss server running in a thread, with an authenticated requests session."""

    def __init__(self, app: Flask, server: RunningServer, secret_key: str = SECRET_KEY) -> None:
        self.app = app
        self.server = server
        self.url = server.url
        self.client_key = CLIENT_KEY
        self.api = requests.Session()
        self.api.auth = (secret_key, "")

    @property
    def gateway(self) -> TossGateway:
        """The fake's state."""
        return self.app.extensions["fake_toss"]

    def get(self, path: str, **kwargs) -> requests.Response:
        """GET path with the secret key."""
        return self.api.get(self.url + path, timeout=10, **kwargs)

    def post(self, path: str, json: dict | None = None, **kwargs) -> requests.Response:
        """POST JSON to path with the secret key."""
        return self.api.post(self.url + path, json=json, timeout=10, **kwargs)

    def delete(self, path: str, **kwargs) -> requests.Response:
        """DELETE path with the secret key."""
        return self.api.delete(self.url + path, timeout=10, **kwargs)

    def control(self, method: str, path: str, json: dict | None = None) -> requests.Response:
        """Call the control API (/__control/...)."""
        return requests.request(method, self.url + "/__control" + path, json=json, timeout=10)

    def reset(self) -> None:
        """Forget everything (state, clock offset, fault rules, webhooks)."""
        self.control("POST", "/reset").raise_for_status()

    def advance(self, seconds: float) -> None:
        """Move the fake clock forward; due expiries and webhook retries run."""
        self.control("POST", "/clock", {"advance": seconds}).raise_for_status()

    def webhooks(self, wait: float | None = None) -> list[dict]:
        """The fake's log of webhooks sent (optionally waiting for deliveries in flight)."""
        path = f"/webhooks?wait={wait}" if wait else "/webhooks"
        return self.control("GET", path).json()

    def pay_in_window(
        self,
        *,
        amount: int | float | str = 15000,
        order_id: str = "order-0001",
        order_name: str = "Coffee beans 1kg",
        method: str = "CARD",
        card_number: str = "4242 4242 4242 4242",
        bank: str = "88",
        currency: str = "KRW",
        action: str = "pay",
        **extra: str,
    ) -> dict:
        """Submit the payment window as a buyer would; return the redirect's path and query."""
        form = {
            "clientKey": self.client_key,
            "method": method,
            "amount": str(amount),
            "currency": currency,
            "orderId": order_id,
            "orderName": order_name,
            "successUrl": RETURN_BASE + "/success",
            "failUrl": RETURN_BASE + "/fail",
            "cardNumber": card_number,
            "bank": bank,
            "action": action,
            **extra,
        }
        response = requests.post(self.url + "/window", data=form, allow_redirects=False, timeout=10)
        return redirect_of(response)

    def authenticated_payment(self, **kwargs) -> dict:
        """A payment the window authenticated (IN_PROGRESS): the successUrl's query."""
        outcome = self.pay_in_window(**kwargs)
        assert outcome["path"] == "/success", outcome
        return outcome["query"]

    def register_card(
        self, customer_key: str, card_number: str = "4242424242424242", expiry: str = "12/39"
    ) -> dict:
        """Submit the billing window; return the redirect's path and query."""
        form = {
            "clientKey": self.client_key,
            "customerKey": customer_key,
            "successUrl": RETURN_BASE + "/billing/success",
            "failUrl": RETURN_BASE + "/billing/fail",
            "cardNumber": card_number,
            "expiry": expiry,
            "action": "register",
        }
        response = requests.post(
            self.url + "/billing-window", data=form, allow_redirects=False, timeout=10
        )
        return redirect_of(response)

    def close(self) -> None:
        """Stop the server and its webhook sender."""
        self.server.close()
        self.app.extensions["fake_toss_webhooks"].close()


def redirect_of(response: requests.Response) -> dict:
    """The path and (single-valued) query of a 303 redirect."""
    assert response.status_code == 303, (response.status_code, response.text[:500])
    location = urlsplit(response.headers["Location"])
    query = {k: v[0] for k, v in parse_qs(location.query, keep_blank_values=True).items()}
    return {"path": location.path, "query": query, "location": response.headers["Location"]}


@contextmanager
def running_fake(config: dict | None = None) -> Iterator[FakeToss]:
    """Start a fake Toss server on a free port for the duration of the block."""
    app = create_app(config)
    fake = FakeToss(app, serve_in_thread(app))
    try:
        yield fake
    finally:
        fake.close()
