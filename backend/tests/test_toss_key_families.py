"""Toss's two key families: the backend confirms a payment-widget payment with the widget's secret
key and a payment-window payment with the API-individual one; the fake refuses any other pairing
(400 INVALID_API_KEY), so a paid order proves the right key was used."""

from __future__ import annotations

import pytest

from fake_toss import CLIENT_KEY, WIDGET_CLIENT_KEY
from payment_backend.config import SettingsError, load_settings
from payment_backend.vendors import toss
from payment_backend.vendors.base import GatewayError

REAL = {
    "PAYMENT_MODE": "real",
    "DATABASE_URL": "postgresql://payments@db.example/payments",
    "SECRET_KEY": "s" * 48,
    "PAYMENT_CONNECTION_ENCRYPTION_KEY": "k" * 32,
    "PAYMENT_CONNECTION_ENCRYPTION_IV": "i" * 16,
    "PAYMENT_SEAL_KEY": "e" * 32,
    "PAYMENT_WEBHOOK_SIGNING_SECRET": "w" * 32,
    "PAYMENT_ADMIN_TOKEN": "a" * 32,
    "IAMPORT_API_KEY": "live_key",
    "IAMPORT_API_SECRET": "live_secret",
    "IAMPORT_MERCHANT_CODE": "imp12345678",
    "TOSS_SECRET_KEY": "live_sk_x",
    "TOSS_CLIENT_KEY": "live_ck_x",
}


def paid_in_window(shop, fakes, client_key: str, method: str = "card") -> tuple[dict, str]:
    """An order the fake's window authenticated with client_key: (order, paymentKey)."""
    order = shop.create_order("toss", method=method)
    query = fakes.toss.authenticated_payment(
        order_id=order["order_id"],
        amount=order["amount"],
        method="VIRTUAL_ACCOUNT" if method == "vbank" else "CARD",
        clientKey=client_key,
    )
    return order, query["paymentKey"]


@pytest.mark.parametrize(
    ("client_key", "method", "status", "at_gateway"),
    [
        (WIDGET_CLIENT_KEY, "card", "paid", "DONE"),
        (WIDGET_CLIENT_KEY, "vbank", "awaiting_deposit", "WAITING_FOR_DEPOSIT"),
        (CLIENT_KEY, "card", "paid", "DONE"),
    ],
    ids=["widget-card", "widget-vbank", "window-card"],
)
def test_the_backend_confirms_each_payment_with_its_familys_secret(
    shop, fakes, client_key, method, status, at_gateway
):
    order, payment_key = paid_in_window(shop, fakes, client_key, method)

    response = shop.complete(order, payment_key)

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == status
    assert shop.toss_payment(payment_key)["status"] == at_gateway


def test_without_the_widget_secret_a_widget_payment_cannot_be_confirmed(app, fakes, shop):
    order, payment_key = paid_in_window(shop, fakes, WIDGET_CLIENT_KEY)
    api_only = toss.connect(
        {**app.config, "TOSS_WIDGET_CLIENT_KEY": None, "TOSS_WIDGET_SECRET_KEY": None}
    )

    with pytest.raises(GatewayError) as refused:
        api_only.confirm(payment_key, order["order_id"], order["amount"], "KRW")

    assert (refused.value.code, refused.value.status) == ("INVALID_API_KEY", 400)
    assert shop.toss_payment(payment_key)["status"] == "IN_PROGRESS"  # nothing was charged


def test_the_checkout_config_names_both_client_keys_and_the_v2_script(client, fakes):
    toss_config = client.get("/api/checkout/config").get_json()["vendors"]["toss"]

    assert toss_config["client_key"].startswith("test_ck_")
    assert toss_config["widget_client_key"].startswith("test_gck_")
    assert toss_config["sdk_v2_url"] == fakes.toss.url + "/v2/standard"
    assert toss_config["sdk_url"] == fakes.toss.url + "/sdk/toss.js"


def test_real_mode_runs_without_a_widget_and_loads_the_real_v2_script(tmp_path):
    settings = load_settings(str(tmp_path), {}, env=REAL)

    assert settings["TOSS_WIDGET_CLIENT_KEY"] is None
    assert settings["TOSS_SDK_V2_URL"] == "https://js.tosspayments.com/v2/standard"


def test_real_mode_takes_a_whole_widget_pair(tmp_path):
    pair = {"TOSS_WIDGET_CLIENT_KEY": "live_gck_x", "TOSS_WIDGET_SECRET_KEY": "live_gsk_x"}
    settings = load_settings(str(tmp_path), {}, env={**REAL, **pair})
    assert settings["TOSS_WIDGET_SECRET_KEY"] == "live_gsk_x"


@pytest.mark.parametrize(
    ("pair", "message"),
    [
        ({"TOSS_WIDGET_CLIENT_KEY": "live_gck_x"}, "both"),
        ({"TOSS_WIDGET_SECRET_KEY": "live_gsk_x"}, "both"),
        (
            {"TOSS_WIDGET_CLIENT_KEY": "live_ck_x", "TOSS_WIDGET_SECRET_KEY": "live_gsk_x"},
            "TOSS_WIDGET_CLIENT_KEY must be a payment-widget key",
        ),
        (
            {"TOSS_WIDGET_CLIENT_KEY": "live_gck_x", "TOSS_WIDGET_SECRET_KEY": "live_sk_x"},
            "TOSS_WIDGET_SECRET_KEY must be a payment-widget key",
        ),
    ],
)
def test_settings_refuse_half_a_widget_pair_or_a_key_of_the_other_family(tmp_path, pair, message):
    with pytest.raises(SettingsError, match=message):
        load_settings(str(tmp_path), {}, env={**REAL, **pair})
