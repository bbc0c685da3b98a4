"""A stateful fake of the Toss Payments core API V1, its browser SDKs (v1 and v2 with the payment
widget) and payment windows."""

from __future__ import annotations

from flask import Flask

from fake_common.app import FakeParts, new_fake_app, register_fake
from fake_toss import sdk_v2, window
from fake_toss.api import register_api
from fake_toss.events import EVENT_TYPES, USER_AGENT, TossEvents
from fake_toss.gateway import TossGateway
from fake_toss.limits import FAULT_TEMPLATES

DEFAULT_PORT = 30771
SECRET_KEY = "test_sk_zXLkKEypNArWmo50nX3lmeaxYG5R"
SEED_SECRET_KEY = "test_ak_ZORzdMaqN3wQd5k6ygr5AkYXQGwy"
CLIENT_KEY = "test_ck_D5GePWvyJnrK0W0k6q8gLzN97Eoq"
# The docs' widget pair (결제위젯 연동 키): a payment opened with it is confirmed with its secret.
WIDGET_CLIENT_KEY = "test_gck_docs_Ovk5rk1EwkEbP0W43n07xlzm"
WIDGET_SECRET_KEY = "test_gsk_docs_OaPz8L5KdmQXkzRz3y47BMw6"

DEFAULTS: dict = {
    "SECRET_KEYS": [SECRET_KEY, SEED_SECRET_KEY, WIDGET_SECRET_KEY],
    "CLIENT_KEY": CLIENT_KEY,
    "CLIENT_KEYS": None,  # None: [CLIENT_KEY, WIDGET_CLIENT_KEY]
    "WEBHOOK_URL": None,
    "WEBHOOK_EVENTS": list(EVENT_TYPES),
    "PUBLIC_URL": None,  # None: links use the URL each request came in on
    "CONFIRM_AMOUNT_MISMATCH_CODE": "INVALID_REQUEST",
    "CONFIRM_ORDER_MISMATCH_CODE": "NOT_FOUND_PAYMENT_SESSION",
}


def create_app(config: dict | None = None) -> Flask:
    """Build the fake Toss app; its state lives in app.extensions["fake_toss"] (a TossGateway)."""
    app = new_fake_app(__name__)
    settings = {**DEFAULTS, **(config or {})}
    if not settings["CLIENT_KEYS"]:
        settings["CLIENT_KEYS"] = [settings["CLIENT_KEY"], WIDGET_CLIENT_KEY]
    app.config["FAKE_TOSS_PUBLIC_URL"] = settings["PUBLIC_URL"]

    parts = FakeParts.new(user_agent=USER_AGENT, fault_templates=FAULT_TEMPLATES)
    events = TossEvents(parts.webhooks, parts.clock, settings)
    gateway = TossGateway(settings, parts.clock, events)
    register_fake(app, "fake_toss", gateway, parts)
    register_api(app)
    app.register_blueprint(window.bp)
    app.register_blueprint(sdk_v2.bp)
    return app
