"""Who may use the owner's routes: a bearer token, except in local mode."""

from __future__ import annotations

import hmac

from flask import current_app, request

from payment_backend.errors import ApiError

# For @blp.doc(security=ADMIN_SECURITY) on owner routes.
ADMIN_SECURITY = [{"adminToken": []}]


def require_admin() -> None:
    """Raise 401 ADMIN_TOKEN_REQUIRED unless the request carries the admin token (or mode is local)."""
    config = current_app.config
    if config["PAYMENT_MODE"] == "local":
        return
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    expected = config.get("PAYMENT_ADMIN_TOKEN") or ""
    if (
        scheme.lower() != "bearer"
        or not expected
        or not hmac.compare_digest(token.strip().encode(), expected.encode())
    ):
        raise ApiError(
            401, "ADMIN_TOKEN_REQUIRED", "This route needs Authorization: Bearer <admin token>."
        )


def document_admin_security(app) -> None:  # type: ignore[no-untyped-def]
    """Declare the admin bearer token in the OpenAPI document (once per app)."""
    spec = app.extensions["api"].spec
    if "adminToken" not in spec.components.security_schemes:
        spec.components.security_scheme(
            "adminToken",
            {"type": "http", "scheme": "bearer", "description": "PAYMENT_ADMIN_TOKEN"},
        )
