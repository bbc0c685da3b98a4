"""Transport encryption compatible with the seed, sealing of data at rest, password hashing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any

from Crypto.Cipher import AES
from Crypto.Util.Padding import pad, unpad
from flask import current_app


class DecryptionError(ValueError):
    """A body that cannot be decrypted with the configured key."""


class SeedCipher:
    """The seed's wire format: Base64(AES-256-CBC(PKCS#7(UTF-8 JSON))) with a static key and IV."""

    def __init__(self, key: str, iv: str) -> None:
        self._key = key.encode()
        self._iv = iv.encode()

    def encrypt(self, plaintext: str) -> str:
        """Encrypt text to Base64."""
        cipher = AES.new(self._key, AES.MODE_CBC, self._iv)
        return base64.b64encode(cipher.encrypt(pad(plaintext.encode(), AES.block_size))).decode()

    def decrypt(self, token: str | bytes) -> str:
        """Decrypt Base64 to text."""
        try:
            raw = base64.b64decode(token, validate=True)
            cipher = AES.new(self._key, AES.MODE_CBC, self._iv)
            return unpad(cipher.decrypt(raw), AES.block_size).decode()
        except (ValueError, UnicodeDecodeError) as exc:
            raise DecryptionError("Failed to decrypt the request body.") from exc

    def encrypt_json(self, value: Any) -> str:
        """Encrypt a JSON value."""
        return self.encrypt(json.dumps(value, ensure_ascii=False, separators=(",", ":")))

    def decrypt_json(self, token: str | bytes) -> Any:
        """Decrypt to a JSON value."""
        try:
            return json.loads(self.decrypt(token))
        except json.JSONDecodeError as exc:
            raise DecryptionError("The decrypted body is not JSON.") from exc


class Sealer:
    """Authenticated encryption at rest: AES-256-GCM with a random nonce per value."""

    PREFIX = "v1."

    def __init__(self, key: str) -> None:
        self._key = hashlib.sha256(key.encode()).digest()

    def seal(self, value: Any) -> str:
        """Seal a JSON value."""
        nonce = secrets.token_bytes(12)
        cipher = AES.new(self._key, AES.MODE_GCM, nonce=nonce)
        body, tag = cipher.encrypt_and_digest(json.dumps(value, ensure_ascii=False).encode())
        return self.PREFIX + base64.b64encode(nonce + tag + body).decode()

    def unseal(self, token: str) -> Any:
        """Open a sealed value (raises ValueError when it was tampered with)."""
        raw = base64.b64decode(token.removeprefix(self.PREFIX))
        nonce, tag, body = raw[:12], raw[12:28], raw[28:]
        cipher = AES.new(self._key, AES.MODE_GCM, nonce=nonce)
        return json.loads(cipher.decrypt_and_verify(body, tag))


def sealer() -> Sealer:
    """The app's sealer (its key derived once per app)."""
    key = current_app.config["PAYMENT_SEAL_KEY"]
    cached = current_app.extensions.get("sealer")
    if cached is None or cached[0] != key:
        cached = current_app.extensions["sealer"] = (key, Sealer(key))
    return cached[1]


def seed_cipher() -> SeedCipher:
    """The app's transport cipher."""
    config = current_app.config
    return SeedCipher(
        config["PAYMENT_CONNECTION_ENCRYPTION_KEY"], config["PAYMENT_CONNECTION_ENCRYPTION_IV"]
    )


_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    """A salted scrypt hash."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


def verify_password(password: str, stored: str | None) -> bool:
    """Whether password matches the stored hash (constant time; False when there is none)."""
    if not stored or not stored.startswith("scrypt$"):
        # Spend the same time as a real check so "no record" and "wrong password" look alike.
        hashlib.scrypt(password.encode(), salt=b"0" * 16, dklen=32, **_SCRYPT)
        return False
    _, salt_b64, digest_b64 = stored.split("$")
    digest = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt_b64), dklen=32, **_SCRYPT)
    return hmac.compare_digest(digest, base64.b64decode(digest_b64))


WEBHOOK_SECRET_PREFIX = "whsec_"


def webhook_key(secret: str) -> bytes:
    """The signing key of a webhook secret: whsec_<base64> is decoded, as Standard Webhooks
    libraries do; a secret without the prefix (set before it was used) signs with its bytes."""
    if secret.startswith(WEBHOOK_SECRET_PREFIX):
        return base64.b64decode(secret[len(WEBHOOK_SECRET_PREFIX) :] + "==")
    return secret.encode()


def sign_webhook(secret: str, message_id: str, timestamp: int, body: str) -> str:
    """Standard Webhooks signature: v1,Base64(HMAC-SHA256(key, id.timestamp.body))."""
    message = f"{message_id}.{timestamp}.{body}".encode()
    mac = hmac.new(webhook_key(secret), message, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()
