"""A stateful fake of PortOne V2: its REST API, signed webhooks, browser SDK and payment window."""

from __future__ import annotations

import base64

from flask import Flask

from fake_common.app import FakeParts, new_fake_app, register_fake
from fake_portone.api import register_api
from fake_portone.events import USER_AGENT, PortOneEvents
from fake_portone.gateway import PortOneGateway

DEFAULT_PORT = 41851
# Test values, documented in fakes/README.md; the real ones come from the PortOne console.
API_SECRET = "test_portone_v2_api_secret_0000000000000000000000000000000000000000000000000000"
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"fake-portone-v2-webhook-secret!!").decode()
STORE_ID = "store-00000000-0000-4000-8000-000000000000"
CHANNEL_KEY = "channel-key-00000000-0000-4000-8000-000000000001"
MERCHANT_ID = "merchant-00000000-0000-4000-8000-000000000002"

DEFAULTS: dict = {
    "API_SECRETS": [API_SECRET],
    "WEBHOOK_SECRET": WEBHOOK_SECRET,
    "WEBHOOK_URL": None,
    "STORE_ID": STORE_ID,
    "MERCHANT_ID": MERCHANT_ID,
    # channelKey -> the SelectedChannel fields (the first is used when a request names none).
    "CHANNELS": {
        CHANNEL_KEY: {
            "id": "channel-id-fake-toss",
            "name": "토스페이먼츠 테스트",
            "pgProvider": "TOSSPAYMENTS",
            "pgMerchantId": "tosstest",
        },
    },
    "WEBHOOK_ON_READY": True,  # Transaction.Ready when a payment window opens
    "MAX_MANUAL_RESENDS": 5,
    "VA_HOLDER": "가짜상점",
    "VA_VALID_HOURS": 72,
    "SCHEDULE_POLL_SECONDS": 1.0,
}


def create_app(config: dict | None = None) -> Flask:
    """Build the fake; its state lives in app.extensions["fake_portone"] (a PortOneGateway)."""
    app = new_fake_app(__name__)
    settings = {**DEFAULTS, **(config or {})}
    if config and config.get("API_SECRET"):
        settings["API_SECRETS"] = [config["API_SECRET"]]
    parts = FakeParts.new(user_agent=USER_AGENT)
    events = PortOneEvents(parts.webhooks, parts.clock, parts.faults, settings)
    gateway = PortOneGateway(settings, parts.clock, events)
    register_fake(app, "fake_portone", gateway, parts)
    register_api(app)
    register_window(app)
    return app


def register_window(app: Flask) -> None:
    """The browser SDK script and the payment window pages."""
    from fake_portone.window import bp

    app.register_blueprint(bp)
