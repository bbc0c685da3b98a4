"""Settings from the environment; generated dev secrets only in local and test mode."""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import secrets
import stat
import string
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from payment_backend.database import BUSY_TIMEOUT_SECONDS
from payment_backend.logs import LOG_FORMATS

MODES = ("local", "test", "real")
# Without PAYMENT_MODE the service runs for real: it then needs every secret, so it fails closed.
DEFAULT_MODE = "real"
MIN_ADMIN_TOKEN = 32
DEMO_HINT = "To run the demo with the fake gateways, use `make run` (or set PAYMENT_MODE=local)."

DEFAULT_PORT = 37821
# Pooled database connections older than this are replaced at their next checkout.
POOL_RECYCLE_SECONDS = 1800
FAKE_IAMPORT_URL = "http://127.0.0.1:10851"
FAKE_TOSS_URL = "http://127.0.0.1:30771"
FAKE_PORTONE_URL = "http://127.0.0.1:41851"
REAL_IAMPORT_URL = "https://api.iamport.kr"
REAL_TOSS_URL = "https://api.tosspayments.com"
REAL_PORTONE_URL = "https://api.portone.io"
REAL_IAMPORT_SDK = "https://cdn.iamport.kr/v1/iamport.js"
REAL_TOSS_SDK = "https://js.tosspayments.com/v1/payment"
REAL_TOSS_SDK_V2 = "https://js.tosspayments.com/v2/standard"  # @tosspayments/tosspayments-sdk's
REAL_PORTONE_SDK = "https://cdn.portone.io/v2/browser-sdk.js"

# The fakes' published test keys: harmless outside the fakes, so they are the local/test defaults.
FAKE_KEYS = {
    "IAMPORT_API_KEY": "test_imp_key",
    "IAMPORT_API_SECRET": "test_imp_secret",
    "IAMPORT_MERCHANT_CODE": "imp00000000",
    "TOSS_SECRET_KEY": "test_sk_zXLkKEypNArWmo50nX3lmeaxYG5R",
    "TOSS_CLIENT_KEY": "test_ck_D5GePWvyJnrK0W0k6q8gLzN97Eoq",
}
# Toss's payment-widget pair (결제위젯 연동 키), apart from the API-individual pair above: optional in
# real mode (without it the demo offers no widget), but then both or neither.
WIDGET_KEYS = {
    "TOSS_WIDGET_CLIENT_KEY": (
        "test_gck_docs_Ovk5rk1EwkEbP0W43n07xlzm",
        ("test_gck_", "live_gck_"),
    ),
    "TOSS_WIDGET_SECRET_KEY": (
        "test_gsk_docs_OaPz8L5KdmQXkzRz3y47BMw6",
        ("test_gsk_", "live_gsk_"),
    ),
}

# PortOne V2: fake_portone's published test values. Real mode needs the four of them only when
# PortOne V2 is switched on (any of them given); without them the vendor refuses every call.
PORTONE_FAKE_KEYS = {
    "PORTONE_API_SECRET": "test_portone_v2_api_secret_" + "0" * 52,
    "PORTONE_STORE_ID": "store-00000000-0000-4000-8000-000000000000",
    "PORTONE_CHANNEL_KEY": "channel-key-00000000-0000-4000-8000-000000000001",
    "PORTONE_WEBHOOK_SECRET": "whsec_ZmFrZS1wb3J0b25lLXYyLXdlYmhvb2stc2VjcmV0ISE=",
}

# Secrets that local and test mode generate once into the instance folder; real mode requires them.
GENERATED_SECRETS = {
    "SECRET_KEY": 48,
    "PAYMENT_CONNECTION_ENCRYPTION_KEY": 32,
    "PAYMENT_CONNECTION_ENCRYPTION_IV": 16,
    "PAYMENT_SEAL_KEY": 32,
    "PAYMENT_WEBHOOK_SIGNING_SECRET": 32,
    "PAYMENT_ADMIN_TOKEN": 32,
}
REAL_REQUIRED = (*GENERATED_SECRETS, *FAKE_KEYS, "DATABASE_URL")

BOOLEAN_SETTINGS = (
    "IAMPORT_PREPARE",
    "PORTONE_PREPARE",
    "PAYMENT_SEED_WEBHOOK_ENCRYPTION",
    "RATELIMIT_ENABLED",
)
INTEGER_SETTINGS = (
    "MAX_CONTENT_LENGTH",
    "WEBHOOK_MAX_CONTENT_LENGTH",
    "WEBHOOK_DEADLINE_SECONDS",
    "WORKER_LEASE_SECONDS",
)
PASSTHROUGH = (
    "DATABASE_URL",
    "IAMPORT_API_URL",
    "TOSS_API_URL",
    "PORTONE_API_URL",
    "PUBLIC_URL",
    "LOG_FORMAT",
    "CHECKOUT_WEBHOOK_URL",
    "SUBSCRIPTION_WEBHOOK_URL",
    "IAMPORT_SDK_URL",
    "TOSS_SDK_URL",
    "TOSS_SDK_V2_URL",
    "PORTONE_SDK_URL",
    "IAMPORT_PG",
    "IAMPORT_OVERSEAS_PG",
    "WEBHOOK_ALLOWLIST",
    "FRONTEND_DIST",
    "GIT_COMMIT",
    "RATELIMIT_STORAGE_URI",
    "RATELIMIT_CHECKOUT",
    "RATELIMIT_SUBSCRIPTIONS",
    "RATELIMIT_WEBHOOKS",
    "SETTLEMENT_TIMEZONE",
    *BOOLEAN_SETTINGS,
    *INTEGER_SETTINGS,
    *GENERATED_SECRETS,
    *FAKE_KEYS,
    *WIDGET_KEYS,
    *PORTONE_FAKE_KEYS,
)


class SettingsError(RuntimeError):
    """The service cannot start with these settings."""


def _generated(name: str, length: int) -> str:
    """A new dev secret; the webhook signing secret in Standard Webhooks form (whsec_<base64>)."""
    if name == "PAYMENT_WEBHOOK_SIGNING_SECRET":
        return "whsec_" + base64.b64encode(secrets.token_bytes(length)).decode()
    return _random_secret(length)


def _random_secret(length: int) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _dev_secrets(instance_path: Path) -> dict[str, str]:
    """Read, or create on first start, the dev secrets file in the instance folder.

    Several processes may start at once on an empty folder (gunicorn workers, the worker): a file
    lock makes one of them write and the others read what it wrote.
    """
    instance_path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = instance_path / "dev-secrets.json"
    lock_fd = os.open(instance_path / "dev-secrets.lock", os.O_RDWR | os.O_CREAT, 0o600)
    with os.fdopen(lock_fd, "w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
        missing = {k: _generated(k, n) for k, n in GENERATED_SECRETS.items() if k not in stored}
        if missing:
            stored.update(missing)
            _write_private(path, json.dumps(stored, indent=2))
        elif stat.S_IMODE(path.stat().st_mode) & 0o077:
            path.chmod(0o600)  # left readable by an older version
    return stored


def _write_private(path: Path, text: str) -> None:
    """Replace path with text atomically; the file is the owner's alone from its creation."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


# Every mode's defaults (the mode's own, the environment and overrides come on top).
COMMON_DEFAULTS: dict[str, Any] = {
    "PUBLIC_URL": f"http://127.0.0.1:{DEFAULT_PORT}",
    "IAMPORT_PREPARE": True,
    "PORTONE_PREPARE": True,
    "PAYMENT_SEED_WEBHOOK_ENCRYPTION": False,
    "WEBHOOK_ALLOWLIST": "",
    "FRONTEND_DIST": str(Path(__file__).resolve().parents[2] / "frontend" / "dist"),
    "GIT_COMMIT": "unknown",
    # auto: plain lines on a terminal, JSON lines elsewhere (tests: none, logging left to pytest).
    "LOG_FORMAT": "auto",
    "IAMPORT_PG": "html5_inicis",
    "IAMPORT_OVERSEAS_PG": "eximbay",
    "MAX_CONTENT_LENGTH": 2**20,
    "WEBHOOK_MAX_CONTENT_LENGTH": 64 * 2**10,
    "WEBHOOK_DEADLINE_SECONDS": 15,  # a whole outbound webhook attempt, first byte to last
    "WORKER_LEASE_SECONDS": 300,  # a claimed job's lease, renewed while it runs
    # Per client address; each gunicorn worker counts alone unless the storage is shared.
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_CHECKOUT": "20 per minute;200 per hour",
    "RATELIMIT_SUBSCRIPTIONS": "10 per minute;60 per hour",
    "RATELIMIT_WEBHOOKS": "600 per minute",
    # Settlement days and the owner's dashboard months are calendar days and months here.
    "SETTLEMENT_TIMEZONE": "Asia/Seoul",
}


def load_settings(
    instance_path: str,
    overrides: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Build the Flask config: explicit overrides, then the environment, then mode defaults."""
    env = os.environ if env is None else env
    given: dict[str, Any] = {k: env[k] for k in (*PASSTHROUGH, "PAYMENT_MODE") if env.get(k)}
    given.update(overrides or {})
    mode = str(given.get("PAYMENT_MODE", DEFAULT_MODE))
    if mode not in MODES:
        raise SettingsError(f"PAYMENT_MODE must be one of {', '.join(MODES)}, not {mode!r}")
    settings: dict[str, Any] = {
        **COMMON_DEFAULTS,
        "LOG_FORMAT": "none" if mode == "test" else "auto",
        **_mode_defaults(mode, given, Path(instance_path)),
        **given,
        "PAYMENT_MODE": mode,
    }
    _browser_sdks(settings)
    _check_widget_keys(settings)
    _coerce(settings)
    settings["SQLALCHEMY_DATABASE_URI"] = _sqlalchemy_url(settings["DATABASE_URL"])
    settings.setdefault("SQLALCHEMY_ENGINE_OPTIONS", _engine_options(settings))
    return settings


def _mode_defaults(mode: str, given: Mapping[str, Any], instance: Path) -> dict[str, Any]:
    """Real mode: the real gateways, every secret required; else the fakes and dev secrets."""
    if mode != "real":
        return {
            **_dev_secrets(instance),
            **FAKE_KEYS,
            **{name: value for name, (value, _) in WIDGET_KEYS.items()},
            **PORTONE_FAKE_KEYS,
            "IAMPORT_API_URL": FAKE_IAMPORT_URL,
            "TOSS_API_URL": FAKE_TOSS_URL,
            "PORTONE_API_URL": FAKE_PORTONE_URL,
            "DATABASE_URL": f"sqlite:///{instance / 'payments.sqlite3'}",
        }
    missing = [k for k in REAL_REQUIRED if not given.get(k)]
    if any(given.get(k) for k in PORTONE_FAKE_KEYS):  # PortOne V2 is switched on
        missing += [k for k in PORTONE_FAKE_KEYS if not given.get(k)]
    if missing:
        needed = ", ".join(missing)
        raise SettingsError(f"PAYMENT_MODE=real refuses to start without: {needed}. {DEMO_HINT}")
    if len(str(given["PAYMENT_ADMIN_TOKEN"])) < MIN_ADMIN_TOKEN:
        raise SettingsError(
            f"PAYMENT_ADMIN_TOKEN must be at least {MIN_ADMIN_TOKEN} characters in real mode."
        )
    return {
        "IAMPORT_API_URL": REAL_IAMPORT_URL,
        "TOSS_API_URL": REAL_TOSS_URL,
        "PORTONE_API_URL": REAL_PORTONE_URL,
    }


def _coerce(settings: dict[str, Any]) -> None:
    """Settings from the environment as their types, checked (SettingsError)."""
    settings["LOG_FORMAT"] = str(settings["LOG_FORMAT"]).strip().lower()
    if settings["LOG_FORMAT"] not in LOG_FORMATS:
        raise SettingsError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}")
    for key in BOOLEAN_SETTINGS:
        settings[key] = _as_bool(settings[key])
    for key in INTEGER_SETTINGS:
        try:
            settings[key] = int(settings[key])
        except (TypeError, ValueError):
            raise SettingsError(f"{key} must be a whole number") from None
    for key, length in (
        ("PAYMENT_CONNECTION_ENCRYPTION_KEY", 32),
        ("PAYMENT_CONNECTION_ENCRYPTION_IV", 16),
    ):
        if len(settings[key].encode()) != length:
            raise SettingsError(f"{key} must be {length} bytes long")
    _check_zone(str(settings["SETTLEMENT_TIMEZONE"]))


def _check_zone(name: str) -> None:
    """A time zone the system knows (Asia/Seoul also without a zone database: fixed +09:00)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        if name != "Asia/Seoul":
            raise SettingsError(f"SETTLEMENT_TIMEZONE: unknown time zone {name!r}") from None


def _engine_options(settings: Mapping[str, Any]) -> dict[str, Any]:
    """SQLAlchemy's engine options for the database URL."""
    # No ping per checkout (a round trip each): connections are recycled after half an hour, and
    # one that died (a restarted PostgreSQL) fails its statement, which invalidates the pool and
    # is a transient error: the request runs once more (payment_backend.transient) and the
    # worker's pass is tried again.
    options: dict[str, Any] = {"pool_recycle": POOL_RECYCLE_SECONDS}
    if settings["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # How long a writer waits for SQLite's write lock, which create_app's
        # database.configure makes every writing transaction take at its BEGIN (IMMEDIATE).
        options["connect_args"] = {"timeout": BUSY_TIMEOUT_SECONDS}
    return options


def _browser_sdks(settings: dict[str, Any]) -> None:
    """The gateways' browser scripts: the real CDNs in real mode, else the fakes'."""
    if settings["PAYMENT_MODE"] == "real":
        settings.setdefault("IAMPORT_SDK_URL", REAL_IAMPORT_SDK)
        settings.setdefault("TOSS_SDK_URL", REAL_TOSS_SDK)
        settings.setdefault("TOSS_SDK_V2_URL", REAL_TOSS_SDK_V2)
        settings.setdefault("PORTONE_SDK_URL", REAL_PORTONE_SDK)
    else:
        settings.setdefault(
            "IAMPORT_SDK_URL", settings["IAMPORT_API_URL"].rstrip("/") + "/sdk/iamport.js"
        )
        settings.setdefault("TOSS_SDK_URL", settings["TOSS_API_URL"].rstrip("/") + "/sdk/toss.js")
        # The fake serves the v2 script at the real one's path.
        settings.setdefault(
            "TOSS_SDK_V2_URL", settings["TOSS_API_URL"].rstrip("/") + "/v2/standard"
        )
        settings.setdefault(
            "PORTONE_SDK_URL", settings["PORTONE_API_URL"].rstrip("/") + "/v2/browser-sdk.js"
        )


def _check_widget_keys(settings: dict[str, Any]) -> None:
    """The widget pair is complete or absent, and each key is of the widget family."""
    given = {name: settings.get(name) or None for name in WIDGET_KEYS}
    if any(given.values()) and not all(given.values()):
        raise SettingsError(
            "Set both TOSS_WIDGET_CLIENT_KEY and TOSS_WIDGET_SECRET_KEY, or neither."
        )
    for name, (_, prefixes) in WIDGET_KEYS.items():
        settings[name] = given[name]
        if given[name] and not str(given[name]).startswith(prefixes):
            raise SettingsError(
                f"{name} must be a payment-widget key ({' or '.join(prefixes)}...): the widget "
                "keys and the API-individual keys (TOSS_CLIENT_KEY, TOSS_SECRET_KEY) do not mix."
            )


def _sqlalchemy_url(url: str) -> str:
    """Use psycopg 3 for plain postgres URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
