"""The payment service: create_app reads like a table of contents."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from payment_backend.api.metrics import register_metrics
from payment_backend.cli import register_owner_commands
from payment_backend.clock import register_clock
from payment_backend.config import load_settings
from payment_backend.database import configure as configure_database
from payment_backend.devtools import register_devtools
from payment_backend.docs import register_docs, swagger_ui_settings
from payment_backend.errors import register_error_handlers
from payment_backend.extensions import db, migrate
from payment_backend.frontend import register_frontend
from payment_backend.limits import register_limits
from payment_backend.logs import register_logging
from payment_backend.openapi import create_api
from payment_backend.transient import register_database_errors
from payment_backend.worker import register_commands

__version__ = "0.1.0"
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app; config overrides the environment."""
    instance_path = (config or {}).get("INSTANCE_PATH") or os.environ.get("PAYMENT_INSTANCE_PATH")
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    register_settings(app, config)
    register_logging(app)
    register_clock(app)
    register_extensions(app)
    register_blueprints(app)
    register_devtools(app)
    register_limits(app)
    register_error_handlers(app)
    register_metrics(app)
    register_docs(app)
    register_frontend(app)
    register_database_errors(app)
    register_commands(app)
    register_owner_commands(app)
    return app


def register_settings(app: Flask, config: Mapping[str, Any] | None) -> None:
    """Load settings; fail fast on bad ones."""
    app.config.update(load_settings(app.instance_path, config))
    app.config.update(
        API_TITLE="Payment service",
        API_VERSION=__version__,
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        **swagger_ui_settings(),
        JSON_SORT_KEYS=False,
    )


def register_extensions(app: Flask) -> None:
    """Bind the database (SQLite's transactions: payment_backend.database), migrations and the
    API spec."""
    from payment_backend import models  # noqa: F401  (registers the tables)

    db.init_app(app)
    with app.app_context():
        configure_database(db.engine)
    migrate.init_app(app, db, directory=str(MIGRATIONS))
    app.extensions["api"] = create_api(app)


def register_blueprints(app: Flask) -> None:
    """Mount the HTTP APIs."""
    from payment_backend.api import (
        admin,
        admin_orders,
        checkout,
        monitors,
        service,
        settlement,
        subscriptions,
        webhooks,
    )

    for blueprint in (
        monitors.blp,
        checkout.blp,
        webhooks.blp,
        admin_orders.blp,
        service.blp,
        service.reservations_blp,
        admin.blp,
        subscriptions.blp,
        subscriptions.admin_blp,
        settlement.blp,
    ):
        app.extensions["api"].register_blueprint(blueprint)
    service.register_schemas(app.extensions["api"].spec)
