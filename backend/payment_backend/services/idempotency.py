"""Idempotency-Key handling: the first answer to a key is stored (sealed) and replayed for repeats."""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import current_app, g, request
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from payment_backend.clock import now
from payment_backend.crypto import sealer
from payment_backend.errors import ApiError
from payment_backend.extensions import db
from payment_backend.models import IdempotencyKey

MAX_KEY_LENGTH = 300
# A claim older than this whose request never finished (a crashed worker) may be taken over.
STALE_CLAIM = timedelta(minutes=2)

Outcome = tuple[int, dict[str, Any]]


def fingerprint(*parts: Any) -> str:
    """A keyed hash of the request (keyed, so a stored hash cannot be used to guess a password)."""
    message = json.dumps(
        parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, message.encode(), hashlib.sha256).hexdigest()


def derived_id(scope: str, key: str) -> str:
    """A stable id for what a key does (e.g. the gateway's Idempotency-Key of a refund)."""
    return fingerprint("derived", scope, key)[:32]


def _claim(scope: str, key: str, request_hash: str) -> IdempotencyKey | Outcome:
    """Claim the key, or return the stored outcome of the first request with it."""
    for _ in range(3):
        row = IdempotencyKey(scope=scope, key=key, request_hash=request_hash, created_at=now())
        db.session.add(row)
        try:
            db.session.commit()
            return row
        except IntegrityError:
            db.session.rollback()
        existing = db.session.scalars(
            select(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
        ).first()
        if existing is None:
            continue  # the other claim was abandoned in between: try again
        if not hmac.compare_digest(existing.request_hash, request_hash):
            raise ApiError(
                422,
                "IDEMPOTENCY_KEY_REUSED",
                "This Idempotency-Key was already used for a different request.",
            )
        if existing.status_code is not None and existing.response is not None:
            return existing.status_code, sealer().unseal(existing.response["sealed"])
        if existing.created_at > now() - STALE_CLAIM:
            raise ApiError(
                409,
                "IDEMPOTENT_REQUEST_PROCESSING",
                "The first request with this Idempotency-Key is still running; retry later.",
            )
        db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == existing.id))
        db.session.commit()
    raise ApiError(409, "IDEMPOTENT_REQUEST_PROCESSING", "Retry later.")


def _finish(claim_id: int, outcome: Outcome, *, failed: bool = False) -> None:
    if failed:
        db.session.rollback()
    row = db.session.get(IdempotencyKey, claim_id)
    if row is not None:
        row.status_code = outcome[0]
        row.response = {"sealed": sealer().seal(outcome[1])}
        db.session.commit()


def _abandon(claim_id: int) -> None:
    db.session.rollback()
    db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == claim_id))
    db.session.commit()


def run_once(
    scope: str, key: str | None, request_hash: str, handler: Callable[[], Outcome]
) -> Outcome:
    """Run handler once per (scope, key); repeats get the first (status, body).

    Successes and client errors (an ApiError below 500) are stored; a server error or a
    gateway outage is not, so the same key can be retried.
    """
    if key is None:
        return handler()
    if not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise ApiError(
            400, "INVALID_IDEMPOTENCY_KEY", f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} chars."
        )
    claim = _claim(scope, key, request_hash)
    if not isinstance(claim, IdempotencyKey):
        return claim
    claim_id = claim.id
    # What the handler does at a gateway gets a key of its own, stable across retries of this one.
    g.idempotency_id = derived_id(scope, key)
    try:
        outcome = handler()
    except ApiError as exc:
        if exc.status >= 500:
            _abandon(claim_id)
        else:
            _finish(claim_id, (exc.status, exc.body()), failed=True)
        raise
    except BaseException:
        _abandon(claim_id)
        raise
    _finish(claim_id, outcome)
    return outcome


def replay_error(outcome: Outcome) -> ApiError:
    """The stored error answer as an ApiError to raise again."""
    status, body = outcome
    extra = {k: v for k, v in body.items() if k not in ("code", "message")}
    return ApiError(status, body.get("code", "ERROR"), body.get("message", ""), **extra)


def idempotent(scope: str) -> Callable:
    """Decorate a JSON view (under @blp.response): an Idempotency-Key header replays its first answer."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            key = request.headers.get("Idempotency-Key")
            request_hash = fingerprint(scope, request.path, args, kwargs)
            status, body = run_once(scope, key, request_hash, lambda: (200, view(*args, **kwargs)))
            if status >= 400:
                raise replay_error((status, body))
            return body

        return wrapper

    return decorate
