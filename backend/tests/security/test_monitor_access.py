"""The system and performance monitors tell the process's internals: the owner's token only."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("path", ["/monitors/system", "/monitors/performance"])
def test_monitors_need_the_admin_token_outside_local_mode(client, app, path):
    assert app.config["PAYMENT_MODE"] == "test"
    anonymous = client.get(path)
    assert anonymous.status_code == 401
    assert anonymous.get_json()["code"] == "ADMIN_TOKEN_REQUIRED"
    wrong = client.get(path, headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401
    owner = client.get(
        path, headers={"Authorization": f"Bearer {app.config['PAYMENT_ADMIN_TOKEN']}"}
    )
    assert owner.status_code == 200
    assert owner.get_json()["pid"] > 0


def test_health_stays_public_for_load_balancers(client):
    assert client.get("/monitors/health").status_code == 200


def test_the_openapi_document_marks_the_monitors_as_owner_routes(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    assert paths["/monitors/system"]["get"]["security"] == [{"adminToken": []}]
    assert paths["/monitors/performance"]["get"]["security"] == [{"adminToken": []}]
    assert "security" not in paths["/monitors/health"]["get"]
