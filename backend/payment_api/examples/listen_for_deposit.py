"""Listen for a virtual-account deposit: the service's signed webhook, verified and read.

python -m payment_api.examples.listen_for_deposit

A worker must be running: the service sends its notifications from the outbox worker, never
from the request that changed the payment (`make run` starts one; otherwise run
`PAYMENT_MODE=local flask --app payment_backend worker` in backend/). Without it the example
gives up after EXAMPLE_TIMEOUT seconds (30) and says so.

The example starts its own webhook receiver on a free port of 127.0.0.1: the service calls
loopback URLs in local and test mode only, so this runs against a backend on the same machine
(`make run`), not one in a container. The signing secret is PAYMENT_WEBHOOK_SIGNING_SECRET from
the environment, or the local backend's dev-secrets.json.
"""

from __future__ import annotations

import os
import queue
import secrets
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from payment_api import IAMPORT, Notification, PaymentClient, Source, Vendor, errors
from payment_api.examples import buyer
from payment_api.examples.environment import Environment, from_environment


class WebhookListener:
    """A small HTTP server on a free loopback port that verifies what the service POSTs.

    A notification with a good signature is answered 204 and queued; anything else is answered
    401, so the service keeps retrying a delivery it could not have made. `clock_skew` is how far
    the service's (test) clock is ahead of ours: its signed timestamps are checked against it.
    """

    def __init__(self, client: PaymentClient, secret: str, clock_skew: float = 0.0) -> None:
        self.received: queue.Queue[Notification] = queue.Queue()
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the http.server naming)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    notification = client.verify_webhook(
                        secret, dict(self.headers), body, now=time.time() + clock_skew
                    )
                except errors.WebhookVerificationError as error:
                    print(f"refused a webhook: {error.message}")
                    self.send_response(401)
                    self.end_headers()
                    return
                self.send_response(204)
                self.end_headers()
                listener.received.put(notification)

            def log_message(self, format: str, *args: object) -> None:
                """No access log on stderr."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> WebhookListener:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait(self, payment_id: str, deadline: float) -> Notification:
        """The first verified notification about payment_id before the deadline (monotonic)."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(
                    "no webhook arrived in time: is the worker running "
                    "(`make run`, or `PAYMENT_MODE=local flask --app payment_backend worker`)?"
                )
            try:
                notification = self.received.get(timeout=remaining)
            except queue.Empty:
                continue
            if notification.current.get("id") == payment_id:
                return notification


def run(env: Environment, timeout: float = 30.0) -> Notification:
    """Open a virtual account, register it, deposit, and wait for the signed notification."""
    if not env.webhook_secret:
        raise SystemExit("PAYMENT_WEBHOOK_SIGNING_SECRET is not set (nor in dev-secrets.json)")
    order_id = str(uuid.uuid4())
    price = 19_900
    password = secrets.token_urlsafe(24)
    source = Source(schema="shop", table="orders", id=order_id)
    with (
        PaymentClient(env.api_url, env.key, env.iv) as client,
        # In local mode the service signs on its test clock, which the fake gateway shares.
        WebhookListener(
            client, env.webhook_secret, buyer.gateway_now(env.iamport_url) - time.time()
        ) as listener,
    ):
        account = buyer.iamport_virtual_account(
            env, order_id, price, "Example order", notice_url=env.notice_url
        )
        history = client.create_history(
            Vendor(IAMPORT, account["imp_uid"]),
            source,
            price,
            password,
            listener.url + "/payments/webhook",
        )
        print(
            f"registered {history.id}: {history.status}; the buyer is to pay {price} KRW into "
            f"{account['vbank_name']} {account['vbank_num']}"
        )
        buyer.iamport_deposit(env, account["imp_uid"])
        print(f"deposited at the gateway; waiting up to {timeout:.0f} s for the service's webhook")
        notification = listener.wait(history.id, time.monotonic() + timeout)
        previous, current = notification.previous_payment, notification.current_payment
        assert current is not None
        print(
            f"webhook {notification.id} verified: "
            f"{previous.status if previous else None} -> {current.status} (paid at {current.paid_at})"
        )
        # The notification is a hint; the record itself is the truth.
        assert client.get_history(source, password).status == current.status
    return notification


if __name__ == "__main__":
    try:
        run(from_environment(), float(os.environ.get("EXAMPLE_TIMEOUT", "30")))
    except TimeoutError as error:
        raise SystemExit(str(error)) from None
