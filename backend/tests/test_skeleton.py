"""Settings, migrations and monitors of the walking skeleton."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from payment_backend import create_app
from payment_backend.config import SettingsError, load_settings
from payment_backend.extensions import db


def test_health_checks_the_database(client):
    response = client.get("/monitors/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_health_reports_an_unreachable_database(tmp_path):
    broken = create_app(
        {
            "PAYMENT_MODE": "test",
            "INSTANCE_PATH": str(tmp_path),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'missing' / 'nope.sqlite3'}",
        }
    )
    response = broken.test_client().get("/monitors/health")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"


def test_migrations_create_the_catalog(app):
    with app.app_context():
        assert "products" in inspect(db.engine).get_table_names()


def test_config_lists_the_catalog_and_vendors(client):
    body = client.get("/api/checkout/config").get_json()
    currencies = {p["currency"] for p in body["products"]}
    assert currencies == {"KRW", "USD"}
    assert all(isinstance(p["price"], int) for p in body["products"])
    assert body["vendors"]["iamport"]["sdk_url"].endswith("/sdk/iamport.js")
    assert body["vendors"]["toss"]["client_key"].startswith("test_ck_")


def test_local_mode_generates_dev_secrets_once(tmp_path):
    first = load_settings(str(tmp_path), {}, env={"PAYMENT_MODE": "local"})
    second = load_settings(str(tmp_path), {}, env={"PAYMENT_MODE": "local"})
    assert len(first["PAYMENT_CONNECTION_ENCRYPTION_KEY"]) == 32
    assert first["PAYMENT_ADMIN_TOKEN"] == second["PAYMENT_ADMIN_TOKEN"]
    assert (tmp_path / "dev-secrets.json").exists()


def test_real_mode_refuses_to_start_without_secrets(tmp_path):
    with pytest.raises(SettingsError, match="TOSS_SECRET_KEY"):
        load_settings(str(tmp_path), {"PAYMENT_MODE": "real"}, env={})
    assert not (tmp_path / "dev-secrets.json").exists()


def test_unknown_mode_is_refused(tmp_path):
    with pytest.raises(SettingsError, match="PAYMENT_MODE"):
        load_settings(str(tmp_path), {}, env={"PAYMENT_MODE": "prod"})


def test_unknown_api_route_answers_the_error_envelope(client):
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["code"] == "NOT_FOUND"


def test_openapi_document_comes_from_the_code(client):
    spec = client.get("/openapi.json").get_json()
    assert "/monitors/health" in spec["paths"]
    assert "/api/checkout/config" in spec["paths"]


def test_processes_starting_together_share_one_set_of_dev_secrets(tmp_path):
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=4) as pool:
        keys = list(pool.map(_seal_key_of_a_new_process, [str(tmp_path)] * 8))
    assert len(set(keys)) == 1


def _seal_key_of_a_new_process(instance_path: str) -> str:
    return load_settings(instance_path, {}, env={"PAYMENT_MODE": "local"})["PAYMENT_SEAL_KEY"]
