"""Fixtures of the security suites: the backend in test mode served over HTTP for the fuzzers."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest
from flask import Flask
from flask_migrate import upgrade

from fake_common.server import RunningServer, serve_in_thread
from payment_backend import MIGRATIONS, create_app
from payment_backend.extensions import db

HIGH = "100000 per minute"


@pytest.fixture(scope="module")
def fuzz_database(database_url: str, tmp_path_factory) -> Iterator[str]:
    """A database of its own, of the session's kind: the fuzzer moves the test clock in it."""
    if not database_url.startswith("postgres"):
        yield f"sqlite:///{tmp_path_factory.mktemp('fuzz-db') / 'payments.sqlite3'}"
        return
    import psycopg

    server = os.environ["TEST_DATABASE_URL"]
    name = f"payments_fuzz_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def fuzzed(fuzz_database: str, tmp_path_factory) -> Iterator[tuple[Flask, RunningServer]]:
    """The backend in test mode with fakes of its own (their clocks move too), served over HTTP;
    rate limits on but far above what the fuzzer sends."""
    import fake_iamport
    import fake_portone
    import fake_toss

    with (
        serve_in_thread(fake_iamport.create_app({"HIDE_SANDBOX": True})) as iamport,
        serve_in_thread(fake_toss.create_app()) as toss,
        serve_in_thread(fake_portone.create_app()) as portone,
    ):
        app = create_app(
            {
                "PAYMENT_MODE": "test",
                "DATABASE_URL": fuzz_database,
                "INSTANCE_PATH": str(tmp_path_factory.mktemp("fuzz-instance")),
                "IAMPORT_API_URL": iamport.url,
                "TOSS_API_URL": toss.url,
                "PORTONE_API_URL": portone.url,
                "RATELIMIT_ENABLED": True,
                "RATELIMIT_CHECKOUT": HIGH,
                "RATELIMIT_SUBSCRIPTIONS": HIGH,
                "RATELIMIT_WEBHOOKS": HIGH,
            }
        )
        with app.app_context():
            upgrade(directory=str(MIGRATIONS))
        with serve_in_thread(app) as backend:
            app.config["PUBLIC_URL"] = backend.url
            yield app, backend
        with app.app_context():
            db.engine.dispose()


@pytest.fixture()
def database() -> Iterator[str]:
    """A fresh PostgreSQL database, dropped after the test."""
    import psycopg

    server = os.environ["TEST_DATABASE_URL"]
    name = f"security_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
