"""Dev tools: what reaches the fake gateways' control API (test clock, simulated deposits).

Registered by create_app only outside real mode, so none of these routes exists in real mode.
"""

from __future__ import annotations

from flask import Flask


def register_devtools(app: Flask) -> None:
    """Mount the dev-only routes, unless the mode is real."""
    if app.config["PAYMENT_MODE"] == "real":
        return
    from payment_backend.devtools.api import clock_blp, deposits_blp
    from payment_backend.devtools.cli import register_clock_commands

    for blueprint in (clock_blp, deposits_blp):
        app.extensions["api"].register_blueprint(blueprint)
    register_clock_commands(app)
