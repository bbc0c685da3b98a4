"""Helpers for tests that drive the fake over real HTTP: start it in a thread, call it, control it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import requests
from flask import Flask

from fake_common.server import RunningServer, serve_in_thread
from fake_iamport import create_app


class IamportTestClient:
    """Calls the fake's REST API with a token, and its /__control API."""

    def __init__(
        self, url: str, imp_key: str = "test_imp_key", imp_secret: str = "test_imp_secret"
    ):
        self.url = url
        self.imp_key = imp_key
        self.imp_secret = imp_secret
        self.session = requests.Session()

    def token(self) -> str:
        """A current access token."""
        response = self.session.post(
            f"{self.url}/users/getToken",
            json={"imp_key": self.imp_key, "imp_secret": self.imp_secret},
        )
        response.raise_for_status()
        return response.json()["response"]["access_token"]

    def call(self, method: str, path: str, *, auth: bool = True, **kwargs) -> requests.Response:
        """Send a request with the token as a bare Authorization header."""
        headers = dict(kwargs.pop("headers", {}) or {})
        if auth:
            headers.setdefault("Authorization", self.token())
        return self.session.request(method, f"{self.url}{path}", headers=headers, **kwargs)

    def get(self, path: str, **kwargs) -> requests.Response:
        """GET path."""
        return self.call("GET", path, **kwargs)

    def post(self, path: str, json: object = None, **kwargs) -> requests.Response:
        """POST path with a JSON body."""
        return self.call("POST", path, json=json, **kwargs)

    def delete(self, path: str, **kwargs) -> requests.Response:
        """DELETE path."""
        return self.call("DELETE", path, **kwargs)

    def control(self, method: str, path: str, json: object = None, **kwargs) -> dict | list:
        """Call /__control/<path> and return its JSON."""
        response = self.session.request(method, f"{self.url}/__control/{path}", json=json, **kwargs)
        response.raise_for_status()
        return response.json()

    def advance(self, seconds: float) -> dict:
        """Move the fake clock forward; due schedules run before this returns."""
        return self.control("POST", "clock", {"advance": seconds})

    def deposit(self, imp_uid: str, force: bool = False) -> dict:
        """Simulate the buyer's deposit into a virtual account."""
        return self.control("POST", f"deposit/{imp_uid}", {"force": force})

    def webhooks(self, wait: float = 5.0) -> list[dict]:
        """Every webhook sent so far, after waiting for deliveries in progress."""
        return self.control("GET", "webhooks", params={"wait": wait})


@contextmanager
def running_fake_iamport(config: dict | None = None) -> Iterator[tuple[RunningServer, Flask]]:
    """Start a fresh fake on a free port; stop it (and its threads) afterwards."""
    app = create_app(config)
    server = serve_in_thread(app)
    try:
        yield server, app
    finally:
        server.close()
        app.extensions["fake_iamport"].close()
