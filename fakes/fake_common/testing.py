"""What every fake's test client shares: the /__control API over HTTP, and the fake's app when the
test started it in this process."""

from __future__ import annotations

import threading

import requests
from flask import Flask

from fake_common.app import close_fake
from fake_common.server import RunningServer

TIMEOUT = 10.0


class ControlClient:
    """The control API of a fake at url: reset, clock, fault rules, webhook log.

    A fake started in this process (fake_iamport.testing.running_fake_iamport, ...) also has .app
    and .server, and .gateway is its state.
    """

    def __init__(
        self, url: str, *, app: Flask | None = None, server: RunningServer | None = None
    ) -> None:
        self.url = url.rstrip("/")
        self.app = app
        self.server = server
        self._local = threading.local()

    @property
    def http(self) -> requests.Session:
        """This thread's HTTP session (tests call fakes from several threads at once)."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    @property
    def gateway(self):
        """The fake's state (only for a fake running in this process)."""
        if self.app is None:
            raise RuntimeError(f"the fake at {self.url} runs in another process")
        return self.app.extensions["fake"].gateway

    def control(self, method: str, path: str, json: object = None, **kwargs) -> requests.Response:
        """Call /__control/<path> ("clock" or "/clock") and return the response as it is."""
        kwargs.setdefault("timeout", TIMEOUT)
        url = f"{self.url}/__control/{path.lstrip('/')}"
        return self.http.request(method, url, json=json, **kwargs)

    def control_json(self, method: str, path: str, json: object = None, **kwargs) -> dict | list:
        """Call /__control/<path>; its JSON, or HTTPError unless 2xx."""
        response = self.control(method, path, json, **kwargs)
        response.raise_for_status()
        return response.json()

    def reset(self) -> dict:
        """Forget everything (state, clock offset, fault rules, webhooks)."""
        return self.control_json("POST", "reset")

    def clock(self) -> dict:
        """The fake clock: {now, offset, iso}."""
        return self.control_json("GET", "clock")

    def advance(self, seconds: float) -> dict:
        """Move the fake clock forward; what fell due (schedules, expiries, retries) runs."""
        return self.control_json("POST", "clock", {"advance": seconds})

    def set_clock(self, now: float) -> dict:
        """Set the fake clock to a UNIX time (time.time() returns it to real time)."""
        return self.control_json("POST", "clock", {"now": now})

    def add_fault(self, rule: dict) -> dict:
        """Add a fault rule; returns it with its id."""
        return self.control_json("POST", "faults", rule)

    def faults(self) -> list[dict]:
        """The fault rules with their hit counts."""
        return self.control_json("GET", "faults")

    def remove_fault(self, rule_id: int) -> None:
        """Remove one fault rule (gone already is fine)."""
        self.control("DELETE", f"faults/{rule_id}")

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self.control_json("DELETE", "faults")

    def webhooks(self, wait: float | None = 5.0) -> list[dict]:
        """Every webhook sent so far, after waiting (up to wait seconds) for deliveries in progress."""
        params = {"wait": wait} if wait else {}
        return self.control_json(
            "GET", "webhooks", params=params, timeout=max(TIMEOUT, (wait or 0) + 5)
        )

    def close(self) -> None:
        """Stop the server and the fake's threads (for a fake running in this process)."""
        if self.server is not None:
            self.server.close()
        if self.app is not None:
            close_fake(self.app)
