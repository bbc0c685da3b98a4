"""Fail closed: no mode means real mode, and real mode starts only with strong secrets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from payment_backend.config import GENERATED_SECRETS, SettingsError, load_settings

BACKEND = Path(__file__).resolve().parents[2]

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
    "TOSS_SECRET_KEY": "live_sk",
    "TOSS_CLIENT_KEY": "live_ck",
}


def test_without_a_mode_the_service_runs_in_real_mode_and_refuses_to_start(tmp_path):
    with pytest.raises(SettingsError) as refused:
        load_settings(str(tmp_path), {}, env={})
    message = str(refused.value)
    assert "PAYMENT_MODE=real" in message
    assert "make run" in message and "PAYMENT_MODE=local" in message
    assert not (tmp_path / "dev-secrets.json").exists()  # no dev secret is generated for it


def test_real_mode_starts_with_every_secret_set(tmp_path):
    settings = load_settings(str(tmp_path), {}, env=REAL)
    assert settings["PAYMENT_MODE"] == "real"
    assert settings["IAMPORT_API_URL"] == "https://api.iamport.kr"


@pytest.mark.parametrize("token", ["x", "a" * 31])
def test_real_mode_refuses_an_admin_token_shorter_than_32_characters(tmp_path, token):
    with pytest.raises(SettingsError, match="PAYMENT_ADMIN_TOKEN must be at least 32"):
        load_settings(str(tmp_path), {}, env={**REAL, "PAYMENT_ADMIN_TOKEN": token})


def test_generated_admin_tokens_are_long_enough_for_real_mode():
    assert GENERATED_SECRETS["PAYMENT_ADMIN_TOKEN"] >= 32


def test_a_flask_command_started_without_a_mode_refuses_and_says_how_to_run_the_demo(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in REAL and not k.startswith("PAYMENT_")}
    env["PAYMENT_INSTANCE_PATH"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "payment_backend", "routes"],
        cwd=BACKEND,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "make run" in done.stderr and "PAYMENT_MODE=local" in done.stderr
    assert not (tmp_path / "dev-secrets.json").exists()
