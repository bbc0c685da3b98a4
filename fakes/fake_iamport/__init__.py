"""A stateful fake of the PortOne (iamport) V1 REST API, browser SDK and payment window."""

from __future__ import annotations

from flask import Flask, request

from fake_common.app import FakeParts, new_fake_app, register_fake
from fake_iamport.api import register_api
from fake_iamport.gateway import DEFAULT_CONFIG, IamportGateway
from fake_iamport.limits import FAULT_TEMPLATES


def create_app(config: dict | None = None) -> Flask:
    """Build the fake: settings from DEFAULT_CONFIG, FAKE_IAMPORT_* env vars, then config."""
    app = new_fake_app(__name__)
    app.config.update(DEFAULT_CONFIG)
    app.config.from_prefixed_env("FAKE_IAMPORT")
    app.config.update(config or {})

    parts = FakeParts.new(fault_templates=FAULT_TEMPLATES)
    gateway = IamportGateway({key: app.config[key] for key in DEFAULT_CONFIG}, parts)
    register_public_url(app, gateway)
    register_fake(app, "fake_iamport", gateway, parts)
    register_api(app)
    register_window(app)
    return app


def register_public_url(app: Flask, gateway: IamportGateway) -> None:
    """Learn the URL people reach the fake at (for receipt_url) from the first request."""

    @app.before_request
    def remember_url() -> None:
        if gateway.public_url is None:
            gateway.public_url = request.host_url.rstrip("/")


def register_window(app: Flask) -> None:
    """The SDK script and the payment window pages."""
    from fake_iamport.window import bp

    app.register_blueprint(bp)
