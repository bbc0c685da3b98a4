"""A real HTTP server that records the webhooks it receives, for tests of any suite."""

from __future__ import annotations

import threading
import time

from flask import Flask, request
from requests.structures import CaseInsensitiveDict

from fake_common.server import RunningServer, serve_in_thread


class WebhookReceiver:
    """Records every POST (any path) and answers with scripted statuses, then 200.

    Each request is recorded as {path, body (parsed JSON or None), raw (the body as text),
    headers (case-insensitive), status (the answer given), at (unix time)}. Serve `app` yourself
    (and set `url`), or use the receiver as a context manager, which serves it on a free port.
    """

    def __init__(self) -> None:
        self.statuses: list[int] = []  # answered in order, then 200
        self.url = ""
        self.app = Flask("webhook_receiver")
        self.app.add_url_rule("/<path:path>", "hook", self._hook, methods=["POST"])
        self.app.add_url_rule("/", "root", self._hook, methods=["POST"], defaults={"path": ""})
        self._received: list[dict] = []
        self._cond = threading.Condition()
        self._server: RunningServer | None = None

    def __enter__(self) -> WebhookReceiver:
        self._server = serve_in_thread(self.app)
        self.url = self._server.url
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    def _hook(self, path: str):
        with self._cond:
            status = self.statuses.pop(0) if self.statuses else 200
            self._received.append(
                {
                    "path": "/" + path,
                    "body": request.get_json(silent=True),
                    "raw": request.get_data(as_text=True),
                    "headers": CaseInsensitiveDict(request.headers.items()),
                    "status": status,
                    "at": time.time(),
                }
            )
            self._cond.notify_all()
        return {"ok": status == 200}, status

    @property
    def received(self) -> list[dict]:
        """Every request so far, oldest first."""
        with self._cond:
            return list(self._received)

    def respond_with(self, *statuses: int) -> None:
        """Answer the next requests with these statuses (then 200 again)."""
        with self._cond:
            self.statuses.extend(statuses)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict]:
        """Wait until at least count requests arrived and return them all (fails on timeout)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._received) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"expected {count} webhooks, got {len(self._received)}: {self._received}"
                    )
                self._cond.wait(remaining)
            return list(self._received)

    def reset(self) -> None:
        """Forget the requests received and the scripted statuses."""
        with self._cond:
            self._received.clear()
            self.statuses.clear()
