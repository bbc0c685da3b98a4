"""A real HTTP server that records the webhooks it receives, for tests of any suite."""

from __future__ import annotations

import threading
import time

from flask import Flask, request


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
                    "raw": request.get_data(as_text=True),
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
