"""The API docs at /docs: Swagger UI from a pinned copy served by this app (no CDN, no internet).

The assets come with the `flask-swagger-ui` package (its `dist` folder, Swagger UI's own build);
the version is pinned in pyproject.toml, so the page is the same offline and online.
"""

from __future__ import annotations

from pathlib import Path

import flask_swagger_ui
from flask import Flask, abort, send_from_directory

ASSETS_URL = "/docs/assets/"
ASSETS = Path(flask_swagger_ui.__file__).resolve().parent / "dist"
# What the docs page loads (flask-smorest's swagger_ui.html) and nothing else of the folder.
SERVED = ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js")


def swagger_ui_settings() -> dict:
    """flask-smorest settings: the UI's assets from this app; no call to the online validator."""
    return {
        "OPENAPI_SWAGGER_UI_PATH": "docs",
        "OPENAPI_SWAGGER_UI_URL": ASSETS_URL,
        "OPENAPI_SWAGGER_UI_CONFIG": {"validatorUrl": None},
    }


def register_docs(app: Flask) -> None:
    """Serve the Swagger UI assets under /docs/assets/."""

    @app.get(ASSETS_URL + "<name>")
    def swagger_ui_asset(name: str):
        if name not in SERVED:
            abort(404)
        return send_from_directory(ASSETS, name, max_age=86400)
