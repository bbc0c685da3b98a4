"""The OpenAPI document tells what every route answers and who may call it."""

from __future__ import annotations

import re

import pytest

ADMIN = [{"adminToken": []}]
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def spec(app) -> dict:
    return app.test_client().get("/openapi.json").get_json()


def _operations(spec: dict):
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def test_every_success_answer_has_a_schema(spec):
    missing = [
        f"{method.upper()} {path} {status}"
        for path, method, operation in _operations(spec)
        for status, response in operation["responses"].items()
        if status.startswith("2") and status != "204"
        if not any("schema" in media for media in (response.get("content") or {}).values())
    ]
    assert missing == []


def test_every_route_the_admin_token_guards_says_so(app, spec):
    """Each route is called without a token: one that answers 401 must document the token, and
    one that documents it must not answer without it."""
    client = app.test_client()
    undocumented, unguarded = [], []
    for path, method, operation in _operations(spec):
        url = re.sub(r"\{[^}]+\}", "1", path)
        answer = client.open(url, method=method.upper(), json={})
        documented = operation.get("security") == ADMIN
        guarded = answer.status_code == 401 and answer.get_json()["code"] == "ADMIN_TOKEN_REQUIRED"
        if guarded and not documented:
            undocumented.append(f"{method.upper()} {path}")
        if documented and answer.status_code < 400:
            unguarded.append(f"{method.upper()} {path}")
    assert undocumented == [] and unguarded == []
    assert spec["components"]["securitySchemes"]["adminToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "PAYMENT_ADMIN_TOKEN",
    }


def test_the_owner_refund_of_an_order_documents_the_admin_token(spec):
    operation = spec["paths"]["/api/checkout/orders/{order_id}/refund"]["post"]
    assert operation["security"] == ADMIN
    assert spec["paths"]["/api/admin/orders"]["get"]["security"] == ADMIN
    assert spec["paths"]["/api/admin/orders/{order_id}/gateway"]["get"]["security"] == ADMIN


def test_order_moments_are_documented_as_date_times(spec):
    order = spec["components"]["schemas"]["Order"]["properties"]
    assert order["created_at"] == {"type": "string", "format": "date-time"}
    payment = spec["components"]["schemas"]["OrderPayment"]["properties"]
    assert payment["paid_at"]["format"] == "date-time"
