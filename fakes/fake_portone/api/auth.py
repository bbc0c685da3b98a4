"""POST /login/api-secret and POST /token/refresh: access tokens for `Authorization: Bearer`."""

from __future__ import annotations

from flask import jsonify

from fake_portone.api import api_blueprint, body, gateway

bp = api_blueprint("portone_auth", __name__, auth=False)


@bp.post("/login/api-secret")
def login():
    """Trade the API secret for an access token (30 min) and a refresh token (1 day)."""
    return jsonify(gateway().login(body().get("apiSecret")))


@bp.post("/token/refresh")
def refresh():
    """Trade a refresh token for new tokens (the old refresh token ends)."""
    return jsonify(gateway().refresh(body().get("refreshToken")))
