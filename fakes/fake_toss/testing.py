"""The one test client of fake Toss: its control API, its REST API called with the secret key,
and its windows submitted as a buyer; running_fake_toss starts a fresh fake in a thread."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import requests

from fake_common.server import serve_in_thread
from fake_common.testing import TIMEOUT, ControlClient
from fake_common.window_ui import TERMS_AGREED, TERMS_FIELD
from fake_toss import CLIENT_KEY, SECRET_KEY, create_app
from fake_toss.gateway import TossGateway

RETURN_BASE = "http://shop.test"


class TossTestClient(ControlClient):
    """Fake Toss at url: REST calls with a secret key (.api is that session), /__control, windows."""

    def __init__(
        self, url: str, secret_key: str = SECRET_KEY, client_key: str = CLIENT_KEY, **running
    ) -> None:
        super().__init__(url, **running)
        self.client_key = client_key
        self.secret_key = secret_key

    @property
    def api(self) -> requests.Session:
        """This thread's session with the secret key (Basic auth)."""
        session = getattr(self._local, "api", None)
        if session is None:
            session = self._local.api = requests.Session()
            session.auth = (self.secret_key, "")
        return session

    @property
    def gateway(self) -> TossGateway:
        """The fake's state (only for a fake running in this process)."""
        return super().gateway

    # -- the REST API, with the secret key ---------------------------------------------------

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        """Send a request to path with the secret key."""
        kwargs.setdefault("timeout", TIMEOUT)
        return self.api.request(method, self.url + path, **kwargs)

    def get(self, path: str, **kwargs) -> requests.Response:
        """GET path with the secret key."""
        return self.call("GET", path, **kwargs)

    def post(self, path: str, json: dict | None = None, **kwargs) -> requests.Response:
        """POST JSON to path with the secret key."""
        return self.call("POST", path, json=json, **kwargs)

    def delete(self, path: str, **kwargs) -> requests.Response:
        """DELETE path with the secret key."""
        return self.call("DELETE", path, **kwargs)

    def payment_of(self, order_id: str) -> dict | None:
        """GET /v1/payments/orders/{orderId}; None when Toss has no payment for the order."""
        response = self.get(f"/v1/payments/orders/{order_id}")
        if response.status_code == 404:
            return None
        assert response.status_code == 200, response.text
        return response.json()

    # -- fake-only ---------------------------------------------------------------------------

    def deposit(self, ident: str) -> dict:
        """The buyer pays into a virtual account (by paymentKey or orderId): the payment."""
        response = self.control("POST", f"deposit/{ident}")
        assert response.status_code == 200, response.text
        return response.json()

    # -- the windows, as a buyer -------------------------------------------------------------

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
        """Submit the payment window as a buyer would (terms agreed); the redirect's path and
        query."""
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
            TERMS_FIELD: TERMS_AGREED,  # the terms step; extra agree_terms="" leaves it unticked
            **extra,
        }
        response = self.http.post(
            self.url + "/window", data=form, allow_redirects=False, timeout=10
        )
        return redirect_of(response)

    def confirmed_card_payment(self, amount: int = 15000, order_id: str = "order-0001") -> str:
        """A card payment authenticated in the window and confirmed (DONE): its paymentKey."""
        key = self.authenticated_payment(amount=amount, order_id=order_id)["paymentKey"]
        confirmed = self.post(
            "/v1/payments/confirm", {"paymentKey": key, "orderId": order_id, "amount": amount}
        )
        assert confirmed.json()["status"] == "DONE", confirmed.text
        return key

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
            TERMS_FIELD: TERMS_AGREED,
        }
        response = self.http.post(
            self.url + "/billing-window", data=form, allow_redirects=False, timeout=10
        )
        return redirect_of(response)


def redirect_of(response: requests.Response) -> dict:
    """The path and (single-valued) query of a 303 redirect."""
    assert response.status_code == 303, (response.status_code, response.text[:500])
    location = urlsplit(response.headers["Location"])
    query = {k: v[0] for k, v in parse_qs(location.query, keep_blank_values=True).items()}
    return {"path": location.path, "query": query, "location": response.headers["Location"]}


@contextmanager
def running_fake_toss(config: dict | None = None) -> Iterator[TossTestClient]:
    """Start a fresh fake on a free port, as a test client with .app and .server; stop it after."""
    app = create_app(config)
    server = serve_in_thread(app, keep_alive=True)
    client = TossTestClient(server.url, app=app, server=server)
    try:
        yield client
    finally:
        client.close()
