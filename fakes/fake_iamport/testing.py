"""The one test client of fake iamport: its control API, and its REST API called as the merchant;
running_fake_iamport starts a fresh fake in a thread."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import requests

from fake_common.server import serve_in_thread
from fake_common.testing import TIMEOUT, ControlClient
from fake_iamport import create_app
from fake_iamport.gateway import DEFAULT_CONFIG, IamportGateway


class IamportTestClient(ControlClient):
    """Fake iamport at url: REST calls with a token (the merchant's), and /__control."""

    def __init__(
        self,
        url: str,
        imp_key: str = DEFAULT_CONFIG["IMP_KEY"],
        imp_secret: str = DEFAULT_CONFIG["IMP_SECRET"],
        **running,
    ) -> None:
        super().__init__(url, **running)
        self.imp_key = imp_key
        self.imp_secret = imp_secret

    @property
    def gateway(self) -> IamportGateway:
        """The fake's state (only for a fake running in this process)."""
        return super().gateway

    # -- the REST API, as the merchant -------------------------------------------------------

    def token(self) -> str:
        """A current access token."""
        response = self.http.post(
            f"{self.url}/users/getToken",
            json={"imp_key": self.imp_key, "imp_secret": self.imp_secret},
            timeout=TIMEOUT,
        )
        response.raise_for_status()
        return response.json()["response"]["access_token"]

    def call(
        self, method: str, path: str, *, auth: bool = True, sandbox: bool = True, **kwargs
    ) -> requests.Response:
        """Send a request with the token as a bare Authorization header; a GET asks for
        test-channel payments too (include_sandbox=true, as a merchant in test mode does) unless
        sandbox=False."""
        headers = dict(kwargs.pop("headers", {}) or {})
        if auth:
            headers.setdefault("Authorization", self.token())
        if sandbox and method.upper() == "GET" and isinstance(kwargs.get("params", {}), dict):
            kwargs["params"] = {"include_sandbox": "true", **kwargs.get("params", {})}
        kwargs.setdefault("timeout", TIMEOUT)
        return self.http.request(method, f"{self.url}{path}", headers=headers, **kwargs)

    def get(self, path: str, **kwargs) -> requests.Response:
        """GET path."""
        return self.call("GET", path, **kwargs)

    def post(self, path: str, json: object = None, **kwargs) -> requests.Response:
        """POST path with a JSON body."""
        return self.call("POST", path, json=json, **kwargs)

    def delete(self, path: str, **kwargs) -> requests.Response:
        """DELETE path."""
        return self.call("DELETE", path, **kwargs)

    def payment(self, imp_uid: str) -> dict:
        """GET /payments/{imp_uid}: the payment, test-channel ones included (AssertionError unless
        found)."""
        response = self.get(f"/payments/{imp_uid}")
        assert response.status_code == 200, response.text
        return response.json()["response"]

    def payments_of(self, merchant_uid: str) -> list[dict]:
        """Every payment (any status) made for a merchant_uid; [] when there is none."""
        response = self.get(f"/payments/findAll/{merchant_uid}")
        if response.status_code == 404:
            return []
        assert response.status_code == 200, response.text
        return response.json()["response"]

    def schedule(self, merchant_uid: str) -> dict | None:
        """GET /subscribe/payments/schedule/{merchant_uid}; None when there is none."""
        response = self.get(f"/subscribe/payments/schedule/{merchant_uid}")
        return None if response.status_code == 404 else response.json()["response"]

    # -- fake-only ---------------------------------------------------------------------------

    def key_in_payment(self, merchant_uid: str, amount: int = 10000) -> dict:
        """A paid key-in card payment (POST /subscribe/payments/onetime): the payment object."""
        envelope = self.post(
            "/subscribe/payments/onetime",
            json={
                "merchant_uid": merchant_uid,
                "amount": amount,
                "card_number": "4242-4242-4242-4242",
                "expiry": "2099-12",
                "birth": "900101",
                "name": "Test order",
            },
        ).json()
        assert envelope["code"] == 0 and envelope["response"]["status"] == "paid", envelope
        return envelope["response"]

    def issue_billing_key(self, customer_uid: str) -> dict:
        """A billing key issued from the test card's data (POST /subscribe/customers/{uid})."""
        issued = self.post(
            f"/subscribe/customers/{customer_uid}",
            json={"card_number": "5555-5555-5555-4444", "expiry": "2035-12", "birth": "800101"},
        ).json()
        assert issued["code"] == 0, issued
        return issued["response"]

    def approve_late(self, imp_uid: str) -> dict:
        """The PG approves a ready or failed window payment late (paid, webhook): the envelope."""
        return self.control_json("POST", f"approve/{imp_uid}")

    def deposit(self, imp_uid: str, force: bool = False) -> dict:
        """The buyer pays into a virtual account (force ignores the deadline): the API envelope."""
        return self.control_json("POST", f"deposit/{imp_uid}", {"force": force})


@contextmanager
def running_fake_iamport(config: dict | None = None) -> Iterator[IamportTestClient]:
    """Start a fresh fake on a free port, as a test client with .app and .server; stop it after."""
    app = create_app(config)
    server = serve_in_thread(app, keep_alive=True)
    client = IamportTestClient(server.url, app=app, server=server)
    try:
        yield client
    finally:
        client.close()
