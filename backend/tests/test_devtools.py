"""Dev tools (test clock, simulated deposits) exist only outside real mode."""

from __future__ import annotations

import pytest

from payment_backend import create_app
from payment_backend.config import FAKE_KEYS, GENERATED_SECRETS

DEV_PATHS = ("/api/test/clock", "/api/checkout/orders/ord_x/simulate-deposit")


@pytest.fixture()
def real(tmp_path):
    """The app in real mode, every secret set (the database is never connected to)."""
    secrets = {name: "x" * length for name, length in GENERATED_SECRETS.items()}
    return create_app(
        {
            **secrets,
            **{name: "live" for name in FAKE_KEYS},
            "PAYMENT_MODE": "real",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'real.sqlite3'}",
            "INSTANCE_PATH": str(tmp_path),
        }
    )


def test_no_dev_route_exists_in_real_mode(real):
    rules = {rule.rule for rule in real.url_map.iter_rules()}
    assert not any("/api/test/" in r or r.endswith("/simulate-deposit") for r in rules)
    client = real.test_client()
    for path in DEV_PATHS:
        assert client.post(path, json={"advance": 60}).status_code in (404, 405)
    spec = client.get("/openapi.json").get_json()
    assert not any("/api/test/" in p or "simulate-deposit" in p for p in spec["paths"])


def test_the_dev_routes_exist_in_test_mode(app):
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    assert "/api/test/clock" in rules
    assert "/api/checkout/orders/<order_id>/simulate-deposit" in rules
