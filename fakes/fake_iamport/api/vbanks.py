"""Virtual accounts issued by the server."""

from __future__ import annotations

from fake_iamport.api import gateway, locked, ok, params, protected_blueprint

bp = protected_blueprint("iamport_vbanks", __name__)


@bp.post("/vbanks")
@locked
def issue():
    """Issue a virtual account: a ready payment, webhook ready."""
    return ok(gateway().issue_vbank(params()).to_api())


@bp.put("/vbanks/<imp_uid>")
@locked
def update(imp_uid: str):
    """Change a ready account's amount or deadline."""
    return ok(gateway().update_vbank(imp_uid, params()).to_api())


@bp.delete("/vbanks/<imp_uid>")
@locked
def revoke(imp_uid: str):
    """Revoke a ready account before deposit."""
    return ok(gateway().revoke_vbank(imp_uid).to_api())
