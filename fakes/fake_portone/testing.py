"""The one test client of fake PortOne V2: its control API, its REST API with the API secret,
its window submitted as a buyer; running_fake_portone starts a fresh fake in a thread."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import requests

from fake_common.server import serve_in_thread
from fake_common.testing import TIMEOUT, ControlClient
from fake_common.window_ui import CASH_RECEIPT_FIELDS, TERMS_AGREED, TERMS_FIELD
from fake_portone import API_SECRET, CHANNEL_KEY, STORE_ID, WEBHOOK_SECRET, create_app
from fake_portone.gateway import PortOneGateway

RETURN_URL = "http://127.0.0.1:9/return"  # never fetched: redirects are read, not followed
APPROVED = "4242424242424242"


class PortOneTestClient(ControlClient):
    """Fake PortOne V2 at url: REST calls with the API secret (.api), /__control, the window."""

    def __init__(
        self,
        url: str,
        api_secret: str = API_SECRET,
        webhook_secret: str = WEBHOOK_SECRET,
        store_id: str = STORE_ID,
        channel_key: str = CHANNEL_KEY,
        **running,
    ) -> None:
        super().__init__(url, **running)
        self.api_secret = api_secret
        self.webhook_secret = webhook_secret
        self.store_id = store_id
        self.channel_key = channel_key

    @property
    def api(self) -> requests.Session:
        """This thread's session with `Authorization: PortOne <API secret>`."""
        session = getattr(self._local, "api", None)
        if session is None:
            session = self._local.api = requests.Session()
            session.headers["Authorization"] = f"PortOne {self.api_secret}"
        return session

    @property
    def gateway(self) -> PortOneGateway:
        """The fake's state (only for a fake running in this process)."""
        return super().gateway

    def sdk(self):
        """The official server SDK (`portone-server-sdk`) pointed at this fake: a PortOneClient
        (made once: building one takes a second)."""
        import portone_server_sdk as portone

        if getattr(self, "_sdk", None) is None:
            self._sdk = portone.PortOneClient(secret=self.api_secret, base_url=self.url)
        return self._sdk

    # -- the REST API, with the API secret ---------------------------------------------------

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        """Send a request to path with the API secret."""
        kwargs.setdefault("timeout", TIMEOUT)
        return self.api.request(method, self.url + path, **kwargs)

    def get(self, path: str, **kwargs) -> requests.Response:
        """GET path with the API secret."""
        return self.call("GET", path, **kwargs)

    def post(self, path: str, json: dict | None = None, **kwargs) -> requests.Response:
        """POST JSON to path with the API secret."""
        return self.call("POST", path, json=json if json is not None else {}, **kwargs)

    def delete(self, path: str, **kwargs) -> requests.Response:
        """DELETE path with the API secret."""
        return self.call("DELETE", path, **kwargs)

    def payment(self, payment_id: str) -> dict | None:
        """GET /payments/{paymentId}; None when PortOne has no such payment."""
        response = self.get(f"/payments/{requests.utils.quote(payment_id, safe='')}")
        if response.status_code == 404:
            return None
        assert response.status_code == 200, response.text
        return response.json()

    def issue_billing_key(self, card_number: str = APPROVED, expiry: str = "12/39") -> str:
        """POST /billing-keys with a card: the billing key (fails the test on a refusal)."""
        month, year = expiry.split("/")
        credential = {"number": card_number, "expiryYear": year, "expiryMonth": month}
        response = self.post("/billing-keys", {"method": {"card": {"credential": credential}}})
        assert response.status_code == 200, response.text
        return response.json()["billingKeyInfo"]["billingKey"]

    # -- fake-only ---------------------------------------------------------------------------

    def deposit(self, payment_id: str, *, force: bool = False) -> dict:
        """The buyer pays into a virtual account: the Payment (fails the test unless 200)."""
        response = self.control("POST", f"deposit/{payment_id}", {"force": force})
        assert response.status_code == 200, response.text
        return response.json()

    def run_schedules(self) -> int:
        """Charge the schedules that are due now; how many ran."""
        return self.control_json("POST", "schedules/run")["ran"]

    def verify(self, webhook: dict, secret: str | None = None):
        """A delivered webhook (a receiver's record: raw, headers) through the SDK's verify."""
        from portone_server_sdk import webhook as portone_webhook

        headers = {k.lower(): v for k, v in webhook["headers"].items()}
        return portone_webhook.verify(secret or self.webhook_secret, webhook["raw"], headers)

    # -- the window, as a buyer --------------------------------------------------------------

    def payment_request(self, payment_id: str, amount: int = 15000, **extra) -> dict:
        """requestPayment's parameters for this fake's store and channel (a card by default)."""
        return {
            "storeId": self.store_id,
            "channelKey": self.channel_key,
            "paymentId": payment_id,
            "orderName": "Coffee beans 1kg",
            "totalAmount": amount,
            "currency": "KRW",
            "payMethod": "CARD",
            "redirectUrl": RETURN_URL,
            **extra,
        }

    def open_window(self, kind: str, request: dict) -> requests.Response:
        """GET the window the SDK opens in redirect mode (the page, or a redirect on refusal)."""
        params = {"kind": kind, "request": json.dumps(request), "mode": "redirect"}
        return self.http.get(
            self.url + "/v2/window", params=params, allow_redirects=False, timeout=TIMEOUT
        )

    def submit_window(self, kind: str, request: dict, action: str = "pay", **form: str) -> dict:
        """Open the window, agree to the terms (unless form says agree_terms="") and press
        Pay/Register (action "pay") or Cancel: the redirect query."""
        page = self.open_window(kind, request)
        if page.status_code in (301, 302, 303):
            return query_of(page)
        assert page.status_code == 200, page.text[:500]
        session = re.search(r"/v2/window/([0-9a-f]+)/pay", page.text)
        assert session, page.text[:500]
        route = "pay" if action == "pay" else "cancel"
        response = self.http.post(
            f"{self.url}/v2/window/{session.group(1)}/{route}",
            data={TERMS_FIELD: TERMS_AGREED, **form},
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        return query_of(response)

    def pay_in_window(
        self, payment_id: str, amount: int = 15000, *, card_number: str = APPROVED, **extra
    ) -> dict:
        """requestPayment in redirect mode and Pay: the redirectUrl's query (paymentId, txId, ...).

        extra goes into the request (payMethod="VIRTUAL_ACCOUNT", ...); bank=, provider=,
        installment=, agree_terms= and cash_receipt_type/number= go into the window's form.
        """
        form = {"card_number": card_number}
        for name in ("bank", "provider", "installment", TERMS_FIELD, *CASH_RECEIPT_FIELDS):
            if name in extra:
                form[name] = extra.pop(name)
        return self.submit_window(
            "payment", self.payment_request(payment_id, amount, **extra), **form
        )

    def billing_key_in_window(self, card_number: str = APPROVED, expiry: str = "12/39") -> dict:
        """requestIssueBillingKey in redirect mode and Register card: the redirect's query."""
        request = {
            "storeId": self.store_id,
            "channelKey": self.channel_key,
            "billingKeyMethod": "CARD",
            "redirectUrl": RETURN_URL,
        }
        return self.submit_window("issue", request, card_number=card_number, expiry=expiry)


def query_of(response: requests.Response) -> dict:
    """The (single-valued) query of a redirect."""
    assert response.status_code in (302, 303), (response.status_code, response.text[:500])
    query = parse_qs(urlsplit(response.headers["Location"]).query, keep_blank_values=True)
    return {k: v[0] for k, v in query.items()}


@contextmanager
def running_fake_portone(config: dict | None = None) -> Iterator[PortOneTestClient]:
    """Start a fresh fake on a free port, as a test client with .app and .server; stop it after."""
    app = create_app(config)
    server = serve_in_thread(app, keep_alive=True)
    settings = app.extensions["fake_portone"].config
    client = PortOneTestClient(
        server.url,
        api_secret=settings["API_SECRETS"][0],
        webhook_secret=settings["WEBHOOK_SECRET"],
        store_id=settings["STORE_ID"],
        app=app,
        server=server,
    )
    try:
        yield client
    finally:
        client.close()
