"""Outbound webhooks against hostile merchant endpoints: a slow drip is cut at the delivery's
overall deadline, an endless answer is read only up to a cap, and URLs are logged without their
query strings or userinfo (where tokens live)."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask

from payment_backend.extensions import db
from payment_backend.models import OutboxJob, WebhookDelivery
from payment_backend.services.deliveries import RESPONSE_LIMIT
from payment_backend.worker import run_due_jobs

DEADLINE = 1.5  # seconds, WEBHOOK_DEADLINE_SECONDS for these tests
DRIP_EVERY = 0.3  # seconds between bytes: far below the per-read timeout (10 s)
DRIP_FOR = 8.0  # how long the endpoint keeps dripping before it gives up


@pytest.fixture()
def app(worker_app: Flask, monkeypatch) -> Flask:
    """The worker's app with a short overall deadline per delivery."""
    monkeypatch.setitem(worker_app.config, "WEBHOOK_DEADLINE_SECONDS", DEADLINE)
    return worker_app


class HostileEndpoint:
    """A raw TCP server on loopback that answers every request with a scripted behaviour."""

    def __init__(self, behaviour: str) -> None:
        self.behaviour = behaviour
        self.sent = 0
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> HostileEndpoint:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=DRIP_FOR + 5)
        self._listener.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            self.connections += 1
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _send(self, conn: socket.socket, data: bytes) -> None:
        conn.sendall(data)
        self.sent += len(data)

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(65536)
            try:
                if self.behaviour == "drip_headers":
                    self._drip(conn, b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"a" * 1000)
                elif self.behaviour == "drip_body":
                    self._send(conn, b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
                    self._drip(conn, b"b" * 100000)
                elif self.behaviour == "endless":
                    self._send(conn, b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n")
                    started = time.monotonic()
                    while not self._stop.is_set() and time.monotonic() - started < DRIP_FOR:
                        self._send(conn, b"c" * 65536)
            except OSError:
                pass  # the client hung up: what it should do

    def _drip(self, conn: socket.socket, data: bytes) -> None:
        started = time.monotonic()
        for byte in data:
            if self._stop.is_set() or time.monotonic() - started > DRIP_FOR:
                return
            self._send(conn, bytes([byte]))
            time.sleep(DRIP_EVERY)


@contextmanager
def hostile(behaviour: str) -> Iterator[HostileEndpoint]:
    with HostileEndpoint(behaviour) as endpoint:
        yield endpoint


def _attempts(app: Flask, delivery_id: str) -> list[dict]:
    with app.app_context():
        delivery = db.session.get(WebhookDelivery, delivery_id)
        return [
            {
                "status_code": a.status_code,
                "error": a.error,
                "body": a.response_body,
                "ms": a.duration_ms,
            }
            for a in delivery.attempts
        ]


@pytest.mark.parametrize("behaviour", ["drip_headers", "drip_body"])
def test_a_slow_drip_endpoint_is_cut_at_the_deadline(app, queue_notification, behaviour):
    with hostile(behaviour) as endpoint:
        delivery_id = queue_notification(app, endpoint.url + "/hooks")
        started = time.monotonic()
        run_due_jobs(app)
        elapsed = time.monotonic() - started

    assert elapsed < DEADLINE + 1.5, f"the delivery held the worker for {elapsed:.1f} s"
    [attempt] = _attempts(app, delivery_id)
    assert attempt["error"].startswith("deadline"), attempt
    assert attempt["ms"] < (DEADLINE + 1) * 1000
    with app.app_context():
        delivery = db.session.get(WebhookDelivery, delivery_id)
        assert delivery.status == "pending"  # retried on the schedule like any failure


def test_an_endless_answer_is_read_only_up_to_the_cap(app, queue_notification):
    with hostile("endless") as endpoint:
        delivery_id = queue_notification(app, endpoint.url + "/hooks")
        started = time.monotonic()
        run_due_jobs(app)
        elapsed = time.monotonic() - started

    assert elapsed < DEADLINE
    [attempt] = _attempts(app, delivery_id)
    assert attempt["status_code"] == 200 and attempt["error"] is None
    assert attempt["body"] == "c" * RESPONSE_LIMIT


def test_delivery_urls_are_logged_without_query_strings_or_userinfo(
    app, merchant, queue_notification, caplog
):
    caplog.set_level(logging.INFO)  # urllib3 logs request lines at DEBUG, off in production
    caplog.set_level(logging.DEBUG, logger="payment_backend")
    secret_url = merchant.url.replace("http://", "http://hook-user:pa55word@") + "/h?token=s3cr3t"
    delivered = queue_notification(app, secret_url)
    # A port nobody listens on: the connection error quotes the URL's path and query.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    failed = queue_notification(app, f"http://u:pa55word@127.0.0.1:{dead_port}/h?token=s3cr3t#frag")

    run_due_jobs(app)

    [request] = merchant.wait_for(1)
    assert request["path"] == "/h"  # the URL itself is used whole
    assert "/h" in caplog.text and "127.0.0.1" in caplog.text
    for secret in ("s3cr3t", "pa55word", "hook-user", "frag"):
        assert secret not in caplog.text, [r.getMessage() for r in caplog.records]
    [ok] = _attempts(app, delivered)
    [refused] = _attempts(app, failed)
    assert ok["error"] is None
    assert refused["error"].startswith("connection failed")
    assert "s3cr3t" not in refused["error"] and "pa55word" not in refused["error"]
    with app.app_context():
        [job] = [
            j
            for j in db.session.query(OutboxJob).filter_by(kind="deliver_webhook")
            if j.payload["delivery_id"] == failed
        ]
        assert "s3cr3t" not in job.last_error
