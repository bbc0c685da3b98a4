"""Health, system and performance monitors."""

from __future__ import annotations

from flask import current_app
from flask_smorest import Blueprint
from sqlalchemy import text

from payment_backend.extensions import db
from payment_backend.schemas.monitors import HealthSchema

blp = Blueprint("monitors", __name__, url_prefix="/monitors", description="Service monitors")


@blp.route("/health")
@blp.response(200, HealthSchema)
@blp.alt_response(503, schema=HealthSchema, description="The database is unreachable")
def health():
    """Check that the service and its database answer."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means "down"
        current_app.logger.warning("health check failed: %s", exc)
        db.session.rollback()
        return {"status": "down", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok"}
