"""Fixtures shared by the fake-gateway tests: a webhook receiver and the Chromium launch settings."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from flask import Flask, request

from fake_common.server import serve_in_thread
from fake_iamport.testing import IamportTestClient, running_fake_iamport

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class WebhookReceiver:
    """A real HTTP server that records every POST and answers with scripted statuses."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.statuses: list[int] = []  # answered in order, then 200
        self._lock = threading.Condition()
        self.app = Flask("webhook_receiver")
        self.app.add_url_rule("/<path:path>", "hook", self._hook, methods=["POST"])
        self.app.add_url_rule("/", "root", self._hook, methods=["POST"], defaults={"path": ""})
        self.url = ""

    def _hook(self, path: str):
        with self._lock:
            status = self.statuses.pop(0) if self.statuses else 200
            self.received.append(
                {
                    "path": "/" + path,
                    "body": request.get_json(silent=True),
                    "headers": dict(request.headers),
                    "status": status,
                    "at": time.time(),
                }
            )
            self._lock.notify_all()
        return {"ok": status == 200}, status

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict]:
        """Wait until at least count requests arrived and return them all."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.received) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} webhooks, got {len(self.received)}")
                self._lock.wait(remaining)
            return list(self.received)


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """A webhook receiver on a free port; .url is its base URL."""
    receiver = WebhookReceiver()
    with serve_in_thread(receiver.app) as server:
        receiver.url = server.url
        yield receiver


@pytest.fixture
def iamport_factory() -> Iterator:
    """Start fake iamport servers with a given config; each is stopped after the test."""
    with ExitStack() as stack:

        def start(config: dict | None = None) -> IamportTestClient:
            server, app = stack.enter_context(running_fake_iamport(config))
            client = IamportTestClient(server.url)
            client.app = app
            client.gateway = app.extensions["fake_iamport"]
            return client

        yield start


@pytest.fixture
def iamport(iamport_factory) -> IamportTestClient:
    """A fresh fake iamport on a free port, as a test client (.url, .gateway, .app)."""
    return iamport_factory()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """Launch the system Chromium when there is one (no browser downloads here)."""
    args = dict(browser_type_launch_args)
    executable = os.environ.get("PLAYWRIGHT_CHROMIUM_EXECUTABLE")
    if not executable and Path("/usr/bin/chromium").exists():
        executable = "/usr/bin/chromium"
    if executable:
        args["executable_path"] = executable
    args["args"] = [*args.get("args", []), *CHROMIUM_ARGS]
    return args
