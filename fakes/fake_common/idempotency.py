"""Idempotency keys: the first answer to a key is kept and replayed, on the fake clock."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from flask import Blueprint, Response, g, request

from fake_common.clock import Clock

NEW = "new"
PROCESSING = "processing"


@dataclass
class IdempotencyRecord:
    """The first response to an idempotency key (or the marker that it is still running)."""

    expires_at: float
    processing: bool = True
    status: int = 0
    body: bytes = b""
    content_type: str = "application/json"


class IdempotencyStore:
    """Claims and first answers per scope (key, caller, route), each kept for ttl seconds."""

    def __init__(self, clock: Clock, ttl_seconds: float) -> None:
        self.clock = clock
        self.ttl_seconds = ttl_seconds
        self._lock = threading.Lock()
        self._records: dict[Hashable, IdempotencyRecord] = {}

    def reset(self) -> None:
        """Forget every record."""
        with self._lock:
            self._records.clear()

    def begin(self, scope: Hashable) -> IdempotencyRecord | str:
        """Claim a key: NEW (run it), PROCESSING (refuse) or the stored first answer."""
        now = self.clock.now()
        with self._lock:
            record = self._records.get(scope)
            if record is not None and record.expires_at <= now:
                record = None
            if record is None:
                self._records[scope] = IdempotencyRecord(now + self.ttl_seconds)
                return NEW
            if record.processing:
                return PROCESSING
            return record

    def finish(self, scope: Hashable, status: int, body: bytes, content_type: str) -> None:
        """Store the first answer for a key."""
        with self._lock:
            record = self._records.get(scope)
            if record is not None and record.processing:
                record.processing = False
                record.status, record.body, record.content_type = status, body, content_type

    def abandon(self, scope: Hashable) -> None:
        """Forget a claim whose request produced no answer worth replaying."""
        with self._lock:
            record = self._records.get(scope)
            if record is not None and record.processing:
                del self._records[scope]


def register_idempotency(
    bp: Blueprint,
    *,
    store: Callable[[], IdempotencyStore],
    scope: Callable[[str], Hashable],
    refuse: Callable[[str], Exception],
    header: str = "Idempotency-Key",
    max_length: int = 300,
) -> None:
    """On bp's POSTs, replay the first answer to a repeated key; server errors are not kept.

    scope(key) names what a key is unique within; refuse("invalid" or PROCESSING) is the
    exception raised for a bad key or one whose first request still runs.
    """

    @bp.before_request
    def claim_idempotency_key() -> Response | None:
        """A repeated key gets the first response without running again."""
        if request.method != "POST":
            return None
        key = request.headers.get(header)
        if key is None:
            return None
        if len(key) > max_length or not key.strip():
            raise refuse("invalid")
        claimed = scope(key)
        claim = store().begin(claimed)
        if claim == PROCESSING:
            raise refuse(PROCESSING)
        if isinstance(claim, IdempotencyRecord):
            return Response(claim.body, status=claim.status, content_type=claim.content_type)
        g.fake_idempotency_scope = claimed
        return None

    @bp.after_request
    def store_idempotent_response(response: Response) -> Response:
        """Keep the first answer to a key; server errors are not kept, so they can be retried."""
        claimed = g.pop("fake_idempotency_scope", None)
        if claimed is not None:
            if response.status_code >= 500:
                store().abandon(claimed)
            else:
                store().finish(
                    claimed, response.status_code, response.get_data(), response.content_type
                )
        return response

    @bp.teardown_request
    def release_idempotency_key(_exc: BaseException | None) -> None:
        """A request that crashed leaves no claim behind."""
        claimed = g.pop("fake_idempotency_scope", None)
        if claimed is not None:
            store().abandon(claimed)
