"""PortOne V2 in real mode: on when any of its four settings is given, then all four are required;
off, its client refuses every call, its webhooks are answered 401 and the demo is told it is off."""

from __future__ import annotations

import pytest
from flask_migrate import upgrade

from payment_backend import MIGRATIONS, create_app
from payment_backend.config import (
    FAKE_KEYS,
    GENERATED_SECRETS,
    PORTONE_FAKE_KEYS,
    SettingsError,
    load_settings,
)
from payment_backend.extensions import db
from payment_backend.models import InboundWebhook
from payment_backend.vendors import portone
from payment_backend.vendors.base import GatewayError

from .test_portone_webhooks import paid_body, signed
from .test_toss_key_families import REAL

V2 = {
    "PORTONE_API_SECRET": "live_v2_secret",
    "PORTONE_STORE_ID": "store-11111111-1111-4111-8111-111111111111",
    "PORTONE_CHANNEL_KEY": "channel-key-11111111-1111-4111-8111-111111111111",
    "PORTONE_WEBHOOK_SECRET": PORTONE_FAKE_KEYS["PORTONE_WEBHOOK_SECRET"],
}


@pytest.mark.parametrize("given", sorted(V2))
def test_any_one_v2_setting_switches_it_on_and_then_all_four_are_required(tmp_path, given):
    with pytest.raises(SettingsError) as refused:
        load_settings(str(tmp_path), {}, env={**REAL, given: V2[given]})
    missing = set(V2) - {given}
    assert all(name in str(refused.value) for name in missing), refused.value
    assert given not in str(refused.value).split("without:")[1]


def test_all_four_v2_settings_start_real_mode_against_the_real_portone(tmp_path):
    settings = load_settings(str(tmp_path), {}, env={**REAL, **V2})
    assert {k: settings[k] for k in V2} == V2
    assert settings["PORTONE_API_URL"] == "https://api.portone.io"
    assert settings["PORTONE_SDK_URL"] == "https://cdn.portone.io/v2/browser-sdk.js"


def test_without_them_real_mode_starts_with_v2_off(tmp_path):
    settings = load_settings(str(tmp_path), {}, env=REAL)
    assert not any(settings.get(k) for k in V2)


@pytest.fixture()
def real_without_v2(tmp_path):
    """The app in real mode with V1 and Toss set and PortOne V2 off, on a migrated SQLite file."""
    app = create_app(
        {
            **{name: "x" * length for name, length in GENERATED_SECRETS.items()},
            **{name: "live" for name in FAKE_KEYS},
            "PAYMENT_MODE": "real",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'real.sqlite3'}",
            "INSTANCE_PATH": str(tmp_path),
        }
    )
    with app.app_context():
        upgrade(directory=str(MIGRATIONS))
    yield app
    with app.app_context():
        db.engine.dispose()


def test_v2_off_refuses_every_call_without_reaching_any_gateway(real_without_v2):
    app = real_without_v2
    assert not app.config.get("PORTONE_API_SECRET")
    client = portone.connect(app.config)
    calls = (
        lambda: client.get_payment("ord_x"),
        lambda: client.cancel(
            "ord_x",
            amount=1000,
            expected_remaining=1000,
            currency="KRW",
            reason="r",
            idempotency_key="k",
        ),
        lambda: client.prepare("ord_x", 1000, "KRW"),
    )
    for call in calls:
        with pytest.raises(GatewayError) as refused:
            call()
        assert (refused.value.code, refused.value.status) == ("NOT_CONFIGURED", 503)


def test_v2_off_answers_even_a_well_signed_webhook_401_and_stores_nothing(real_without_v2):
    app = real_without_v2
    # Signed with the fake's secret, as a forger who read the README would.
    app.config["PORTONE_WEBHOOK_SECRET"] = PORTONE_FAKE_KEYS["PORTONE_WEBHOOK_SECRET"]
    app.config["PORTONE_STORE_ID"] = V2["PORTONE_STORE_ID"]
    delivery = signed(app, paid_body(app, "ord_x"))
    app.config["PORTONE_WEBHOOK_SECRET"] = None
    response = app.test_client().post("/payments/webhooks/portone", **delivery)
    assert response.status_code == 401, response.get_json()

    with app.app_context():
        assert db.session.query(InboundWebhook).count() == 0


def test_v2_off_is_hidden_from_the_demo_and_on_is_shown(real_without_v2, client):
    shown = real_without_v2.test_client().get("/api/checkout/config").get_json()
    assert shown["vendors"]["portone"]["enabled"] is False
    # Test mode (the fake's settings): on, with the fake's store and channel.
    on = client.get("/api/checkout/config").get_json()["vendors"]["portone"]
    assert on["enabled"] is True
    assert on["store_id"] and on["channel_key"]
