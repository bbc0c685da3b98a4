"""Serve the built checkout demo (frontend/dist) at /, with a single-page-app fallback."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, abort, send_from_directory
from werkzeug.routing import PathConverter

API_PREFIXES = ("api/", "payments/", "monitors/", "openapi.json", "docs")


class DemoPath(PathConverter):
    """A path of the demo: none under the API's prefixes, so an API URL with another method is
    answered 405 with only the API's methods in Allow, and an unknown API URL 404."""

    regex = r"(?!(?:api|payments|monitors|docs)(?:/|$)|openapi\.json$)[^/].*?"


NOT_BUILT = (
    "<!doctype html><title>Payment service</title><h1>Payment service</h1>"
    "<p>The checkout demo is not built. Run <code>make run</code> (or <code>npm run build</code> in "
    "<code>frontend/</code>).</p>"
)


def register_frontend(app: Flask) -> None:
    """Add the routes that serve frontend/dist."""
    dist = Path(app.config["FRONTEND_DIST"])
    app.url_map.converters["demo_path"] = DemoPath

    @app.get("/", defaults={"path": ""})
    @app.get("/<demo_path:path>")
    def frontend(path: str):
        if path.startswith(API_PREFIXES):
            abort(404)
        if not (dist / "index.html").is_file():
            return NOT_BUILT
        if path and (dist / path).is_file():
            return send_from_directory(dist, path)
        response = send_from_directory(dist, "index.html")
        response.cache_control.no_cache = True
        return response
