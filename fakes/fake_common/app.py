"""How every fake's create_app is wired: one clock, one set of fault rules, one webhook sender,
the control API over them, and one way to stop the fake's threads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from flask import Flask

from fake_common.clock import Clock
from fake_common.control import register_control
from fake_common.faults import FaultRules
from fake_common.webhooks import WebhookSender
from fake_common.window_ui import register_window_templates

EXTENSION = "fake"


class Gateway(Protocol):
    """What the wiring needs of a fake's state: forget everything, stop its own threads."""

    def reset(self) -> None:
        """Forget all state."""

    def close(self) -> None:
        """Stop background threads the gateway started."""


@dataclass
class FakeParts:
    """What every fake shares besides its gateway: the clock, the fault rules, the webhook sender."""

    clock: Clock
    faults: FaultRules
    webhooks: WebhookSender

    @classmethod
    def new(
        cls, *, user_agent: str | None = None, fault_templates: dict[str, dict] | None = None
    ) -> FakeParts:
        """A fresh real-time clock, no fault rules (the fake's templates ready), and a sender
        that obeys both."""
        clock = Clock()
        faults = FaultRules(templates=fault_templates)
        options = {"user_agent": user_agent} if user_agent else {}
        return cls(clock, faults, WebhookSender(clock, faults, **options))


@dataclass
class Fake:
    """A fake's state and shared parts, as create_app left them in app.extensions["fake"]."""

    name: str
    gateway: Gateway
    parts: FakeParts

    def close(self) -> None:
        """Stop the gateway's threads and the webhook sender."""
        self.gateway.close()
        self.parts.webhooks.close()


def new_fake_app(import_name: str) -> Flask:
    """A Flask app that answers JSON as the gateways do: UTF-8 text, keys in insertion order."""
    app = Flask(import_name)
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    register_window_templates(app)
    return app


def register_fake(
    app: Flask,
    name: str,
    gateway: Gateway,
    parts: FakeParts,
) -> Fake:
    """Store the gateway (app.extensions[name] and ["fake"]), apply fault rules, add /__control."""
    fake = Fake(name, gateway, parts)
    app.extensions[name] = gateway
    app.extensions[EXTENSION] = fake
    parts.faults.install(app)
    register_control(
        app,
        reset=gateway.reset,
        clock=parts.clock,
        faults=parts.faults,
        webhooks=parts.webhooks,
    )
    return fake


def close_fake(app: Flask) -> None:
    """Stop a fake app's background threads (webhook delivery, schedules)."""
    app.extensions[EXTENSION].close()
