"""/v1/billing: billing keys from the window or card data, charges with them, deletion."""

from __future__ import annotations

from flask import Response, jsonify

from fake_toss.api import body, gateway, origin, v1_blueprint

bp = v1_blueprint("toss_billing", __name__)


@bp.post("/billing/authorizations/issue")
def issue_billing():
    """Exchange the billing window's authKey for a billing key."""
    return jsonify(gateway().issue_billing(body()))


@bp.post("/billing/authorizations/card")
def billing_from_card():
    """Issue a billing key from card data."""
    return jsonify(gateway().billing_from_card(body()))


@bp.post("/billing/authorizations/<auth_key>")
def legacy_billing_authorization(auth_key: str):
    """The older authKey URL; also the seed's look-up of a billing key by {customerKey}."""
    return jsonify(gateway().legacy_authorization(auth_key, body()))


@bp.post("/billing/<billing_key>")
def charge_billing(billing_key: str):
    """Charge a billing key."""
    return jsonify(gateway().charge_billing(billing_key, body(), origin()))


@bp.delete("/billing/<billing_key>")
def delete_billing(billing_key: str):
    """Delete a billing key (200 with an empty body)."""
    gateway().delete_billing(billing_key)
    return Response(b"", status=200)
