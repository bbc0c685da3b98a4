"""Transient database errors (a dropped connection, a serialization failure, a deadlock): a
request is run once more where repeating it is safe, else answered 503 DATABASE_UNAVAILABLE with
Retry-After, in the error envelope; never a 500.

Repeating is safe when nothing outside the database changed: the failed run's database work was
rolled back, so a second run starts from the same state. Gateway writes (confirm, cancel, charge,
prepare) and notifications sent to merchants are outside effects (note_outside_effect); reads are
not. A request that did one is not repeated here: its client retries (with the same
Idempotency-Key, whose claim the retry takes over with the same gateway key).
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, g, has_request_context, jsonify, request
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, PendingRollbackError

from payment_backend.database import LockInterrupted
from payment_backend.extensions import db

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 1
CODE = "DATABASE_UNAVAILABLE"
# Development tools that change the fakes before their database work: never run twice.
NEVER_REPEATED = ("test_clock.", "checkout.simulate_deposit")


def is_transient(exc: BaseException) -> bool:
    """Whether exc is a database failure that the same work may not meet again."""
    if isinstance(exc, PendingRollbackError | LockInterrupted):
        return True
    if isinstance(exc, DBAPIError):
        # OperationalError covers a terminated connection, serialization failures, deadlocks
        # and SQLite's "database is locked"; InterfaceError a connection already closed.
        return exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError)
    return False


def note_outside_effect() -> None:
    """Something outside the database is about to change: this request is not run again."""
    if has_request_context():
        g.outside_effect = True


def _repeatable() -> bool:
    endpoint = request.endpoint or ""
    if any(endpoint.startswith(name) for name in NEVER_REPEATED):
        return False
    return not g.get("outside_effect", False)


def _forget_failed_work() -> None:
    """End the session's transaction; a connection that died is invalidated, not rolled back
    (a ROLLBACK on it raises again), and the pool replaces it."""
    try:
        db.session.close()
    except Exception:
        with contextlib.suppress(Exception):
            db.session.invalidate()


def once_more(view: Callable[..., Any]) -> Callable[..., Any]:
    """Run view; on a transient database error, once more when nothing outside changed."""

    @functools.wraps(view)
    def run(*args: Any, **kwargs: Any) -> Any:
        g.outside_effect = False
        try:
            return view(*args, **kwargs)
        except Exception as exc:
            if not is_transient(exc) or not _repeatable():
                raise
            log.warning("%s: transient database error, running it once more: %s", request.path, exc)
            _forget_failed_work()
        return view(*args, **kwargs)

    return run


def unavailable():  # noqa: ANN201 (a Flask response tuple)
    """The 503 answer: the same request may be sent again after Retry-After seconds."""
    _forget_failed_work()
    body = {
        "code": CODE,
        "message": "The database did not complete this request; retry it after Retry-After "
        "seconds (with the same Idempotency-Key, if it had one).",
    }
    return jsonify(body), 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}


def register_database_errors(app: Flask) -> None:
    """Run every view once more on a transient database error where safe; answer 503 otherwise."""
    for endpoint, view in list(app.view_functions.items()):
        if endpoint != "static":
            app.view_functions[endpoint] = once_more(view)

    def _database_error(exc: Exception):  # noqa: ANN202
        if is_transient(exc):
            log.warning("%s: transient database error, answered 503: %s", request.path, exc)
            return unavailable()
        app.logger.exception("unhandled database error")
        return jsonify(
            {"code": "INTERNAL_ERROR", "message": "Something went wrong on our side."}
        ), 500

    for error in (DBAPIError, PendingRollbackError, LockInterrupted):
        app.register_error_handler(error, _database_error)

    # Runs before Flask-SQLAlchemy's own teardown (registered earlier, so called later): a
    # connection terminated after the answer was built must not turn it into a 500.
    app.teardown_appcontext(lambda _exc: _forget_failed_work())
