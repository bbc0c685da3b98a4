"""Idempotency keys: the first answer to a key is stored (sealed) and replayed for repeats.

A claim is held by a live request, never by a timer: on PostgreSQL a session-level advisory lock
on a connection of its own, on SQLite an flock on a file beside the database. A holder that dies
takes its lock with it (connection or process gone), so its key is free at once; the key of a
holder that is still running is never taken over (a second request gets 409 at once). Rows are
purged after 24 hours (purge_expired, run by the worker): then the same key is a new request.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import hmac
import json
import logging
import os
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from flask import Flask, current_app, g, request
from sqlalchemy import create_engine, delete, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from payment_backend.clock import now
from payment_backend.config import POOL_RECYCLE_SECONDS
from payment_backend.crypto import sealer
from payment_backend.database import reading
from payment_backend.errors import ApiError, gateway_refused
from payment_backend.extensions import db
from payment_backend.models import IdempotencyKey
from payment_backend.transient import is_transient
from payment_backend.vendors.base import GatewayError

log = logging.getLogger(__name__)

MAX_KEY_LENGTH = 300
KEEP_FOR = timedelta(hours=24)  # as Stripe does: after this, the same key is a new request
RETRY_AFTER_SECONDS = 1
# SQLite: lock files are striped (a fixed set, never cleaned up); two keys sharing a stripe at
# the same moment only make one of them wait for a retry.
FILE_STRIPES = 4096
# PostgreSQL: the claims' own pool, per process (one connection per request in a claim).
LOCK_POOL_SIZE = 5
LOCK_POOL_OVERFLOW = 20

Outcome = tuple[int, dict[str, Any]]
Claim = tuple[str, str]  # (scope, key)


def fingerprint(*parts: Any) -> str:
    """A keyed hash of the request (keyed, so a stored hash cannot be used to guess a password)."""
    message = json.dumps(
        parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, message.encode(), hashlib.sha256).hexdigest()


def derived_id(scope: str, key: str, token: str | None = None) -> str:
    """A stable id for what a claim does (e.g. the gateway's Idempotency-Key of a refund)."""
    return fingerprint("derived", scope, key, *([token] if token else []))[:32]


# -- liveness ------------------------------------------------------------------------------------


class ClaimLocks(Protocol):
    """The locks one request holds for its claims, released together."""

    def try_lock(self, scope: str, key: str) -> bool:
        """Take the lock of (scope, key) without waiting; False when a live holder has it."""

    def release(self) -> None:
        """Let every lock go."""


def _digest(scope: str, key: str) -> bytes:
    return hashlib.sha256(f"{scope}\0{key}".encode()).digest()


class AdvisoryLocks:
    """PostgreSQL: pg_try_advisory_lock on a connection of a pool of its own (outside the app's
    pool), unlocked explicitly before the connection goes back; a connection whose unlock
    failed is closed for good instead, which ends its session and every lock it held."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: Connection | None = None
        self._taken: list[int] = []

    def try_lock(self, scope: str, key: str) -> bool:
        """Take the session-level advisory lock on the key's hash."""
        if self._connection is None:
            self._connection = self._engine.connect()
        number = int.from_bytes(_digest(scope, key)[:8], "big", signed=True)
        locked = self._connection.execute(text("SELECT pg_try_advisory_lock(:n)"), {"n": number})
        if not locked.scalar():
            return False
        self._taken.append(number)
        return True

    def release(self) -> None:
        """Unlock what was taken and give the connection back (or close it: see the class)."""
        connection, self._connection = self._connection, None
        taken, self._taken = self._taken, []
        if connection is None:
            return
        unlock = text("SELECT pg_advisory_unlock(:n)")
        try:
            unlocked = all(connection.execute(unlock, {"n": n}).scalar() for n in taken)
        except Exception:
            log.warning("advisory unlock failed; closing its connection", exc_info=True)
            unlocked = False
        if not unlocked:
            connection.invalidate()
        connection.close()


class FileLocks:
    """SQLite (one machine): flock on a lock file per stripe, released by the kernel on exit."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._held: dict[int, int] = {}  # stripe -> file descriptor

    def try_lock(self, scope: str, key: str) -> bool:
        """Take the stripe's lock (already ours when another claim of this request has it)."""
        stripe = int.from_bytes(_digest(scope, key)[:4], "big") % FILE_STRIPES
        if stripe in self._held:
            return True
        self._folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._folder / f"{stripe:04d}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._held[stripe] = fd
        return True

    def release(self) -> None:
        """Close the files (closing releases their locks)."""
        for fd in self._held.values():
            os.close(fd)
        self._held.clear()


def claim_locks() -> ClaimLocks:
    """Fresh locks for this request's claims, on this app's database."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    url = db.engine.url
    if url.get_backend_name() == "postgresql":
        engine = app.extensions.get("idempotency_lock_engine")
        if engine is None:
            # A pool of its own: a claim's connection is never one a request waits for, and a
            # request does not pay for a new PostgreSQL session (AdvisoryLocks unlocks first).
            engine = create_engine(
                url,
                isolation_level="AUTOCOMMIT",
                pool_size=LOCK_POOL_SIZE,
                max_overflow=LOCK_POOL_OVERFLOW,
                pool_recycle=POOL_RECYCLE_SECONDS,
            )
            app.extensions["idempotency_lock_engine"] = engine
        return AdvisoryLocks(engine)
    return FileLocks(_lock_folder(app, url.database))


def _lock_folder(app: Flask, database: str | None) -> Path:
    if database and database != ":memory:":
        path = Path(database)
        return path.with_name(f"{path.name}.claims")
    return Path(app.instance_path) / "idempotency-claims"


# -- claims --------------------------------------------------------------------------------------


def _processing() -> ApiError:
    return ApiError(
        409,
        "IDEMPOTENT_REQUEST_PROCESSING",
        "The first request with this Idempotency-Key is still running; retry later.",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def _stored(scope: str, key: str) -> IdempotencyKey | None:
    return db.session.scalars(
        select(IdempotencyKey)
        .where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
        .execution_options(populate_existing=True)
    ).first()


def _claim(scope: str, key: str, request_hash: str, locks: ClaimLocks) -> IdempotencyKey | Outcome:
    """Claim the key, or return the stored outcome of the first request with it."""
    held = locks.try_lock(scope, key)
    if held:
        existing = _stored(scope, key)
    else:
        # Only a read is left (the stored outcome, or 409): never waiting behind the live
        # holder's write (SQLite's write lock, held across its gateway call).
        db.session.rollback()
        with reading():
            existing = _stored(scope, key)
    if existing is not None:
        if not hmac.compare_digest(existing.request_hash, request_hash):
            db.session.rollback()
            raise ApiError(
                422,
                "IDEMPOTENCY_KEY_REUSED",
                "This Idempotency-Key was already used for a different request.",
            )
        if existing.status_code is not None and existing.response is not None:
            outcome = existing.status_code, sealer().unseal(existing.response["sealed"])
            db.session.rollback()
            return outcome
    if not held:
        db.session.rollback()
        raise _processing()
    if existing is not None:
        # We hold its lock, so its holder is gone (crashed, or gave up on a server error):
        # take the claim over with its token, so a gateway sees the same request again.
        db.session.commit()
        return existing
    row = IdempotencyKey(
        scope=scope,
        key=key,
        request_hash=request_hash,
        token=secrets.token_hex(16),
        created_at=now(),
    )
    db.session.add(row)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # only a holder outside this protocol can be here
        raise _processing() from None
    return row


def _finish(
    rows: Sequence[IdempotencyKey],
    outcome: Outcome,
    *,
    failed: bool = False,
    forget: Sequence[IdempotencyKey] = (),
) -> None:
    """Store outcome under rows, and drop the claims in forget, in one transaction."""
    if failed:
        db.session.rollback()
    sealed = {"sealed": sealer().seal(outcome[1])}
    for claimed in rows:
        row = db.session.get(IdempotencyKey, claimed.id)
        if row is not None:
            row.status_code = outcome[0]
            row.response = sealed
    if forget:
        db.session.execute(
            delete(IdempotencyKey).where(IdempotencyKey.id.in_([row.id for row in forget]))
        )
    db.session.commit()


def _store_outcome(rows: Sequence[IdempotencyKey], outcome: Outcome) -> None:
    """Store a handler's outcome; once more on a dropped connection (the handler's work is
    committed: without its answer stored, a retry of the request would run it again)."""
    try:
        _finish(rows, outcome)
    except Exception as exc:
        if not is_transient(exc):
            raise
        log.warning("storing an idempotent answer failed, storing it once more: %s", exc)
        db.session.rollback()
        _finish(rows, outcome)


def run_once(
    scope: str,
    key: str | None,
    request_hash: str,
    handler: Callable[[], Outcome],
    *,
    identity: Claim | None = None,
) -> Outcome:
    """Run handler once per (scope, key); repeats get the first (status, body).

    identity is a further claim that names the request whatever its key (the service API's
    hash of the body): the first answer under either is the answer, and the gateway id of what
    the handler does (g.idempotency_id) follows identity. Successes and client errors (an
    ApiError below 500) are stored under the key; only successes under identity (a refused
    request changed nothing, so the same body may try again). A server error or a gateway
    outage is stored under neither, so the same request can be retried as itself.
    """
    claims: list[Claim] = [identity] if identity else []
    if key is not None:
        if not key.strip() or len(key) > MAX_KEY_LENGTH:
            raise ApiError(
                400,
                "INVALID_IDEMPOTENCY_KEY",
                f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} chars.",
            )
        claims.append((scope, key))
    if not claims:
        return handler()
    locks = claim_locks()
    try:
        rows: list[IdempotencyKey] = []
        for claim_scope, claim_key in claims:
            claimed = _claim(claim_scope, claim_key, request_hash, locks)
            if not isinstance(claimed, IdempotencyKey):
                if rows:
                    _finish(rows, claimed)  # the same request: the same answer under every key
                return claimed
            rows.append(claimed)
        first = rows[0]
        # What the handler does at a gateway gets an id of its own, stable across retries.
        g.idempotency_id = derived_id(first.scope, first.key, first.token)
        try:
            outcome = handler()
        except (ApiError, GatewayError) as exc:
            # A gateway's refusal is a client error like any other: its answer is stored.
            error = exc if isinstance(exc, ApiError) else gateway_refused(exc)
            if error.status >= 500:
                db.session.rollback()
            else:
                by_key = rows[1:] if identity else rows
                dropped = rows[:1] if identity else []
                _finish(by_key, (error.status, error.body()), failed=True, forget=dropped)
            raise error from exc
        except BaseException:
            db.session.rollback()
            raise
        _store_outcome(rows, outcome)
        return outcome
    finally:
        locks.release()  # only now: the answer is stored before anyone else may claim


def replay_error(outcome: Outcome) -> ApiError:
    """The stored error answer as an ApiError to raise again."""
    status, body = outcome
    extra = {k: v for k, v in body.items() if k not in ("code", "message")}
    return ApiError(status, body.get("code", "ERROR"), body.get("message", ""), **extra)


def idempotent(scope: str, *, authenticate: Callable[[], None] | None) -> Callable:
    """Decorate a JSON view (under @blp.response): an Idempotency-Key header replays its first answer.

    authenticate runs before the key is claimed: a caller it refuses claims and stores nothing.
    """

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if authenticate is not None:
                authenticate()
            key = request.headers.get("Idempotency-Key")
            request_hash = fingerprint(scope, request.path, args, kwargs)
            status, body = run_once(scope, key, request_hash, lambda: (200, view(*args, **kwargs)))
            if status >= 400:
                raise replay_error((status, body))
            return body

        wrapper.idempotent = True  # type: ignore[attr-defined]  (the OpenAPI document says so)
        return wrapper

    return decorate


# -- purge ---------------------------------------------------------------------------------------


def purge_expired(moment: datetime | None = None) -> int:
    """Delete the keys claimed more than 24 hours before moment (default: now); returns how many."""
    cutoff = (moment or now()) - KEEP_FOR
    deleted = db.session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff)
    ).rowcount
    db.session.commit()
    return deleted or 0


def purge_in(app: Flask) -> None:
    """The worker's hourly purge: never lets an error stop the worker."""
    try:
        with app.app_context():
            purged = purge_expired()
        if purged:
            log.info("purged %d idempotency keys older than 24 h", purged)
    except Exception:
        log.exception("idempotency purge failed")
