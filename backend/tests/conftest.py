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
