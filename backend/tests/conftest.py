"""Backend fixtures: a database per session (SQLite, and PostgreSQL when TEST_DATABASE_URL is set)."""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from Crypto.Cipher import AES
from Crypto.Util.Padding import pad, unpad
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import select, update

from fake_common.receiver import WebhookReceiver
from fake_common.server import RunningServer, serve_in_thread
from fake_common.window_client import APPROVED, iamport_pay, toss_pay, toss_register_card
from fake_iamport.testing import IamportTestClient, running_fake_iamport
from fake_portone.testing import PortOneTestClient, running_fake_portone
from fake_toss.testing import TossTestClient, running_fake_toss
from payment_api.examples.environment import Environment
from payment_backend import MIGRATIONS, create_app
from payment_backend.crypto import sealer
from payment_backend.extensions import db
from payment_backend.models import OutboxJob, Payment, Subscription, SubscriptionCharge
from payment_backend.services.ledger import payment_view
from payment_backend.services.notifications import notify

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


def _postgres_database() -> Iterator[str]:
    """Create a database for this session on the TEST_DATABASE_URL server; drop it after."""
    import psycopg

    server = os.environ["TEST_DATABASE_URL"]
    name = f"payments_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(server)
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory) -> Iterator[str]:
    """A fresh, migrated-on-demand database URL for one backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'payments.sqlite3'}"
    else:
        yield from _postgres_database()


@pytest.fixture(scope="session")
def is_postgres(database_url: str) -> bool:
    """Whether this session's database is PostgreSQL."""
    return database_url.startswith("postgres")


@pytest.fixture(scope="session")
def app_config(database_url: str, tmp_path_factory, fakes: Fakes) -> dict:
    """Settings of the app under test, pointed at the fakes."""
    return {
        "PAYMENT_MODE": "test",
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(tmp_path_factory.mktemp("instance")),
        "IAMPORT_API_URL": fakes.iamport.url,
        "TOSS_API_URL": fakes.toss.url,
        "PORTONE_API_URL": fakes.portone.url,
        # One address makes every request of the suite: rate limits are tested on apps of their own.
        "RATELIMIT_ENABLED": False,
    }


@pytest.fixture(scope="session")
def app(app_config: dict) -> Iterator[Flask]:
    """The app on a migrated database."""
    app = create_app(app_config)
    with app.app_context():
        upgrade(directory=str(MIGRATIONS))
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture()
def client(app: Flask):
    """A Flask test client."""
    return app.test_client()


@dataclass
class Fakes:
    """The fake gateways, running as real servers, as their test clients (.url, .call, control
    helpers: fake_iamport.testing, fake_toss.testing, fake_portone.testing)."""

    iamport: IamportTestClient
    toss: TossTestClient
    portone: PortOneTestClient

    def of(self, vendor: str) -> IamportTestClient | TossTestClient | PortOneTestClient:
        """The fake of a vendor."""
        return {"iamport": self.iamport, "toss": self.toss, "portone": self.portone}[vendor]

    def all(self) -> tuple:
        """Every fake."""
        return (self.iamport, self.toss, self.portone)

    def control(self, vendor: str, path: str, **body) -> dict:
        """POST to a fake's control API."""
        return self.of(vendor).control_json("POST", path, body)

    def iamport_api(self, method: str, path: str, **kwargs) -> requests.Response:
        """Call fake PortOne's REST API as the merchant, with a fresh access token."""
        return self.iamport.call(method, path, **kwargs)

    def toss_api(self, method: str, path: str, **kwargs) -> requests.Response:
        """Call fake Toss's REST API with the test secret key."""
        return self.toss.call(method, path, **kwargs)

    def fault_hits(self, vendor: str, rule_id: int) -> int:
        """How many requests a fault rule of a fake has met so far."""
        rules = requests.get(f"{self.of(vendor).url}/__control/faults", timeout=10).json()
        rules = rules["rules"] if isinstance(rules, dict) else rules
        return next((r["hits"] for r in rules if r["id"] == rule_id), 0)


@pytest.fixture()
def faults(fakes: Fakes) -> Iterator[Callable[..., dict]]:
    """add(vendor, **rule) installs a fault rule on a fake; every rule is removed after the test."""
    servers = {"iamport": fakes.iamport, "toss": fakes.toss, "portone": fakes.portone}

    def add(vendor: str, **rule) -> dict:
        response = requests.post(f"{servers[vendor].url}/__control/faults", json=rule, timeout=10)
        response.raise_for_status()
        return response.json()

    yield add
    for server in servers.values():
        requests.delete(f"{server.url}/__control/faults", timeout=10)


@pytest.fixture(scope="session")
def fakes() -> Iterator[Fakes]:
    """Fake iamport, fake Toss and fake PortOne V2 on free ports, for the whole session."""
    # PortOne V1's real default: test-channel payments only with include_sandbox=true.
    with (
        running_fake_iamport({"HIDE_SANDBOX": True}) as iamport,
        running_fake_toss() as toss,
        running_fake_portone() as portone,
    ):
        yield Fakes(iamport=iamport, toss=toss, portone=portone)


@pytest.fixture()
def merchant() -> Iterator[WebhookReceiver]:
    """A merchant's webhook endpoint (a real HTTP server); .url is its base URL."""
    receiver = WebhookReceiver()
    with serve_in_thread(receiver.app) as server:
        receiver.url = server.url
        yield receiver


@pytest.fixture(scope="session")
def live(app: Flask) -> Iterator[RunningServer]:
    """The app served over real HTTP (gateways' webhooks reach it); PUBLIC_URL points at it."""
    with serve_in_thread(app) as server:
        app.config["PUBLIC_URL"] = server.url
        yield server


class Shop:
    """The checkout API plus the fakes' payment windows, as a buyer's browser uses them."""

    def __init__(self, client, fakes: Fakes) -> None:
        self.client = client
        self.fakes = fakes

    def create_order(self, vendor="iamport", method="card", items=None):
        response = self.client.post(
            "/api/checkout/orders",
            json={
                "vendor": vendor,
                "method": method,
                "items": items or [{"product_id": 1, "quantity": 2}],
            },
        )
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def complete(self, order, payment_id, amount=None):
        return self.client.post(
            "/api/checkout/complete",
            json={
                "order_id": order["order_id"],
                "vendor": order["vendor"],
                "payment_id": payment_id,
                "amount": order["amount"] if amount is None else amount,
            },
        )

    def iamport_payment(self, imp_uid):
        return self.fakes.iamport_api("GET", f"/payments/{imp_uid}").json()["response"]

    def toss_payment(self, payment_key):
        return self.fakes.toss_api("GET", f"/v1/payments/{payment_key}").json()

    def portone_payment(self, payment_id):
        return self.fakes.portone.payment(payment_id)

    def pay(self, order, *, amount=None, card=APPROVED, method="card"):
        """Pay an order in the fake's window; returns the gateway's payment id (or raises)."""
        if order["vendor"] == "portone":
            return self.pay_portone(order, amount=amount, card=card, method=method)
        major = (amount if amount is not None else order["amount"]) / (
            100 if order["currency"] == "USD" else 1
        )
        if order["vendor"] == "iamport":
            query = iamport_pay(
                self.fakes.iamport.url,
                merchant_uid=order["order_id"],
                amount=major if order["currency"] == "USD" else int(major),
                currency=order["currency"],
                pay_method="vbank" if method == "vbank" else "card",
                card=card,
            )
            return query.get("imp_uid"), query
        query = toss_pay(
            self.fakes.toss.url,
            order_id=order["order_id"],
            amount=major if order["currency"] == "USD" else int(major),
            currency=order["currency"],
            method="가상계좌" if method == "vbank" else "카드",
            card=card,
        )
        return query.get("paymentKey"), query

    def pay_portone(self, order, *, amount=None, card=APPROVED, method="card", **request):
        """requestPayment for the order (paymentId = order id, amounts in minor units), as the
        demo sends it, paid in fake PortOne V2's window."""
        extra = {"currency": order["currency"], "noticeUrls": [order["notice_url"]], **request}
        if method == "vbank":
            extra.update(payMethod="VIRTUAL_ACCOUNT", virtualAccount={}, bank="KOOKMIN")
        query = self.fakes.portone.pay_in_window(
            order["order_id"],
            order["amount"] if amount is None else amount,
            card_number=card,
            **extra,
        )
        return (None if query.get("code") else query.get("paymentId")), query


@pytest.fixture()
def shop(client, fakes: Fakes) -> Shop:
    """A buyer's browser against the app and the fakes."""
    return Shop(client, fakes)


@pytest.fixture(scope="module")
def own_app(database_url: str, app_config: dict, tmp_path_factory) -> Iterator[Flask]:
    """The app on a database of its own (same backend), for tests that run the worker over every
    due job: other tests' leftover jobs cannot get in the way."""
    databases = None
    if database_url.startswith("postgres"):
        databases = _postgres_database()
        url = next(databases)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('own-db') / 'payments.sqlite3'}"
    own = create_app({**app_config, "DATABASE_URL": url})
    with own.app_context():
        upgrade(directory=str(MIGRATIONS))
    yield own
    with own.app_context():
        db.engine.dispose()
    if databases is not None:
        databases.close()  # drops the database


@pytest.fixture()
def worker_app(own_app: Flask) -> Iterator[Flask]:
    """own_app for tests that run the worker over every due job; no due job is left behind."""
    yield own_app
    with own_app.app_context():
        db.session.execute(
            update(OutboxJob).where(OutboxJob.status == "pending").values(status="parked")
        )
        db.session.commit()


@pytest.fixture()
def clock(app: Flask) -> Iterator:
    """The app clock, back to wall time after the test (the app is shared by the session)."""
    app_clock = app.extensions["clock"]
    yield app_clock
    app_clock.reset()


def _queue_notification(app: Flask, webhook_url: str, amount: int = 15000) -> str:
    uid = uuid.uuid4().hex[:12]
    with app.app_context():
        payment = Payment(
            vendor="iamport",
            vendor_payment_id=f"imp_{uid}",
            source_schema="shop",
            source_table="orders",
            source_id=f"order-{uid}",
            currency="KRW",
            amount=amount,
            status="paid",
            sealed_data=sealer().seal({"imp_uid": f"imp_{uid}", "amount": amount}),
            webhook_url=webhook_url,
            cancels=[],
        )
        db.session.add(payment)
        db.session.flush()
        delivery = notify(payment, None, payment_view(payment))
        db.session.commit()
        return delivery.id


@pytest.fixture()
def queue_notification() -> Callable[..., str]:
    """queue_notification(app, webhook_url, amount=15000): a paid payment row plus notify(),
    committed; returns the delivery id."""
    return _queue_notification


class SeedClient:
    """A client of the seed's service API written from the protocol description alone (reference
    §4): JSON -> UTF-8 -> PKCS#7 -> AES-256-CBC(key, iv) -> Base64, as text/plain."""

    def __init__(self, host: str, key: str, iv: str) -> None:
        self.host = host
        self.key = key.encode("utf-8")
        self.iv = iv.encode("utf-8")
        self.http = requests.Session()

    def encrypt(self, body: Any) -> str:
        cipher = AES.new(self.key, AES.MODE_CBC, self.iv)
        plain = json.dumps(body).encode("utf-8")
        return base64.b64encode(cipher.encrypt(pad(plain, 16))).decode("ascii")

    def decrypt(self, text: str) -> Any:
        cipher = AES.new(self.key, AES.MODE_CBC, self.iv)
        return json.loads(unpad(cipher.decrypt(base64.b64decode(text)), 16).decode("utf-8"))

    def call(self, method: str, path: str, body: Any, **headers: str) -> tuple[int, Any]:
        """(status, body): decrypted on success, the plain JSON error otherwise."""
        response = self.http.request(
            method,
            self.host + path,
            data=self.encrypt(body),
            headers={"Content-Type": "text/plain", **headers},
            timeout=30,
        )
        if response.status_code >= 400:
            assert response.headers["Content-Type"].startswith("application/json")
            return response.status_code, response.json()
        assert response.headers["Content-Type"].startswith("text/plain")
        return response.status_code, self.decrypt(response.text) if response.text else None


@pytest.fixture(scope="module")
def seed(app, live) -> SeedClient:
    """The seed's encrypted service API over real HTTP, as a seed-protocol client calls it."""
    return SeedClient(
        live.url,
        app.config["PAYMENT_CONNECTION_ENCRYPTION_KEY"],
        app.config["PAYMENT_CONNECTION_ENCRYPTION_IV"],
    )


@pytest.fixture()
def env(app: Flask, fakes: Fakes, live: RunningServer, merchant: WebhookReceiver) -> Environment:
    """The examples' settings, pointed at the served app, the fakes and the merchant's endpoint."""
    return Environment(
        api_url=live.url,
        key=app.config["PAYMENT_CONNECTION_ENCRYPTION_KEY"],
        iv=app.config["PAYMENT_CONNECTION_ENCRYPTION_IV"],
        iamport_url=fakes.iamport.url,
        iamport_key=app.config["IAMPORT_API_KEY"],
        iamport_secret=app.config["IAMPORT_API_SECRET"],
        toss_url=fakes.toss.url,
        toss_secret_key=app.config["TOSS_SECRET_KEY"],
        webhook_url=merchant.url + "/hook",
    )


# -- subscriptions -----------------------------------------------------------------------------

DAY = 86400.0


class Subscriber:
    """A subscriber's browser (the subscriptions API and the fakes' billing windows), the test
    clock, and what the fakes hold, for one app."""

    def __init__(self, app: Flask, fakes: Fakes) -> None:
        self.app = app
        self.client = app.test_client()
        self.fakes = fakes
        self.created: list[str] = []

    # the browser's side
    def create(self, vendor: str, plan_id: int = 1) -> dict:
        response = self.client.post(
            "/api/subscriptions",
            json={
                "plan_id": plan_id,
                "vendor": vendor,
                "buyer": {"name": "Hong Gildong", "email": "buyer@example.com"},
            },
        )
        assert response.status_code == 201, response.get_json()
        sub = response.get_json()
        self.created.append(sub["subscription_id"])
        return sub

    def card_window(self, vendor: str, setup: dict, card: str = APPROVED) -> dict:
        """Register a card in the fake's billing window; the proof the browser posts back."""
        if vendor == "iamport":
            query = iamport_pay(
                self.fakes.iamport.url,
                merchant_uid=setup["merchant_uid"],
                amount=setup["amount"],
                currency=setup["currency"],
                customer_uid=setup["customer_uid"],
                notice_url=setup["notice_url"],
                pg=setup["pg"],
                card=card,
            )
            return {"imp_uid": query["imp_uid"]}
        if vendor == "portone":
            query = self.fakes.portone.submit_window(
                "issue",
                {
                    "storeId": setup["store_id"],
                    "channelKey": setup["channel_key"],
                    "billingKeyMethod": "CARD",
                    "issueId": setup["issue_id"],
                    "issueName": setup["issue_name"],
                    "customer": {"customerId": setup["customer_key"]},
                    "noticeUrls": [setup["notice_url"]],
                    "redirectUrl": "http://127.0.0.1:9/return",
                },
                card_number=card,
                expiry="12/39",
            )
            assert "billingKey" in query, query
            return {"billing_key": query["billingKey"]}
        query = toss_register_card(
            self.fakes.toss.url, customer_key=setup["customer_key"], card=card
        )
        assert "authKey" in query, query
        return {"auth_key": query["authKey"], "customer_key": query["customerKey"]}

    def activate(self, sub_id: str, proof: dict):
        return self.client.post(f"/api/subscriptions/{sub_id}/activate", json=proof)

    def subscribe(self, vendor: str, card: str = APPROVED, plan_id: int = 1) -> dict:
        """Subscribe and pay the first period; the active subscription."""
        sub = self.create(vendor, plan_id)
        response = self.activate(
            sub["subscription_id"], self.card_window(vendor, sub["setup"], card)
        )
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["status"] == "active"
        return response.get_json()

    def get(self, sub_id: str) -> dict:
        response = self.client.get(f"/api/subscriptions/{sub_id}")
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def cancel(self, sub_id: str, reason: str | None = None):
        return self.client.post(f"/api/subscriptions/{sub_id}/cancel", json={"reason": reason})

    def replace_card(self, sub_id: str, card: str = APPROVED):
        """The replace-card flow: a setup, the billing window, the confirmation."""
        vendor = self.get(sub_id)["vendor"]
        started = self.client.post(f"/api/subscriptions/{sub_id}/card", json={})
        assert started.status_code == 200, started.get_json()
        proof = self.card_window(vendor, started.get_json()["setup"], card)
        return self.client.post(f"/api/subscriptions/{sub_id}/card/confirm", json=proof)

    # time
    def advance(self, seconds: float) -> dict:
        """POST /api/test/clock: both clocks move, and what became due runs."""
        response = self.client.post("/api/test/clock", json={"advance": seconds})
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def advance_days(self, days: float) -> dict:
        return self.advance(days * DAY + 3600)  # an hour past, whatever ran in between

    def reset_clocks(self) -> None:
        """Backend and fakes back to wall time."""
        self.app.extensions["clock"].reset()
        for fake in self.fakes.all():
            fake.set_clock(time.time())

    # the fakes' records
    def iamport_payments(self, merchant_uid: str) -> list[dict]:
        """Every payment fake PortOne made for a merchant_uid."""
        response = self.fakes.iamport_api("GET", f"/payments/findAll/{merchant_uid}")
        if response.status_code == 404:
            return []
        return response.json()["response"]

    def iamport_schedule(self, merchant_uid: str) -> dict | None:
        response = self.fakes.iamport_api("GET", f"/subscribe/payments/schedule/{merchant_uid}")
        return None if response.status_code == 404 else response.json()["response"]

    def toss_payment(self, order_id: str) -> dict | None:
        response = self.fakes.toss_api("GET", f"/v1/payments/orders/{order_id}")
        return None if response.status_code == 404 else response.json()

    def records(self, sub_id: str) -> dict:
        """What the database holds: charges by period, attempts, payments, queued charge jobs."""
        with self.app.app_context():
            sub = db.session.get(Subscription, sub_id)
            charges = db.session.scalars(
                select(SubscriptionCharge)
                .where(SubscriptionCharge.subscription_id == sub_id)
                .order_by(SubscriptionCharge.period)
            ).all()
            payments = db.session.scalars(
                select(Payment).where(Payment.source_id.like(f"{sub_id}_%"))
            ).all()
            jobs = db.session.scalars(
                select(OutboxJob).where(
                    OutboxJob.kind == "charge_subscription",
                    OutboxJob.unique_key.like(f"charge:{sub_id}:%"),
                    OutboxJob.status == "pending",
                )
            ).all()
            return {
                "status": sub.status,
                "customer_key": sub.customer_key,
                "charges": {
                    c.period: (c.status, c.key_issue, c.vendor_payment_id, c.attempts)
                    for c in charges
                },
                "attempts": [(c.period, a.outcome) for c in charges for a in c.attempt_log],
                "payments": sorted((p.source_id, p.status) for p in payments),
                "pending_jobs": sorted(j.payload["period"] for j in jobs),
            }

    def cancel_all(self) -> None:
        """Cancel what this test left running, so no schedule of it runs in a later test."""
        for sub_id in self.created:
            if self.get(sub_id)["status"] in ("active", "past_due", "incomplete"):
                self.cancel(sub_id, "test over")


@pytest.fixture(scope="module")
def sub_live(own_app: Flask) -> Iterator[RunningServer]:
    """own_app over real HTTP, reachable by the fakes' webhooks (its PUBLIC_URL)."""
    with serve_in_thread(own_app) as server:
        own_app.config["PUBLIC_URL"] = server.url
        yield server


@pytest.fixture()
def subscriber(own_app: Flask, sub_live: RunningServer, fakes: Fakes) -> Iterator[Subscriber]:
    """A subscriber on own_app, with the backend's and the fakes' clocks at wall time."""
    subscriber = Subscriber(own_app, fakes)
    subscriber.reset_clocks()
    yield subscriber
    subscriber.reset_clocks()
    subscriber.cancel_all()
