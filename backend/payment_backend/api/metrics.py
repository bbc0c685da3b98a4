"""/metrics in the Prometheus format (the owner's token outside local mode)."""

from __future__ import annotations

from flask import Flask, Response
from prometheus_client import CONTENT_TYPE_LATEST

from payment_backend import metrics
from payment_backend.api.auth import require_admin


def register_metrics(app: Flask) -> None:
    """Time every request, count the deciding answers, and serve /metrics."""
    app.before_request(metrics.start_timer)
    app.after_request(metrics.observe)

    @app.get("/metrics")
    def serve_metrics() -> Response:
        require_admin()
        return Response(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)
