"""The ceiling of this machine: a Flask app with one JSON endpoint that does nothing."""

from __future__ import annotations

from flask import Flask


def create_app() -> Flask:
    """Build the bare app: POST /bare answers {"ok": true}."""
    app = Flask(__name__)

    @app.post("/bare")
    def bare():
        """Answer without reading the body or touching anything."""
        return {"ok": True}

    return app
