"""Request limits: body sizes for every route, and rates for the anonymous routes (Flask-Limiter).

Views opt into a rate group with @rate_limited(group); register_limits gives each app its own
Limiter (its settings, its storage) and wraps the marked views, so several apps in one process
(the tests) never share counters or switches.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, Response, jsonify, request
from flask_limiter import Limiter, RequestLimit
from flask_limiter.util import get_remote_address
from werkzeug.exceptions import RequestEntityTooLarge

from payment_backend.errors import ApiError

# Rate groups and the setting that holds each one's limits ("20 per minute;200 per hour").
RATE_GROUPS = {
    "checkout": "RATELIMIT_CHECKOUT",
    "subscriptions": "RATELIMIT_SUBSCRIPTIONS",
    "webhooks": "RATELIMIT_WEBHOOKS",
}
WEBHOOK_PREFIX = "/payments/webhooks/"

View = TypeVar("View", bound=Callable)


def rate_limited(group: str) -> Callable[[View], View]:
    """Mark a view as counted in a rate group (put it right below the route decorator)."""
    if group not in RATE_GROUPS:
        raise ValueError(f"unknown rate group {group!r}")

    def mark(view: View) -> View:
        view.rate_group = group  # type: ignore[attr-defined]
        return view

    return mark


def register_limits(app: Flask) -> None:
    """Refuse oversized bodies before they are read; rate-limit the marked views."""

    @app.before_request
    def _refuse_oversized_bodies() -> None:
        if request.path.startswith(WEBHOOK_PREFIX):
            request.max_content_length = app.config["WEBHOOK_MAX_CONTENT_LENGTH"]
        limit = request.max_content_length
        if limit is None:
            return
        if (request.content_length or 0) > limit:
            raise RequestEntityTooLarge()  # refused on its declared length, before any read
        # A chunked body: werkzeug stops reading at the limit and would hand the view the
        # truncated part; read it here (at most limit bytes) and refuse one that reached it.
        chunked = request.content_length is None and request.environ.get("wsgi.input_terminated")
        if chunked and len(request.get_data(cache=True)) >= limit:
            raise RequestEntityTooLarge()

    if not app.config["RATELIMIT_ENABLED"]:
        return
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=app.config["RATELIMIT_STORAGE_URI"],
        strategy="moving-window",
        headers_enabled=True,
        # A shared storage that is down must not stop payments: count in memory meanwhile.
        in_memory_fallback_enabled=True,
        swallow_errors=True,
    )
    app.extensions["rate_limiter"] = limiter
    for endpoint, view in list(app.view_functions.items()):
        group = getattr(view, "rate_group", None)
        if group is not None:
            on_breach = _webhooks_busy if group == "webhooks" else None
            limit = limiter.shared_limit(
                app.config[RATE_GROUPS[group]], scope=group, on_breach=on_breach
            )
            app.view_functions[endpoint] = limit(view)


def _webhooks_busy(limit: RequestLimit) -> Response:
    """Webhooks over their rate: 503 with Retry-After, never a 4xx (PortOne drops a webhook
    answered 4xx for good; a 5xx is retried by every gateway)."""
    seconds = max(1, math.ceil(limit.reset_at - time.time()))
    error = ApiError(
        503,
        "WEBHOOKS_BUSY",
        "Too many webhooks from this address; send it again after Retry-After seconds.",
    )
    response = jsonify(error.body())
    response.status_code = error.status
    response.headers["Retry-After"] = str(seconds)
    return response
