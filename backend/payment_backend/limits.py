"""Request limits: body sizes for every route, and rates for the anonymous routes (Flask-Limiter).

Views opt into a rate group with @rate_limited(group); register_limits gives each app its own
Limiter (its settings, its storage) and wraps the marked views, so several apps in one process
(the tests) never share counters or switches.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.exceptions import RequestEntityTooLarge

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
            limit = limiter.shared_limit(app.config[RATE_GROUPS[group]], scope=group)
            app.view_functions[endpoint] = limit(view)
