"""Where the examples find the service and the fake gateways: the environment, or local defaults."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

# The seed's published defaults, used only when nothing else is configured.
SEED_KEY = "MCKOxv9B23r7EatArCFcBP03nfaS03T8"
SEED_IV = "9haeYD1tIf4v8xs7"


@dataclass(frozen=True)
class Environment:
    """The service's URL and transport key, and the fake gateways that stand in for the buyer."""

    api_url: str
    key: str
    iv: str
    iamport_url: str
    iamport_key: str
    iamport_secret: str
    toss_url: str
    toss_secret_key: str
    webhook_url: str
    # The service's PAYMENT_WEBHOOK_SIGNING_SECRET, to verify its notifications.
    webhook_secret: str = ""
    # Where fake PortOne sends its own notifications; "" = the service's inbound route.
    iamport_notice_url: str = ""

    @property
    def notice_url(self) -> str:
        """The service's inbound PortOne webhook, which the gateway calls on a deposit."""
        return self.iamport_notice_url or f"{self.api_url.rstrip('/')}/payments/webhooks/iamport"


def _dev_secrets() -> dict[str, str]:
    """The local backend's generated secrets, if its instance folder is where `make run` puts it."""
    folder = os.environ.get("PAYMENT_INSTANCE_PATH") or str(
        Path(__file__).resolve().parents[2] / "instance"
    )
    path = Path(folder) / "dev-secrets.json"
    return json.loads(path.read_text()) if path.exists() else {}


def from_environment() -> Environment:
    """Read the settings (PAYMENT_API_URL, PAYMENT_CONNECTION_ENCRYPTION_KEY/_IV,
    PAYMENT_WEBHOOK_SIGNING_SECRET, the gateways' URLs and keys)."""
    env = os.environ
    secrets = _dev_secrets()
    api_url = env.get("PAYMENT_API_URL", "http://127.0.0.1:37821")
    return Environment(
        api_url=api_url,
        key=env.get("PAYMENT_CONNECTION_ENCRYPTION_KEY")
        or secrets.get("PAYMENT_CONNECTION_ENCRYPTION_KEY", SEED_KEY),
        iv=env.get("PAYMENT_CONNECTION_ENCRYPTION_IV")
        or secrets.get("PAYMENT_CONNECTION_ENCRYPTION_IV", SEED_IV),
        iamport_url=env.get("IAMPORT_API_URL", "http://127.0.0.1:10851"),
        iamport_key=env.get("IAMPORT_API_KEY", "test_imp_key"),
        iamport_secret=env.get("IAMPORT_API_SECRET", "test_imp_secret"),
        toss_url=env.get("TOSS_API_URL", "http://127.0.0.1:30771"),
        toss_secret_key=env.get("TOSS_SECRET_KEY", "test_sk_zXLkKEypNArWmo50nX3lmeaxYG5R"),
        # The shop's own endpoint for the service's notifications.
        webhook_url=env.get("EXAMPLE_WEBHOOK_URL", "http://127.0.0.1:8000/payments/webhook"),
        webhook_secret=env.get("PAYMENT_WEBHOOK_SIGNING_SECRET")
        or secrets.get("PAYMENT_WEBHOOK_SIGNING_SECRET", ""),
        iamport_notice_url=env.get("IAMPORT_NOTICE_URL", ""),
    )
