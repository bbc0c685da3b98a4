"""Outbound webhooks: one signed POST per attempt, every attempt recorded, retried on a schedule."""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
from flask import current_app
from requests.adapters import HTTPAdapter
from sqlalchemy import select, update
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from payment_backend.clock import now
from payment_backend.crypto import sealer, seed_cipher, sign_webhook
from payment_backend.extensions import db
from payment_backend.logs import REQUEST_ID_HEADER, request_id
from payment_backend.models import DeliveryAttempt, WebhookDelivery
from payment_backend.services import circuits
from payment_backend.services.ledger import lock
from payment_backend.services.urls import (
    UrlPolicy,
    WebhookUrlRefused,
    check_addresses,
    check_webhook_url,
    loggable_url,
    policy,
    scrub,
)
from payment_backend.transient import note_outside_effect

log = logging.getLogger(__name__)

# Delays after the 1st, 2nd, ... failed attempt (Standard Webhooks' schedule); then failed.
RETRY_SCHEDULE = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
)
TIMEOUT = (3.05, 10.0)  # (connect, read) seconds; WEBHOOK_TIMEOUT_SECONDS overrides the read part
# Seconds for a whole attempt, connection to last byte (WEBHOOK_DEADLINE_SECONDS overrides): a
# merchant that sends a byte a second never trips the per-read timeout, but is cut here.
DEADLINE = 15.0
RESPONSE_READ_LIMIT = 64 * 1024  # bytes of the merchant's answer read at most; the rest is not
RESPONSE_LIMIT = 1000  # characters of the merchant's answer kept per attempt
USER_AGENT = "payment-backend-webhooks/1"
INTERRUPTED = "interrupted: the sender stopped before recording an answer (its process died?)"


@dataclass(frozen=True)
class AttemptResult:
    """One attempt and what it means for the delivery."""

    attempt: DeliveryAttempt
    ok: bool
    permanent: bool  # no point retrying (the URL is not allowed)

    def describe(self) -> str:
        """A short reason for logs and the job's last_error."""
        if self.ok:
            return f"HTTP {self.attempt.status_code}"
        return self.attempt.error or f"HTTP {self.attempt.status_code}"


def retry_at(failed_attempts: int, after: datetime) -> datetime | None:
    """When to try again after this many failed attempts; None when it is time to give up."""
    if failed_attempts < 1 or failed_attempts > len(RETRY_SCHEDULE):
        return None
    return after + RETRY_SCHEDULE[failed_attempts - 1]


def wire_body(body: dict[str, Any]) -> tuple[str, str]:
    """(text, content type): JSON, or the seed's encrypted text in seed-compatible mode."""
    if current_app.config["PAYMENT_SEED_WEBHOOK_ENCRYPTION"]:
        return seed_cipher().encrypt_json(body), "text/plain"
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")), "application/json"


def signed_headers(message_id: str, text: str, content_type: str) -> dict[str, str]:
    """Standard Webhooks headers over exactly the text sent."""
    timestamp = int(now().timestamp())
    secret = current_app.config["PAYMENT_WEBHOOK_SIGNING_SECRET"]
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign_webhook(secret, message_id, timestamp, text),
        "Content-Type": content_type,
        "User-Agent": USER_AGENT,
    }


def deliver(delivery: WebhookDelivery) -> AttemptResult:
    """POST the notification once; the attempt is committed as `sending` first, so a sender
    that dies mid-POST leaves a trace, and completed afterwards (the caller commits)."""
    attempt = _start_attempt(delivery)
    note_outside_effect()  # a replay's request is not run again once the merchant may have it
    text, content_type = wire_body(sealer().unseal(delivery.sealed_body))
    headers = signed_headers(delivery.id, text, content_type)
    rid = request_id.get()
    if rid:  # the request that caused the notification (the worker restores it per job)
        headers[REQUEST_ID_HEADER] = rid
    started = time.perf_counter()
    status_code, answer, error, permanent = _post(delivery.url, text.encode(), headers)
    duration_ms = int((time.perf_counter() - started) * 1000)
    ok = error is None and status_code is not None and 200 <= status_code < 300
    if error is None and not ok:
        error = f"HTTP {status_code}"
    attempt.state = "done"
    attempt.status_code = status_code
    attempt.response_body = answer
    attempt.error = error[:500] if error else None
    attempt.duration_ms = duration_ms
    log.info(
        "webhook %s to %s: %s in %d ms",
        delivery.id,
        loggable_url(delivery.url),
        "delivered" if ok else error,
        duration_ms,
    )
    return AttemptResult(attempt=attempt, ok=ok, permanent=permanent)


def _post(
    url: str, data: bytes, headers: dict[str, str]
) -> tuple[int | None, str | None, str | None, bool]:
    """POST within the deadline: (status code, answer, error, whether the error is permanent)."""
    status_code: int | None = None
    deadline = _deadline()
    watchdog = Watchdog(deadline)
    try:
        # Checked again at every attempt: DNS may have changed since the URL was registered.
        check_webhook_url(url)
        with watchdog:
            response = http_session().post(
                url,
                data=data,
                headers=headers,
                timeout=_timeout(deadline),
                allow_redirects=False,  # a redirect could point anywhere, private networks included
                stream=True,
            )
            try:
                status_code = response.status_code
                raw = read_capped(response, RESPONSE_READ_LIMIT)
            finally:
                watchdog.disarm()  # before the connection goes back to the pool
                response.close()
        if watchdog.fired:  # the cut may look like the end of an answer without a length
            raise requests.Timeout("cut at the deadline")
        return status_code, raw.decode("utf-8", errors="replace")[:RESPONSE_LIMIT], None, False
    except WebhookUrlRefused as exc:
        return status_code, None, f"refused: {exc.message}", not exc.retryable
    except (requests.RequestException, OSError) as exc:
        if watchdog.fired:
            error = f"deadline: no complete answer within {deadline:g} s"
        elif isinstance(exc, requests.Timeout):
            error = f"timeout: {exc}"
        else:
            error = f"connection failed: {exc}"
        # Error texts quote the URL's path and query string, where tokens live.
        return status_code, None, scrub(error, url), False


def _start_attempt(delivery: WebhookDelivery) -> DeliveryAttempt:
    """Mark attempts whose sender died as interrupted, and commit this one as `sending`."""
    # The watchdog ends every attempt at the deadline: one still `sending` after it has no
    # sender any more (its process died before recording the answer).
    cutoff = now() - timedelta(seconds=_deadline())
    db.session.execute(
        update(DeliveryAttempt)
        .where(
            DeliveryAttempt.delivery_id == delivery.id,
            DeliveryAttempt.state == "sending",
            DeliveryAttempt.attempted_at < cutoff,
        )
        .values(state="interrupted", error=INTERRUPTED)
    )
    attempt = DeliveryAttempt(delivery_id=delivery.id, attempted_at=now(), state="sending")
    db.session.add(attempt)
    # An SQL increment: a replay and the worker may record attempts at the same time.
    delivery.attempt_count = WebhookDelivery.attempt_count + 1
    db.session.commit()
    return attempt


def replay(delivery_id: str) -> tuple[WebhookDelivery, AttemptResult] | None:
    """Deliver again now, whatever the status (an admin's replay); None when unknown."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        return None
    result = deliver(delivery)
    if not result.permanent:  # the owner's replay is a probe too: a success closes the circuit
        circuits.record(circuits.destination_of(delivery.url), result.ok, result.describe())
    delivery = lock(WebhookDelivery, delivery_id)
    if result.ok and delivery.status != "delivered":
        delivery.status = "delivered"
        delivery.next_attempt_at = None
    db.session.commit()
    return delivery, result


def deliveries_for(payment_id: str | None, limit: int = 50) -> list[WebhookDelivery]:
    """Deliveries, newest first, optionally for one payment."""
    statement = select(WebhookDelivery).order_by(WebhookDelivery.created_at.desc()).limit(limit)
    if payment_id:
        statement = statement.where(WebhookDelivery.payment_id == payment_id)
    return list(db.session.scalars(statement))


def read_capped(response: requests.Response, limit: int) -> bytes:
    """At most limit bytes of the answer's body (the rest is left unread)."""
    body = bytearray()
    for chunk in response.iter_content(chunk_size=min(limit, 16 * 1024)):
        body += chunk
        if len(body) >= limit:
            break
    return bytes(body[:limit])


def _deadline() -> float:
    return float(current_app.config.get("WEBHOOK_DEADLINE_SECONDS") or DEADLINE)


def _timeout(deadline: float) -> tuple[float, float]:
    read = float(current_app.config.get("WEBHOOK_TIMEOUT_SECONDS") or TIMEOUT[1])
    return (min(TIMEOUT[0], deadline), min(read, deadline))


_watching = threading.local()


class Watchdog:
    """Cuts the connections of one attempt at its deadline, whatever state they are in.

    Per-read timeouts cannot stop a peer that sends a byte now and then, during the headers or
    the body; shutting the socket down from a timer thread ends any read in progress.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.fired = False
        self._armed = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> Watchdog:
        self._armed = True
        _watching.current = self
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.disarm()
        _watching.current = None

    def watch(self, sock: socket.socket) -> None:
        """Cut this socket at the deadline (at once when it has passed)."""
        with self._lock:
            if not self._armed:
                return
            self._sockets.append(sock)
            if self.fired:
                _cut(sock)

    def disarm(self) -> None:
        """No cut from now on: the connection may go back to the pool."""
        with self._lock:
            self._armed = False
            self._sockets.clear()
        self._timer.cancel()

    def _fire(self) -> None:
        with self._lock:
            if not self._armed:
                return
            self.fired = True
            for sock in self._sockets:
                _cut(sock)


def _cut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _watch(sock: socket.socket | None) -> None:
    watchdog: Watchdog | None = getattr(_watching, "current", None)
    if watchdog is not None and sock is not None:
        watchdog.watch(sock)


def http_session() -> requests.Session:
    """The app's session for webhooks; its connections refuse peers the URL policy refuses."""
    session = current_app.extensions.get("webhook_http")
    if session is None:
        session = guarded_session(policy())
        current_app.extensions["webhook_http"] = session
    return session


def guarded_session(rules: UrlPolicy) -> requests.Session:
    """A session that checks the address each connection actually reached (DNS rebinding)."""
    session = requests.Session()
    session.trust_env = False  # no proxies from the environment: the peer check needs the real peer
    adapter = GuardedAdapter(rules, pool_connections=4, pool_maxsize=16, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class _PeerCheck:
    """Connection mixin: after connecting, refuse a peer address the policy does not allow."""

    url_policy: UrlPolicy
    host: str

    def _new_conn(self):  # type: ignore[no-untyped-def]
        sock = super()._new_conn()  # type: ignore[misc]
        try:
            peer = ipaddress.ip_address(str(sock.getpeername()[0]).split("%")[0])
            check_addresses(self.host, [peer], self.url_policy)
        except BaseException:
            sock.close()
            raise
        _watch(sock)  # the TLS handshake too is under the deadline
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        """Send a request; the socket it uses (new, wrapped in TLS, or reused) is watched."""
        _watch(self.sock)  # type: ignore[attr-defined]
        super().request(*args, **kwargs)  # type: ignore[misc]


class GuardedAdapter(HTTPAdapter):
    """An adapter whose pools use peer-checking connections."""

    def __init__(self, rules: UrlPolicy, **kwargs: Any) -> None:
        self.url_policy = rules
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """Build the pool manager with guarded connection classes."""
        super().init_poolmanager(*args, **kwargs)
        attrs = {"url_policy": self.url_policy}
        http_conn = type("GuardedHTTPConnection", (_PeerCheck, HTTPConnection), attrs)
        https_conn = type("GuardedHTTPSConnection", (_PeerCheck, HTTPSConnection), attrs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": type("GuardedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
            "https": type(
                "GuardedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}
            ),
        }
