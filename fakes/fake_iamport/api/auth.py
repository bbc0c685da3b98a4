"""POST /users/getToken."""

from __future__ import annotations

from flask import Blueprint

from fake_iamport.api import gateway, ok, params

bp = Blueprint("iamport_auth", __name__)


@bp.post("/users/getToken")
def get_token():
    """Issue (or return the current) access token for imp_key/imp_secret, JSON or form."""
    data = params()
    return ok(gateway().issue_token(data.get("imp_key"), data.get("imp_secret")))
