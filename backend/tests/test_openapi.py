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


def _error_codes(spec: dict, response: dict) -> list[str] | None:
    """The code enum of a documented error answer (None: the envelope without listed codes)."""
    if "$ref" in response:
        response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    schema = response["content"]["application/json"]["schema"]
    if schema == {"$ref": "#/components/schemas/Error"}:
        return None
    assert schema["allOf"][0] == {"$ref": "#/components/schemas/Error"}
    return schema["allOf"][1]["properties"]["code"]["enum"]


def test_every_error_answer_is_the_one_envelope_with_a_string_code(spec):
    error = spec["components"]["schemas"]["Error"]
    assert error["properties"]["code"]["type"] == "string"
    assert error["required"] == ["code", "message"]
    for path, method, operation in _operations(spec):
        assert "default" not in operation["responses"], f"{method} {path}"
        for status, response in operation["responses"].items():
            if int(status) >= 400 and not path.startswith("/monitors/health"):
                _error_codes(spec, response)  # the envelope, with or without listed codes


def test_each_route_lists_its_own_error_codes_and_the_ones_it_shares(spec):
    complete = spec["paths"]["/api/checkout/complete"]["post"]["responses"]
    assert "AMOUNT_MISMATCH" in _error_codes(spec, complete["409"])
    assert set(_error_codes(spec, complete["422"])) == {"INVALID_PAYMENT_ID", "VALIDATION_ERROR"}
    assert _error_codes(spec, complete["429"]) == ["RATE_LIMITED"]
    assert _error_codes(spec, complete["503"]) == ["DATABASE_UNAVAILABLE"]
    refund = spec["paths"]["/api/checkout/orders/{order_id}/refund"]["post"]
    assert _error_codes(spec, refund["responses"]["401"]) == ["ADMIN_TOKEN_REQUIRED"]
    assert "IDEMPOTENCY_KEY_REUSED" in _error_codes(spec, refund["responses"]["422"])
    assert {"in": "header", "name": "Idempotency-Key"}.items() <= refund["parameters"][0].items()


def test_the_limits_the_code_enforces_are_in_the_schemas(spec):
    schemas = spec["components"]["schemas"]
    assert schemas["OrderItem"]["properties"]["quantity"]["maximum"] == 100
    assert schemas["Buyer"]["additionalProperties"] is False
    buyer = schemas["CreateOrder"]["properties"]["buyer"]
    assert buyer["allOf"] == [{"$ref": "#/components/schemas/Buyer"}] and buyer["nullable"]
    assert schemas["Refund"]["properties"]["amount"]["maximum"] == 10**15
    webhook = spec["paths"]["/payments/webhooks/toss"]["post"]["requestBody"]
    assert webhook["content"]["application/json"]["schema"] == {"type": "object"}


def test_the_encrypted_routes_document_ciphertext_and_the_json_inside(spec):
    operation = spec["paths"]["/payments/histories"]["post"]
    body = operation["requestBody"]["content"]["text/plain"]
    assert body["schema"] == {"type": "string", "format": "byte"}
    assert body["x-encrypted-json"] == {"$ref": "#/components/schemas/HistoryCreate"}
    answer = operation["responses"]["201"]["content"]["text/plain"]
    assert answer["x-encrypted-json"] == {"$ref": "#/components/schemas/PaymentHistory"}
    assert "HistoryCreate" in spec["components"]["schemas"]


def test_a_created_order_links_to_where_it_is_read(spec):
    created = spec["paths"]["/api/checkout/orders"]["post"]["responses"]["201"]
    assert created["links"]["GetOrder"] == {
        "operationRef": "#/paths/~1api~1checkout~1orders~1{order_id}/get",
        "parameters": {"order_id": "$response.body#/order_id"},
    }


def test_a_method_a_route_does_not_take_is_answered_405_with_allow(client):
    answer = client.delete("/api/checkout/orders")
    assert answer.status_code == 405
    assert set(answer.headers["Allow"].split(", ")) == {"POST", "OPTIONS"}
    assert answer.get_json()["code"] == "METHOD_NOT_ALLOWED"
    assert client.get("/api/checkout/nowhere").get_json()["code"] == "NOT_FOUND"
    assert client.get("/checkout/done").status_code == 200  # the demo's pages are still served
