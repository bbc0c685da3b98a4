"""Backend fixtures: a database per session (SQLite, and PostgreSQL when TEST_DATABASE_URL is set)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from flask import Flask
from flask_migrate import upgrade

from fake_common.receiver import WebhookReceiver
from fake_common.server import RunningServer, serve_in_thread
from fake_common.window_client import APPROVED, iamport_pay, toss_pay
from payment_backend import MIGRATIONS, create_app

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
    }


@pytest.fixture(scope="session")
def app(app_config: dict) -> Iterator[Flask]:
    """The app on a migrated database."""
    app = create_app(app_config)
    with app.app_context():
        upgrade(directory=str(MIGRATIONS))
    yield app
    with app.app_context():
        from payment_backend.extensions import db

        db.engine.dispose()


@pytest.fixture()
def client(app: Flask):
    """A Flask test client."""
    return app.test_client()


@dataclass
class Fakes:
    """Both fake gateways, running as real servers."""

    iamport: RunningServer
    toss: RunningServer

    def control(self, vendor: str, path: str, **body) -> dict:
        """POST to a fake's control API."""
        server = self.iamport if vendor == "iamport" else self.toss
        response = requests.post(f"{server.url}/__control/{path}", json=body, timeout=10)
        response.raise_for_status()
        return response.json()


@pytest.fixture(scope="session")
def fakes() -> Iterator[Fakes]:
    """Fake iamport and fake Toss on free ports, for the whole session."""
    import fake_iamport
    import fake_toss

    with (
        serve_in_thread(fake_iamport.create_app()) as iamport,
        serve_in_thread(fake_toss.create_app()) as toss,
    ):
        yield Fakes(iamport=iamport, toss=toss)


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
        token = requests.post(
            f"{self.fakes.iamport.url}/users/getToken",
            json={"imp_key": "test_imp_key", "imp_secret": "test_imp_secret"},
            timeout=5,
        ).json()["response"]["access_token"]
        return requests.get(
            f"{self.fakes.iamport.url}/payments/{imp_uid}",
            headers={"Authorization": token},
            timeout=5,
        ).json()["response"]

    def toss_payment(self, payment_key):
        return requests.get(
            f"{self.fakes.toss.url}/v1/payments/{payment_key}",
            auth=("test_sk_zXLkKEypNArWmo50nX3lmeaxYG5R", ""),
            timeout=5,
        ).json()

    def pay(self, order, *, amount=None, card=APPROVED, method="card"):
        """Pay an order in the fake's window; returns the gateway's payment id (or raises)."""
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
        from payment_backend.extensions import db

        db.engine.dispose()
    if databases is not None:
        databases.close()  # drops the database
