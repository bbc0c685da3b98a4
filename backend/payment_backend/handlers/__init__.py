"""Job handlers: one module per kind of work the worker does, each calling the services.

Services enqueue jobs (payment_backend.jobs.enqueue); the worker imports these modules (load) so
that their @job decorators register the handlers, then claims due jobs and runs them.
"""

from __future__ import annotations

import importlib

from payment_backend.jobs import HANDLERS, Handler

# Every handler module; add yours here.
MODULES = (
    "chores",
    "deliveries",
    "forgery",
    "intents",
    "orders",
    "reconciliation",
    "refund_settlement",
    "subscriptions",
    "surplus",
    "webhooks",
)


def load() -> dict[str, Handler]:
    """Import the handler modules so their @job decorators run; returns the registry."""
    for module in MODULES:
        importlib.import_module(f"{__name__}.{module}")
    return HANDLERS
