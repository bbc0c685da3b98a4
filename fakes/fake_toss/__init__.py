"""A stateful fake of the Toss Payments core API V1, its browser SDK and payment windows."""

from __future__ import annotations

from flask import Flask

from fake_common.clock import Clock
from fake_common.control import register_control
from fake_common.faults import FaultRules
from fake_common.webhooks import WebhookSender
from fake_toss import api, internal, window
from fake_toss.errors import register_error_handlers
from fake_toss.events import EVENT_TYPES, USER_AGENT, TossEvents
from fake_toss.gateway import TossGateway

DEFAULT_PORT = 30771
SECRET_KEY = "test_sk_zXLkKEypNArWmo50nX3lmeaxYG5R"
SEED_SECRET_KEY = "test_ak_ZORzdMaqN3wQd5k6ygr5AkYXQGwy"
CLIENT_KEY = "test_ck_D5GePWvyJnrK0W0k6q8gLzN97Eoq"

DEFAULTS: dict = {
    "SECRET_KEYS": [SECRET_KEY, SEED_SECRET_KEY],
    "CLIENT_KEY": CLIENT_KEY,
    "CLIENT_KEYS": None,  # None: [CLIENT_KEY]
    "WEBHOOK_URL": None,
    "WEBHOOK_EVENTS": list(EVENT_TYPES),
    "PUBLIC_URL": None,  # None: links use the URL each request came in on
    "CONFIRM_AMOUNT_MISMATCH_CODE": "INVALID_REQUEST",
    "CONFIRM_ORDER_MISMATCH_CODE": "NOT_FOUND_PAYMENT_SESSION",
}


def create_app(config: dict | None = None) -> Flask:
    """Build the fake Toss app; its state lives in app.extensions["fake_toss"] (a TossGateway)."""
    app = Flask(__name__)
    settings = {**DEFAULTS, **(config or {})}
    if not settings["CLIENT_KEYS"]:
        settings["CLIENT_KEYS"] = [settings["CLIENT_KEY"]]
    app.config["FAKE_TOSS_PUBLIC_URL"] = settings["PUBLIC_URL"]
    app.json.ensure_ascii = False
    app.json.sort_keys = False

    clock = Clock()
    faults = FaultRules()
    sender = WebhookSender(clock, faults, user_agent=USER_AGENT)
    events = TossEvents(sender, clock, settings)
    gateway = TossGateway(settings, clock, events)
    app.extensions["fake_toss"] = gateway
    app.extensions["fake_toss_webhooks"] = sender
    app.extensions["fake_toss_faults"] = faults

    faults.install(app)
    register_error_handlers(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(window.bp)
    app.register_blueprint(internal.bp)
    register_control(app, reset=gateway.reset, clock=clock, faults=faults, webhooks=sender)
    return app
